package record

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/oscli/oscli/internal/osc"
)

// parseOscdumpLine reads one line of liblo's oscdump output (the format
// oscsendfile reads):
//
//	eeac15a9.bc40181d /all ihfdsScbtmTFNI -5 123456789012 1.500000 -2.250000 "say "hi" there" 'sym bol 'x' [5b 0x1 0x2 0x3 0x4 0xff] e0000000.80000000 MIDI [0x00 0x90 0x3c 0x7f] #T #F Nil Infinitum
//
// liblo does not escape anything, so a string may hold quotes and spaces
// and an address spaces. The types say how many arguments follow, so the
// parser tries each place a string or the address could end and keeps the
// one after which the rest of the line parses. (oscsendfile splits at the
// first space or quote and gets such lines wrong.) Floats keep only the
// six decimals oscdump printed.
func parseOscdumpLine(line string) (*Record, error) {
	line = strings.TrimRight(line, "\r")
	if len(line) < 19 || line[8] != '.' || line[17] != ' ' {
		return nil, errors.New("not an oscdump line (want XXXXXXXX.XXXXXXXX /address types args…)")
	}
	tt, err := parseTimetag(line[:17])
	if err != nil {
		return nil, err
	}
	rest := line[18:]
	if !strings.HasPrefix(rest, "/") {
		return nil, errors.New("no OSC address after the time tag")
	}
	// The address ends at a space followed by a valid type string after
	// which the arguments parse.
	var lastErr error
	for i := 0; i < len(rest); i++ {
		if rest[i] != ' ' {
			continue
		}
		addr, after := rest[:i], rest[i+1:]
		types, argText, _ := strings.Cut(after, " ")
		if !validTypes(types) {
			continue
		}
		args, err := parseOscdumpArgs(types, argText)
		if err != nil {
			lastErr = err
			continue
		}
		m := &osc.Message{Address: addr, Args: args}
		raw, err := osc.AppendMessage(nil, m)
		if err != nil {
			return nil, err
		}
		rec := &Record{Raw: raw, Packet: m}
		if !tt.IsImmediate() {
			rec.Time = tt.Time()
		}
		return rec, nil
	}
	if lastErr != nil {
		return nil, lastErr
	}
	return nil, errors.New("no type string after the address")
}

func validTypes(s string) bool {
	for i := 0; i < len(s); i++ {
		if !strings.ContainsRune("ihfdsScbtmTFNI", rune(s[i])) {
			return false
		}
	}
	return true
}

func parseTimetag(s string) (osc.Timetag, error) {
	sec, err1 := strconv.ParseUint(s[:8], 16, 32)
	frac, err2 := strconv.ParseUint(s[9:17], 16, 32)
	if err1 != nil || err2 != nil || s[8] != '.' {
		return 0, fmt.Errorf("bad time tag %q", s)
	}
	return osc.NewTimetag(uint32(sec), uint32(frac)), nil
}

