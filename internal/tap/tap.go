// Package tap forwards received packets, unchanged, to one or more
// targets and returns what the targets send back to the packet's sender:
// the engine of oscli tap.
//
// Each sender gets a socket (or connection) of its own to each target, so
// that a target's answer finds its way back to the sender that asked, and
// several senders are kept apart. Those sockets close after an idle limit
// (no packet either way), and their number is capped: at the cap, the
// sender idle longest makes room. Each target has a bounded queue and a
// writer of its own that sends many packets per system call, so a slow or
// stalled target never holds up the listener or the other targets: what
// does not fit in its queue is dropped and counted. A target that refuses
// (ICMP port unreachable, connection refused, no receiver) is reported
// once and counted; one that cannot be reached is dialled again with
// backoff, on the injected clock, while the packets meant for it are
// counted as not sent.
//
// Targets are reached through transport.Dial only, so every transport
// works on either side and framing is converted on the way (UDP in, TCP
// SLIP out). It knows nothing of flags, terminals or output formats: the
// caller shows replies and reports events.
package tap

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/oscli/oscli/internal/clock"
	"github.com/oscli/oscli/internal/filter"
	"github.com/oscli/oscli/internal/osc"
	"github.com/oscli/oscli/internal/transport"
)

// Defaults for Config's zero values.
const (
	// DefaultQueue is how many packets wait for a target at most: at
	// 200,000 packets a second, 80 ms of a target not keeping up.
	DefaultQueue = 16384
	// DefaultQueueBytes is how many bytes wait for a target at most.
	DefaultQueueBytes = 16 << 20
	// DefaultBatch is how many packets go out per system call.
	DefaultBatch = 64
	// DefaultMaxSenders is how many senders have sockets at once.
	DefaultMaxSenders = 64
	// DefaultIdle is how long a sender's sockets stay open with no packet
	// from it and no reply to it.
	DefaultIdle = 2 * time.Minute
	// DefaultBackoff and DefaultMaxBackoff bound the wait before a target
	// that could not be reached is dialled again: the first wait, doubled
	// after each failure up to the most. A connection that lasted
	// MaxBackoff resets it.
	DefaultBackoff    = 100 * time.Millisecond
	DefaultMaxBackoff = 5 * time.Second
	// DefaultStopGrace is how long Close lets the targets take what is
	// queued for them.
	DefaultStopGrace = time.Second
)

// Target is one place packets are forwarded to.
type Target struct {
	Endpoint transport.Endpoint
	// Dial says how (TCP framing, multicast TTL…); tap sets Connect.
	Dial transport.DialConfig
	// MaxPacket is the largest packet it takes (0: no limit); a larger
	// one is not sent, and counted.
	MaxPacket int
}

// Config builds a Tap.
type Config struct {
	Targets []Target
	// Clock times idleness, backoff and the stop (clock.Real when nil).
	Clock clock.Clock
	// Forward chooses the packets forwarded (nil: all). A packet that
	// does not decode matches no pattern: it is forwarded unless the set
	// has patterns to include.
	Forward *filter.Set
	// Queue and QueueBytes bound what waits for each target
	// (DefaultQueue, DefaultQueueBytes when 0).
	Queue, QueueBytes int
	// Batch is how many packets go out per system call (DefaultBatch).
	Batch int
	// MaxSenders caps the senders with sockets (DefaultMaxSenders).
	MaxSenders int
	// Idle is how long a sender's sockets outlive its last packet or
	// reply (DefaultIdle).
	Idle time.Duration
	// Backoff and MaxBackoff (DefaultBackoff, DefaultMaxBackoff).
	Backoff, MaxBackoff time.Duration
	// StopGrace is how long Close waits for queued packets to go out
	// (DefaultStopGrace).
	StopGrace time.Duration
	// Reply, when set, is called with each packet a target sends back,
	// after it was returned to the sender to; from the goroutine reading
	// that target's socket for that sender.
	Reply func(pk *transport.Packet, to transport.Source)
	// Event, when set, is told what goes wrong and right; from any of
	// the tap's goroutines.
	Event func(Event)
	// Dial opens a target's socket (transport.Dial when nil; tests).
	Dial func(ctx context.Context, ep transport.Endpoint, cfg transport.DialConfig) (transport.Client, error)
}

// EventKind says what happened to a target.
type EventKind int

