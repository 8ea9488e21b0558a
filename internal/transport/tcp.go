package transport

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/oscli/oscli/internal/slip"
)

// Framing is how packets are delimited on a TCP stream.
type Framing string

// The framings. OSC 1.0 prefixes each packet with its int32 size (liblo's
// default, ETC Eos, many consoles); OSC 1.1 wraps each in SLIP END bytes
// (python-osc, osc.js, TouchOSC's option).
const (
	FramingAuto Framing = "auto"
	FramingSLIP Framing = "slip"
	FramingLen  Framing = "len"
)

// ParseFraming validates a --framing value; auto is allowed only where a
// receiver can detect the framing.
func ParseFraming(s string, allowAuto bool) (Framing, error) {
	switch f := Framing(s); f {
	case FramingSLIP, FramingLen:
		return f, nil
	case FramingAuto:
		if allowAuto {
			return f, nil
		}
	}
	if allowAuto {
		return "", fmt.Errorf("invalid --framing %q (want auto, slip or len)", s)
	}
	return "", fmt.Errorf("invalid --framing %q (want slip or len)", s)
}

// DefaultMaxFrame is the largest TCP frame accepted unless configured:
// 1 MiB, the same limit as SLIP files.
const DefaultMaxFrame = slip.DefaultMaxFrame

// ErrFrameTooLarge reports a frame above the configured maximum, in
// either framing.
var ErrFrameTooLarge = slip.ErrFrameTooLarge

// AppendFrame appends p framed for a stream, after other frames: in SLIP
// between two END bytes (OSC 1.1's double END).
func AppendFrame(dst, p []byte, f Framing) []byte {
	return appendConnFrame(dst, p, f, false)
}

// appendConnFrame appends p framed for a connection; first says that
// nothing went out on it before. A connection's first SLIP frame goes
// without the leading END (slip.AppendFirst), so that liblo, which takes
// a stream for SLIP only when it starts with '/', "#bun" or END '/',
// reads a bundle sent first; later frames keep it (double END, as OSC
// 1.1 has it), which every SLIP reader skips as an empty frame, liblo
// included.
func appendConnFrame(dst, p []byte, f Framing, first bool) []byte {
	switch {
	case f == FramingLen:
		dst = binary.BigEndian.AppendUint32(dst, uint32(len(p)))
		return append(dst, p...)
	case first:
		return slip.AppendFirst(dst, p)
	}
	return slip.Append(dst, p)
}

// DefaultFrameTimeout is how long a TCP frame may take from its first
// byte to its last unless configured. OSC frames are small and arrive in
// one segment; 5 s lets even a maximum-size (1 MiB) frame through a
// 2 Mbit/s link, and frees a slot held by half a frame soon enough.
const DefaultFrameTimeout = 5 * time.Second

// DefaultMaxBuffered is the most bytes of frame buffers all of a TCP
// listener's connections hold together, beyond the small buffer each may
// keep, unless configured (or twice the maximum frame, when that is
// more): eight maximum-size frames under way at once. With the garbage
// collector's headroom, 500 connections each holding an unfinished
// maximum-size frame keep dump near 50 MB.
const DefaultMaxBuffered = 8 << 20

// Errors a TCP listener closes a connection with (errors.Is), besides
// framing errors and ErrFrameTooLarge.
var (
	// ErrTooManyConns: all MaxConns slots were taken and this connection
	// was the one idle longest; it made room for a new one.
	ErrTooManyConns = errors.New("too many connections")
	// ErrFrameTimeout: a frame was begun and not finished within
	// FrameTimeout.
	ErrFrameTimeout = errors.New("frame not completed in time")
	// ErrBuffersFull: unfinished frames on all connections together
	// passed MaxBuffered, and this connection's had waited longest.
	ErrBuffersFull = errors.New("frame buffers full")
	// ErrNotReading: replies to this connection piled up past
	// replyQueueLimit because its peer does not read them.
	ErrNotReading = errors.New("not reading its replies")
)

