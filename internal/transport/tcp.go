package transport

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/netip"
	"runtime/debug"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/oscli/oscli/internal/clock"
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
// in its framing, so that no peer can lock others out or run the process
// out of memory: a slot per connection (MaxConns), freed the moment the
// connection is gone, the longest-idle connection making room for a new
// one when all are taken; a deadline for every frame begun (a reaper on
// the clock closes offenders); and a cap on the frame buffers held by all
// connections together.
type tcpListener struct {
	ln        *net.TCPListener
	dual      bool // on the IPv6 wildcard, taking IPv4 too
	cfg       ListenConfig
	clk       clock.Clock
	base      time.Time // stamps are nanoseconds since base, plus 1
	maxHeld   int64
	reapEvery time.Duration

	conns     atomic.Int64
	dropped   atomic.Int64
	held      atomic.Int64 // bytes of frame buffers, all connections
	freed     atomic.Int64 // bytes of frame buffers let go since the last release
	releasing atomic.Bool
	wg        sync.WaitGroup

	mu     sync.Mutex
	open   map[*tcpConn]struct{} // connections being served
	used   int                   // slots taken: open minus released
	seq    uint64
	closed bool
	reaper clock.Timer
	// changed wakes Serve when, with every slot taken and no connection
	// evictable, one may have become free or evictable.
	changed chan struct{}

	// waiting, when set (by tests, before Serve), is told each time a
	// connection is about to wait for bytes: the ready signal for moving
	// a fake clock.
	waiting func(c *tcpConn, partial bool, have int)
}

func listenTCP(ctx context.Context, ep Endpoint, cfg ListenConfig) (*tcpListener, error) {
	host := ep.Host
	if host == "" {
		host = "0.0.0.0"
	}
	// "tcp" binds the IPv6 wildcard with IPV6_V6ONLY off, so IPv4 peers
	// connect too (and the IPv4 wildcard on both, which "tcp4" stops).
	network, dual := "tcp", false
	if a, err := netip.ParseAddr(host); err == nil {
		switch {
		case a.Is4() || a.Is4In6():
			network = "tcp4"
		case !a.IsUnspecified() || cfg.IPv6Only:
			network = "tcp6"
		default:
			dual = true
		}
	}
	addr := net.JoinHostPort(host, strconv.Itoa(ep.Port))
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, network, addr)
	if err != nil {
		if errors.Is(err, syscall.EADDRINUSE) {
			return nil, &AddrInUseError{Proto: TCP, Addr: addr}
		}
		return nil, fmt.Errorf("cannot listen on tcp %s: %w", addr, unwrapOp(err))
	}
	if cfg.Framing == "" {
		cfg.Framing = FramingAuto
	}
	if cfg.MaxFrame <= 0 {
		cfg.MaxFrame = DefaultMaxFrame
	}
	if cfg.MaxConns <= 0 {
		cfg.MaxConns = DefaultMaxConns
	}
	if cfg.FrameTimeout == 0 {
		cfg.FrameTimeout = DefaultFrameTimeout
	}
	if cfg.MaxBuffered <= 0 {
		cfg.MaxBuffered = max(DefaultMaxBuffered, 2*cfg.MaxFrame)
	}
	l := &tcpListener{ln: ln.(*net.TCPListener), cfg: cfg, clk: cfg.Clock, maxHeld: int64(cfg.MaxBuffered),
		open: map[*tcpConn]struct{}{}, dual: dual, changed: make(chan struct{}, 1)}
	if l.clk == nil {
		l.clk = clock.Real
	}
	l.base = l.clk.Now()
	if cfg.FrameTimeout > 0 {
		// Offenders are closed at most a quarter of the deadline late
		// (a second, at most).
		l.reapEvery = min(max(cfg.FrameTimeout/4, 10*time.Millisecond), time.Second)
		l.mu.Lock()
		l.reaper = l.clk.AfterFunc(l.reapEvery, l.reap)
		l.mu.Unlock()
	}
	return l, nil
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

