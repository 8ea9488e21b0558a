package osc_test

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/oscli/oscli/internal/osc"
)

func TestTimetagKnownValues(t *testing.T) {
	tests := []struct {
		name string
		time time.Time
		tag  osc.Timetag
	}{
		{"unix epoch", time.Unix(0, 0), osc.NewTimetag(2208988800, 0)},
		{"half second", time.Unix(0, 500_000_000), osc.NewTimetag(2208988800, 0x80000000)},
		{"quarter second", time.Unix(1, 250_000_000), osc.NewTimetag(2208988801, 0x40000000)},
		{"era 0 top bit", time.Date(1968, 1, 20, 3, 14, 8, 0, time.UTC), osc.NewTimetag(1<<31, 0)},
		{"last second of era 0", time.Date(2036, 2, 7, 6, 28, 15, 0, time.UTC), osc.NewTimetag(0xffffffff, 0)},
		{"era 1 starts", time.Date(2036, 2, 7, 6, 28, 16, 0, time.UTC), osc.NewTimetag(0, 0)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := osc.FromTime(tt.time); got != tt.tag {
				t.Errorf("FromTime = %#x, want %#x", uint64(got), uint64(tt.tag))
			}
			if got := tt.tag.Time(); !got.Equal(tt.time) {
				t.Errorf("Time = %v, want %v", got, tt.time)
			}
		})
	}
}

// TestTimetagRoundTripNanoseconds: time → tag → time is exact to the
// nanosecond across the whole representable range.
func TestTimetagRoundTripNanoseconds(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	lo := time.Date(1968, 1, 21, 0, 0, 0, 0, time.UTC).Unix()
	hi := time.Date(2104, 2, 25, 0, 0, 0, 0, time.UTC).Unix()
	for range 100000 {
		tm := time.Unix(lo+r.Int64N(hi-lo), r.Int64N(1e9))
		tag := osc.FromTime(tm)
		if back := tag.Time(); !back.Equal(tm) {
			t.Fatalf("%v → %#x → %v", tm, uint64(tag), back)
		}
		if again := osc.FromTime(tag.Time()); again != tag {
			t.Fatalf("tag %#x not stable: %#x", uint64(tag), uint64(again))
		}
	}
	// Edge nanoseconds, where rounding could carry into the seconds.
	for _, ns := range []int64{0, 1, 2, 499_999_999, 500_000_000, 999_999_998, 999_999_999} {
		tm := time.Unix(1700000000, ns)
		if back := osc.FromTime(tm).Time(); !back.Equal(tm) {
			t.Errorf("ns %d: got %v", ns, back)
		}
	}
}

func TestTimetagAddSub(t *testing.T) {
	base := osc.FromTime(time.Date(2026, 11, 21, 18, 0, 0, 0, time.UTC))
	for _, d := range []time.Duration{0, 1, -1, time.Millisecond, 10 * time.Second, -250 * time.Millisecond,
		90 * 24 * time.Hour, 999_999_999, -999_999_999} {
		got := base.Add(d)
		want := osc.FromTime(base.Time().Add(d))
		if got != want {
			t.Errorf("Add(%v) = %#x, want %#x", d, uint64(got), uint64(want))
		}
		if back := got.Sub(base); back != d {
			t.Errorf("Sub after Add(%v) = %v", d, back)
		}
	}
	// One fraction unit is 2^-32 s ≈ 0.23 ns: Sub rounds to whole ns.
	if d := (base + 5).Sub(base); d != 1 {
		t.Errorf("5 units = %v, want 1ns", d)
	}
	// Across the 2036 era boundary the difference is still right.
	a, b := osc.NewTimetag(0xffffffff, 0), osc.NewTimetag(1, 0)
	if d := b.Sub(a); d != 2*time.Second {
		t.Errorf("across eras: %v", d)
	}
}

func TestTimetagString(t *testing.T) {
	if s := osc.Immediately.String(); s != "immediately" {
		t.Errorf("Immediately = %q", s)
	}
	if s := osc.NewTimetag(0xeeac0000, 0x80000000).String(); s != "2026-11-21T11:33:20.5Z" {
		t.Errorf("String = %q", s)
	}
	if s := string(osc.Timetag(0xe000000080000000).AppendHex(nil)); s != "0xe000000080000000" {
		t.Errorf("AppendHex = %q", s)
	}
}
