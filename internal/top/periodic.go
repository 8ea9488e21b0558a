package top

import (
	"io"
	"sync"
	"time"

	"github.com/oscli/oscli/internal/clock"
)

// Periodic prints a snapshot of a model every interval on a clock (top's
// --interval, when it is not on a terminal), and a last one when it is
// stopped, so that what was counted is printed whenever the run ends.
type Periodic struct {
	m     *Model
	clk   clock.Clock
	every time.Duration
	w     io.Writer
	json  bool
	pr    *Printer
	onErr func(error)

	mu      sync.Mutex
	next    time.Time
	t       clock.Timer
	stopped bool
	err     error
	snap    Snapshot
	buf     []byte
}

// PeriodicConfig configures a Periodic.
type PeriodicConfig struct {
	Clock clock.Clock
	Every time.Duration
	Out   io.Writer
	JSON  bool // one JSON object a snapshot, else a text table
	Print PrintOptions
	// OnError is told (once, from the clock's goroutine) when a snapshot
	// could not be written; no more are printed.
	OnError func(error)
}

// StartPeriodic prints a snapshot of m every c.Every from now on.
func StartPeriodic(m *Model, c PeriodicConfig) *Periodic {
	p := &Periodic{m: m, clk: c.Clock, every: c.Every, w: c.Out, json: c.JSON, pr: NewPrinter(c.Print), onErr: c.OnError}
	p.next = c.Clock.Now().Add(c.Every)
	// The timer is kept before it is set: a short interval's first tick
	// may come before AfterFunc returns, and it resets p.t.
	p.t = c.Clock.AfterFunc(time.Hour, p.tick)
	p.t.Stop()
	p.t.Reset(c.Every)
	return p
}

func (p *Periodic) tick() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stopped || p.err != nil {
		return
	}
	now := p.clk.Now()
	if err := p.printLocked(now); err != nil {
		p.err = err
		if p.onErr != nil {
			p.onErr(err)
		}
		return
	}
	// On the interval's grid from the start; ticks missed (a stalled
	// output) are skipped, not caught up, in one step however many.
	if !p.next.After(now) {
		p.next = p.next.Add((now.Sub(p.next)/p.every + 1) * p.every)
	}
	p.t.Reset(p.next.Sub(now))
}

func (p *Periodic) printLocked(now time.Time) error {
	p.m.Snapshot(now, &p.snap)
	if p.json {
		p.buf = p.pr.AppendJSON(p.buf[:0], &p.snap)
	} else {
		p.buf = p.pr.AppendText(p.buf[:0], &p.snap)
	}
	_, err := p.w.Write(p.buf)
	return err
}

// Stop ends the ticks and prints the last snapshot, unless printing had
// failed already; it returns the first error printing met.
func (p *Periodic) Stop() error {
	p.t.Stop()
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.stopped && p.err == nil {
		p.err = p.printLocked(p.clk.Now())
	}
	p.stopped = true
	return p.err
}
