package bench

import (
	"context"
	"sync"
	"time"

	"github.com/oscli/oscli/internal/clock"
)

// Receiver counts the probes of one run as they arrive. Packet is called
// by a receiving goroutine while the sending loop reads Received.
type Receiver struct {
	mu      sync.Mutex
	c       *Counter
	address string
	run     int64
	clk     clock.Clock
}

// NewReceiver counts probes of run sent to address; latency is measured
// on clk, which must be the clock the probes were stamped with.
func NewReceiver(address string, run int64, clk clock.Clock) *Receiver {
	return &Receiver{c: NewCounter(), address: address, run: run, clk: clk}
}

// Packet counts p if it is one of the run's probes.
func (r *Receiver) Packet(p []byte) {
	seq, sent, err := Parse(p, r.address, r.run)
	if err != nil {
		return
	}
	lat := r.clk.Now().Sub(sent)
	r.mu.Lock()
	r.c.Add(seq, len(p), lat)
	r.mu.Unlock()
}

// Received is how many distinct probes arrived so far.
func (r *Receiver) Received() int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.c.Received
}

// Fill fills a report with the counts.
func (r *Receiver) Fill(rep *Report, sent int64, elapsed time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	rep.Fill(sent, elapsed, r.c)
}

// Out is where probes go: one now, or queued and flushed (a batch per
// system call).
type Out interface {
	Send(p []byte) error
	Queue(p []byte) error
	Flush() error
}

// Config is a run's pacing.
type Config struct {
	Clock    clock.Clock
	Rate     float64       // probes per second; 0 as fast as possible
	Duration time.Duration // how long to send (when Count is 0)
	Count    int64         // how many probes to send
	Warmup   time.Duration // send this long first, uncounted (sequence -1)
	Batch    int           // most probes per system call
	// Progress, when set, is called about every ProgressEvery while
	// sending.
	Progress      func(elapsed time.Duration, sent, received int64)
	ProgressEvery time.Duration
}

// Send sends the warm-up and then the counted probes, paced by the rate
// on the clock, and returns how many counted probes went out and over how
// long.
func Send(ctx context.Context, cfg Config, out Out, probe *Probe, recv *Receiver) (int64, time.Duration, error) {
	clk := cfg.Clock
	batch := max(cfg.Batch, 1)
	if cfg.Warmup > 0 {
		end := clk.Now().Add(cfg.Warmup)
		pacer := NewPacer(cfg.Rate, clk.Now())
		for ctx.Err() == nil {
			now := clk.Now()
			if !now.Before(end) {
				break
			}
			n, next := pacer.Due(now)
			if n == 0 {
				if next.After(end) {
					next = end // the warm-up lasts what was asked
				}
				_ = clk.Sleep(ctx, next.Sub(now))
				continue
			}
			if err := out.Send(probe.Encode(-1, now)); err != nil {
				return 0, 0, err
			}
			pacer.Sent(1)
		}
	}
	start := clk.Now()
	end := start.Add(cfg.Duration)
	pacer := NewPacer(cfg.Rate, start)
	every := cfg.ProgressEvery
	if every <= 0 {
		every = 250 * time.Millisecond
	}
	progress := start.Add(every)
	var seq int64
	for ctx.Err() == nil {
		now := clk.Now()
		if cfg.Count > 0 && seq >= cfg.Count || cfg.Count == 0 && !now.Before(end) {
			break
		}
		n, next := pacer.Due(now)
		if n == 0 {
			if cfg.Count == 0 && next.After(end) {
				next = end
			}
			_ = clk.Sleep(ctx, next.Sub(now))
			continue
		}
		if cfg.Rate == 0 {
			n = int64(batch)
		}
		if cfg.Count > 0 {
			n = min(n, cfg.Count-seq)
		}
		// One batch at a time: the loop then looks at the clock, the end
		// and ctx again, so a rate the machine cannot reach still stops
		// at --duration and at Ctrl-C.
		k := min(n, int64(batch))
		if k == 1 {
			if err := out.Send(probe.Encode(seq, clk.Now())); err != nil {
				return seq, clk.Now().Sub(start), err
			}
		} else {
			at := clk.Now()
			for i := range k {
				if err := out.Queue(probe.Encode(seq+i, at)); err != nil {
					return seq, clk.Now().Sub(start), err
				}
			}
			if err := out.Flush(); err != nil {
				return seq, clk.Now().Sub(start), err
			}
		}
		seq += k
		pacer.Sent(k)
		if cfg.Progress != nil && !now.Before(progress) {
			progress = now.Add(every)
			cfg.Progress(now.Sub(start), seq, recv.Received())
		}
	}
	return seq, clk.Now().Sub(start), nil
}

// Drain waits for probes still in flight: until all sent arrived, or
// none arrived for 200 ms, or 2 s in all.
func Drain(ctx context.Context, clk clock.Clock, recv *Receiver, sent int64) {
	const (
		quiet = 200 * time.Millisecond
		most  = 2 * time.Second
		poll  = 5 * time.Millisecond
	)
	deadline := clk.Now().Add(most)
	last, lastChange := recv.Received(), clk.Now()
	for ctx.Err() == nil && clk.Now().Before(deadline) {
		got := recv.Received()
		if got >= sent {
			return
		}
		if got != last {
			last, lastChange = got, clk.Now()
		} else if clk.Now().Sub(lastChange) >= quiet {
			return
		}
		_ = clk.Sleep(ctx, poll)
	}
}

// Run is the run id the receiver counts.
func (r *Receiver) Run() int64 { return r.run }
