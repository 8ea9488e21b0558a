package transport

import (
	"fmt"
	"math"
	"net"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/oscli/oscli/internal/clock"
)

// connSet keeps the connections of a stream listener (TCP, WebSocket)
// within bounds, so that no peer can lock others out or run the process
// out of memory: a slot per connection (MaxConns), freed the moment the
// connection is gone, the longest-idle connection making room for a new
// one when all are taken; a deadline for every frame (message) begun, a
// reaper on the clock closing offenders; and a cap on the frame buffers
// held by all connections together.
type connSet struct {
	unit         string // what a connection delivers: "frame", "message"
	maxConns     int
	frameTimeout time.Duration
	clk          clock.Clock
	base         time.Time // stamps are nanoseconds since base, plus 1
	maxHeld      int64
	reapEvery    time.Duration

	conns     atomic.Int64
	dropped   atomic.Int64
	held      atomic.Int64 // bytes of frame buffers, all connections
	freed     atomic.Int64 // bytes of frame buffers let go since the last release
	releasing atomic.Bool

	mu     sync.Mutex
	open   map[*connSlot]struct{} // connections being served
	used   int                    // slots taken: open minus released
	seq    uint64
	closed bool
	reaper clock.Timer
	// changed wakes a newcomer waiting for a slot when, with every slot
	// taken and no connection evictable, one may have become free or
	// evictable.
	changed chan struct{}
}

// connSlot is what a connSet knows of one connection.
type connSlot struct {
	set  *connSet
	raw  *net.TCPConn // looked at (peekConn) to admit a newcomer
	kill func()       // closes the connection at once, without waiting
	// goAway, when set, closes the connection politely as the listener
	// stops (a WebSocket close message), without waiting; else kill.
	goAway func()
	name   string // the peer, for people
	seq    uint64 // order of admission

	// Stamps (connSet.stamp): when bytes last arrived, and when the
	// reader first waited for the rest of the current frame (0: no frame
	// under way).
	lastRead   atomic.Int64
	frameStart atomic.Int64
	held       atomic.Int64 // bytes of frame buffer
	killed     atomic.Bool

	released bool  // its slot is free again; set.mu
	why      error // why the listener closed it; set.mu
}

// init sets the limits from cfg, whose zero values have been replaced by
// the defaults, and starts the reaper.
func (s *connSet) init(cfg ListenConfig, unit string) {
	s.unit = unit
	s.maxConns, s.frameTimeout = cfg.MaxConns, cfg.FrameTimeout
	s.maxHeld = int64(cfg.MaxBuffered)
	s.clk = cfg.Clock
	if s.clk == nil {
		s.clk = clock.Real
	}
	s.base = s.clk.Now()
	s.open = map[*connSlot]struct{}{}
	s.changed = make(chan struct{}, 1)
	if s.frameTimeout > 0 {
		// Offenders are closed at most a quarter of the deadline late
		// (a second, at most).
		s.reapEvery = min(max(s.frameTimeout/4, 10*time.Millisecond), time.Second)
		s.mu.Lock()
		s.reaper = s.clk.AfterFunc(s.reapEvery, s.reap)
		s.mu.Unlock()
	}
}

// withLimitDefaults fills in the stream limits cfg leaves at zero.
func withLimitDefaults(cfg ListenConfig) ListenConfig {
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
	return cfg
}

// stamp is the clock's time as a number that is never 0 (0 means none).
func (s *connSet) stamp() int64 { return int64(s.clk.Now().Sub(s.base)) + 1 }

// add counts a new connection and starts its slot's life.
func (s *connSet) add(c *connSlot, raw *net.TCPConn, name string, kill func()) {
	s.conns.Add(1)
	c.set, c.raw, c.name, c.kill = s, raw, name, kill
	c.lastRead.Store(s.stamp())
}

// admit gives c a slot: a free one, one of a connection whose peer has
// gone although its goroutine has not noticed yet, or the slot of the
// connection idle longest, which is closed. A connection with bytes
// waiting in its socket (sent and perhaps closed since) is never evicted:
// its goroutine reads it to the end or to a wait, and admit reports
// false until then (s.changed tells when to try again). closed reports
// that the listener is closed.
func (s *connSet) admit(c *connSlot) (ok, closed bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false, true
	}
	var victim *connSlot
	if s.used >= s.maxConns {
		for x := range s.open {
			if x.released {
				continue
			}
			gone, unread := peekConn(x.raw)
			switch {
			case gone:
				x.released = true
				s.used--
			case unread:
			case victim == nil || x.lastRead.Load() < victim.lastRead.Load() ||
				x.lastRead.Load() == victim.lastRead.Load() && x.seq < victim.seq:
				victim = x
			}
		}
	}
	if s.used >= s.maxConns {
		if victim == nil {
			return false, false
		}
		idle := time.Duration(s.stamp() - victim.lastRead.Load()).Round(time.Millisecond)
		s.killLocked(victim, &closeError{kind: ErrTooManyConns,
			msg: fmt.Sprintf("evicted for %s: the longest idle (%v) of %d %s", c.name, idle, s.maxConns, connections(s.maxConns))})
	}
	s.seq++
	c.seq = s.seq
	s.used++
	s.open[c] = struct{}{}
	return true, false
}

