package pipeline

import (
	"container/heap"
	"time"

	"github.com/oscli/oscli/internal/clock"
	"github.com/oscli/oscli/internal/format"
	"github.com/oscli/oscli/internal/osc"
)

// scheduler holds bundles until their time tags (--schedule) and shows
// them when due, earliest first; equal times keep arrival order. It shares
// the pipeline's lock.
type scheduler struct {
	p      *Pipeline
	q      heldQueue
	seq    int
	timer  clock.Timer
	closed bool
}

type held struct {
	due time.Time
	seq int
	ev  format.Event
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
	*q = old[:len(old)-1]
	return h
}

func newScheduler(p *Pipeline) *scheduler {
	s := &scheduler{p: p}
	s.timer = p.cfg.Clock.AfterFunc(time.Hour, s.fire)
	s.timer.Stop()
	return s
}

// hold keeps a copy of the event (the receive buffer is reused) until
// due; p.mu is held.
func (s *scheduler) hold(ev *format.Event, due time.Time) {
	if s.closed {
		return
	}
	c := *ev
	c.Raw = append([]byte(nil), ev.Raw...)
	c.Packet = osc.ClonePacket(ev.Packet)
	c.Arrived = ev.Time
	s.seq++
	heap.Push(&s.q, &held{due: due, seq: s.seq, ev: c})
	if s.q[0].seq == s.seq {
		s.rearm()
	}
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
		h.ev.Time = now
		p.emitLocked(&h.ev, true)
	}
	if !s.closed {
		s.rearm()
	}
}

// close stops the scheduler and returns how many bundles it still held.
func (s *scheduler) close() int {
	s.p.mu.Lock()
	defer s.p.mu.Unlock()
	s.closed = true
	s.timer.Stop()
	return len(s.q)
}
