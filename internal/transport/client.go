package transport

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strconv"
	"syscall"
	"time"

	"golang.org/x/net/ipv4"
)

// Client sends packets to one endpoint over one socket or connection, and
// reads what comes back on it (replies).
type Client interface {
	Send(p []byte) error
	// SendBatch sends several packets with as few system calls as the
	// transport allows (sendmmsg for UDP on Linux, one write for TCP).
	SendBatch(ps [][]byte) error
	// Receive returns the next packet arriving on the socket, valid until
	// the next call, and who sent it.
	Receive() (p []byte, from string, proto string, truncated bool, err error)
	SetReadDeadline(t time.Time) error
	Close() error
	// String describes the socket: "udp 127.0.0.1:5000 → 127.0.0.1:8000".
	String() string
}

// ClientConfig configures Dial.
type ClientConfig struct {
	Framing  Framing // TCP: slip or len
	MaxFrame int     // TCP replies
	UDP      UDPConfig
}

// Dial opens a client for the endpoint.
func Dial(ctx context.Context, ep Endpoint, cfg ClientConfig) (Client, error) {
	switch ep.Proto {
	case TCP:
		return dialTCP(ctx, ep, cfg)
	case Unix:
		return dialUnix(ep)
	}
	to, err := ResolveUDP(ctx, ep.Host, ep.Port)
	if err != nil {
		return nil, err
	}
	u := cfg.UDP
	u.IPv6 = to.Addr().Is6()
	if u.RecvBuffer == 0 {
		u.RecvBuffer = -1
	}
	conn, err := ListenUDP(ctx, u)
	if err != nil {
		return nil, err
	}
	return &udpClient{c: conn, to: to, buf: make([]byte, MaxDatagram), batch: &Batch{Msgs: make([]ipv4.Message, 64)}}, nil
}

type udpClient struct {
	c     *UDPConn
	to    netip.AddrPort
	buf   []byte
	batch *Batch
}

func (u *udpClient) Send(p []byte) error { return u.c.WriteTo(p, u.to) }
func (u *udpClient) SendBatch(ps [][]byte) error {
	for i := range u.batch.Msgs {
		if u.batch.Msgs[i].Buffers == nil {
			u.batch.Msgs[i].Buffers = make([][]byte, 1)
		}
	}
	return u.c.WriteBatch(ps, u.to, u.batch)
}
func (u *udpClient) Receive() ([]byte, string, string, bool, error) {
	n, from, trunc, err := u.c.ReadFrom(u.buf)
	return u.buf[:n], from.String(), UDP, trunc, err
}
func (u *udpClient) SetReadDeadline(t time.Time) error { return u.c.conn.SetReadDeadline(t) }
func (u *udpClient) Close() error                      { return u.c.Close() }
func (u *udpClient) String() string                    { return fmt.Sprintf("udp %s → %s", u.c.Local, u.to) }

type tcpClient struct {
	conn    net.Conn
	framing Framing
	max     int
	wbuf    []byte
	r       *bufio.Reader
	fr      FrameReader
	rproto  string
}

func dialTCP(ctx context.Context, ep Endpoint, cfg ClientConfig) (Client, error) {
	host := ep.Host
	if host == "" {
		host = "127.0.0.1"
	}
	addr := net.JoinHostPort(host, strconv.Itoa(ep.Port))
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		if errors.Is(err, syscall.ECONNREFUSED) {
			return nil, fmt.Errorf("cannot connect to tcp %s: connection refused (is a receiver listening?)", addr)
		}
		return nil, fmt.Errorf("cannot connect to tcp %s: %w", addr, unwrapOp(err))
	}
	f := cfg.Framing
	if f == "" || f == FramingAuto {
		f = FramingSLIP
	}
	return &tcpClient{conn: conn, framing: f, max: cfg.MaxFrame}, nil
}

func (c *tcpClient) Send(p []byte) error {
	c.wbuf = AppendFrame(c.wbuf[:0], p, c.framing)
	if _, err := c.conn.Write(c.wbuf); err != nil {
		return fmt.Errorf("send to tcp %s: %w", c.conn.RemoteAddr(), unwrapOp(err))
	}
	return nil
}

func (c *tcpClient) SendBatch(ps [][]byte) error {
	c.wbuf = c.wbuf[:0]
	for _, p := range ps {
		c.wbuf = AppendFrame(c.wbuf, p, c.framing)
	}
	if _, err := c.conn.Write(c.wbuf); err != nil {
		return fmt.Errorf("send to tcp %s: %w", c.conn.RemoteAddr(), unwrapOp(err))
	}
	return nil
}

func (c *tcpClient) Receive() ([]byte, string, string, bool, error) {
	if c.fr == nil {
		c.r = bufio.NewReader(c.conn)
		f, err := DetectFraming(c.r)
		if err != nil {
			return nil, "", "", false, err
		}
		c.fr = NewFrameReader(c.r, f, c.max)
		c.rproto = "tcp+" + string(f)
	}
	p, err := c.fr.Next()
	return p, c.conn.RemoteAddr().String(), c.rproto, false, err
}

func (c *tcpClient) SetReadDeadline(t time.Time) error { return c.conn.SetReadDeadline(t) }

// Close half-closes first, so the receiver reads everything and sees a
// clean end of stream.
func (c *tcpClient) Close() error {
	if tc, ok := c.conn.(*net.TCPConn); ok {
		_ = tc.CloseWrite()
	}
	return c.conn.Close()
}

func (c *tcpClient) String() string {
	return fmt.Sprintf("tcp+%s %s → %s", c.framing, c.conn.LocalAddr(), c.conn.RemoteAddr())
}

type unixClient struct {
	conn *net.UnixConn
	buf  []byte
}

func dialUnix(ep Endpoint) (Client, error) {
	conn, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: ep.Path, Net: "unixgram"})
	if err != nil {
		if errors.Is(err, os.ErrNotExist) || errors.Is(err, syscall.ECONNREFUSED) {
			return nil, fmt.Errorf("cannot send to unix %s: no receiver there", ep.Path)
		}
		return nil, fmt.Errorf("cannot send to unix %s: %w", ep.Path, unwrapOp(err))
	}
	return &unixClient{conn: conn, buf: make([]byte, MaxDatagram)}, nil
}

func (u *unixClient) Send(p []byte) error {
	if _, err := u.conn.Write(p); err != nil {
		return fmt.Errorf("send to unix %s: %w", u.conn.RemoteAddr(), unwrapOp(err))
	}
	return nil
}
func (u *unixClient) SendBatch(ps [][]byte) error {
	for _, p := range ps {
		if err := u.Send(p); err != nil {
			return err
		}
	}
	return nil
}

func (u *unixClient) Receive() ([]byte, string, string, bool, error) {
	n, _, flags, from, err := u.conn.ReadMsgUnix(u.buf, nil)
	return u.buf[:n], unixName(from), Unix, flags&msgTrunc != 0, err
}
func (u *unixClient) SetReadDeadline(t time.Time) error { return u.conn.SetReadDeadline(t) }
func (u *unixClient) Close() error                      { return u.conn.Close() }
func (u *unixClient) String() string                    { return "unix → " + u.conn.RemoteAddr().String() }