// stamp is the clock's time as a number that is never 0 (0 means none).
func (l *tcpListener) stamp() int64 { return int64(l.clk.Now().Sub(l.base)) + 1 }

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
		l.conns.Add(1)
		c := &tcpConn{l: l, conn: conn, framing: l.cfg.Framing}
		ap := unmapAddrPort(conn.RemoteAddr().(*net.TCPAddr).AddrPort())
		c.src = Source{proto: TCP, name: ap.String(), addr: ap, r: c}
		c.lastRead.Store(l.stamp())
		// With no slot to give, the newcomer waits, unread, until one
		// frees or a connection becomes evictable; later ones wait in
		// the accept queue.
		for {
			ok, closed := l.admit(c)
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

// admit gives c a slot: a free one, one of a connection whose peer has
// gone although its goroutine has not noticed yet, or the slot of the
// connection idle longest, which is closed. A connection with bytes
// waiting in its socket (sent and perhaps closed since) is never evicted:
// its goroutine reads it to the end or to a wait, and admit reports
// false until then (l.changed tells when to try again). closed reports
// that the listener is closed.
func (l *tcpListener) admit(c *tcpConn) (ok, closed bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return false, true
	}
	var victim *tcpConn
	if l.used >= l.cfg.MaxConns {
		for x := range l.open {
			if x.released {
				continue
			}
			gone, unread := peekConn(x.conn)
			switch {
			case gone:
				x.released = true
				l.used--
			case unread:
			case victim == nil || x.lastRead.Load() < victim.lastRead.Load() ||
				x.lastRead.Load() == victim.lastRead.Load() && x.seq < victim.seq:
				victim = x
			}
		}
	}
	if l.used >= l.cfg.MaxConns {
		if victim == nil {
			return false, false
		}
		idle := time.Duration(l.stamp() - victim.lastRead.Load()).Round(time.Millisecond)
		l.killLocked(victim, &closeError{kind: ErrTooManyConns,
			msg: fmt.Sprintf("evicted for %s: the longest idle (%v) of %d %s", c.src, idle, l.cfg.MaxConns, connections(l.cfg.MaxConns))})
	}
	l.seq++
	c.seq = l.seq
	l.used++
	l.open[c] = struct{}{}
	return true, false
}

// change wakes a newcomer waiting for a slot to try again: a slot was
// freed, or a connection read what waited in its socket.
func (l *tcpListener) change() {
	select {
	case l.changed <- struct{}{}:
	default:
	}
}

// killLocked closes c for a reason (once) and frees its slot and its
// share of the frame buffers at once; its goroutine reports the reason.
// l.mu is held.
func (l *tcpListener) killLocked(c *tcpConn, why error) {
	if c.killed.Swap(true) {
		return
	}
	c.why = why
	if !c.released {
		c.released = true
		l.used--
	}
	l.letGo(c.held.Swap(0))
	l.dropped.Add(1)
	c.conn.Close()
	l.change()
}

// releaseAfter is how many bytes of frame buffers let go make the
// listener hand memory back to the system.
const releaseAfter = 4 << 20

// letGo takes n bytes of frame buffers off the total. Once megabytes were
// let go, the memory goes back to the system a second later, rather than
// after the runtime's next collection, which is two minutes away when
// nothing else allocates.
func (l *tcpListener) letGo(n int64) {
	l.held.Add(-n)
	if l.freed.Add(n) >= releaseAfter && l.releasing.CompareAndSwap(false, true) {
		l.clk.AfterFunc(time.Second, func() {
			l.freed.Store(0)
			debug.FreeOSMemory()
			l.releasing.Store(false)
		})
	}
}

// reap closes the connections whose frame has taken too long, then
// comes again.
func (l *tcpListener) reap() {
	now := l.stamp()
	limit := int64(l.cfg.FrameTimeout)
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return
	}
	for x := range l.open {
		if s := x.frameStart.Load(); s != 0 && now-s >= limit {
			l.killLocked(x, &closeError{kind: ErrFrameTimeout,
				msg: fmt.Sprintf("frame not completed within %v", l.cfg.FrameTimeout)})
		}
	}
	l.reaper.Reset(l.reapEvery)
}

// overHeld makes room when the frame buffers of all connections went
// over the cap, as c's frame grew: the connections whose unfinished
// frame waits longest (the slowest senders; on a tie, the one holding
// more) are closed until the rest fit. A frame that completes in time is
// at risk only from frames begun before it. When c's own frame is the
// next to go, it is refused.
func (l *tcpListener) overHeld(c *tcpConn) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	// c's frame, still being read, is younger than every waiting one
	// unless it waited too.
	start := func(x *tcpConn) int64 {
		if s := x.frameStart.Load(); s != 0 {
			return s
		}
		return math.MaxInt64
	}
	for l.held.Load() > l.maxHeld {
		var victim *tcpConn
		for x := range l.open {
			if x.killed.Load() || x.held.Load() <= 0 || x != c && x.frameStart.Load() == 0 {
				continue
			}
			if victim == nil || start(x) < start(victim) ||
				start(x) == start(victim) && x.held.Load() > victim.held.Load() {
				victim = x
			}
		}
		if victim == nil {
			return nil // the excess is on its way out with closed connections
		}
		err := &closeError{kind: ErrBuffersFull,
			msg: fmt.Sprintf("unfinished frames on all connections passed the %d-byte limit, and this one's was the oldest (%d bytes held)",
				l.maxHeld, victim.held.Load())}
		l.killLocked(victim, err)
		if victim == c {
			return err
		}
	}
	return nil
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
			// A finished frame has no deadline, however long the
			// handler takes.
			if c.frameStart.Load() != 0 {
				c.frameStart.Store(0)
			}
			pk.Data, pk.More = p, fr.Buffered()
			h(&pk)
		}
	}
	partial := fr.partial()
	l.mu.Lock()
	delete(l.open, c)
	if !c.released {
		c.released = true
		l.used--
	}
	why := c.why
	l.mu.Unlock()
	l.change()
	l.letGo(c.held.Swap(0))
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
	l.mu.Lock()
	l.closed = true
	if l.reaper != nil {
		l.reaper.Stop()
	}
	for c := range l.open {
		c.conn.Close()
	}
	l.mu.Unlock()
	l.change()
	if errors.Is(err, net.ErrClosed) {
		err = nil
	}
	return err
}

