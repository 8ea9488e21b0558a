package transport

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strconv"
	"syscall"
	"time"
)

// Client sends packets to one endpoint over one socket or connection, and
// reads what comes back on it (replies).
type Client interface {
	Send(p []byte) error
	// SendBatch sends several packets with as few system calls as the
	// transport allows (sendmmsg or segmentation offload for UDP on
	// Linux, one write for TCP). When some went before an error, the
	// error is a *PartialError saying how many (UDP).
	SendBatch(ps [][]byte) error
	// Receive returns the next packet arriving on the socket (replies);
	// its Data is valid until the next call.
	Receive() (Packet, error)
	SetReadDeadline(t time.Time) error
	// SetWriteDeadline bounds Send and SendBatch: a deadline in the past
	// ends one blocked on a receiver that does not read.
	SetWriteDeadline(t time.Time) error
	Close() error
	// String describes the socket: "udp 127.0.0.1:5000 → 127.0.0.1:8000".
	String() string
}

// DialConfig says how to send, beyond where.
type DialConfig struct {
	Framing  Framing // TCP: slip (the default) or len
	MaxFrame int     // TCP and WebSocket replies: largest frame (DefaultMaxFrame when 0)
	// ConnectTimeout is how long to wait for a TCP receiver to accept, or
	// a WebSocket server to accept and answer the upgrade
	// (DefaultConnectTimeout when 0); a ctx deadline ends it sooner.
	ConnectTimeout time.Duration

	// UDP
	Broadcast     bool   // allow sending to a broadcast address
	TTL           int    // multicast TTL / hop limit; 0 leaves the system's (1)
	MulticastLoop bool   // deliver multicast to listeners on this host too
	Iface         string // interface for multicast
	// RecvBuffer is the receive buffer to ask for, for many replies
	// (bench's echoes); 0 keeps the system's.
	RecvBuffer int

	// Connect connects a UDP socket to the target, so that a datagram the
	// target's host refused (ICMP port unreachable) fails a later Send,
	// SendBatch or Receive with ErrRefused, and only the target's
	// datagrams are received (oscli tap). Without it a refusal goes
	// unseen, and replies from any address are received.
	Connect bool

	// LocalAddr and LocalPort fix where packets come from, for devices
	// that answer a known port: the source address (the zero Addr or a
	// wildcard: the system's choice) and port (0: any free one), UDP,
	// TCP and WebSocket.
	LocalAddr netip.Addr
	LocalPort int
}

// local returns the address to bind for a target of the family of to:
// "" for the wildcard. A LocalAddr of the other family is an error.
func (cfg DialConfig) local(to netip.Addr) (string, error) {
	a := cfg.LocalAddr
	if !a.IsValid() || a.IsUnspecified() {
		return "", nil
	}
	if a.Unmap().Is4() != to.Unmap().Is4() {
		return "", fmt.Errorf("cannot send from %s to %s: one is IPv4, the other IPv6", a, to)
	}
	return a.Unmap().String(), nil
}

// Dial opens a client for the endpoint.
func Dial(ctx context.Context, ep Endpoint, cfg DialConfig) (Client, error) {
	switch ep.Proto {
	case TCP:
		return dialTCP(ctx, ep, cfg)
	case WS, WSS:
		return dialWS(ctx, ep, cfg)
	case Unix:
		return dialUnix(ep)
	}
	to, err := ResolveUDP(ctx, ep.Host, ep.Port)
	if err != nil {
		return nil, err
	}
	host, err := cfg.local(to.Addr())
	if err != nil {
		return nil, err
	}
	u := udpConfig{Broadcast: cfg.Broadcast, TTL: cfg.TTL, Loop: cfg.MulticastLoop, Iface: cfg.Iface,
		IPv6: to.Addr().Is6(), RecvBuffer: cfg.RecvBuffer, Host: host, Port: cfg.LocalPort, Sending: true}
	if u.RecvBuffer == 0 {
		u.RecvBuffer = -1
	}
	var conn *udpConn
	if cfg.Connect {
		conn, err = connectUDP(ctx, u, to)
	} else {
		conn, err = listenUDP(ctx, u)
	}
	if err != nil {
		return nil, err
	}
	return &udpClient{c: conn, to: to, buf: make([]byte, MaxDatagram), batch: newBatch(64, 0)}, nil
}

