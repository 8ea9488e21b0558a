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

// ParseWhen parses a time tag:
//
//	immediately        the special value 1 (also "imm")
//	now                the current time
//	+10s -250ms 1m30s  relative to now (Go duration syntax, sign optional)
//	2026-11-21T18:00:00Z            RFC 3339, any precision
//	18:00:00 18:00:00.25            today at that local time
//	0xe000000080000000 the raw NTP value, exactly 16 hex digits
//	@1700000000.5      Unix seconds, up to nanosecond precision
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
		return When{rel: d, relative: true}, nil
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
		return osc.FromTime(t), nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return osc.FromTime(t), nil
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
