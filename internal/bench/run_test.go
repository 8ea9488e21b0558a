package bench

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/oscli/oscli/internal/clock"
)

var t0 = time.Date(2026, 11, 21, 18, 0, 0, 0, time.UTC)

const (
	ms      = time.Millisecond
	address = "/oscli/bench"
	runID   = 7
)

// outLog is an Out that records each call with the probe's sequence
// number and the clock time it was stamped with. When recv is set, every
// probe arrives there as it leaves (a perfect loopback).
type outLog struct {
	clk     *clock.Fake
	recv    *Receiver
	onSend  func(seq int64) // called after each Send
	mu      sync.Mutex
	calls   []string
	pending [][]byte
	probes  int
}

func (o *outLog) note(op string, p []byte) {
	seq, sent, err := Parse(p, address, runID)
	c := fmt.Sprintf("%s %d +%v", op, seq, sent.Sub(t0))
	switch now := o.clk.Now(); {
	case err != nil:
		c = fmt.Sprintf("%s %v", op, err)
	case !sent.Equal(now):
		c += fmt.Sprintf(" (at +%v)", now.Sub(t0)) // stamped with another time
	}
	o.mu.Lock()
	o.calls = append(o.calls, c)
	o.probes++
	o.mu.Unlock()
}

func (o *outLog) Send(p []byte) error {
	o.note("send", p)
	if o.recv != nil {
		o.recv.Packet(p)
	}
	if o.onSend != nil {
		seq, _, _ := Parse(p, address, runID)
		o.onSend(seq)
	}
	return nil
}

func (o *outLog) Queue(p []byte) error {
	o.note("queue", p)
	o.pending = append(o.pending, append([]byte(nil), p...))
	return nil
}

func (o *outLog) Flush() error {
	o.mu.Lock()
	o.calls = append(o.calls, "flush")
	o.mu.Unlock()
	for _, p := range o.pending {
		if o.recv != nil {
			o.recv.Packet(p)
		}
	}
	o.pending = o.pending[:0]
	return nil
}

func (o *outLog) sent() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.probes
}

func (o *outLog) log() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return strings.Join(o.calls, "\n")
}

// sends lists "send SEQ +AT" for probes first…first+n-1, one per step
// from at.
func sends(first int64, n int, at, step time.Duration) []string {
	var out []string
	for i := range n {
		out = append(out, fmt.Sprintf("send %d +%v", first+int64(i), at+time.Duration(i)*step))
	}
	return out
}

