//go:build linux

package transport

import (
	"encoding/binary"
	"syscall"
)

// forceRecvBuffer uses SO_RCVBUFFORCE, which needs CAP_NET_ADMIN; without
// it the call fails and the capped size stays.
func forceRecvBuffer(fd, want int) {
	_ = syscall.SetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_RCVBUFFORCE, want)
}

// enableDropCount asks Linux to report, with each datagram, how many the
// socket has dropped for want of buffer space (SO_RXQ_OVFL).
func enableDropCount(conn interface {
	SyscallConn() (syscall.RawConn, error)
}) bool {
	rc, err := conn.SyscallConn()
	if err != nil {
		return false
	}
	var serr error
	if err := rc.Control(func(fd uintptr) {
		serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RXQ_OVFL, 1)
	}); err != nil {
		return false
	}
	return serr == nil
}

// parseDrops reads the SO_RXQ_OVFL counter from a control message.
func parseDrops(oob []byte) (uint32, bool) {
	if len(oob) == 0 {
		return 0, false
	}
	msgs, err := syscall.ParseSocketControlMessage(oob)
	if err != nil {
		return 0, false
	}
	for _, m := range msgs {
		if m.Header.Level == syscall.SOL_SOCKET && m.Header.Type == syscall.SO_RXQ_OVFL && len(m.Data) >= 4 {
			return binary.NativeEndian.Uint32(m.Data), true
		}
	}
	return 0, false
}
