package transport

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"sync"
	"syscall"
)

// UnixConn is a Unix datagram socket oscli listens on. It removes the
// socket file it created when closed.
type UnixConn struct {
	conn *net.UnixConn
	Path string
	once sync.Once
	err  error
}

// ListenUnix binds a datagram socket at path. It refuses to replace a file
// that is not a socket, and replaces a stale socket nobody listens on.
func ListenUnix(path string) (*UnixConn, error) {
	if fi, err := os.Lstat(path); err == nil {
		if fi.Mode()&fs.ModeSocket == 0 {
			return nil, fmt.Errorf("%s exists and is not a socket: refusing to replace it", path)
		}
		if c, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: path, Net: "unixgram"}); err == nil {
			c.Close()
			return nil, &AddrInUseError{Proto: Unix, Addr: path}
		}
		if err := os.Remove(path); err != nil {
			return nil, fmt.Errorf("cannot remove stale socket %s: %w", path, err)
		}
	}
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		if errors.Is(err, syscall.EADDRINUSE) {
			return nil, &AddrInUseError{Proto: Unix, Addr: path}
		}
		return nil, fmt.Errorf("cannot listen on unix %s: %w", path, unwrapOp(err))
	}
	_ = conn.SetReadBuffer(DefaultRecvBuffer)
	return &UnixConn{conn: conn, Path: path}, nil
}

// ReadFrom reads one datagram; from is "unix:PATH" of the sender, or
// "unix:-" for an unnamed one.
func (u *UnixConn) ReadFrom(buf []byte) (n int, from string, truncated bool, err error) {
	n, _, flags, addr, err := u.conn.ReadMsgUnix(buf, nil)
	return n, unixName(addr), flags&msgTrunc != 0, err
}

// WriteTo sends a datagram to a named sender (for --echo).
func (u *UnixConn) WriteTo(p []byte, to string) error {
	_, err := u.conn.WriteToUnix(p, &net.UnixAddr{Name: to, Net: "unixgram"})
	return err
}

// Close closes the socket and removes the file it created.
func (u *UnixConn) Close() error {
	u.once.Do(func() {
		u.err = u.conn.Close()
		if rerr := os.Remove(u.Path); rerr != nil && !errors.Is(rerr, fs.ErrNotExist) && u.err == nil {
			u.err = rerr
		}
	})
	return u.err
}

func unixName(a *net.UnixAddr) string {
	if a == nil || a.Name == "" || a.Name == "@" {
		return "unix:-"
	}
	return "unix:" + a.Name
}
