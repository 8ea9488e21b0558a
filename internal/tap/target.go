package tap

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/oscli/oscli/internal/transport"
)

// item is what a target's queue holds beside a packet: the route it goes
// by, or (close) the route to close once what was queued before is sent.
type item struct {
	r     *route
	close bool
}

// target is one target: its queue, writer and numbers.
type target struct {
	tap  *Tap
	cfg  Target
	dial transport.DialConfig
	q    *queue[item]

	// Set by the writer, read by Forward.
	down    atomic.Bool
	retryAt atomic.Int64 // stamp before which it is not dialled again

	batch [][]byte // the writer's

	mu        sync.Mutex // the state below
	backoff   time.Duration
	downErr   error // why it is down (nil: up)
	dialFail  bool  // a dial failed since the last Up
	downSince int64 // NotSent when it went down
	said      [TooBig + 1]bool

	sent, dropped, notSent, refused, tooBig, replies, unreturned, closedByIt atomic.Int64
}

func newTarget(t *Tap, tc Target) *target {
	tg := &target{tap: t, cfg: tc, dial: tc.Dial, backoff: t.cfg.Backoff, batch: make([][]byte, 0, t.cfg.Batch)}
	tg.dial.Connect = true // UDP: see refusals, take the target's replies only
	tg.q = newQueue[item](t.cfg.Queue, t.cfg.QueueBytes)
	return tg
}

// push queues one packet for the route, or counts why it cannot.
func (tg *target) push(r *route, data []byte) {
	if tg.cfg.MaxPacket > 0 && len(data) > tg.cfg.MaxPacket {
		tg.tooBig.Add(1)
		tg.once(TooBig, Event{Kind: TooBig, Target: tg.cfg.Endpoint, Count: int64(len(data)),
			Err: fmt.Errorf("it takes at most %d bytes", tg.cfg.MaxPacket)})
		return
	}
	if tg.down.Load() && tg.tap.stamp() < tg.retryAt.Load() {
		tg.notSent.Add(1)
		return
	}
	if !tg.q.push(data, item{r: r}) {
		tg.dropped.Add(1)
		tg.once(Stalled, Event{Kind: Stalled, Target: tg.cfg.Endpoint, Count: int64(len(tg.q.slots))})
	}
}

// leave closes r once the packets queued for it before are sent (or at
// once when the queue is full).
func (tg *target) leave(r *route) {
	if !tg.q.push(nil, item{r: r, close: true}) {
		r.close()
	}
}

// write is the target's writer: it sends what is queued, as many packets
// per system call as are waiting for the same route, until the queue is
// closed and empty (or the tap's context ends).
func (tg *target) write() {
	defer tg.tap.writers.Done()
	q := tg.q
	for {
		head, k := q.take(cap(tg.batch))
		if k == 0 {
			return
		}
		if tg.tap.ctx.Err() != nil {
			for i := range k {
				if q.at(head, i).m.close {
					q.at(head, i).m.r.close()
				} else {
					tg.notSent.Add(1)
				}
			}
		} else {
			for i := 0; i < k; {
				it := q.at(head, i).m
				if it.close {
					it.r.close()
					i++
					continue
				}
				ps := tg.batch[:0]
				for ; i < k && q.at(head, i).m == it; i++ {
					ps = append(ps, q.at(head, i).b)
				}
				tg.send(it.r, ps)
			}
		}
		q.release(head, k)
	}
}

// send sends ps on r's socket, dialling it first when needed.
func (tg *target) send(r *route, ps [][]byte) {
	tp := tg.tap
	c, closed := r.client()
	if closed {
		tg.notSent.Add(int64(len(ps)))
		return
	}
	if c == nil {
		if c = tg.open(r); c == nil {
			tg.notSent.Add(int64(len(ps)))
			return
		}
	}
	err := tg.sendBatch(c, ps)
	if errors.Is(err, transport.ErrRefused) {
		// An earlier datagram was refused, and the system said so on
		// this send, which did not go. Once more: a UDP socket reports
		// each refusal once.
		tg.refusedOnce(err)
		var pe *transport.PartialError
		if errors.As(err, &pe) {
			ps = ps[pe.Sent:]
		}
		err = tg.sendBatch(c, ps)
	}
	if err == nil {
		return
	}
	var pe *transport.PartialError
	if errors.As(err, &pe) {
		ps = ps[pe.Sent:]
	}
	tg.notSent.Add(int64(len(ps)))
	if _, closed := r.client(); closed || tp.ctx.Err() != nil {
		return // closed under us: idle, evicted or stopping
	}
	r.drop(c)
	tg.fail(err, r.lasted(c))
}