// replyQueueLimit is the most bytes of replies a connection may have
// waiting to be written, beyond what the system's socket buffers hold:
// two maximum-size frames (one SLIP-escaped), at least 256 KiB. A peer
// that lets more pile up is not reading its replies and is closed, so a
// reply never waits on a peer.
func replyQueueLimit(maxFrame int) int { return max(256<<10, 2*maxFrame+2) }

// closeError is why the listener closed a connection: a message of its
// own that wraps one of the errors above.
type closeError struct {
	kind error
	msg  string
}

func (e *closeError) Error() string { return e.msg }
func (e *closeError) Unwrap() error { return e.kind }

// tcpListener accepts OSC stream connections and reads packets from each
// in its framing, within the bounds its connSet keeps.
type tcpListener struct {
	connSet
	ln   *net.TCPListener
	dual bool // on the IPv6 wildcard, taking IPv4 too
	cfg  ListenConfig
	wg   sync.WaitGroup

	// waiting, when set (by tests, before Serve), is told each time a
	// connection is about to wait for bytes: the ready signal for moving
	// a fake clock.
	waiting func(c *tcpConn, partial bool, have int)
}

func listenTCP(ctx context.Context, ep Endpoint, cfg ListenConfig) (*tcpListener, error) {
	ln, dual, err := listenStream(ctx, TCP, ep.Host, ep.Port, cfg.IPv6Only)
	if err != nil {
		return nil, err
	}
	if cfg.Framing == "" {
		cfg.Framing = FramingAuto
	}
	cfg = withLimitDefaults(cfg)
	l := &tcpListener{ln: ln, cfg: cfg, dual: dual}
	l.init(cfg, "frame")
	return l, nil
}

// listenStream opens the TCP socket of a stream listener (TCP,
// WebSocket). "tcp" binds the IPv6 wildcard with IPV6_V6ONLY off, so
// IPv4 peers connect too (and the IPv4 wildcard on both, which "tcp4"
// stops); dual reports that.
func listenStream(ctx context.Context, proto, host string, port int, v6only bool) (ln *net.TCPListener, dual bool, err error) {
	if host == "" {
		host = "0.0.0.0"
	}
	network := "tcp"
	if a, err := netip.ParseAddr(host); err == nil {
		switch {
		case a.Is4() || a.Is4In6():
			network = "tcp4"
		case !a.IsUnspecified() || v6only:
			network = "tcp6"
		default:
			dual = true
		}
	}
	addr := net.JoinHostPort(host, strconv.Itoa(port))
	var lc net.ListenConfig
	l, err := lc.Listen(ctx, network, addr)
	if err != nil {
		if errors.Is(err, syscall.EADDRINUSE) {
			return nil, false, &AddrInUseError{Proto: proto, Addr: addr}
		}
		return nil, false, fmt.Errorf("cannot listen on %s %s: %w", proto, addr, unwrapOp(err))
	}
	return l.(*net.TCPListener), dual, nil
}

func (l *tcpListener) Addr() Endpoint {
	ap := l.ln.Addr().(*net.TCPAddr).AddrPort()
	return Endpoint{Proto: TCP, Host: ap.Addr().Unmap().String(), Port: int(ap.Port())}
}

func (l *tcpListener) String() string { return l.Describe() }

func (l *tcpListener) Describe(notes ...string) string {
	var own []string
	if l.dual {
		own = append(own, "IPv4 and IPv6")
	}
	own = append(own, "framing "+string(l.cfg.Framing))
	return describe(l.Addr(), nil, append(own, notes...))
}

func (l *tcpListener) Stats() ListenStats {
	return ListenStats{Conns: l.conns.Load(), Dropped: l.dropped.Load()}
}

