package pipeline

import (
	"container/heap"
	"fmt"
	"time"

	"github.com/oscli/oscli/internal/clock"
	"github.com/oscli/oscli/internal/format"
)

// The defaults of Config.ScheduleMax and Config.ScheduleBytes: enough for
// any show's cue list, and a few tens of MiB at most, so a flood of future
// bundles cannot grow dump without bound.
const (
	DefaultScheduleMax   = 10_000
	DefaultScheduleBytes = 16 << 20
)

// scheduler holds bundles until their time tags (--schedule) and shows
// them when due, earliest first; equal times keep arrival order. It holds
// at most max bundles of at most maxBytes packet bytes in all; a bundle
// that does not fit is shown on arrival instead (and counted), which loses
// nothing. It shares the pipeline's lock.
type scheduler struct {
	p        *Pipeline
	q        heldQueue
	seq      int
	bytes    int // packet bytes held
	max      int
	maxBytes int
	full     bool // the caller has been told that the schedule overflowed
	timer    clock.Timer
	closed   bool
}

// held is a bundle waiting for its time: only its bytes are kept (and
// decoded again when due), so it costs little more than its size.
type held struct {
	due     time.Time
	seq     int
	raw     []byte
	from    string
	proto   string
	dir     format.Dir
	to      string
	arrived time.Time
}

type heldQueue []*held

func (q heldQueue) Len() int { return len(q) }
func (q heldQueue) Less(i, j int) bool {
	if !q[i].due.Equal(q[j].due) {
		return q[i].due.Before(q[j].due)
	}
	return q[i].seq < q[j].seq
}
func (q heldQueue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *heldQueue) Push(x any)   { *q = append(*q, x.(*held)) }
func (q *heldQueue) Pop() any {
	old := *q
	h := old[len(old)-1]
	old[len(old)-1] = nil
	*q = old[:len(old)-1]
	return h
}

func newScheduler(p *Pipeline) *scheduler {
	s := &scheduler{p: p, max: p.cfg.ScheduleMax, maxBytes: p.cfg.ScheduleBytes}
	if s.max <= 0 {
		s.max = DefaultScheduleMax
	}
	if s.maxBytes <= 0 {
		s.maxBytes = DefaultScheduleBytes
	}
	s.timer = p.cfg.Clock.AfterFunc(time.Hour, s.fire)
	s.timer.Stop()
	return s
}

// hold keeps a copy of the event's packet (the receive buffer is reused)
// until due and reports true, or reports false when it cannot hold it (the
// schedule is full, or closed) and the caller must show it now; p.mu is
// held.
func (s *scheduler) hold(ev *format.Event, due time.Time) bool {
	if s.closed {
		return false
	}
	full := ""
	switch {
	case len(s.q) >= s.max:
		full = fmt.Sprintf("--schedule holds at most %d %s (--schedule-max)", s.max, Plural(s.max, "bundle", "bundles"))
	case s.bytes+len(ev.Raw) > s.maxBytes:
		full = fmt.Sprintf("--schedule holds at most %d bytes of bundles (--schedule-bytes)", s.maxBytes)
	}
	if full != "" {
		s.p.st.Unheld++
		if !s.full && s.p.cfg.Notice != nil {
			s.full = true
			s.p.cfg.Notice(full + ": bundles that do not fit print on arrival")
		}
		return false
	}
	s.seq++
	s.bytes += len(ev.Raw)
	heap.Push(&s.q, &held{due: due, seq: s.seq, raw: append([]byte(nil), ev.Raw...),
		from: ev.From, proto: ev.Proto, dir: ev.Dir, to: ev.To, arrived: ev.Time})
	if s.q[0].seq == s.seq {
		s.rearm()
	}
	return true
}

// rearm points the timer at the earliest held bundle.
func (s *scheduler) rearm() {
	if len(s.q) > 0 {
		s.timer.Reset(s.q[0].due.Sub(s.p.cfg.Clock.Now()))
	}
}

// fire shows every bundle that is due, then waits for the next.
func (s *scheduler) fire() {
	p := s.p
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.cfg.Clock.Now()
	for !s.closed && len(s.q) > 0 && !s.q[0].due.After(now) {
		h := heap.Pop(&s.q).(*held)
		s.bytes -= len(h.raw)
		// It decoded when it arrived; the pipeline's decoder is free
		// under p.mu.
		ev := format.Event{Time: now, Arrived: h.arrived, From: h.from, Proto: h.proto, Dir: h.dir, To: h.to, Raw: h.raw}
		ev.Packet, ev.Err = p.dec.Decode(h.raw)
		p.emitLocked(&ev, true)
	}
	if !s.closed {
		s.rearm()
	}
}

// close stops the scheduler and shows every bundle it still held, earliest
// first, so that a stop loses none of what arrived (the output and
// --record get them; their headers say how far ahead they were). It
// returns how many it showed that way, and how many it dropped: after
// --count was reached (the user asked for that many) or the output or
// record failed, none is shown and every one is counted as dropped.
func (s *scheduler) close() (shown, dropped int) {
	p := s.p
	p.mu.Lock()
	defer p.mu.Unlock()
	s.closed = true
	s.timer.Stop()
	now := p.cfg.Clock.Now()
	for len(s.q) > 0 {
		h := heap.Pop(&s.q).(*held)
		s.bytes -= len(h.raw)
		if p.done {
			dropped++
			continue
		}
		shown++
		ev := format.Event{Time: now, Arrived: h.arrived, From: h.from, Proto: h.proto, Dir: h.dir, To: h.to, Raw: h.raw}
		ev.Packet, ev.Err = p.dec.Decode(h.raw)
		p.emitLocked(&ev, false)
	}
	return shown, dropped
}
