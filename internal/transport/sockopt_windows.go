//go:build windows

package transport

import (
	"net"
	"syscall"
)

// Windows reports truncation as an error (WSAEMSGSIZE) rather than a flag.
const msgTrunc = 0

func setReuseAddr(c syscall.RawConn) error {
	var serr error
	err := c.Control(func(fd uintptr) {
		serr = syscall.SetsockoptInt(syscall.Handle(fd), syscall.SOL_SOCKET, syscall.SO_REUSEADDR, 1)
	})
	if err != nil {
		return err
	}
	return serr
}

func setBroadcast(conn *net.UDPConn, on bool) error {
	v := 0
	if on {
		v = 1
	}
	rc, err := conn.SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	err = rc.Control(func(fd uintptr) {
		serr = syscall.SetsockoptInt(syscall.Handle(fd), syscall.SOL_SOCKET, syscall.SO_BROADCAST, v)
	})
	if err != nil {
		return err
	}
	return serr
}

func raiseRecvBuffer(conn *net.UDPConn, want int) int {
	if conn.SetReadBuffer(want) != nil {
		return 0
	}
	return want
}

// peekConn cannot look at a socket without reading on Windows: a closed
// peer's slot frees when its goroutine notices, and any connection may be
// evicted.
func peekConn(c *net.TCPConn) (gone, unread bool) { return false, false }