// The events. Each kind is reported once per target (Down again after Up).
const (
	// Down: the target could not be reached or a send to it failed
	// (Err); it is dialled again after a backoff, and packets meanwhile
	// are counted as not sent.
	Down EventKind = iota + 1
	// Up: a target reported Down was reached again; Count packets were
	// not sent meanwhile.
	Up
	// Refused: the target's host refused a packet (ICMP port
	// unreachable): nobody listens there. Later refusals are counted.
	Refused
	// Stalled: the target's queue is full (it does not keep up, or does
	// not read); packets are dropped and counted.
	Stalled
	// TooBig: a packet of Count bytes is larger than the target takes
	// (Err says its limit); such packets are not sent, and counted.
	TooBig
	// Evicted: MaxSenders senders had sockets, and those of Sender, idle
	// longest, were closed to make room (reported once per run).
	Evicted
)

// Event is something to tell the user about a target or sender.
type Event struct {
	Kind   EventKind
	Target transport.Endpoint
	Sender string
	Err    error
	Count  int64
}

// TargetStats are one target's numbers.
type TargetStats struct {
	Target transport.Endpoint
	// Sent counts the packets handed to its sockets.
	Sent int64
	// Dropped counts the packets its full queue could not take.
	Dropped int64
	// NotSent counts the packets that could not go out: the target was
	// down, a send failed, or the tap stopped before they went (within
	// StopGrace).
	NotSent int64
	// Refused counts the refusals the system reported (ICMP port
	// unreachable); one may stand for several packets.
	Refused int64
	// TooBig counts packets larger than the target takes.
	TooBig int64
	// Replies counts the packets it sent back, and Unreturned those of
	// them that could not be returned to their sender.
	Replies, Unreturned int64
	// Closed counts the connections it closed (the next packet opened
	// another).
	Closed int64
	// Err is the last failure while it was down at the stop, else nil.
	Err error
}

// Stats are a run's numbers.
type Stats struct {
	Targets []TargetStats
	// Forwarded counts the packets given to the targets' queues (each
	// once, whatever the number of targets).
	Forwarded int64
	// Filtered counts packets Config.Forward kept back; Truncated the
	// datagrams cut short by the system, which are never forwarded.
	Filtered, Truncated int64
	// Senders counts the senders seen; Evicted those whose sockets were
	// closed at MaxSenders.
	Senders, Evicted int64
}

// Tap forwards packets. Forward and Gone may be called from several
// goroutines; Close once, after the last Forward.
type Tap struct {
	cfg     Config
	clk     clock.Clock
	base    time.Time
	ctx     context.Context
	cancel  context.CancelFunc
	targets []*target

	mu        sync.Mutex // senders
	senders   map[string]*sender
	last      *sender
	closed    bool
	reap      clock.Timer
	reapArmed bool
	evictSaid bool

	decMu sync.Mutex // Forward's decoder, for Config.Forward
	dec   osc.Decoder

	writers, readers sync.WaitGroup

	forwarded, filtered, truncated, nsenders, evicted atomic.Int64
}

// New starts a tap: a writer per target, waiting for packets. Sockets
// are opened when a sender's first packet arrives. ctx bounds the dials.
func New(ctx context.Context, cfg Config) *Tap {
	if cfg.Clock == nil {
		cfg.Clock = clock.Real
	}
	if cfg.Dial == nil {
		cfg.Dial = transport.Dial
	}
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&cfg.Queue, DefaultQueue)
	def(&cfg.QueueBytes, DefaultQueueBytes)
	def(&cfg.Batch, DefaultBatch)
	def(&cfg.MaxSenders, DefaultMaxSenders)
	defD := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	defD(&cfg.Idle, DefaultIdle)
	defD(&cfg.Backoff, DefaultBackoff)
	defD(&cfg.MaxBackoff, DefaultMaxBackoff)
	defD(&cfg.StopGrace, DefaultStopGrace)
	t := &Tap{cfg: cfg, clk: cfg.Clock, base: cfg.Clock.Now(), senders: map[string]*sender{}}
	t.ctx, t.cancel = context.WithCancel(ctx)
	t.reap = t.clk.AfterFunc(time.Hour, t.reapIdle)
	t.reap.Stop()
	for _, tc := range cfg.Targets {
		tg := newTarget(t, tc)
		t.targets = append(t.targets, tg)
		t.writers.Add(1)
		go tg.write()
	}
	return t
}

