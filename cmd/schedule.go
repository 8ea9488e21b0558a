package cmd

import (
	"container/heap"
	"sync"
	"time"

	"github.com/oscli/oscli/internal/format"
	"github.com/oscli/oscli/internal/osc"
)

// scheduler holds bundles until their time tags (dump --schedule) and
// emits them when due, earliest first; equal times keep arrival order.
type scheduler struct {
	d      *dumper
	mu     sync.Mutex
	q      heldQueue
	seq    int
	timer  *time.Timer
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

func newScheduler(d *dumper) *scheduler {
	s := &scheduler{d: d}
	s.timer = time.AfterFunc(time.Hour, s.fire)
	s.timer.Stop()
	return s
}

// hold keeps a copy of the event (the receive buffer is reused) until due.
func (s *scheduler) hold(ev *format.Event, due time.Time) {
	c := *ev
	c.Raw = append([]byte(nil), ev.Raw...)
	c.Packet = osc.ClonePacket(ev.Packet)
	c.Arrived = ev.Time
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	s.seq++
	heap.Push(&s.q, &held{due: due, seq: s.seq, ev: c})
	s.rearm()
}

// rearm points the timer at the earliest held bundle; s.mu is held.
func (s *scheduler) rearm() {
	if len(s.q) > 0 {
		s.timer.Reset(time.Until(s.q[0].due))
	}
}

func (s *scheduler) fire() {
	for {
		s.mu.Lock()
		if s.closed || len(s.q) == 0 || s.q[0].due.After(time.Now()) {
			if !s.closed {
				s.rearm()
			}
			s.mu.Unlock()
			return
		}
		h := heap.Pop(&s.q).(*held)
		s.mu.Unlock()
		h.ev.Time = s.d.o.Now()
		s.d.emit(&h.ev, true)
	}
}

// close stops the scheduler and returns how many bundles it still held.
func (s *scheduler) close() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	s.timer.Stop()
	return len(s.q)
}
