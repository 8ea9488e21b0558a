package top

import (
	"bytes"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/oscli/oscli/internal/clock"
)

// eagerClock is a clock whose short timers fire before AfterFunc returns,
// as a real timer of a nanosecond may: the callback must not depend on
// AfterFunc having returned.
type eagerClock struct{ *clock.Fake }

func (c eagerClock) AfterFunc(d time.Duration, f func()) clock.Timer {
	if d < time.Minute {
		f()
	}
	return c.Fake.AfterFunc(d, f)
}

// lockedBuffer is a writer the periodic's ticks and the test share.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (w *lockedBuffer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func (w *lockedBuffer) count(s string) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return bytes.Count(w.b.Bytes(), []byte(s))
}

// `oscli top --interval 1ns` crashed: the first tick came before
// StartPeriodic had kept its timer, and Reset it through a nil Timer.
func TestPeriodicTickBeforeStartReturns(t *testing.T) {
	fake := clock.NewFake(t0)
	var out lockedBuffer
	p := StartPeriodic(New(Config{}, t0), PeriodicConfig{Clock: eagerClock{fake}, Every: time.Nanosecond, Out: &out})
	if err := p.Stop(); err != nil {
		t.Fatal(err)
	}
	if n := out.count("ADDRESS"); n < 1 {
		t.Fatalf("%d snapshots, want the last one at least", n)
	}
}

// jumpClock is a fake clock whose Now runs ahead of its timers by a
// settable amount: an output that stalled for that long.
type jumpClock struct {
	*clock.Fake
	ahead atomic.Int64
}

func (c *jumpClock) Now() time.Time { return c.Fake.Now().Add(time.Duration(c.ahead.Load())) }

// Ticks missed while the output stalled are skipped in one step: with a
// nanosecond interval and a day's stall, stepping along the grid a tick at
// a time took hours, holding the lock Stop needs.
func TestPeriodicSkipsMissedTicksAtOnce(t *testing.T) {
	clk := &jumpClock{Fake: clock.NewFake(t0)}
	var out lockedBuffer
	p := StartPeriodic(New(Config{}, t0), PeriodicConfig{Clock: clk, Every: time.Nanosecond, Out: &out})
	clk.ahead.Store(int64(24 * time.Hour))
	clk.Fake.Advance(time.Nanosecond) // the first tick, a day late
	if err := p.Stop(); err != nil {
		t.Fatal(err)
	}
	if n := out.count("ADDRESS"); n != 2 {
		t.Fatalf("%d snapshots, want 2 (the tick and the last)", n)
	}
}
