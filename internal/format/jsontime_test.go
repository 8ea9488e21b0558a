package format

import (
	"math/rand/v2"
	"testing"
	"time"
	_ "time/tzdata" // the same zones on every machine
)

func TestJSONTimeParts(t *testing.T) {
	if got := jsonTimeHead + ".000000000" + jsonTimeTail; got != jsonTime {
		t.Fatalf("head+fraction+tail = %q, want %q", got, jsonTime)
	}
}

// The cached time formatting is byte-identical to AppendFormat: across
// zones with negative, half-hour and sub-minute offsets, DST transitions,
// year boundaries, years before 0 and after 9999, and with the zone
// changing while the second does not.
func TestTimeCacheMatchesAppendFormat(t *testing.T) {
	locs := []*time.Location{
		time.UTC,
		time.Local,
		time.FixedZone("", 0),
		time.FixedZone("NEG", -7*3600),
		time.FixedZone("NST", -(3*3600 + 30*60)),
		time.FixedZone("IST", 5*3600+30*60),
		time.FixedZone("LMT", 19*60+32), // seconds are dropped by Z07:00
		time.FixedZone("TINY", -30),     // "+00:00", not "Z" and not "-00:00"
		time.FixedZone("EDGE", -(59*60 + 59)),
		time.FixedZone("FAR", 14*3600),
	}
	for _, name := range []string{"America/St_Johns", "Europe/Amsterdam", "Australia/Lord_Howe",
		"America/New_York", "Asia/Kathmandu", "Africa/Monrovia", "Pacific/Kiritimati"} {
		loc, err := time.LoadLocation(name)
		if err != nil {
			t.Fatal(err)
		}
		locs = append(locs, loc)
	}

	var times []time.Time
	// Year boundaries, including where the year's width changes.
	for _, y := range []int{-1, 0, 1, 1899, 1900, 1969, 1970, 1999, 2000, 2026, 2036, 9999, 10000} {
		end := time.Date(y, 12, 31, 23, 59, 59, 0, time.UTC)
		for d := -2 * time.Second; d <= 2*time.Second; d += 125 * time.Millisecond {
			times = append(times, end.Add(d), end.Add(d+999_999_999))
		}
	}
	// Every DST transition of 1937 (Amsterdam's +00:19:32 era) and 2026,
	// walked across in sub-second steps.
	for _, loc := range locs {
		for _, y := range []int{1937, 2026} {
			at := time.Date(y, 1, 1, 0, 0, 0, 0, loc)
			for range 4 {
				_, end := at.ZoneBounds()
				if end.IsZero() || end.Year() > y {
					break
				}
				for d := -3 * time.Second; d <= 3*time.Second; d += 333_333_333 {
					times = append(times, end.Add(d))
				}
				at = end
			}
		}
	}
	// A random walk: steps from a nanosecond to months, both ways.
	rng := rand.New(rand.NewPCG(1, 2))
	at := time.Date(2026, 11, 21, 18, 0, 0, 0, time.UTC)
	for range 20000 {
		step := time.Duration(rng.Int64N(int64(1) << rng.IntN(55)))
		if rng.IntN(4) == 0 {
			step = -step
		}
		at = at.Add(step)
		times = append(times, at)
	}

	var c timeCache
	var got, want []byte
	for i, tm := range times {
		for j := range 3 {
			// The same instant in several zones in a row, and the zone
			// changing from one packet to the next.
			loc := locs[(i*3+j)%len(locs)]
			for _, tt := range []time.Time{tm.In(loc), tm.In(loc).Add(1), tm.In(loc).Round(0)} {
				want = tt.AppendFormat(want[:0], jsonTime)
				got = c.append(got[:0], tt)
				if string(got) != string(want) {
					t.Fatalf("%v (%s, unix %d.%09d): got %q, want %q", tt, loc, tt.Unix(), tt.Nanosecond(), got, want)
				}
				if nc := (*timeCache)(nil).append(nil, tt); string(nc) != string(want) {
					t.Fatalf("nil cache: got %q, want %q", nc, want)
				}
			}
		}
	}
}