// stamp is the clock's time as nanoseconds since the tap started.
func (t *Tap) stamp() int64 { return int64(t.clk.Now().Sub(t.base)) }

// Forward queues pk's bytes for every target, from a socket of pk's
// sender's own. It never blocks on a target: a full queue drops the
// packet (counted). A truncated datagram is not forwarded.
func (t *Tap) Forward(pk *transport.Packet) {
	if pk.Truncated {
		t.truncated.Add(1)
		return
	}
	if !t.cfg.Forward.Empty() && !t.pass(pk.Data) {
		t.filtered.Add(1)
		return
	}
	s := t.sender(pk.Source)
	if s == nil {
		return // closed
	}
	// The clock is read once per batch the listener read (and every 64
	// packets): the sender's idleness is measured in minutes.
	if !pk.More || s.seen.Add(1)%64 == 0 {
		s.last.Store(t.stamp())
	}
	t.forwarded.Add(1)
	for i, tg := range t.targets {
		tg.push(s.routes[i], pk.Data)
	}
}

// pass reports whether Config.Forward lets the packet through.
func (t *Tap) pass(b []byte) bool {
	t.decMu.Lock()
	defer t.decMu.Unlock()
	p, err := t.dec.Decode(b)
	if err != nil {
		return !t.cfg.Forward.HasIncludes() // it matches no pattern
	}
	return t.cfg.Forward.Pass(p)
}

// Gone closes the sockets of a sender that left (a TCP connection that
// closed), so its targets see it leave too: each once what was queued
// for it from that sender has gone out.
func (t *Tap) Gone(src transport.Source) {
	t.mu.Lock()
	s := t.senders[src.String()]
	if s != nil {
		t.dropLocked(s)
	}
	t.mu.Unlock()
	if s != nil {
		t.leave(s)
	}
}

// leave closes s's sockets, each once what was queued for it has gone.
func (t *Tap) leave(s *sender) {
	for i, tg := range t.targets {
		tg.leave(s.routes[i])
	}
}

// sender returns the sender of src, making it (and evicting the one idle
// longest at MaxSenders) when new; nil once closed.
func (t *Tap) sender(src transport.Source) *sender {
	key := src.String()
	t.mu.Lock()
	if s := t.last; s != nil && s.key == key {
		t.mu.Unlock()
		return s
	}
	if t.closed {
		t.mu.Unlock()
		return nil
	}
	s := t.senders[key]
	if s != nil {
		t.last = s
		t.mu.Unlock()
		return s
	}
	var evict *sender
	if len(t.senders) >= t.cfg.MaxSenders {
		for _, o := range t.senders {
			if evict == nil || o.last.Load() < evict.last.Load() {
				evict = o
			}
		}
		t.dropLocked(evict)
		t.evicted.Add(1)
	}
	s = &sender{key: key, src: src, routes: make([]*route, len(t.targets))}
	s.last.Store(t.stamp())
	for i, tg := range t.targets {
		s.routes[i] = &route{t: tg, s: s}
	}
	t.senders[key] = s
	t.last = s
	t.nsenders.Add(1)
	if !t.reapArmed {
		t.reapArmed = true
		t.reap.Reset(t.reapEvery())
	}
	say := evict != nil && !t.evictSaid
	t.evictSaid = t.evictSaid || say
	t.mu.Unlock()
	if evict != nil {
		t.leave(evict)
		if say {
			t.event(Event{Kind: Evicted, Sender: evict.key, Count: int64(t.cfg.MaxSenders)})
		}
	}
	return s
}

func (t *Tap) dropLocked(s *sender) {
	delete(t.senders, s.key)
	if t.last == s {
		t.last = nil
	}
}

// reapEvery is how often idle senders are looked for: a sender is closed
// between Idle and Idle plus this after its last packet or reply.
func (t *Tap) reapEvery() time.Duration { return max(t.cfg.Idle/4, time.Millisecond) }

// reapIdle closes the sockets of the senders idle for Config.Idle.
func (t *Tap) reapIdle() {
	limit := t.stamp() - int64(t.cfg.Idle)
	var idle []*sender
	t.mu.Lock()
	for _, s := range t.senders {
		if s.last.Load() <= limit {
			idle = append(idle, s)
			t.dropLocked(s)
		}
	}
	t.reapArmed = len(t.senders) > 0 && !t.closed
	if t.reapArmed {
		t.reap.Reset(t.reapEvery())
	}
	t.mu.Unlock()
	for _, s := range idle {
		t.leave(s)
	}
}

