package transport

import (
	"net"
	"syscall"
)

// unixReader reads datagrams from a Unix socket, asking the kernel for
// the whole size of one that does not fit (MSG_TRUNC), which Linux tells
// for Unix datagram sockets. The read function is made once, so reading
// does not allocate beyond the sender's address.
type unixReader struct {
	rc    syscall.RawConn
	buf   []byte
	recv  func(fd uintptr) bool
	n     int
	flags int
	from  syscall.Sockaddr
	err   error
}

func newUnixReader(c *net.UnixConn, size int) (*unixReader, error) {
	rc, err := c.SyscallConn()
	if err != nil {
		return nil, err
	}
	r := &unixReader{rc: rc, buf: make([]byte, size)}
	r.recv = func(fd uintptr) bool {
		for {
			r.n, _, r.flags, r.from, r.err = syscall.Recvmsg(int(fd), r.buf, nil, syscall.MSG_TRUNC)
			if r.err != syscall.EINTR {
				break
			}
		}
		return r.err != syscall.EAGAIN && r.err != syscall.EWOULDBLOCK
	}
	return r, nil
}

// read returns the bytes read into buf, the datagram's whole size, whether
// it was cut, and the sender's socket name ("" when unnamed).
func (r *unixReader) read() (n, size int, trunc bool, name string, err error) {
	if err := r.rc.Read(r.recv); err != nil {
		return 0, 0, false, "", err
	}
	if r.err != nil {
		return 0, 0, false, "", r.err
	}
	if sa, ok := r.from.(*syscall.SockaddrUnix); ok {
		name = sa.Name
	}
	return min(r.n, len(r.buf)), r.n, r.flags&syscall.MSG_TRUNC != 0, name, nil
}
