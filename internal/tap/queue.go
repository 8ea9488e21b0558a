package tap

import "sync"

// bigSlot is the size above which a queue slot's buffer is let go once
// taken, so one large packet does not keep its memory for the run.
const bigSlot = 64 << 10

// smallSlot is the room each queue slot starts with, cut from one array:
// a typical OSC message is queued without allocating, from the first.
const smallSlot = 128

// queue is a bounded ring of packets with something of the caller's (M)
// beside each: filled by any goroutine (push), emptied by one consumer
// (take, then release). Slots keep their buffers, so a push copies the
// packet without allocating.
type queue[M any] struct {
	mu       sync.Mutex
	slots    []slot[M]
	head, n  int // n counts the slots in use, those taken included
	bytes    int
	maxBytes int
	waiting  bool // the consumer waits for wake
	closing  bool
	wake     chan struct{}
}

type slot[M any] struct {
	b []byte
	m M
}

func newQueue[M any](n, maxBytes int) *queue[M] {
	q := &queue[M]{slots: make([]slot[M], n), maxBytes: maxBytes, wake: make(chan struct{}, 1)}
	arena := make([]byte, n*smallSlot)
	for i := range q.slots {
		q.slots[i].b = arena[i*smallSlot : i*smallSlot : (i+1)*smallSlot]
	}
	return q
}

// push copies b into the queue with m; false when it is full (or closed).
func (q *queue[M]) push(b []byte, m M) bool {
	q.mu.Lock()
	if q.n == len(q.slots) || q.bytes+len(b) > q.maxBytes || q.closing {
		q.mu.Unlock()
		return false
	}
	s := &q.slots[(q.head+q.n)%len(q.slots)]
	s.b = append(s.b[:0], b...)
	s.m = m
	q.n++
	q.bytes += len(b)
	wake := q.waiting
	q.waiting = false
	q.mu.Unlock()
	if wake {
		q.wake <- struct{}{}
	}
	return true
}

// take waits for packets and returns how many (at most max) start at the
// slot head; they are the consumer's until release. It returns 0 once the
// queue is closed and empty.
func (q *queue[M]) take(max int) (head, k int) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for q.n == 0 {
		if q.closing {
			return 0, 0
		}
		q.waiting = true
		q.mu.Unlock()
		<-q.wake
		q.mu.Lock()
	}
	return q.head, min(q.n, max)
}

// at returns the i-th slot taken from head.
func (q *queue[M]) at(head, i int) *slot[M] { return &q.slots[(head+i)%len(q.slots)] }

// release gives back the k slots taken from head.
func (q *queue[M]) release(head, k int) {
	var zero M
	q.mu.Lock()
	for i := range k {
		s := q.at(head, i)
		q.bytes -= len(s.b)
		if cap(s.b) > bigSlot {
			s.b = nil
		}
		s.m = zero
	}
	q.head = (head + k) % len(q.slots)
	q.n -= k
	q.mu.Unlock()
}

// len is how many packets are queued, those taken included.
func (q *queue[M]) len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.n
}

// close lets the consumer's take return 0 once the queue is empty; later
// pushes fail.
func (q *queue[M]) close() {
	q.mu.Lock()
	q.closing = true
	w := q.waiting
	q.waiting = false
	q.mu.Unlock()
	if w {
		q.wake <- struct{}{}
	}
}
