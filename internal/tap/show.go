package tap

import (
	"sync/atomic"

	"github.com/oscli/oscli/internal/transport"
)

// Defaults of NewShow's limits: about a third of a second of a 200,000
// packets a second flood, and at most 32 MiB held for a stalled printer.
const (
	DefaultShowQueue      = 65536
	DefaultShowQueueBytes = 32 << 20
)

// Show hands the packets a tap forwards, and its targets' replies, to the
// caller's printer on a goroutine of its own, in the order they came,
// through a bounded queue: a slow or stalled printer (a terminal, a pager
// nobody scrolls) never holds up forwarding. What does not fit is not
// shown, and counted.
type Show struct {
	q       *queue[shown]
	print   func(pk *transport.Packet, to string)
	done    chan struct{}
	dropped atomic.Int64
}

// shown is what Show keeps of a packet beside its bytes.
type shown struct {
	src       transport.Source
	to        string // a reply's sender; "" for a forwarded packet
	truncated bool
	size      int
}

// NewShow starts a Show that calls print for each packet pushed: to is
// "" for a packet received (Push), the sender a reply was returned to
// (PushReply). pk.More says whether more are queued behind it. n and
// maxBytes bound the queue (DefaultShowQueue, DefaultShowQueueBytes when
// 0).
func NewShow(n, maxBytes int, print func(pk *transport.Packet, to string)) *Show {
	if n <= 0 {
		n = DefaultShowQueue
	}
	if maxBytes <= 0 {
		maxBytes = DefaultShowQueueBytes
	}
	s := &Show{q: newQueue[shown](n, maxBytes), print: print, done: make(chan struct{})}
	go s.run()
	return s
}

// Push queues a received packet to be shown; it does not block.
func (s *Show) Push(pk *transport.Packet) { s.push(pk, "") }

// PushReply queues a target's reply, returned to the sender named to.
func (s *Show) PushReply(pk *transport.Packet, to string) { s.push(pk, to) }

func (s *Show) push(pk *transport.Packet, to string) {
	if !s.q.push(pk.Data, shown{src: pk.Source, to: to, truncated: pk.Truncated, size: pk.Size}) {
		s.dropped.Add(1)
	}
}

func (s *Show) run() {
	defer close(s.done)
	var pk transport.Packet
	for {
		head, k := s.q.take(len(s.q.slots))
		if k == 0 {
			return
		}
		for i := range k {
			sl := s.q.at(head, i)
			pk = transport.Packet{Data: sl.b, Truncated: sl.m.truncated, Size: sl.m.size, Source: sl.m.src,
				More: i < k-1}
			if !pk.More {
				pk.More = s.q.len() > k
			}
			s.print(&pk, sl.m.to)
		}
		s.q.release(head, k)
	}
}

// Close shows what is queued, waits for the printer, and returns how
// many packets were not shown because the queue was full. Push must not
// be called after.
func (s *Show) Close() (dropped int64) {
	s.q.close()
	<-s.done
	return s.dropped.Load()
}