func cat(parts ...[]string) []string {
	var out []string
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

type sendResult struct {
	sent    int64
	elapsed time.Duration
	err     error
}

// runSend runs Send on a fake clock from t0, moving the clock only to the
// times in wakes and only once Send waits; before each it checks how many
// probes are out (want: the calls, so the probes before that time).
func runSend(t *testing.T, cfg Config, out *outLog, wakes []time.Duration, want []string) sendResult {
	t.Helper()
	clk := out.clk
	cfg.Clock = clk
	if out.recv == nil {
		out.recv = NewReceiver(address, runID, clk)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan sendResult, 1)
	go func() {
		n, d, err := Send(ctx, cfg, out, NewProbe(address, runID, 0), out.recv)
		done <- sendResult{n, d, err}
	}()
	for _, w := range wakes {
		if !clk.BlockUntil(1, 10*time.Second) {
			cancel()
			t.Fatalf("Send is not waiting for +%v; calls so far:\n%s", w, out.log())
		}
		before := 0
		for _, c := range want {
			if f := strings.Fields(c); len(f) == 3 {
				if at, err := time.ParseDuration(strings.TrimPrefix(f[2], "+")); err == nil && at < w {
					before++
				}
			}
		}
		if n := out.sent(); n != before {
			cancel()
			t.Fatalf("%d probes out before +%v, want %d; calls:\n%s", n, w, before, out.log())
		}
		clk.Set(t0.Add(w - 1))
		clk.Set(t0.Add(w))
	}
	select {
	case r := <-done:
		return r
	case <-time.After(10 * time.Second):
		cancel()
		<-done
		t.Fatalf("Send did not return; calls:\n%s", out.log())
		return sendResult{}
	}
}

func steps(from, to, step time.Duration) []time.Duration {
	var out []time.Duration
	for d := from; d <= to; d += step {
		out = append(out, d)
	}
	return out
}

// Send paces probes on the clock: the n-th counted probe goes out at
// exactly start + n/rate, numbered from 0, until --count probes or
// --duration; warm-up probes are numbered -1 and not counted; queued
// batches are never bigger than Batch.
func TestSend(t *testing.T) {
	third := time.Second / 300 // 3.333333ms, rounded down
	tests := []struct {
		name    string
		cfg     Config
		stall   time.Duration // the clock jumps this far while probe 0 is sent
		wakes   []time.Duration
		want    []string
		sent    int64
		elapsed time.Duration
	}{
		{"rate 1000 for 10ms", Config{Rate: 1000, Duration: 10 * ms}, 0,
			steps(ms, 10*ms, ms), sends(0, 10, 0, ms), 10, 10 * ms},
		{"rate 1000 count 5", Config{Rate: 1000, Count: 5}, 0,
			steps(ms, 4*ms, ms), sends(0, 5, 0, ms), 5, 4 * ms},
		// 1/300 s is not a whole number of nanoseconds: each probe is due
		// at k/300 s, rounded down, and goes out then.
		{"rate 300 for 20ms", Config{Rate: 300, Duration: 20 * ms}, 0,
			[]time.Duration{third, 2 * third, 10 * ms, 4*third + 1, 5*third + 1, 20 * ms},
			[]string{"send 0 +0s", "send 1 +3.333333ms", "send 2 +6.666666ms", "send 3 +10ms", "send 4 +13.333333ms", "send 5 +16.666666ms"},
			6, 20 * ms},
		{"as fast as possible, batches of 3", Config{Count: 7, Batch: 3}, 0, nil,
			[]string{"queue 0 +0s", "queue 1 +0s", "queue 2 +0s", "flush", "queue 3 +0s", "queue 4 +0s", "queue 5 +0s", "flush", "send 6 +0s"},
			7, 0},
		{"as fast as possible, batch 1", Config{Count: 3, Batch: 1}, 0, nil,
			sends(0, 3, 0, 0), 3, 0},
		// Woken 5 ms late, the probes due meanwhile go out at once, in
		// batches of at most Batch; then the pace goes on without drift.
		{"late, batches of 4", Config{Rate: 1000, Count: 10, Batch: 4}, 5 * ms,
			steps(6*ms, 9*ms, ms),
			cat([]string{"send 0 +0s", "queue 1 +5ms", "queue 2 +5ms", "queue 3 +5ms", "queue 4 +5ms", "flush", "send 5 +5ms"},
				sends(6, 4, 6*ms, ms)),
			10, 9 * ms},
		{"warm-up", Config{Rate: 1000, Count: 2, Warmup: 3 * ms}, 0,
			steps(ms, 4*ms, ms),
			cat(sends(-1, 1, 0, 0), sends(-1, 1, ms, 0), sends(-1, 1, 2*ms, 0), sends(0, 2, 3*ms, ms)),
			2, ms},
		// The warm-up lasts what it was asked, not until the next probe.
		{"warm-up shorter than the interval", Config{Rate: 1000, Count: 2, Warmup: 2500 * time.Microsecond}, 0,
			[]time.Duration{ms, 2 * ms, 2500 * time.Microsecond, 3500 * time.Microsecond},
			cat(sends(-1, 1, 0, 0), sends(-1, 1, ms, 0), sends(-1, 1, 2*ms, 0), sends(0, 2, 2500*time.Microsecond, ms)),
			2, ms},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := clock.NewFake(t0)
			out := &outLog{clk: clk}
			if tt.stall > 0 {
				out.onSend = func(seq int64) {
					if seq == 0 {
						clk.Advance(tt.stall)
					}
				}
			}
			r := runSend(t, tt.cfg, out, tt.wakes, tt.want)
			if r.err != nil {
				t.Fatal(r.err)
			}
			if got, want := out.log(), strings.Join(tt.want, "\n"); got != want {
				t.Errorf("calls:\n%s\nwant:\n%s", got, want)
			}
			if r.sent != tt.sent || r.elapsed != tt.elapsed {
				t.Errorf("Send returned %d probes in %v, want %d in %v", r.sent, r.elapsed, tt.sent, tt.elapsed)
			}
			// Warm-up probes are not counted by the receiver.
			if got := out.recv.Received(); got != tt.sent {
				t.Errorf("receiver counted %d, want %d", got, tt.sent)
			}
		})
	}
}