// tcpConn is one accepted connection: what the listener knows of it, and
// the way to answer its peer.
type tcpConn struct {
	l       *tcpListener
	conn    *net.TCPConn
	framing Framing
	src     Source
	seq     uint64 // order of acceptance

	// Stamps (tcpListener.stamp): when bytes last arrived, and when the
	// reader first waited for the rest of the current frame (0: no frame
	// under way).
	lastRead   atomic.Int64
	frameStart atomic.Int64
	held       atomic.Int64 // bytes of frame buffer
	killed     atomic.Bool

	released bool  // its slot is free again; l.mu
	why      error // why the listener closed it; l.mu

	// Replies waiting for the writer (flush), whether one runs, and why
	// replies fail from now on; wmu.
	wmu     sync.Mutex
	wq      []byte
	writing bool
	werr    error
	replied bool // a reply was queued: later ones get a leading END
}

func (c *tcpConn) reading(partial bool, have int) {
	switch {
	case partial:
		if c.frameStart.Load() == 0 {
			c.frameStart.Store(c.l.stamp())
		}
	case c.frameStart.Load() != 0:
		c.frameStart.Store(0)
	}
	c.l.change()
	if c.l.waiting != nil {
		c.l.waiting(c, partial, have)
	}
}

func (c *tcpConn) received() { c.lastRead.Store(c.l.stamp()) }

func (c *tcpConn) hold(delta int) error {
	if delta <= 0 {
		c.held.Add(int64(delta))
		c.l.letGo(int64(-delta))
		return nil
	}
	if c.killed.Load() {
		return net.ErrClosed
	}
	c.held.Add(int64(delta))
	if c.l.held.Add(int64(delta)) > c.l.maxHeld {
		return c.l.overHeld(c)
	}
	return nil
}

// reply queues p, framed, for the connection's writer, which it starts
// when none runs: it never waits on the peer, so one that does not read
// cannot hold up the caller (dump's pipeline, serving every connection).
// A peer whose replies pile up past replyQueueLimit is closed
// (ErrNotReading).
func (c *tcpConn) reply(_ *Source, p []byte) error {
	c.wmu.Lock()
	if c.werr != nil {
		c.wmu.Unlock()
		return c.werr
	}
	c.wq = appendConnFrame(c.wq, p, c.framing, !c.replied)
	c.replied = true
	n := len(c.wq)
	if n > replyQueueLimit(c.l.cfg.MaxFrame) {
		c.werr = &closeError{kind: ErrNotReading,
			msg: fmt.Sprintf("not reading its replies (%d bytes waiting)", n)}
		c.wq = nil
		err := c.werr
		c.wmu.Unlock()
		c.l.mu.Lock()
		if _, ok := c.l.open[c]; ok {
			c.l.killLocked(c, err)
		} else {
			c.conn.Close()
		}
		c.l.mu.Unlock()
		return err
	}
	if !c.writing {
		c.writing = true
		go c.flush()
	}
	c.wmu.Unlock()
	return nil
}

// flush writes the queued replies until none is left or a write fails,
// and lets go of a queue grown large.
func (c *tcpConn) flush() {
	var spare []byte
	c.wmu.Lock()
	for len(c.wq) > 0 && c.werr == nil {
		buf := c.wq
		c.wq = spare[:0]
		c.wmu.Unlock()
		_, err := c.conn.Write(buf)
		c.wmu.Lock()
		if err != nil && c.werr == nil {
			c.werr = err
		}
		spare = buf
	}
	c.writing = false
	if cap(c.wq) > keepFrameBuffer || c.werr != nil {
		c.wq = nil
	}
	c.wmu.Unlock()
}

// connections is the word for n connections.
func connections(n int) string {
	if n == 1 {
		return "connection"
	}
	return "connections"
}
