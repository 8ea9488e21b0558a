package argparse

import (
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/oscli/oscli/internal/osc"
)

// WhenHelp lists the forms ParseWhen accepts, for help texts and errors.
const WhenHelp = "immediately, now, +10s/-250ms (from now), RFC 3339 (2026-11-21T18:00:00Z), " +
	"HH:MM:SS[.frac] (today, local time), 0x + 16 hex digits (raw NTP), @UNIXSECONDS[.frac]"

// The range of times a WHEN may name: the instants the 32-bit seconds field
// of an OSC (NTP) time tag denotes, read as RFC 4330 does (osc.Timetag's
// Time). Outside it a time tag would wrap silently to another date.
var (
	MinWhen = osc.NewTimetag(1<<31, 0).Time()                        // 1968-01-20T03:14:08Z
	MaxWhen = osc.NewTimetag(1<<31-1, 0).Time().Add(time.Second - 1) // 2104-02-26T09:42:23.999999999Z
)

// RangeError reports a WHEN outside MinWhen to MaxWhen.
type RangeError struct {
	When string
}

func (e *RangeError) Error() string {
	return "time " + strconv.Quote(e.When) + " is outside the range of OSC time tags, " +
		MinWhen.Format(time.RFC3339) + " to " + MaxWhen.Format(time.RFC3339) + " (NTP, RFC 4330)"
}

// inRange checks the time s named.
func inRange(s string, t time.Time) error {
	if t.Before(MinWhen) || t.After(MaxWhen) {
		return &RangeError{s}
	}
	return nil
}

// ParseWhen parses a time tag:
//
//	immediately        the special value 1 (also "imm")
//	now                the current time
//	+10s -250ms 1m30s  relative to now (Go duration syntax, sign optional)
//	2026-11-21T18:00:00Z            RFC 3339, any precision
//	18:00:00 18:00:00.25            today at that local time
//	0xe000000080000000 the raw NTP value, exactly 16 hex digits
//	@1700000000.5      Unix seconds, up to nanosecond precision
//
// A time outside MinWhen to MaxWhen is a *RangeError.
func ParseWhen(s string, now time.Time) (osc.Timetag, error) {
	w, err := ParseWhenSpec(s, now)
	if err != nil {
		return 0, err
	}
	return w.At(now), nil
}

// When is a WHEN parsed once and resolved each time it is used: the
// relative forms (now, +10s) count from the moment of use, the others are
// fixed.
type When struct {
	tag      osc.Timetag
	rel      time.Duration
	relative bool
}

// At returns the time tag for a use at now.
func (w When) At(now time.Time) osc.Timetag {
	if w.relative {
		return osc.FromTime(now).Add(w.rel)
	}
	return w.tag
}

// ParseWhenSpec parses a WHEN as ParseWhen does, keeping relative forms
// relative; now fixes "today" for HH:MM:SS.
func ParseWhenSpec(s string, now time.Time) (When, error) {
	switch s {
	case "now":
		return When{relative: true}, nil
	case "":
		return When{}, errors.New("empty time (" + WhenHelp + ")")
	}
	if d, err := time.ParseDuration(s); err == nil {
		return When{rel: d, relative: true}, inRange(s, now.Add(d))
	} else if isDuration(s) {
		// Well formed but more than 292 years: far out of range.
		return When{}, &RangeError{s}
	}
	tt, err := parseFixedWhen(s, now)
	return When{tag: tt}, err
}

func parseFixedWhen(s string, now time.Time) (osc.Timetag, error) {
	switch s {
	case "immediately", "imm":
		return osc.Immediately, nil
	}
	if hexs, ok := strings.CutPrefix(s, "0x"); ok {
		if len(hexs) != 16 {
			return 0, errors.New("raw time tag needs exactly 16 hex digits after 0x")
		}
		v, err := strconv.ParseUint(hexs, 16, 64)
		if err != nil {
			return 0, errors.New("invalid raw time tag " + strconv.Quote(s))
		}
		return osc.Timetag(v), nil
	}
	if unix, ok := strings.CutPrefix(s, "@"); ok {
		t, err := parseUnix(unix)
		if err != nil {
			return 0, err
		}
		return osc.FromTime(t), inRange(s, t)
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return osc.FromTime(t), inRange(s, t)
	}
	if t, err := time.ParseInLocation("15:04:05.999999999", s, now.Location()); err == nil {
		y, m, d := now.Date()
		return osc.FromTime(time.Date(y, m, d, t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), now.Location())), nil
	}
	return 0, errors.New("invalid time " + strconv.Quote(s) + " (want " + WhenHelp + ")")
}

// parseUnix reads [-]SECONDS[.FRACTION] exactly, without floating point.
func parseUnix(s string) (time.Time, error) {
	bad := errors.New("invalid Unix time @" + s + " (want @SECONDS or @SECONDS.FRACTION, at most 9 decimals)")
	secs, frac, hasFrac := strings.Cut(s, ".")
	if secs == "" || secs == "-" || secs[0] == '+' {
		return time.Time{}, bad
	}
	sec, err := strconv.ParseInt(secs, 10, 64)
	if errors.Is(err, strconv.ErrRange) {
		return time.Time{}, &RangeError{"@" + s}
	}
	if err != nil {
		return time.Time{}, bad
	}
	var ns int64
	if hasFrac {
		if frac == "" || len(frac) > 9 {
			return time.Time{}, bad
		}
		for _, c := range []byte(frac) {
			if !isDigit(c) {
				return time.Time{}, bad
			}
		}
		ns, _ = strconv.ParseInt(frac+strings.Repeat("0", 9-len(frac)), 10, 64)
		if strings.HasPrefix(secs, "-") {
			ns = -ns
		}
	}
	return time.Unix(sec, ns), nil
}

// isDuration reports whether s is written like a Go duration ("+1000000h",
// "3000000h"), so that one time.ParseDuration refused can only be too
// long.
func isDuration(s string) bool {
	s = strings.TrimLeft(s, "+-")
	if s == "" || s[0] < '0' || s[0] > '9' || !strings.ContainsAny(s[len(s)-1:], "smh") {
		return false
	}
	for _, r := range s {
		if !(r >= '0' && r <= '9' || r == '.' || strings.ContainsRune("nsuµmh", r)) {
			return false
		}
	}
	return true
}