// Progress is called at the first send at or after each ProgressEvery
// (250 ms by default), with what was sent and received by then.
func TestSendProgress(t *testing.T) {
	tests := []struct {
		name  string
		cfg   Config
		wakes []time.Duration
		sends []string
		want  []string
	}{
		{"every 2ms", Config{Rate: 1000, Duration: 10 * ms, ProgressEvery: 2 * ms},
			steps(ms, 10*ms, ms), sends(0, 10, 0, ms),
			[]string{"+2ms 3 3", "+4ms 5 5", "+6ms 7 7", "+8ms 9 9"}},
		{"default 250ms", Config{Rate: 10, Duration: time.Second},
			steps(100*ms, time.Second, 100*ms), sends(0, 10, 0, 100*ms),
			[]string{"+300ms 4 4", "+600ms 7 7", "+900ms 10 10"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := clock.NewFake(t0)
			out := &outLog{clk: clk}
			var got []string
			tt.cfg.Progress = func(el time.Duration, sent, received int64) {
				got = append(got, fmt.Sprintf("+%v %d %d", el, sent, received))
			}
			if r := runSend(t, tt.cfg, out, tt.wakes, tt.sends); r.err != nil {
				t.Fatal(r.err)
			}
			if got, want := out.log(), strings.Join(tt.sends, "\n"); got != want {
				t.Errorf("calls:\n%s\nwant:\n%s", got, want)
			}
			if strings.Join(got, ", ") != strings.Join(tt.want, ", ") {
				t.Errorf("progress %v, want %v", got, tt.want)
			}
		})
	}
}

// drain runs Drain on a fake clock from t0 and moves the clock in 5 ms
// steps (its poll) whenever it waits, calling between (if set) first; it
// returns the clock when Drain returned.
func drain(t *testing.T, recv *Receiver, clk *clock.Fake, sent int64, between func(at time.Duration)) time.Duration {
	t.Helper()
	done := make(chan struct{})
	go func() {
		Drain(context.Background(), clk, recv, sent)
		close(done)
	}()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case <-done:
			return clk.Now().Sub(t0)
		case <-deadline:
			t.Fatalf("Drain did not return; clock at +%v", clk.Now().Sub(t0))
		default:
		}
		// A short real wait for the poll, repeated: Drain may be between
		// polls, or about to return.
		if clk.BlockUntil(1, ms) {
			if between != nil {
				between(clk.Now().Sub(t0))
			}
			clk.Advance(5 * ms)
		}
	}
}

