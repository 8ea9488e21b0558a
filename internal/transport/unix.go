package transport

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
)

// unixListener is a Unix datagram socket oscli listens on. It removes the
// socket file it created when closed.
type unixListener struct {
	conn   *net.UnixConn
	path   string
	once   sync.Once
	err    error
	closed atomic.Bool
}

// listenUnix binds a datagram socket at path. It refuses to replace a file
// that is not a socket, and replaces a stale socket nobody listens on.
func listenUnix(path string) (*unixListener, error) {
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
	return &unixListener{conn: conn, path: path}, nil
}

func (u *unixListener) Addr() Endpoint { return Endpoint{Proto: Unix, Path: u.path} }
func (u *unixListener) String() string { return u.Describe() }
func (u *unixListener) Describe(notes ...string) string {
	return describe(u.Addr(), nil, notes)
}
func (u *unixListener) Stats() ListenStats { return ListenStats{} }

// Serve reads one datagram at a time; the sender's name is made once per
// run of datagrams from the same socket.
func (u *unixListener) Serve(h func(*Packet)) error {
	r, err := newUnixReader(u.conn, MaxDatagram)
	if err != nil {
		return fmt.Errorf("receive: %w", err)
	}
	pk := Packet{Source: Source{proto: Unix, r: u}}
	last := ""
	for {
		n, size, trunc, name, err := r.read()
		if err != nil {
			if u.closed.Load() {
				return nil
			}
			return fmt.Errorf("receive: %w", err)
		}
		if name != last || pk.Source.name == "" {
			last, pk.Source.name = name, unixName(&net.UnixAddr{Name: name})
		}
		pk.Data, pk.Truncated, pk.Size = r.buf[:n], trunc, 0
		if trunc {
			pk.Size = size
		}
		h(&pk)
	}
}

// reply sends a datagram to a named sender; an unnamed one cannot be
// answered.
func (u *unixListener) reply(s *Source, p []byte) error {
	path := s.name[len("unix:"):]
	if path == "-" {
		return errNoReply
	}
	_, err := u.conn.WriteToUnix(p, &net.UnixAddr{Name: path, Net: "unixgram"})
	return err
}

// Close closes the socket and removes the file it created.
func (u *unixListener) Close() error {
	u.once.Do(func() {
		u.closed.Store(true)
		u.err = u.conn.Close()
		if rerr := os.Remove(u.path); rerr != nil && !errors.Is(rerr, fs.ErrNotExist) && u.err == nil {
			u.err = rerr
		}
	})
	return u.err
}

// errNoReply is returned by Source.Reply for a sender that has no address.
var errNoReply = errors.New("the sender has no address to reply to")

func unixName(a *net.UnixAddr) string {
	if a == nil || a.Name == "" || a.Name == "@" {
		return "unix:-"
	}
	return "unix:" + a.Name
}
