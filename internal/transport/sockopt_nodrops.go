//go:build !linux

package transport

import "syscall"

func enableDropCount(conn interface {
	SyscallConn() (syscall.RawConn, error)
}) bool {
	return false
}

func parseDrops(oob []byte) (uint32, bool) { return 0, false }