// change wakes a newcomer waiting for a slot to try again: a slot was
// freed, or a connection read what waited in its socket.
func (s *connSet) change() {
	select {
	case s.changed <- struct{}{}:
	default:
	}
}

// killLocked closes c for a reason (once) and frees its slot and its
// share of the frame buffers at once; its goroutine reports the reason.
// s.mu is held.
func (s *connSet) killLocked(c *connSlot, why error) {
	if c.killed.Swap(true) {
		return
	}
	c.why = why
	if !c.released {
		c.released = true
		s.used--
	}
	s.letGo(c.held.Swap(0))
	s.dropped.Add(1)
	c.kill()
	s.change()
}

// killIfOpen is killLocked for a caller not holding s.mu, and only while
// c is served; closed reports that it was not (its goroutine is done).
func (s *connSet) killIfOpen(c *connSlot, why error) (closed bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.open[c]; !ok {
		return true
	}
	s.killLocked(c, why)
	return false
}

// releaseAfter is how many bytes of frame buffers let go make the
// listener hand memory back to the system.
const releaseAfter = 4 << 20

// letGo takes n bytes of frame buffers off the total. Once megabytes were
// let go, the memory goes back to the system a second later, rather than
// after the runtime's next collection, which is two minutes away when
// nothing else allocates.
func (s *connSet) letGo(n int64) {
	s.held.Add(-n)
	if s.freed.Add(n) >= releaseAfter && s.releasing.CompareAndSwap(false, true) {
		s.clk.AfterFunc(time.Second, func() {
			s.freed.Store(0)
			debug.FreeOSMemory()
			s.releasing.Store(false)
		})
	}
}

// reap closes the connections whose frame has taken too long, then
// comes again.
func (s *connSet) reap() {
	now := s.stamp()
	limit := int64(s.frameTimeout)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	for x := range s.open {
		if st := x.frameStart.Load(); st != 0 && now-st >= limit {
			s.killLocked(x, &closeError{kind: ErrFrameTimeout,
				msg: fmt.Sprintf("%s not completed within %v", s.unit, s.frameTimeout)})
		}
	}
	s.reaper.Reset(s.reapEvery)
}

// overHeld makes room when the frame buffers of all connections went
// over the cap, as c's frame grew: the connections whose unfinished
// frame waits longest (the slowest senders; on a tie, the one holding
// more) are closed until the rest fit. A frame that completes in time is
// at risk only from frames begun before it. When c's own frame is the
// next to go, it is refused.
func (s *connSet) overHeld(c *connSlot) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	// c's frame, still being read, is younger than every waiting one
	// unless it waited too.
	start := func(x *connSlot) int64 {
		if st := x.frameStart.Load(); st != 0 {
			return st
		}
		return math.MaxInt64
	}
	for s.held.Load() > s.maxHeld {
		var victim *connSlot
		for x := range s.open {
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
			msg: fmt.Sprintf("unfinished %ss on all connections passed the %d-byte limit, and this one's was the oldest (%d bytes held)",
				s.unit, s.maxHeld, victim.held.Load())}
		s.killLocked(victim, err)
		if victim == c {
			return err
		}
	}
	return nil
}

// done ends c's life in the set: its slot and buffers are freed, and
// newcomers waiting are told. It returns why the listener closed c, if
// it did.
func (s *connSet) done(c *connSlot) error {
	s.mu.Lock()
	delete(s.open, c)
	if !c.released {
		c.released = true
		s.used--
	}
	why := c.why
	s.mu.Unlock()
	s.change()
	s.letGo(c.held.Swap(0))
	return why
}

// closeAll marks the set closed and closes every connection in it.
func (s *connSet) closeAll() {
	s.mu.Lock()
	s.closed = true
	if s.reaper != nil {
		s.reaper.Stop()
	}
	for c := range s.open {
		if c.goAway != nil && !c.killed.Load() {
			c.goAway()
		} else {
			c.kill()
		}
	}
	s.mu.Unlock()
	s.change()
}

// isClosed reports whether closeAll was called.
func (s *connSet) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

// reading notes that the connection is about to wait for bytes, with a
// frame under way (partial) or between frames.
func (c *connSlot) reading(partial bool) {
	switch {
	case partial:
		if c.frameStart.Load() == 0 {
			c.frameStart.Store(c.set.stamp())
		}
	case c.frameStart.Load() != 0:
		c.frameStart.Store(0)
	}
	c.set.change()
}

// received notes that bytes arrived.
func (c *connSlot) received() { c.lastRead.Store(c.set.stamp()) }

// frameDone notes that a frame was completed: it has no deadline,
// however long its handler takes.
func (c *connSlot) frameDone() {
	if c.frameStart.Load() != 0 {
		c.frameStart.Store(0)
	}
}

// hold asks to keep delta more bytes of frame buffer (fewer when
// negative, which never fails); an error refuses it.
func (c *connSlot) hold(delta int) error {
	if delta <= 0 {
		c.held.Add(int64(delta))
		c.set.letGo(int64(-delta))
		return nil
	}
	if c.killed.Load() {
		return net.ErrClosed
	}
	c.held.Add(int64(delta))
	if c.set.held.Add(int64(delta)) > c.set.maxHeld {
		return c.set.overHeld(c)
	}
	return nil
}