// parseOscdumpArgs parses the arguments for types from s, backtracking
// over where strings end.
func parseOscdumpArgs(types, s string) ([]osc.Arg, error) {
	if types == "" {
		if strings.TrimSpace(s) != "" {
			return nil, errors.New("arguments after an empty type string")
		}
		return nil, nil
	}
	t := types[0]
	switch t {
	case 's', 'S':
		// s is "…" and S is '… ; either may contain spaces and quotes.
		open := byte('"')
		if t == 'S' {
			open = '\''
		}
		if s == "" || s[0] != open {
			return nil, fmt.Errorf("%c argument should start with %c", t, open)
		}
		for end := 1; end <= len(s); end++ {
			var text string
			var rest string
			if t == 's' {
				if end >= len(s) || s[end] != '"' {
					continue
				}
				text = s[1:end]
				rest = s[end+1:]
			} else {
				if end < len(s) && s[end] != ' ' {
					continue
				}
				text = s[1:end]
				rest = s[end:]
			}
			if len(types) > 1 {
				if !strings.HasPrefix(rest, " ") {
					continue
				}
				rest = rest[1:]
			} else if rest != "" {
				continue
			}
			tail, err := parseOscdumpArgs(types[1:], rest)
			if err != nil {
				continue
			}
			return append([]osc.Arg{{Tag: osc.Tag(t), Data: []byte(text)}}, tail...), nil
		}
		return nil, fmt.Errorf("cannot find the end of the %c argument in %q", t, s)
	case 'b':
		// [5b 0x1 0x2 0x3 0x4 0xff]
		end := strings.IndexByte(s, ']')
		if !strings.HasPrefix(s, "[") || end < 0 {
			return nil, errors.New("blob should look like [Nb 0x.. …]")
		}
		fields := strings.Fields(s[1:end])
		if len(fields) == 0 || !strings.HasSuffix(fields[0], "b") {
			return nil, errors.New("blob should start with its size, [Nb")
		}
		n, err := strconv.Atoi(strings.TrimSuffix(fields[0], "b"))
		if err != nil || n != len(fields)-1 {
			return nil, errors.New("blob size does not match its bytes")
		}
		data := make([]byte, n)
		for i, f := range fields[1:] {
			v, err := strconv.ParseUint(strings.TrimPrefix(f, "0x"), 16, 8)
			if err != nil {
				return nil, fmt.Errorf("bad blob byte %q", f)
			}
			data[i] = byte(v)
		}
		return next(osc.Blob(data), types, s[end+1:])
	case 'm':
		// MIDI [0x00 0x90 0x3c 0x7f]
		end := strings.IndexByte(s, ']')
		if !strings.HasPrefix(s, "MIDI [") || end < 0 {
			return nil, errors.New("MIDI should look like MIDI [0x.. 0x.. 0x.. 0x..]")
		}
		fields := strings.Fields(s[6:end])
		if len(fields) != 4 {
			return nil, errors.New("MIDI needs 4 bytes")
		}
		var v uint64
		for _, f := range fields {
			b, err := strconv.ParseUint(strings.TrimPrefix(f, "0x"), 16, 8)
			if err != nil {
				return nil, fmt.Errorf("bad MIDI byte %q", f)
			}
			v = v<<8 | b
		}
		return next(osc.Arg{Tag: osc.TagMIDI, Bits: v}, types, s[end+1:])
	case 'c':
		// 'x' — the character may itself be a space or a quote.
		if len(s) < 3 || s[0] != '\'' || s[2] != '\'' {
			return nil, errors.New("char should look like 'x'")
		}
		return next(osc.Char(rune(s[1])), types, s[3:])
	}
	word, rest, _ := strings.Cut(s, " ")
	var a osc.Arg
	switch t {
	case 'i':
		v, err := strconv.ParseInt(word, 10, 32)
		if err != nil {
			return nil, fmt.Errorf("bad int32 %q", word)
		}
		a = osc.Int32(int32(v))
	case 'h':
		v, err := strconv.ParseInt(word, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("bad int64 %q", word)
		}
		a = osc.Int64(v)
	case 'f', 'd':
		v, err := strconv.ParseFloat(word, 64)
		if err != nil {
			switch strings.ToLower(word) {
			case "inf", "-inf", "nan", "-nan":
				v, err = oscdumpSpecial(word), nil
			}
		}
		if err != nil {
			return nil, fmt.Errorf("bad float %q", word)
		}
		if t == 'f' {
			a = osc.Float32(float32(v))
		} else {
			a = osc.Float64(v)
		}
	case 't':
		if len(word) != 17 {
			return nil, fmt.Errorf("bad time tag %q", word)
		}
		tt, err := parseTimetag(word)
		if err != nil {
			return nil, err
		}
		a = osc.TimetagArg(tt)
	case 'T', 'F', 'N', 'I':
		want := map[byte]string{'T': "#T", 'F': "#F", 'N': "Nil", 'I': "Infinitum"}[t]
		if word != want {
			return nil, fmt.Errorf("%c should print as %s, not %q", t, want, word)
		}
		a = osc.Arg{Tag: osc.Tag(t)}
	default:
		return nil, fmt.Errorf("unknown type %c", t)
	}
	tail, err := parseOscdumpArgs(types[1:], rest)
	if err != nil {
		return nil, err
	}
	return append([]osc.Arg{a}, tail...), nil
}

// next parses the rest after a bracketed or quoted argument.
func next(a osc.Arg, types, rest string) ([]osc.Arg, error) {
	rest = strings.TrimPrefix(rest, " ")
	tail, err := parseOscdumpArgs(types[1:], rest)
	if err != nil {
		return nil, err
	}
	return append([]osc.Arg{a}, tail...), nil
}

func oscdumpSpecial(w string) float64 {
	switch strings.ToLower(w) {
	case "inf":
		return math.Inf(1)
	case "-inf":
		return math.Inf(-1)
	}
	return math.NaN()
}
