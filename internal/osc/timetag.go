package osc

import (
	"math/bits"
	"time"
)

// Timetag is an OSC time tag: an NTP timestamp in 32.32 fixed point, whole
// seconds since 1900-01-01 UTC in the high 32 bits and fractions of a second
// (units of 2^-32 s) in the low 32 bits (OSC 1.0, "Time tags"). It is held as
// an integer so that no precision is lost to floating point.
type Timetag uint64

// Immediately is the special time tag meaning "as soon as possible"
// (OSC 1.0: 63 zero bits followed by a one).
const Immediately Timetag = 1

// ntpUnixOffset is the number of seconds from 1900-01-01 to 1970-01-01.
const ntpUnixOffset = 2208988800

// eraSeconds: per RFC 4330 §3, an NTP seconds value with the top bit clear is
// taken to be in era 1 (from 2036-02-07), so that the 32-bit seconds field
// covers 1968-01-20 to 2104-02-26 without ambiguity.
const eraSeconds = 1 << 32

// NewTimetag builds a time tag from its seconds and fraction fields.
func NewTimetag(sec, frac uint32) Timetag { return Timetag(uint64(sec)<<32 | uint64(frac)) }

// Seconds returns the whole-seconds field.
func (t Timetag) Seconds() uint32 { return uint32(t >> 32) }

// Fraction returns the fractional-seconds field, in units of 2^-32 s.
func (t Timetag) Fraction() uint32 { return uint32(t) }

// IsImmediate reports whether t is the special value Immediately.
func (t Timetag) IsImmediate() bool { return t == Immediately }

// FromTime converts t to a time tag, rounding to the nearest 2^-32 s.
// Times outside 1968-01-20T03:14:08Z to 2104-02-26 wrap modulo 2^32 seconds,
// as NTP does. FromTime(tt.Time()) == tt whenever tt was itself made by
// FromTime, so a time survives the round trip to the nanosecond.
func FromTime(t time.Time) Timetag {
	sec := t.Unix() + ntpUnixOffset
	ns := uint64(t.Nanosecond())
	// ns < 1e9, so ns<<32 < 2^62: no overflow. The result is < 2^32.
	frac := (ns<<32 + 500_000_000) / 1_000_000_000
	return Timetag(uint64(sec)<<32 + frac)
}

// Time converts t to a time.Time in UTC, rounding the fraction to the nearest
// nanosecond. The seconds field is read as in RFC 4330: values with the top
// bit set are 1968–2036, the others 2036–2104. Callers should test
// IsImmediate first; Immediately has no meaningful time.
func (t Timetag) Time() time.Time {
	sec := int64(t.Seconds())
	if sec < 1<<31 {
		sec += eraSeconds
	}
	ns := (uint64(t.Fraction())*1_000_000_000 + 1<<31) >> 32
	return time.Unix(sec-ntpUnixOffset, int64(ns)).UTC()
}

// Add returns t shifted by d, computed in integer arithmetic (rounded to the
// nearest 2^-32 s).
func (t Timetag) Add(d time.Duration) Timetag {
	neg := d < 0
	u := uint64(d)
	if neg {
		u = uint64(-d)
	}
	// Whole seconds shift exactly; only the sub-second part rounds.
	q := (u/1_000_000_000)<<32 + ((u%1_000_000_000)<<32+500_000_000)/1_000_000_000
	if neg {
		return t - Timetag(q)
	}
	return t + Timetag(q)
}

// Sub returns the duration t-u, rounded to the nearest nanosecond. Both are
// read in the same era, so the result is exact for tags within 68 years of
// each other.
func (t Timetag) Sub(u Timetag) time.Duration {
	diff := int64(t - u) // two's complement wraps across eras correctly
	neg := diff < 0
	m := uint64(diff)
	if neg {
		m = uint64(-diff)
	}
	hi, lo := bits.Mul64(m, 1_000_000_000)
	lo, carry := bits.Add64(lo, 1<<31, 0)
	hi += carry
	ns := hi<<32 | lo>>32
	if neg {
		return -time.Duration(ns)
	}
	return time.Duration(ns)
}

// String returns "immediately" for Immediately and otherwise the time in
// RFC 3339 with nanoseconds, UTC.
func (t Timetag) String() string {
	if t.IsImmediate() {
		return "immediately"
	}
	return t.Time().Format(time.RFC3339Nano)
}

// AppendHex appends t as "0x" followed by exactly 16 lower-case hex digits,
// the exact raw form accepted by oscli's WHEN syntax.
func (t Timetag) AppendHex(dst []byte) []byte {
	dst = append(dst, '0', 'x')
	return appendHexUint(dst, uint64(t), 16)
}

// appendHexUint appends v as exactly n lower-case hex digits.
func appendHexUint(dst []byte, v uint64, n int) []byte {
	const digits = "0123456789abcdef"
	for i := n - 1; i >= 0; i-- {
		dst = append(dst, digits[(v>>(uint(i)*4))&0xf])
	}
	return dst
}
