//go:build linux

package transport

import "syscall"

// forceRecvBuffer uses SO_RCVBUFFORCE, which needs CAP_NET_ADMIN; without
// it the call fails and the capped size stays.
func forceRecvBuffer(fd, want int) {
	_ = syscall.SetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_RCVBUFFORCE, want)
}