// Senders returns how many senders have sockets now.
func (t *Tap) Senders() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.senders)
}

func (t *Tap) event(e Event) {
	if t.cfg.Event != nil {
		t.cfg.Event(e)
	}
}

// Close stops forwarding: the targets get StopGrace to take what is
// queued for them (what is left is counted as not sent), then every
// socket is closed. Call it after the last Forward; replies that arrive
// until then are still passed to Config.Reply.
func (t *Tap) Close() Stats {
	t.mu.Lock()
	t.closed = true
	t.reap.Stop()
	t.reapArmed = false
	senders := make([]*sender, 0, len(t.senders))
	for _, s := range t.senders {
		senders = append(senders, s)
	}
	t.senders, t.last = map[string]*sender{}, nil
	t.mu.Unlock()

	for _, tg := range t.targets {
		tg.q.close()
	}
	drained := make(chan struct{})
	go func() {
		t.writers.Wait()
		close(drained)
	}()
	expired := make(chan struct{})
	timer := t.clk.AfterFunc(t.cfg.StopGrace, func() { close(expired) })
	select {
	case <-drained:
	case <-expired:
	}
	timer.Stop()
	// A writer still at work is stuck in a dial or a send to a stalled
	// target: cancelling the dials and closing the sockets ends it.
	t.cancel()
	for _, s := range senders {
		s.close()
	}
	t.writers.Wait()
	t.readers.Wait()
	st := Stats{Forwarded: t.forwarded.Load(), Filtered: t.filtered.Load(), Truncated: t.truncated.Load(),
		Senders: t.nsenders.Load(), Evicted: t.evicted.Load()}
	for _, tg := range t.targets {
		st.Targets = append(st.Targets, tg.stats())
	}
	return st
}

// sender is one sender's sockets, one route per target.
type sender struct {
	key    string
	src    transport.Source
	routes []*route
	last   atomic.Int64 // stamp of its last packet or reply
	seen   atomic.Int64 // packets forwarded
}

func (s *sender) close() {
	for _, r := range s.routes {
		r.close()
	}
}

// route is one sender's socket to one target. The target's writer opens
// it and sends on it; a reader goroutine returns what comes back.
type route struct {
	t *target
	s *sender

	mu     sync.Mutex
	c      transport.Client // nil until dialled, and after a failure
	closed bool
	opened int64 // stamp of the dial
}

// client returns the route's socket, nil when closed.
func (r *route) client() (transport.Client, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.c, r.closed
}

func (r *route) close() {
	r.mu.Lock()
	c := r.c
	r.c, r.closed = nil, true
	r.mu.Unlock()
	if c != nil {
		_ = c.Close()
	}
}

// lasted is how long c has been open.
func (r *route) lasted(c transport.Client) time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	return time.Duration(r.t.tap.stamp() - r.opened)
}

// drop forgets c after a failure (the next packet dials again), unless
// the route moved on.
func (r *route) drop(c transport.Client) {
	r.mu.Lock()
	if r.c == c {
		r.c = nil
	}
	r.mu.Unlock()
	_ = c.Close()
}

// read returns what the target sends on c to the route's sender, until c
// closes.
func (r *route) read(c transport.Client) {
	tg, tp := r.t, r.t.tap
	defer tp.readers.Done()
	for {
		pk, err := c.Receive()
		if err != nil {
			if errors.Is(err, transport.ErrRefused) {
				tg.refusedOnce(err)
				continue
			}
			if _, closed := r.client(); closed || tp.ctx.Err() != nil {
				return
			}
			if cur, _ := r.client(); cur == c {
				r.drop(c)
				if errors.Is(err, io.EOF) {
					// The target closed the connection: the next packet
					// opens another.
					tg.closedByIt.Add(1)
				} else {
					tg.fail(fmt.Errorf("connection lost: %w", err), r.lasted(c))
				}
			}
			return
		}
		r.s.last.Store(tp.stamp())
		tg.replies.Add(1)
		if pk.Truncated || r.s.src.Reply(pk.Data) != nil {
			tg.unreturned.Add(1)
		}
		if tp.cfg.Reply != nil {
			tp.cfg.Reply(&pk, r.s.src)
		}
	}
}