type udpClient struct {
	c     *udpConn
	to    netip.AddrPort
	buf   []byte
	batch *batch
	src   Source
	// noGSO: a segmentation offload write failed here once; batches go
	// by sendmmsg from then on.
	noGSO  bool
	gsoBuf []byte
}

// The most datagrams and bytes one segmentation offload write carries
// (UDP_MAX_SEGMENTS in Linux 4.18; an IPv4 datagram's payload).
const (
	gsoMaxSegments = 64
	gsoMaxBytes    = 65507
)

func (u *udpClient) Send(p []byte) error { return u.c.WriteTo(p, u.to) }

// SendBatch sends the packets many per system call. A connected client
// on Linux sends each run of equal-size packets (the last of a run may be
// shorter) as one segmentation offload write: the kernel passes the run
// down its stack once and cuts it into the same datagrams, which costs a
// fraction of sendmmsg's per-datagram path (tap's forwarding at 200,000
// packets a second). Where the kernel or the path refuses it, the client
// goes back to sendmmsg for good.
func (u *udpClient) SendBatch(ps [][]byte) error {
	if !u.c.connected || u.noGSO || !gsoSupported || len(ps) < 2 {
		return u.c.writeBatch(ps, u.to, u.batch)
	}
	sent := 0
	for len(ps) > 0 {
		size, n, total := len(ps[0]), 1, len(ps[0])
		for n < len(ps) && n < gsoMaxSegments && len(ps[n]) <= size && len(ps[n]) > 0 && total+len(ps[n]) <= gsoMaxBytes {
			total += len(ps[n])
			n++
			if len(ps[n-1]) < size {
				break // a shorter one ends the run
			}
		}
		var err error
		if n == 1 || size == 0 {
			n, err = 1, u.c.WriteTo(ps[0], u.to)
		} else if err = u.c.writeGSO(ps[:n], &u.gsoBuf); err != nil {
			if gsoRefused(err) {
				u.noGSO, u.gsoBuf = true, nil
				return partial(sent, u.c.writeBatch(ps, u.to, u.batch))
			}
			err = wrapSendErr(u.to.String(), err)
		}
		if err != nil {
			return partial(sent, err)
		}
		sent += n
		ps = ps[n:]
	}
	return nil
}

// PartialError is SendBatch's error when the first Sent packets went out
// before Err stopped the others (none of which went).
type PartialError struct {
	Sent int
	Err  error
}

func (e *PartialError) Error() string { return e.Err.Error() }
func (e *PartialError) Unwrap() error { return e.Err }

// partial is err, as a *PartialError when sent packets went before it.
func partial(sent int, err error) error {
	if err == nil || sent == 0 {
		return err
	}
	var pe *PartialError
	if errors.As(err, &pe) {
		pe.Sent += sent
		return pe
	}
	return &PartialError{Sent: sent, Err: err}
}
func (u *udpClient) Receive() (Packet, error) {
	n, from, trunc, err := u.c.ReadFrom(u.buf)
	if err != nil {
		return Packet{}, err
	}
	if from != u.src.addr || u.src.name == "" {
		u.src = Source{proto: UDP, name: from.String(), addr: from, r: u}
	}
	return Packet{Data: u.buf[:n], Truncated: trunc, Source: u.src}, nil
}
func (u *udpClient) reply(s *Source, p []byte) error    { return u.c.WriteTo(p, s.addr) }
func (u *udpClient) SetReadDeadline(t time.Time) error  { return u.c.conn.SetReadDeadline(t) }
func (u *udpClient) SetWriteDeadline(t time.Time) error { return u.c.conn.SetWriteDeadline(t) }
func (u *udpClient) Close() error                       { return u.c.Close() }
func (u *udpClient) String() string                     { return fmt.Sprintf("udp %s → %s", u.c.Local, u.to) }

