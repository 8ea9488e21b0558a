package clock

import (
	"context"
	"sort"
	"sync"
	"time"
)

// Fake is a clock that moves only when told (Advance, Set), for tests
// that assert exact times. Timers and sleepers due at or before the new
// time run in due order, each before Advance returns.
type Fake struct {
	mu      sync.Mutex
	now     time.Time
	waiters []*fakeWaiter
	seq     int
	changed chan struct{} // closed and replaced when waiters change
}

type fakeWaiter struct {
	due    time.Time
	seq    int
	f      func()        // AfterFunc
	wake   chan struct{} // Sleep
	active bool
	c      *Fake
}

// NewFake returns a fake clock showing t.
func NewFake(t time.Time) *Fake { return &Fake{now: t, changed: make(chan struct{})} }

// Now returns the fake time.
func (c *Fake) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// AfterFunc schedules f for d from the fake now.
func (c *Fake) AfterFunc(d time.Duration, f func()) Timer {
	c.mu.Lock()
	defer c.mu.Unlock()
	w := &fakeWaiter{f: f, c: c}
	c.addLocked(w, d)
	return w
}

// Sleep blocks until the fake clock has moved d forward, or ctx is done.
func (c *Fake) Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	c.mu.Lock()
	w := &fakeWaiter{wake: make(chan struct{}), c: c}
	c.addLocked(w, d)
	c.mu.Unlock()
	select {
	case <-w.wake:
		return nil
	case <-ctx.Done():
		w.Stop()
		return ctx.Err()
	}
}

func (c *Fake) addLocked(w *fakeWaiter, d time.Duration) {
	c.seq++
	w.due, w.seq, w.active = c.now.Add(d), c.seq, true
	c.waiters = append(c.waiters, w)
	c.notifyLocked()
}

func (c *Fake) notifyLocked() {
	close(c.changed)
	c.changed = make(chan struct{})
}

// Stop cancels a pending timer or sleep.
func (w *fakeWaiter) Stop() bool {
	w.c.mu.Lock()
	defer w.c.mu.Unlock()
	was := w.active
	w.c.removeLocked(w)
	return was
}

// Reset reschedules the timer d from the fake now.
func (w *fakeWaiter) Reset(d time.Duration) bool {
	w.c.mu.Lock()
	defer w.c.mu.Unlock()
	was := w.active
	w.c.removeLocked(w)
	w.c.addLocked(w, d)
	return was
}

func (c *Fake) removeLocked(w *fakeWaiter) {
	if !w.active {
		return
	}
	w.active = false
	for i, x := range c.waiters {
		if x == w {
			c.waiters = append(c.waiters[:i], c.waiters[i+1:]...)
			break
		}
	}
	c.notifyLocked()
}

// Advance moves the clock forward by d, firing what falls due on the way
// at its own due time.
func (c *Fake) Advance(d time.Duration) {
	c.mu.Lock()
	target := c.now.Add(d)
	c.mu.Unlock()
	c.Set(target)
}

// Set moves the clock to t (never backwards), firing what falls due on the
// way, earliest first. AfterFunc callbacks run synchronously, so their
// effects are visible when Set returns; sleepers are woken.
func (c *Fake) Set(t time.Time) {
	for {
		c.mu.Lock()
		sort.SliceStable(c.waiters, func(i, j int) bool {
			a, b := c.waiters[i], c.waiters[j]
			if !a.due.Equal(b.due) {
				return a.due.Before(b.due)
			}
			return a.seq < b.seq
		})
		if len(c.waiters) == 0 || c.waiters[0].due.After(t) {
			if t.After(c.now) {
				c.now = t
			}
			c.mu.Unlock()
			return
		}
		w := c.waiters[0]
		c.waiters = c.waiters[1:]
		w.active = false
		if w.due.After(c.now) {
			c.now = w.due
		}
		c.notifyLocked()
		c.mu.Unlock()
		if w.f != nil {
			w.f()
		} else {
			close(w.wake)
		}
	}
}

// Waiters returns how many timers and sleepers are pending.
func (c *Fake) Waiters() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.waiters)
}

// BlockUntil waits (in real time, up to timeout) until at least n timers
// or sleepers are pending: the ready signal for a test that must not move
// the clock before the code under test has started waiting. It reports
// whether that happened.
func (c *Fake) BlockUntil(n int, timeout time.Duration) bool {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		c.mu.Lock()
		ok, ch := len(c.waiters) >= n, c.changed
		c.mu.Unlock()
		if ok {
			return true
		}
		select {
		case <-ch:
		case <-deadline.C:
			return false
		}
	}
}
