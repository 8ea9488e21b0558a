//go:build unix

package transport

import (
	"net"
	"syscall"
)

const msgTrunc = syscall.MSG_TRUNC

func setReuseAddr(c syscall.RawConn) error {
	var serr error
	err := c.Control(func(fd uintptr) {
		serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_REUSEADDR, 1)
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
		serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_BROADCAST, v)
	})
	if err != nil {
		return err
	}
	return serr
}

// raiseRecvBuffer asks for want bytes of socket receive buffer and returns
// what the kernel granted. Linux caps the request at net.core.rmem_max
// (and reports double the size, counting its bookkeeping), so where the
// process may, it forces the size past the cap.
func raiseRecvBuffer(conn *net.UDPConn, want int) int {
	_ = conn.SetReadBuffer(want)
	rc, err := conn.SyscallConn()
	if err != nil {
		return 0
	}
	got := 0
	_ = rc.Control(func(fd uintptr) {
		got, _ = syscall.GetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF)
		if got < want {
			forceRecvBuffer(int(fd), want)
			got, _ = syscall.GetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF)
		}
	})
	return got
}

// peekConn looks at the socket of c without consuming or waiting: gone
// when its peer has closed or reset the connection with nothing left to
// read (the listener can count the slot free before the connection's
// goroutine has noticed), unread when bytes wait in it (the connection
// must not be evicted: they would be lost).
func peekConn(c *net.TCPConn) (gone, unread bool) {
	rc, err := c.SyscallConn()
	if err != nil {
		return true, false
	}
	var b [1]byte
	if err := rc.Control(func(fd uintptr) {
		n, _, err := syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		unread = n > 0
		gone = n == 0 && err == nil || err != nil && err != syscall.EAGAIN && err != syscall.EWOULDBLOCK && err != syscall.EINTR
	}); err != nil {
		return true, false
	}
	return gone, unread
}