type tcpClient struct {
	conn    net.Conn
	framing Framing
	max     int
	wbuf    []byte
	sent    bool // a frame went out: the next is not the first
	fr      *frameReader
	src     Source
}

// DefaultConnectTimeout is how long Dial waits for a TCP receiver to
// accept unless configured: the kernel alone would retry for about two
// minutes.
const DefaultConnectTimeout = 5 * time.Second

// ErrNoAnswer matches (errors.Is) a TCP connect that timed out.
var ErrNoAnswer = errors.New("no answer")

func dialTCP(ctx context.Context, ep Endpoint, cfg DialConfig) (Client, error) {
	host := ep.Host
	if host == "" {
		host = "127.0.0.1"
	}
	addr := net.JoinHostPort(host, strconv.Itoa(ep.Port))
	limit := cfg.connectLimit(ctx)
	d, local, err := cfg.dialer(host, limit)
	if err != nil {
		return nil, err
	}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, connectError(ctx, "tcp "+addr, local, cfg, limit, err)
	}
	f := cfg.Framing
	if f == "" || f == FramingAuto {
		f = FramingSLIP
	}
	return &tcpClient{conn: conn, framing: f, max: cfg.MaxFrame}, nil
}

// connectLimit is how long a connection may take to be accepted:
// ConnectTimeout (DefaultConnectTimeout when 0), or less when ctx ends
// sooner.
func (cfg DialConfig) connectLimit(ctx context.Context) time.Duration {
	limit := cfg.ConnectTimeout
	if limit <= 0 {
		limit = DefaultConnectTimeout
	}
	if dl, ok := ctx.Deadline(); ok {
		limit = max(0, min(limit, time.Until(dl).Round(time.Millisecond)))
	}
	return limit
}

// dialer is a TCP dialer to host (a name or an address) that gives up
// after limit and binds LocalAddr and LocalPort when set; local names
// what it binds, for errors.
func (cfg DialConfig) dialer(host string, limit time.Duration) (d net.Dialer, local string, err error) {
	d.Timeout = limit
	if !cfg.LocalAddr.IsValid() && cfg.LocalPort == 0 {
		return d, "", nil
	}
	// A name is resolved by the dialer, which picks an address of the
	// local address's family.
	to, err := netip.ParseAddr(host)
	if err != nil {
		to = cfg.LocalAddr
	}
	h, err := cfg.local(to)
	if err != nil {
		return d, "", err
	}
	la := &net.TCPAddr{Port: cfg.LocalPort}
	switch {
	case h != "":
		la.IP = net.ParseIP(h)
	case to.Is6() && !to.Is4In6():
		h = "::"
	default:
		h = "0.0.0.0"
	}
	d.LocalAddr, local = la, net.JoinHostPort(h, strconv.Itoa(cfg.LocalPort))
	// The last run's connection from this port may still be in
	// TIME_WAIT; SO_REUSEADDR lets the port be bound again (a listener
	// on it still makes it "in use").
	d.Control = func(_, _ string, c syscall.RawConn) error { return setReuseAddr(c) }
	return d, local, nil
}

