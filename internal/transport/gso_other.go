//go:build !linux

package transport

import "errors"

const gsoSupported = false

func (c *udpConn) writeGSO(ps [][]byte, buf *[]byte) error {
	return errors.New("UDP segmentation offload is Linux's")
}

func gsoRefused(error) bool { return true }