// sendBatch sends ps on c and counts what went.
func (tg *target) sendBatch(c transport.Client, ps [][]byte) error {
	err := c.SendBatch(ps)
	if err == nil {
		tg.sent.Add(int64(len(ps)))
		return nil
	}
	var pe *transport.PartialError
	if errors.As(err, &pe) {
		tg.sent.Add(int64(pe.Sent))
	}
	return err
}

// open dials r's socket and starts its reader; nil when the target is
// down and its backoff has not passed, or the dial failed.
func (tg *target) open(r *route) transport.Client {
	tp := tg.tap
	now := tp.stamp()
	if tg.down.Load() && now < tg.retryAt.Load() {
		return nil
	}
	c, err := tp.cfg.Dial(tp.ctx, tg.cfg.Endpoint, tg.dial)
	if err != nil {
		if tp.ctx.Err() == nil {
			tg.mu.Lock()
			tg.dialFail = true
			tg.mu.Unlock()
			tg.fail(err, 0)
		}
		return nil
	}
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		_ = c.Close()
		return nil
	}
	r.c, r.opened = c, tp.stamp()
	r.mu.Unlock()
	tg.up()
	tp.readers.Add(1)
	go r.read(c)
	return c
}

// fail marks the target down after a failed dial (lasted 0) or the loss
// of a connection that had lasted that long: it is dialled again once the
// backoff has passed. The backoff doubles with each failure, up to
// MaxBackoff, and starts again from Backoff when the connection lost had
// lasted MaxBackoff: a target that accepts and at once closes is not
// dialled at the packet rate.
func (tg *target) fail(err error, lasted time.Duration) {
	tp := tg.tap
	tg.mu.Lock()
	first := tg.downErr == nil
	tg.downErr = err
	if first {
		tg.downSince = tg.notSent.Load()
	}
	if lasted >= tp.cfg.MaxBackoff {
		tg.backoff = tp.cfg.Backoff
	}
	wait := tg.backoff
	tg.backoff = min(2*tg.backoff, tp.cfg.MaxBackoff)
	tg.retryAt.Store(tp.stamp() + int64(wait))
	tg.down.Store(true)
	tg.mu.Unlock()
	if first {
		tp.event(Event{Kind: Down, Target: tg.cfg.Endpoint, Err: err})
	}
}

// up clears the down state after a successful dial; it is reported when
// a dial had failed (a socket that opens proves nothing about a UDP
// target whose packets were refused).
func (tg *target) up() {
	tg.mu.Lock()
	was, dialFail := tg.downErr != nil, tg.dialFail
	missed := tg.notSent.Load() - tg.downSince
	tg.downErr, tg.dialFail = nil, false
	if dialFail {
		tg.said = [TooBig + 1]bool{} // a new outage is news again
	}
	tg.mu.Unlock()
	tg.down.Store(false)
	if was && dialFail {
		tg.tap.event(Event{Kind: Up, Target: tg.cfg.Endpoint, Count: missed})
	}
}

// refusedOnce counts a refusal the system reported, and reports the first.
func (tg *target) refusedOnce(err error) {
	tg.refused.Add(1)
	tg.once(Refused, Event{Kind: Refused, Target: tg.cfg.Endpoint, Err: err})
}

// once reports e the first time its kind happens to the target.
func (tg *target) once(kind EventKind, e Event) {
	tg.mu.Lock()
	said := tg.said[kind]
	tg.said[kind] = true
	tg.mu.Unlock()
	if !said {
		tg.tap.event(e)
	}
}

func (tg *target) stats() TargetStats {
	left := tg.q.len() // not sent by the stop (the writer has gone)
	tg.mu.Lock()
	err := tg.downErr
	tg.mu.Unlock()
	return TargetStats{
		Target: tg.cfg.Endpoint, Sent: tg.sent.Load(), Dropped: tg.dropped.Load(),
		NotSent: tg.notSent.Load() + int64(left), Refused: tg.refused.Load(), TooBig: tg.tooBig.Load(),
		Replies: tg.replies.Load(), Unreturned: tg.unreturned.Load(), Closed: tg.closedByIt.Load(), Err: err,
	}
}
