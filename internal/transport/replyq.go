package transport

import (
	"fmt"
	"sync"
)

// replyQueue holds a stream connection's replies (TCP, WebSocket) for a
// writer goroutine of the connection's own, started when none runs, so a
// reply never waits on the peer: one that does not read cannot hold up
// the caller (dump's pipeline, serving every connection).
type replyQueue struct {
	mu      sync.Mutex
	q       []byte
	writing bool
	err     error // why replies fail from now on
}

// replyConn is the connection a replyQueue writes to.
type replyConn interface {
	// writeReplies writes a batch of queued replies.
	writeReplies(buf []byte) error
	// killNotReading closes a peer that does not read its replies.
	killNotReading(err error)
}

// push adds a reply to the queue with add (which appends its framing,
// under the queue's lock) and starts c's writer in a goroutine when none
// runs. Past limit bytes waiting the peer is not reading: the queue
// fails with ErrNotReading, c is killed with that error (outside the
// lock), and later pushes return it.
func (r *replyQueue) push(add func(q []byte) []byte, limit int, c replyConn) error {
	r.mu.Lock()
	if r.err != nil {
		err := r.err
		r.mu.Unlock()
		return err
	}
	r.q = add(r.q)
	if n := len(r.q); n > limit {
		r.err = &closeError{kind: ErrNotReading,
			msg: fmt.Sprintf("not reading its replies (%d bytes waiting)", n)}
		r.q = nil
		err := r.err
		r.mu.Unlock()
		c.killNotReading(err)
		return err
	}
	if !r.writing {
		r.writing = true
		go r.flush(c)
	}
	r.mu.Unlock()
	return nil
}

// flush hands what is queued to c, a batch at a time, until none is
// left or a write fails, and lets go of a queue grown large.
func (r *replyQueue) flush(c replyConn) {
	var spare []byte
	r.mu.Lock()
	for len(r.q) > 0 && r.err == nil {
		buf := r.q
		r.q = spare[:0]
		r.mu.Unlock()
		err := c.writeReplies(buf)
		r.mu.Lock()
		if err != nil && r.err == nil {
			r.err = err
		}
		spare = buf
	}
	r.writing = false
	if cap(r.q) > keepFrameBuffer || r.err != nil {
		r.q = nil
	}
	r.mu.Unlock()
}
