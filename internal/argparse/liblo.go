package argparse

// This file reads liblo's oscsend syntax, a type string followed by one
// untyped word per value (oscsend localhost 7777 /a iTfs 1 3.14 hello),
// so that send can accept what liblo users type. Which form applies is
// the caller's decision; here a word either is a type string or is not,
// and values either parse the way oscsend 0.31 parses them or are refused.

import (
	"errors"
	"math"
	"strconv"
	"strings"

	"github.com/oscli/oscli/internal/osc"
)

// LibloTypeLetters are the types liblo 0.31's oscsend accepts in its type
// string: i h f d s S c m take a value each, T F N I none. (Its usage
// lists no b or t, and it refuses them.)
const LibloTypeLetters = "ihfdsScmTFNI"

// LibloTypes reports whether w is a type string oscsend would accept
// (one or more of LibloTypeLetters, nothing else) and how many value
// words follow it.
func LibloTypes(w string) (values int, ok bool) {
	if w == "" {
		return 0, false
	}
	for i := 0; i < len(w); i++ {
		if strings.IndexByte(LibloTypeLetters, w[i]) < 0 {
			return 0, false
		}
		if strings.IndexByte("TFNI", w[i]) < 0 {
			values++
		}
	}
	return values, true
}

// ParseLiblo reads a liblo type string and its values into arguments that
// encode to the bytes oscsend sends for them. The value count must match.
// A value oscsend would read differently from what it looks like (liblo
// takes the first byte of "xyz" for c, ignores what follows 8 hex digits
// for m) is refused rather than guessed. Errors are *ArgError, positions
// counted from the type string (1) on.
func ParseLiblo(types string, vals []string) ([]osc.Arg, error) {
	n, ok := LibloTypes(types)
	if !ok {
		return nil, &ArgError{Pos: 1, Word: types, Reason: "not a liblo type string (letters of " + LibloTypeLetters + ")"}
	}
	if n != len(vals) {
		return nil, &ArgError{Pos: 1, Word: types, Reason: "liblo's type string for " + plural(n, "value") + ", followed by " + strconv.Itoa(len(vals))}
	}
	args := make([]osc.Arg, 0, len(types))
	v := 0
	for i := 0; i < len(types); i++ {
		t := osc.Tag(types[i])
		switch t {
		case osc.TagTrue, osc.TagFalse, osc.TagNil, osc.TagImpulse:
			args = append(args, osc.Arg{Tag: t})
			continue
		}
		w := vals[v]
		v++
		a, err := libloValue(t, w)
		if err != nil {
			return nil, &ArgError{Pos: v + 1, Word: w, Reason: err.Error() + " (for " + strconv.Quote(string(rune(t))) + " in " + strconv.Quote(types) + ")"}
		}
		args = append(args, a)
	}
	return args, nil
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return strconv.Itoa(n) + " " + what + "s"
}

// libloValue reads one value as oscsend does: strtol/strtoll base 10 for
// i and h, strtof/strtod for f and d (decimal, hex, inf, nan), the word
// itself for s and S, one character for c, hex digits for m.
func libloValue(t osc.Tag, w string) (osc.Arg, error) {
	switch t {
	case osc.TagInt32, osc.TagInt64:
		bits, name := 32, "int32"
		if t == osc.TagInt64 {
			bits, name = 64, "int64"
		}
		if !isDecimal(w) {
			return osc.Arg{}, errors.New("not a decimal " + name)
		}
		n, err := strconv.ParseInt(w, 10, bits)
		if err != nil {
			return osc.Arg{}, errors.New("out of " + name + " range")
		}
		if t == osc.TagInt32 {
			return osc.Int32(int32(n)), nil
		}
		return osc.Int64(n), nil
	case osc.TagFloat32, osc.TagFloat64:
		bits, err := cFloatBits(w, t == osc.TagFloat32)
		if err != nil {
			return osc.Arg{}, err
		}
		return osc.Arg{Tag: t, Bits: bits}, nil
	case osc.TagString, osc.TagSymbol:
		return osc.Arg{Tag: t, Data: []byte(w)}, nil
	case osc.TagChar:
		if len(w) != 1 || w[0] >= 0x80 {
			return osc.Arg{}, errors.New("not one ASCII character")
		}
		return osc.Char(rune(w[0])), nil
	case osc.TagMIDI:
		// sscanf("%08x") reads at most 8 characters, an 0x included.
		h := w
		max := 8
		if len(h) > 2 && h[0] == '0' && (h[1] == 'x' || h[1] == 'X') {
			h, max = h[2:], 6
		}
		if h == "" || len(h) > max || strings.IndexFunc(h, func(r rune) bool { return r > 0x7f || !isHex(byte(r)) }) >= 0 {
			return osc.Arg{}, errors.New("not up to 8 hex digits")
		}
		n, _ := strconv.ParseUint(h, 16, 32)
		return osc.Arg{Tag: osc.TagMIDI, Bits: n}, nil
	}
	return osc.Arg{}, errors.New("type not supported by liblo")
}

// isDecimal reports [+-]digits, which strtol base 10 reads whole.
func isDecimal(w string) bool {
	if w != "" && (w[0] == '+' || w[0] == '-') {
		w = w[1:]
	}
	if w == "" {
		return false
	}
	for i := 0; i < len(w); i++ {
		if !isDigit(w[i]) {
			return false
		}
	}
	return true
}

// cFloatBits reads a float as C's strtof/strtod read a whole word: decimal
// or hex (0x1.8p3, 0x10), inf, infinity and nan in any case with a sign;
// out-of-range values become ±Inf or zero, as in C. Leading blanks and
// nan(…) payloads, which C also reads, are refused.
func cFloatBits(w string, single bool) (uint64, error) {
	name, size := "float64", 64
	if single {
		name, size = "float32", 32
	}
	s, neg := w, false
	if s != "" && (s[0] == '+' || s[0] == '-') {
		neg, s = s[0] == '-', s[1:]
	}
	switch canonInfNaN(s) {
	case "Inf":
		return floatBits(math.Copysign(math.Inf(1), sign(neg)), single), nil
	case "NaN":
		// glibc's quiet NaN, with the sign bit as written.
		if single {
			b := uint64(0x7fc00000)
			if neg {
				b |= 1 << 31
			}
			return b, nil
		}
		b := uint64(0x7ff8000000000000)
		if neg {
			b |= 1 << 63
		}
		return b, nil
	}
	if s == "" || strings.ContainsAny(s, "_ \t\n") || s[0] == '+' || s[0] == '-' {
		return 0, errors.New("not a " + name)
	}
	if len(s) > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X') && !strings.ContainsAny(s, "pP") {
		s += "p0" // C's hex floats may leave out the exponent, Go's may not
	}
	if neg {
		s = "-" + s
	}
	f, err := strconv.ParseFloat(s, size)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return 0, errors.New("not a " + name)
	}
	return floatBits(f, single), nil
}

func sign(neg bool) float64 {
	if neg {
		return -1
	}
	return 1
}