// Serve accepts connections until Close, reading each in a goroutine of
// its own. It returns after every connection has finished.
func (l *tcpListener) Serve(h func(*Packet)) error {
	defer l.wg.Wait()
	for {
		conn, err := l.ln.AcceptTCP()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			// Out of file descriptors and the like: wait a little, go on.
			time.Sleep(10 * time.Millisecond)
			continue
		}
		c := &tcpConn{l: l, conn: conn, framing: l.cfg.Framing}
		ap := unmapAddrPort(conn.RemoteAddr().(*net.TCPAddr).AddrPort())
		c.src = Source{proto: TCP, name: ap.String(), addr: ap, r: c}
		l.add(&c.connSlot, conn, c.src.name, func() { conn.Close() })
		// With no slot to give, the newcomer waits, unread, until one
		// frees or a connection becomes evictable; later ones wait in
		// the accept queue.
		for {
			ok, closed := l.admit(&c.connSlot)
			if closed {
				conn.Close()
				return nil
			}
			if ok {
				break
			}
			<-l.changed
		}
		l.wg.Add(1)
		go l.serveConn(c, h)
	}
}

func (l *tcpListener) event(e ConnEvent) {
	if l.cfg.OnConn != nil {
		l.cfg.OnConn(e)
	}
}

func (l *tcpListener) serveConn(c *tcpConn, h func(*Packet)) {
	defer l.wg.Done()
	fr := newFrameReader(c.conn, c.framing, l.cfg.MaxFrame, c)
	err := fr.detectFraming()
	opened := err == nil
	if opened {
		c.framing = fr.framing
		c.src.proto = "tcp+" + string(c.framing)
		l.event(ConnEvent{Source: c.src, Opened: true})
		pk := Packet{Source: c.src}
		for {
			var p []byte
			if p, err = fr.Next(); err != nil {
				break
			}
			c.frameDone()
			pk.Data, pk.More = p, fr.Buffered()
			h(&pk)
		}
	}
	partial := fr.partial()
	why := l.done(&c.connSlot)
	c.conn.Close()
	switch {
	case why != nil:
		l.event(ConnEvent{Source: c.src, Err: why})
	case err == io.EOF || errors.Is(err, net.ErrClosed) || !partial && errors.Is(err, syscall.ECONNRESET):
		// Leaving between frames, even with a reset, is no problem;
		// connecting and leaving without a word is not even news.
		if opened {
			l.event(ConnEvent{Source: c.src})
		}
	default:
		l.dropped.Add(1)
		l.event(ConnEvent{Source: c.src, Err: err})
	}
}

// Close stops accepting and closes every connection.
func (l *tcpListener) Close() error {
	err := l.ln.Close()
	l.closeAll()
	if errors.Is(err, net.ErrClosed) {
		err = nil
	}
	return err
}

// tcpConn is one accepted connection: what the listener knows of it, and
// the way to answer its peer.
type tcpConn struct {
	connSlot
	l       *tcpListener
	conn    *net.TCPConn
	framing Framing
	src     Source

	replies replyQueue
	replied bool // a reply was queued: later ones get a leading END; replies.mu
}

func (c *tcpConn) reading(partial bool, have int) {
	c.connSlot.reading(partial)
	if c.l.waiting != nil {
		c.l.waiting(c, partial, have)
	}
}

// reply queues p, framed, for the connection's writer, which it starts
// when none runs: it never waits on the peer, so one that does not read
// cannot hold up the caller (dump's pipeline, serving every connection).
// A peer whose replies pile up past replyQueueLimit is closed
// (ErrNotReading).
func (c *tcpConn) reply(_ *Source, p []byte) error {
	return c.replies.push(func(q []byte) []byte {
		q = appendConnFrame(q, p, c.framing, !c.replied)
		c.replied = true
		return q
	}, replyQueueLimit(c.l.cfg.MaxFrame), c)
}

// writeReplies writes queued replies, already framed.
func (c *tcpConn) writeReplies(buf []byte) error {
	_, err := c.conn.Write(buf)
	return err
}

// killNotReading closes a peer that does not read its replies.
func (c *tcpConn) killNotReading(err error) {
	if c.l.killIfOpen(&c.connSlot, err) {
		c.conn.Close()
	}
}

// connections is the word for n connections.
func connections(n int) string {
	if n == 1 {
		return "connection"
	}
	return "connections"
}