// Drain waits for probes in flight until all arrived, or none arrived
// for 200 ms, or 2 s in all: exactly, on the clock.
func TestDrain(t *testing.T) {
	probe := NewProbe(address, runID, 0)
	tests := []struct {
		name     string
		sent     int64
		received int64                       // before Drain starts
		arrive   func(at time.Duration) bool // one more arrives during the wait ending at at+5ms
		want     time.Duration
	}{
		{"all arrived already", 3, 3, nil, 0},
		{"the rest arrives", 3, 1, func(at time.Duration) bool { return at == 0 || at == 5*ms }, 10 * ms},
		{"quiet for 200ms", 3, 1, nil, 200 * ms},
		// An arrival at +100ms restarts the 200 ms.
		{"quiet after the last arrival", 3, 1, func(at time.Duration) bool { return at == 95*ms }, 300 * ms},
		{"2s at most", 1000, 0, func(time.Duration) bool { return true }, 2 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := clock.NewFake(t0)
			recv := NewReceiver(address, runID, clk)
			var seq int64
			for ; seq < tt.received; seq++ {
				recv.Packet(probe.Encode(seq, clk.Now()))
			}
			var between func(time.Duration)
			if tt.arrive != nil {
				between = func(at time.Duration) {
					if tt.arrive(at) {
						recv.Packet(probe.Encode(seq, clk.Now()))
						seq++
					}
				}
			}
			if got := drain(t, recv, clk, tt.sent, between); got != tt.want {
				t.Errorf("Drain returned at +%v, want +%v", got, tt.want)
			}
			if n := clk.Waiters(); n != 0 {
				t.Errorf("%d waiters left", n)
			}
		})
	}
}

// lossyEcho is an echoing peer that drops every 10th probe and swaps the
// others in pairs: what comes back is exactly 10% lost and 10% reordered.
type lossyEcho struct {
	recv *Receiver
	i    int
	held []byte
}

func (e *lossyEcho) Send(p []byte) error {
	i := e.i
	e.i++
	switch {
	case i%10 == 9: // dropped
	case i%10 == 0: // held, echoed after the next one
		e.held = append([]byte(nil), p...)
	default:
		e.recv.Packet(p)
		if e.held != nil {
			e.recv.Packet(e.held)
			e.held = nil
		}
	}
	return nil
}

func (e *lossyEcho) Queue(p []byte) error { return e.Send(p) }
func (e *lossyEcho) Flush() error         { return nil }

// Send, the receiver and Drain account for exactly the loss and
// reordering of the path; the drain ends 200 ms after the last echo.
func TestLossAndReordering(t *testing.T) {
	clk := clock.NewFake(t0)
	recv := NewReceiver(address, runID, clk)
	echo := &lossyEcho{recv: recv}
	sent, elapsed, err := Send(context.Background(), Config{Clock: clk, Count: 1000, Batch: 64}, echo, NewProbe(address, runID, 0), recv)
	if err != nil || sent != 1000 || elapsed != 0 {
		t.Fatalf("Send: %d in %v, %v", sent, elapsed, err)
	}
	if at := drain(t, recv, clk, sent, nil); at != 200*ms {
		t.Errorf("drained at +%v, want +200ms", at)
	}
	var rep Report
	recv.Fill(&rep, sent, time.Second)
	if rep.Sent != 1000 || rep.Received != 900 || rep.Lost != 100 || rep.Reordered != 100 || rep.Duplicates != 0 {
		t.Errorf("%+v", rep)
	}
}

// A rate the machine cannot reach still ends at Duration: every batch
// takes a millisecond here, and Send stops once 10 ms have passed instead
// of first sending everything that was due.
func TestSendUnreachableRateEndsOnTime(t *testing.T) {
	clk := clock.NewFake(t0)
	out := &slowOut{clk: clk}
	probe := NewProbe(address, runID, 0)
	sent, took, err := Send(context.Background(), Config{Clock: clk, Rate: 1e9, Duration: 10 * time.Millisecond, Batch: 64},
		out, probe, NewReceiver(address, runID, clk))
	// At the start one probe is due (sent alone), then a full batch every
	// millisecond.
	if err != nil || took != 10*time.Millisecond || sent != 1+9*64 || out.flushes != 9 {
		t.Fatalf("sent %d in %v (%d flushes), err %v; want 577 in 10ms", sent, took, out.flushes, err)
	}
}

// slowOut takes a millisecond of the fake clock for every batch.
type slowOut struct {
	clk     *clock.Fake
	flushes int
}

func (o *slowOut) Send([]byte) error  { o.clk.Advance(time.Millisecond); return nil }
func (o *slowOut) Queue([]byte) error { return nil }
func (o *slowOut) Flush() error {
	o.flushes++
	o.clk.Advance(time.Millisecond)
	return nil
}
