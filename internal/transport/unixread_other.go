//go:build !linux

package transport

import "net"

// unixReader reads datagrams from a Unix socket; the whole size of one
// that does not fit is not known here.
type unixReader struct {
	c   *net.UnixConn
	buf []byte
}

func newUnixReader(c *net.UnixConn, size int) (*unixReader, error) {
	return &unixReader{c: c, buf: make([]byte, size)}, nil
}

// read returns the bytes read into buf, the datagram's whole size (0:
// unknown), whether it was cut, and the sender's socket name ("" when
// unnamed).
func (r *unixReader) read() (n, size int, trunc bool, name string, err error) {
	n, _, flags, addr, err := r.c.ReadMsgUnix(r.buf, nil)
	if err != nil {
		return 0, 0, false, "", err
	}
	if addr != nil {
		name = addr.Name
	}
	return n, 0, flags&msgTrunc != 0, name, nil
}
