package replay

import (
	"testing"
	"time"
)

// rec0 is when the recordings in these tests were made.
var rec0 = time.Date(2026, 11, 21, 18, 0, 0, 0, time.UTC)

const ms = time.Millisecond

// untimed marks a record without a time (a SLIP recording).
const untimed = time.Duration(-1 << 63)

// recTime is the record time for an offset from rec0 (zero for untimed).
func recTime(off time.Duration) time.Time {
	if off == untimed {
		return time.Time{}
	}
	return rec0.Add(off)
}

type due struct {
	at    time.Duration
	timed bool
}

func timed(ds ...time.Duration) []due {
	out := make([]due, len(ds))
	for i, d := range ds {
		out[i] = due{d, true}
	}
	return out
}

func asap(n int, at time.Duration) []due {
	out := make([]due, n)
	for i := range out {
		out[i] = due{at, false}
	}
	return out
}

// The timeline is a pure function from recorded times to due offsets:
// speed scales, loops follow each other without a gap, rate spaces
// records that have no times, and --no-timing sends back to back.
func TestTimeline(t *testing.T) {
	u := untimed
	tests := []struct {
		name    string
		timing  Timing
		offsets []time.Duration // recorded, from rec0
		loops   int
		want    []due
	}{
		{"speed 1", Timing{Speed: 1}, []time.Duration{0, 100 * ms, 250 * ms}, 1,
			timed(0, 100*ms, 250*ms)},
		{"speed 2", Timing{Speed: 2}, []time.Duration{0, 100 * ms, 250 * ms}, 1,
			timed(0, 50*ms, 125*ms)},
		{"speed 0.5", Timing{Speed: 0.5}, []time.Duration{0, 100 * ms, 250 * ms}, 1,
			timed(0, 200*ms, 500*ms)},
		{"speed 0 means 1", Timing{}, []time.Duration{0, 100 * ms}, 1,
			timed(0, 100*ms)},
		{"recording not starting at its first time", Timing{Speed: 1}, []time.Duration{5 * time.Second, 5*time.Second + 40*ms}, 1,
			timed(0, 40*ms)},
		{"loop 1", Timing{Speed: 1}, []time.Duration{0, 100 * ms, 250 * ms}, 1,
			timed(0, 100*ms, 250*ms)},
		// The next loop starts when the last record of this one is due:
		// the last and the first packet go out at the same moment.
		{"loop 2", Timing{Speed: 1}, []time.Duration{0, 100 * ms, 250 * ms}, 2,
			timed(0, 100*ms, 250*ms, 250*ms, 350*ms, 500*ms)},
		{"loop 3", Timing{Speed: 1}, []time.Duration{0, 100 * ms, 250 * ms}, 3,
			timed(0, 100*ms, 250*ms, 250*ms, 350*ms, 500*ms, 500*ms, 600*ms, 750*ms)},
		{"loop 2 at speed 2", Timing{Speed: 2}, []time.Duration{0, 100 * ms, 250 * ms}, 2,
			timed(0, 50*ms, 125*ms, 125*ms, 175*ms, 250*ms)},
		// Without times, --rate spaces the records 1/rate apart, and the
		// next loop starts one interval after the last record.
		{"rate", Timing{Speed: 1, Rate: 10}, []time.Duration{u, u, u}, 2,
			timed(0, 100*ms, 200*ms, 300*ms, 400*ms, 500*ms)},
		{"rate at speed 2 is not scaled", Timing{Speed: 2, Rate: 4}, []time.Duration{u, u}, 1,
			timed(0, 250*ms)},
		{"rate ignored for a timed recording", Timing{Speed: 1, Rate: 1000}, []time.Duration{0, 100 * ms}, 1,
			timed(0, 100*ms)},
		{"no times, no rate: back to back", Timing{Speed: 1}, []time.Duration{u, u, u}, 2,
			asap(6, 0)},
		{"no timing", Timing{Speed: 1, NoTiming: true}, []time.Duration{0, 100 * ms, 250 * ms}, 2,
			asap(6, 0)},
		{"no timing beats rate", Timing{Speed: 1, NoTiming: true, Rate: 10}, []time.Duration{u, u}, 1,
			asap(2, 0)},
		// Times that go backwards (a clock stepped during the recording)
		// are due at their recorded offset, which has passed: the player
		// sends them at once. The loop lasts until the latest time.
		{"backwards", Timing{Speed: 1}, []time.Duration{0, 300 * ms, 100 * ms}, 2,
			timed(0, 300*ms, 100*ms, 300*ms, 600*ms, 400*ms)},
		{"earlier than the first", Timing{Speed: 1}, []time.Duration{time.Second, 0, 2 * time.Second}, 2,
			timed(0, -time.Second, time.Second, time.Second, 0, 2*time.Second)},
		// A record without a time in a timed recording goes out with the
		// loop's start, back to back.
		{"one record without a time", Timing{Speed: 1}, []time.Duration{0, u, 200 * ms}, 2,
			[]due{{0, true}, {0, false}, {200 * ms, true}, {200 * ms, true}, {200 * ms, false}, {400 * ms, true}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tl := NewTimeline(tt.timing)
			var got []due
			for range tt.loops {
				for _, off := range tt.offsets {
					at, ok := tl.Next(recTime(off))
					got = append(got, due{at, ok})
				}
				tl.EndLoop()
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Fatalf("record %d: got %v, want %v (all: %v)", i, got[i], tt.want[i], got)
				}
			}
		})
	}
}

// Shift moves bundle time tags (--retime) from the recording's first
// time to the moment the current loop is played.
func TestTimelineShift(t *testing.T) {
	start := time.Date(2027, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		name    string
		timing  Timing
		offsets []time.Duration
		want    []time.Duration // Shift(start) during each loop
	}{
		{"speed 1", Timing{Speed: 1}, []time.Duration{0, 2 * time.Second},
			[]time.Duration{start.Sub(rec0), start.Sub(rec0) + 2*time.Second, start.Sub(rec0) + 4*time.Second}},
		{"speed 2", Timing{Speed: 2}, []time.Duration{0, 2 * time.Second},
			[]time.Duration{start.Sub(rec0), start.Sub(rec0) + time.Second, start.Sub(rec0) + 2*time.Second}},
		{"first record later", Timing{Speed: 1}, []time.Duration{time.Hour, time.Hour + time.Second},
			[]time.Duration{start.Sub(rec0) - time.Hour, start.Sub(rec0) - time.Hour + time.Second}},
		{"no times", Timing{Speed: 1, Rate: 10}, []time.Duration{untimed, untimed},
			[]time.Duration{0, 0}},
		{"no timing", Timing{Speed: 1, NoTiming: true}, []time.Duration{0, time.Second},
			[]time.Duration{0, 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tl := NewTimeline(tt.timing)
			for loop, want := range tt.want {
				for _, off := range tt.offsets {
					tl.Next(recTime(off))
				}
				if got := tl.Shift(start); got != want {
					t.Errorf("loop %d: shift %v, want %v", loop, got, want)
				}
				tl.EndLoop()
			}
		})
	}
}
