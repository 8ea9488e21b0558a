package bench

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"strings"
	"testing"
	"time"
)

func TestProbeRoundTrip(t *testing.T) {
	p := NewProbe("/oscli/bench", 42, 13)
	at := time.Unix(1700000000, 123456789)
	b := p.Encode(7, at)
	seq, sent, err := Parse(b, "/oscli/bench", 42)
	if err != nil || seq != 7 || !sent.Equal(at) {
		t.Fatalf("got %d %v %v", seq, sent, err)
	}
	if _, _, err := Parse(b, "/oscli/bench", 43); err != ErrNotProbe {
		t.Error("another run's probe accepted")
	}
	if _, _, err := Parse(b[:20], "/oscli/bench", 42); err != ErrNotProbe {
		t.Error("short packet accepted")
	}
	if n := testing.AllocsPerRun(100, func() { p.Encode(8, at); _, _, _ = Parse(p.buf, "/oscli/bench", 42) }); n != 0 {
		t.Errorf("%v allocs per probe", n)
	}
}

func TestCounter(t *testing.T) {
	c := NewCounter()
	// 0 1 3 2 (reordered) 2 (dup) 5 ... 4 missing.
	for _, seq := range []int64{0, 1, 3, 2, 2, 5} {
		c.Add(seq, 10, time.Millisecond)
	}
	if c.Received != 5 || c.Duplicates != 1 || c.Reordered != 1 || c.Bytes != 50 {
		t.Errorf("%+v", c)
	}
	var r Report
	r.Fill(6, time.Second, c)
	if r.Lost != 1 || r.RecvRate != 5 {
		t.Errorf("%+v", r)
	}
}

func TestHistogramQuantiles(t *testing.T) {
	var h Histogram
	rng := rand.New(rand.NewPCG(1, 1))
	var all []time.Duration
	for range 100000 {
		d := time.Duration(rng.ExpFloat64() * float64(50*time.Microsecond))
		h.Add(d)
		all = append(all, d)
	}
	sort.Slice(all, func(i, j int) bool { return all[i] < all[j] })
	for _, q := range []float64{0.5, 0.9, 0.99} {
		exact := all[int(q*float64(len(all)))-1]
		got := h.Quantile(q)
		if diff := float64(got-exact) / float64(exact); diff > 0.04 || diff < -0.04 {
			t.Errorf("q%.2f: %v, exact %v", q, got, exact)
		}
	}
	if h.Max() != all[len(all)-1] {
		t.Errorf("max %v, want %v", h.Max(), all[len(all)-1])
	}
}

func TestPacer(t *testing.T) {
	start := time.Unix(0, 0)
	p := NewPacer(1000, start) // one per ms
	n, _ := p.Due(start)
	if n != 1 {
		t.Fatalf("at start: %d", n)
	}
	p.Sent(1)
	if n, next := p.Due(start.Add(500 * time.Microsecond)); n != 0 || !next.Equal(start.Add(time.Millisecond)) {
		t.Errorf("early: %d %v", n, next)
	}
	// Woken 10 ms late: the 10 packets due go at once, no drift.
	if n, _ := p.Due(start.Add(10*time.Millisecond + time.Microsecond)); n != 10 {
		t.Errorf("late: %d", n)
	}
}

// At the time Due says to look again, a packet is due: whatever the
// rate's rounding, a caller never sleeps for nothing (on a fake clock it
// would spin forever).
func TestPacerNextIsDue(t *testing.T) {
	start := time.Unix(0, 0)
	for _, rate := range []float64{1, 3, 7, 300, 1000, 2000, 44100, 48000, 1e6} {
		t.Run(fmt.Sprint(rate), func(t *testing.T) {
			p := NewPacer(rate, start)
			now := start
			for i := range 20000 {
				n, next := p.Due(now)
				if n == 0 {
					if !next.After(now) {
						t.Fatalf("packet %d: nothing due at %v, look again at %v", i, now.Sub(start), next.Sub(start))
					}
					now = next
					if n, _ = p.Due(now); n != 1 {
						t.Fatalf("packet %d: %d due at %v, want 1", i, n, now.Sub(start))
					}
				}
				if n != 1 {
					t.Fatalf("packet %d: %d due at %v, want 1", i, n, now.Sub(start))
				}
				p.Sent(1)
			}
		})
	}
}

// Rates at the edges of what a Duration can space neither overflow nor
// spin: one packet in millennia waits (for the longest Duration), a rate
// above one packet a nanosecond is as fast as possible.
func TestPacerExtremeRates(t *testing.T) {
	start := time.Unix(0, 0)
	slow := NewPacer(1e-12, start)
	if n, _ := slow.Due(start); n != 1 {
		t.Fatalf("slow: %d due at start", n)
	}
	slow.Sent(1)
	if n, next := slow.Due(start.Add(time.Hour)); n != 0 || next.Sub(start) != math.MaxInt64 {
		t.Errorf("slow: %d due, next at %v", n, next.Sub(start))
	}
	for _, rate := range []float64{1e10, 1e300} {
		fast := NewPacer(rate, start)
		if n, next := fast.Due(start.Add(time.Second)); n != 1 || !next.Equal(start.Add(time.Second)) {
			t.Errorf("%g: %d due, next %v", rate, n, next)
		}
	}
}

// Without echoes the loss is unknown, not 100 %: the table says so and
// the JSON has null.
func TestReportUnknownLoss(t *testing.T) {
	r := &Report{Mode: "none", Sent: 5, Lost: 5}
	var b strings.Builder
	if err := r.WriteTable(&b); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "lost        unknown (no echoes came back)\n") {
		t.Errorf("table:\n%s", b.String())
	}
	if j := r.JSON(); !strings.Contains(j, `"lost":null,"loss_percent":null,`) {
		t.Errorf("json: %s", j)
	}
	r.Mode = "round-trip"
	if j := r.JSON(); !strings.Contains(j, `"lost":5,"loss_percent":100.0000,`) {
		t.Errorf("json: %s", j)
	}
}
