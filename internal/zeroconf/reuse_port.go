//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package zeroconf

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// reusePort lets the socket share port 5353 with avahi-daemon,
// mDNSResponder and other oscli runs: SO_REUSEADDR (which avahi sets) and
// SO_REUSEPORT (which Bonjour and the BSDs want). The standard library's
// syscall package lacks SO_REUSEPORT on Linux, and its value differs
// between architectures, hence x/sys/unix.
func reusePort(_, _ string, c syscall.RawConn) error {
	var serr error
	err := c.Control(func(fd uintptr) {
		serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEADDR, 1)
		if serr == nil {
			serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEPORT, 1)
		}
	})
	if err != nil {
		return err
	}
	return serr
}
