package transport

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/oscli/oscli/internal/clock"
	"github.com/oscli/oscli/internal/slip"
)

var t0 = time.Date(2026, 11, 21, 18, 0, 0, 0, time.UTC)

// tcpHarness is a TCP listener on loopback with a fake clock, whose
// connection events and waits the test can await.
type tcpHarness struct {
	t      *testing.T
	l      *tcpListener
	clk    *clock.Fake
	events chan ConnEvent
	waits  chan connWait
	seen   map[string][]connWait // waits read from the channel, not yet awaited
	pkts   <-chan Packet
}

// connWait is a connection about to wait for bytes, with or without an
// unfinished frame, of which it has some bytes.
type connWait struct {
	name    string
	partial bool
	have    int
}

func newTCPHarness(t *testing.T, cfg ListenConfig) *tcpHarness {
	t.Helper()
	h := &tcpHarness{t: t, clk: clock.NewFake(t0), events: make(chan ConnEvent, 1<<14),
		waits: make(chan connWait, 1<<14), seen: map[string][]connWait{}}
	cfg.Clock = h.clk
	cfg.OnConn = func(e ConnEvent) { h.events <- e }
	l, err := Listen(context.Background(), Endpoint{Proto: TCP, Host: "127.0.0.1"}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	h.l = l.(*tcpListener)
	h.l.waiting = func(c *tcpConn, partial bool, have int) {
		select {
		case h.waits <- connWait{c.src.String(), partial, have}:
		default:
			t.Error("too many waits to keep")
		}
	}
	h.pkts = serve(t, l)
	return h
}

func (h *tcpHarness) dial() net.Conn {
	h.t.Helper()
	c, err := net.Dial("tcp", h.l.Addr().HostPort())
	if err != nil {
		h.t.Fatal(err)
	}
	h.t.Cleanup(func() { c.Close() })
	return c
}

func (h *tcpHarness) write(c net.Conn, b []byte) {
	h.t.Helper()
	if _, err := c.Write(b); err != nil {
		h.t.Fatal(err)
	}
}

// event returns the next connection event.
func (h *tcpHarness) event() ConnEvent {
	h.t.Helper()
	select {
	case e := <-h.events:
		return e
	case <-time.After(10 * time.Second):
		h.t.Fatal("no connection event in 10s")
	}
	return ConnEvent{}
}

// opened waits until c's framing was detected, and forgets the wait for
// its first byte.
func (h *tcpHarness) opened(c net.Conn) {
	h.t.Helper()
	if e := h.event(); !e.Opened || e.Source.String() != c.LocalAddr().String() {
		h.t.Fatalf("event %+v, want %s opened", e, c.LocalAddr())
	}
	h.waiting(c)
}

// waiting waits until c's connection waits for bytes (again) between
// frames; earlier waits of c's that do not match are passed over.
func (h *tcpHarness) waiting(c net.Conn) { h.t.Helper(); h.await(c, connWait{}) }

// holding waits until c's connection waits for the rest of a frame of
// which it has n bytes.
func (h *tcpHarness) holding(c net.Conn, n int) {
	h.t.Helper()
	h.await(c, connWait{partial: true, have: n})
}

func (h *tcpHarness) await(c net.Conn, want connWait) {
	h.t.Helper()
	want.name = c.LocalAddr().String()
	timeout := time.After(10 * time.Second)
	for {
		for len(h.seen[want.name]) > 0 {
			w := h.seen[want.name][0]
			h.seen[want.name] = h.seen[want.name][1:]
			if w == want {
				return
			}
		}
		select {
		case w := <-h.waits:
			h.seen[w.name] = append(h.seen[w.name], w)
		case <-timeout:
			h.t.Fatalf("no wait %+v within 10s", want)
		}
	}
}

// packet waits for a packet from c and checks it.
func (h *tcpHarness) packet(c net.Conn, want []byte) {
	h.t.Helper()
	p := next(h.t, h.pkts)
	if p.Source.String() != c.LocalAddr().String() || !bytes.Equal(p.Data, want) {
		h.t.Fatalf("got %d bytes %.20q from %s, want %d bytes %.20q from %s", len(p.Data), p.Data, p.Source, len(want), want, c.LocalAddr())
	}
}

// closed checks that the server closed c.
func closedByServer(t *testing.T, c net.Conn) {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.Copy(io.Discard, c); err != nil && !errors.Is(err, syscall.ECONNRESET) {
		t.Errorf("%s: reading to the end: %v", c.LocalAddr(), err)
	}
}

func msg(addr string) []byte {
	b := []byte(addr)
	b = append(b, make([]byte, 4-len(b)%4)...)
	return append(b, ',', 0, 0, 0)
}

func lenPrefix(n int) []byte { return binary.BigEndian.AppendUint32(nil, uint32(n)) }

// A frame begun must end within FrameTimeout, in either framing and
// inside a length prefix too; a frame finished in time is delivered, and
// a connection between frames may stay quiet for an hour.
func TestTCPFrameTimeout(t *testing.T) {
	h := newTCPHarness(t, ListenConfig{FrameTimeout: 5 * time.Second})
	quiet := h.dial()
	h.write(quiet, slip.Append(nil, msg("/q")))
	h.opened(quiet)
	h.packet(quiet, msg("/q"))
	h.waiting(quiet)

	slipHalf, prefixHalf, lenHalf := h.dial(), h.dial(), h.dial()
	long := msg("/slow/but/in/time")
	for c, half := range map[net.Conn]struct {
		b    []byte
		have int
	}{
		slipHalf:   {[]byte{slip.End, '/', 's'}, 2},
		prefixHalf: {[]byte{0, 0}, 2},
		lenHalf:    {append(lenPrefix(len(long)), long[:5]...), 5},
	} {
		h.write(c, half.b)
		h.opened(c)
		h.holding(c, half.have)
	}

	h.clk.Advance(5*time.Second - 1)
	h.write(lenHalf, long[5:])
	h.packet(lenHalf, long)
	h.waiting(lenHalf)
	h.clk.Advance(1)
	late := map[string]bool{slipHalf.LocalAddr().String(): true, prefixHalf.LocalAddr().String(): true}
	for range 2 {
		e := h.event()
		if !late[e.Source.String()] || !errors.Is(e.Err, ErrFrameTimeout) || e.Err.Error() != "frame not completed within 5s" {
			t.Fatalf("event %+v (%v)", e, e.Err)
		}
		delete(late, e.Source.String())
	}
	closedByServer(t, slipHalf)
	closedByServer(t, prefixHalf)

	h.clk.Advance(time.Hour)
	for c, f := range map[net.Conn]Framing{quiet: FramingSLIP, lenHalf: FramingLen} {
		h.write(c, AppendFrame(nil, msg("/still"), f))
		h.packet(c, msg("/still"))
	}
	if st := h.l.Stats(); st.Conns != 4 || st.Dropped != 2 {
		t.Errorf("stats %+v", st)
	}
}

// With every slot taken, a new connection takes the slot of the one idle
// longest; a quiet connection keeps its slot while there is room.
func TestTCPEvictsLongestIdle(t *testing.T) {
	h := newTCPHarness(t, ListenConfig{MaxConns: 2})
	a := h.dial()
	h.write(a, []byte{slip.End})
	h.opened(a)
	h.clk.Advance(time.Second)
	b := h.dial()
	h.write(b, []byte{slip.End})
	h.opened(b)
	h.clk.Advance(time.Second)
	h.write(a, slip.Append(nil, msg("/a")))
	h.packet(a, msg("/a"))

	c := h.dial()
	e := h.event()
	want := "evicted for " + c.LocalAddr().String() + ": the longest idle (1s) of 2 connections"
	if e.Source.String() != b.LocalAddr().String() || !errors.Is(e.Err, ErrTooManyConns) || e.Err.Error() != want {
		t.Fatalf("event %+v, want %s: %s", e, b.LocalAddr(), want)
	}
	closedByServer(t, b)
	h.write(c, slip.Append(nil, msg("/c")))
	h.opened(c)
	h.packet(c, msg("/c"))
	h.write(a, slip.Append(nil, msg("/a2")))
	h.packet(a, msg("/a2"))
	if st := h.l.Stats(); st.Conns != 3 || st.Dropped != 1 {
		t.Errorf("stats %+v", st)
	}
}

// A slot frees the moment its connection is gone: a storm of connections
// opened and closed (reset or not) one at a time is never refused and
// never evicts the quiet connection holding the other slot. Connections
// that sent nothing are counted, and their leaving is no error.
func TestTCPConnectResetStorm(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("a slot frees only when its goroutine notices: Windows cannot peek at a socket")
	}
	const cycles = 2000
	events := make(chan ConnEvent, 16)
	l, err := Listen(context.Background(), Endpoint{Proto: TCP, Host: "127.0.0.1"},
		ListenConfig{MaxConns: 2, OnConn: func(e ConnEvent) {
			select {
			case events <- e:
			default:
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	pkts := serve(t, l)
	desk, err := net.Dial("tcp", l.Addr().HostPort())
	if err != nil {
		t.Fatal(err)
	}
	defer desk.Close()
	if _, err := desk.Write(slip.Append(nil, msg("/desk"))); err != nil {
		t.Fatal(err)
	}
	next(t, pkts)
	if e := <-events; !e.Opened {
		t.Fatalf("event %+v", e)
	}
	for i := range cycles {
		c, err := net.Dial("tcp", l.Addr().HostPort())
		if err != nil {
			t.Fatal(err)
		}
		if i%2 == 0 {
			_ = c.(*net.TCPConn).SetLinger(0) // close with a reset
		}
		c.Close()
	}
	// Connections are accepted in order: once the last one's packet is
	// in, the storm is through.
	last, err := net.Dial("tcp", l.Addr().HostPort())
	if err != nil {
		t.Fatal(err)
	}
	defer last.Close()
	for _, c := range []net.Conn{last, desk} {
		if _, err := c.Write(slip.Append(nil, msg("/after"))); err != nil {
			t.Fatal(err)
		}
		if p := next(t, pkts); p.Source.String() != c.LocalAddr().String() {
			t.Fatalf("packet from %s", p.Source)
		}
	}
	for len(events) > 0 {
		if e := <-events; e.Err != nil || e.Source.String() != last.LocalAddr().String() {
			t.Errorf("event during the storm: %+v (%v)", e, e.Err)
		}
	}
	if st := l.Stats(); st.Conns != cycles+2 || st.Dropped != 0 {
		t.Errorf("stats %+v", st)
	}
}

// Frame buffers are capped across connections: past the cap the
// connection whose unfinished frame waits longest is closed, the others
// go on, and buffers grown for a large frame are let go once it is done.
// (Sizes: each buffer counts past its first 8 KiB and grows by doubling
// up to the frame's size, so b counts 11808 to 31808 bytes, a 51808 to
// 52808 and c at most 51808: a and c fit in the cap, all three do not.)
func TestTCPFrameBuffersCapped(t *testing.T) {
	h := newTCPHarness(t, ListenConfig{MaxBuffered: 106000})
	frame := func(n int) []byte {
		b := msg("/big")
		return append(b, bytes.Repeat([]byte{'x'}, n-len(b))...)
	}
	slow, big, newcomer := frame(70000), frame(61000), frame(60000)
	b, a, c := h.dial(), h.dial(), h.dial()
	h.write(b, append(lenPrefix(len(slow)), slow[:20000]...))
	h.opened(b)
	h.holding(b, 20000)
	h.clk.Advance(time.Second)
	h.write(a, append(lenPrefix(len(big)), big[:60000]...))
	h.opened(a)
	h.holding(a, 60000)
	if held := h.l.held.Load(); held < 63616 || held > 84616 {
		t.Fatalf("%d bytes held", held)
	}

	h.write(c, append(lenPrefix(len(newcomer)), newcomer...))
	h.opened(c)
	e := h.event()
	if e.Source.String() != b.LocalAddr().String() || !errors.Is(e.Err, ErrBuffersFull) ||
		!strings.HasPrefix(e.Err.Error(), "unfinished frames on all connections passed the 106000-byte limit, and this one's was the oldest (") {
		t.Fatalf("event %+v (%v)", e, e.Err)
	}
	closedByServer(t, b)
	h.packet(c, newcomer)
	h.waiting(c)
	h.write(a, big[60000:])
	h.packet(a, big)
	h.waiting(a)
	if held := h.l.held.Load(); held != 0 {
		t.Errorf("%d bytes of frame buffers kept by idle connections", held)
	}
}

// A connection whose bytes wait unread in its socket is never evicted,
// even after its peer has gone: with one slot, clients that connect,
// send and close one after another are all read to the end, a newcomer
// waiting for the slot rather than evicting one that has data unread.
func TestTCPNoEvictionWithDataUnread(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("Windows cannot peek at a socket: any connection may be evicted")
	}
	const clients = 300
	events := make(chan ConnEvent, 4*clients)
	l, err := Listen(context.Background(), Endpoint{Proto: TCP, Host: "127.0.0.1"},
		ListenConfig{MaxConns: 1, OnConn: func(e ConnEvent) { events <- e }})
	if err != nil {
		t.Fatal(err)
	}
	pkts := serve(t, l)
	for range clients {
		c, err := net.Dial("tcp", l.Addr().HostPort())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Write(slip.Append(nil, msg("/s"))); err != nil {
			t.Fatal(err)
		}
		c.Close()
	}
	for i := range clients {
		if p := next(t, pkts); !bytes.Equal(p.Data, msg("/s")) {
			t.Fatalf("packet %d: %q", i, p.Data)
		}
	}
	for len(events) > 0 {
		if e := <-events; e.Err != nil {
			t.Errorf("event: %+v (%v)", e, e.Err)
		}
	}
	if st := l.Stats(); st.Conns != clients || st.Dropped != 0 {
		t.Errorf("stats %+v", st)
	}
}

// A reply never waits on its peer: with every packet echoed by one
// goroutine (as dump's pipeline does), a client that floods large frames
// and never reads its echoes is closed as not reading them, and another
// client's packet still comes through.
func TestTCPReplyNeverBlocks(t *testing.T) {
	events := make(chan ConnEvent, 16)
	l, err := Listen(context.Background(), Endpoint{Proto: TCP, Host: "127.0.0.1"},
		ListenConfig{OnConn: func(e ConnEvent) {
			select {
			case events <- e:
			default:
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	in, out := make(chan Packet, 4), make(chan Packet, 64)
	done := make(chan error, 1)
	go func() {
		done <- l.Serve(func(p *Packet) {
			c := *p
			c.Data = bytes.Clone(p.Data)
			in <- c
		})
	}()
	go func() { // the pipeline: one goroutine echoes every packet
		for p := range in {
			_ = p.Source.Reply(p.Data)
			out <- p
		}
	}()
	t.Cleanup(func() {
		l.Close()
		if err := <-done; err != nil {
			t.Errorf("Serve after Close: %v", err)
		}
		close(in)
	})
	guard := time.After(60 * time.Second) // failure guard only
	mute, err := net.Dial("tcp", l.Addr().HostPort())
	if err != nil {
		t.Fatal(err)
	}
	defer mute.Close()
	frame := slip.Append(nil, append(msg("/f"), make([]byte, 60000)...))
	go func() {
		for {
			if _, err := mute.Write(frame); err != nil {
				return // closed by the server
			}
		}
	}()
	// Wait for the mute client to be closed, then send the probe; every
	// packet delivered meanwhile is taken, so the pipeline never waits
	// on the test.
	var probe net.Conn
	for {
		select {
		case e := <-events:
			if e.Opened {
				continue
			}
			if e.Source.String() != mute.LocalAddr().String() || !errors.Is(e.Err, ErrNotReading) ||
				!strings.HasPrefix(e.Err.Error(), "not reading its replies (") {
				t.Fatalf("event %+v (%v), want %s not reading its replies", e, e.Err, mute.LocalAddr())
			}
			if probe, err = net.Dial("tcp", l.Addr().HostPort()); err != nil {
				t.Fatal(err)
			}
			defer probe.Close()
			if _, err := probe.Write(slip.Append(nil, msg("/probe"))); err != nil {
				t.Fatal(err)
			}
		case p := <-out:
			if probe != nil && p.Source.String() == probe.LocalAddr().String() {
				if !bytes.Equal(p.Data, msg("/probe")) {
					t.Fatalf("probe came as %q", p.Data)
				}
				return
			}
		case <-guard:
			if probe == nil {
				t.Fatal("the client not reading its replies was not closed: replies wait on it")
			}
			t.Fatal("the probe was not delivered")
		}
	}
}