// connectError says why a TCP connection to what ("tcp 10.0.0.5:9000",
// "ws://10.0.0.5:9000/osc") failed, in oscli's words: refused, no answer
// within limit (ErrNoAnswer), a --bind that cannot be bound.
func connectError(ctx context.Context, what, local string, cfg DialConfig, limit time.Duration, err error) error {
	var ne net.Error
	var se *os.SyscallError
	switch {
	case local != "" && errors.As(err, &se) && se.Syscall == "bind":
		return bindError(TCP, local, err)
	case cfg.LocalPort != 0 && errors.Is(err, syscall.EADDRNOTAVAIL):
		return fmt.Errorf("cannot connect to %s from port %d: the last connection between them is still closing (TIME_WAIT, up to a minute); wait, or leave out the fixed port", what, cfg.LocalPort)
	case errors.Is(err, syscall.ECONNREFUSED):
		return fmt.Errorf("cannot connect to %s: connection refused (is a receiver listening?)", what)
	case errors.Is(err, context.Canceled) || errors.Is(ctx.Err(), context.Canceled):
		return fmt.Errorf("cannot connect to %s: %w", what, context.Canceled)
	case errors.As(err, &ne) && ne.Timeout() || errors.Is(err, context.DeadlineExceeded):
		return &closeError{kind: ErrNoAnswer, msg: fmt.Sprintf("cannot connect to %s: no answer within %v", what, limit)}
	}
	return fmt.Errorf("cannot connect to %s: %w", what, unwrapOp(err))
}

func (c *tcpClient) Send(p []byte) error {
	c.wbuf = appendConnFrame(c.wbuf[:0], p, c.framing, !c.sent)
	c.sent = true
	if _, err := c.conn.Write(c.wbuf); err != nil {
		return fmt.Errorf("send to tcp %s: %w", c.conn.RemoteAddr(), unwrapOp(err))
	}
	return nil
}

func (c *tcpClient) SendBatch(ps [][]byte) error {
	c.wbuf = c.wbuf[:0]
	for _, p := range ps {
		c.wbuf = appendConnFrame(c.wbuf, p, c.framing, !c.sent)
		c.sent = true
	}
	if _, err := c.conn.Write(c.wbuf); err != nil {
		return fmt.Errorf("send to tcp %s: %w", c.conn.RemoteAddr(), unwrapOp(err))
	}
	return nil
}

func (c *tcpClient) Receive() (Packet, error) {
	if c.fr == nil {
		c.fr = newFrameReader(c.conn, FramingAuto, c.max, nil)
	}
	if c.fr.framing == FramingAuto {
		if err := c.fr.detectFraming(); err != nil {
			return Packet{}, err
		}
		ap := unmapAddrPort(c.conn.RemoteAddr().(*net.TCPAddr).AddrPort())
		c.src = Source{proto: "tcp+" + string(c.fr.framing), name: ap.String(), addr: ap, r: c}
	}
	p, err := c.fr.Next()
	if err != nil {
		return Packet{}, err
	}
	return Packet{Data: p, More: c.fr.Buffered(), Source: c.src}, nil
}

func (c *tcpClient) reply(_ *Source, p []byte) error { return c.Send(p) }

func (c *tcpClient) SetReadDeadline(t time.Time) error  { return c.conn.SetReadDeadline(t) }
func (c *tcpClient) SetWriteDeadline(t time.Time) error { return c.conn.SetWriteDeadline(t) }

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

func (u *unixClient) Receive() (Packet, error) {
	n, _, flags, from, err := u.conn.ReadMsgUnix(u.buf, nil)
	if err != nil {
		return Packet{}, err
	}
	// Replies come from the one socket this client is connected to.
	return Packet{Data: u.buf[:n], Truncated: flags&msgTrunc != 0, Source: Source{proto: Unix, name: unixName(from), r: u}}, nil
}

func (u *unixClient) reply(_ *Source, p []byte) error    { return u.Send(p) }
func (u *unixClient) SetReadDeadline(t time.Time) error  { return u.conn.SetReadDeadline(t) }
func (u *unixClient) SetWriteDeadline(t time.Time) error { return u.conn.SetWriteDeadline(t) }
func (u *unixClient) Close() error                       { return u.conn.Close() }
func (u *unixClient) String() string                     { return "unix → " + u.conn.RemoteAddr().String() }
