// Package argparse turns command-line words into OSC values: typed words
// such as "f:0.5" or untyped ones whose type is inferred, time tags written
// as WHEN (ParseWhen), and lines of text split into words the way a shell
// splits them (SplitLine). It is the inverse of osc's text rendering: a
// message printed by Message.AppendText parses back to the same bytes. It
// does no I/O except through the ReadFile function it is given.
package argparse

import (
	"encoding/hex"
	"errors"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/oscli/oscli/internal/osc"
)

// Parser parses words. Its zero value works but cannot read blob files
// (b:@FILE) and resolves relative times against time.Now.
type Parser struct {
	// ReadFile reads the file named by b:@FILE.
	ReadFile func(name string) ([]byte, error)
	// Now is the clock for t:now and t:+10s.
	Now func() time.Time
}

// ArgError reports a word that is not a valid argument: its 1-based
// position among the message's arguments, its text and why. Hint, when
// set, says how to write what the user probably meant; Error leaves it
// out, so that the message stays one line.
type ArgError struct {
	Pos    int
	Word   string
	Reason string
	Hint   string
}

func (e *ArgError) Error() string {
	return "argument " + strconv.Itoa(e.Pos) + " " + strconv.Quote(e.Word) + ": " + e.Reason
}

// AddressError reports an address that is not an OSC address.
type AddressError struct {
	Word string
}

func (e *AddressError) Error() string {
	return "address " + strconv.Quote(e.Word) + ": an OSC address must start with '/'"
}

// ParseMessage parses words[0] as the address and the rest as arguments.
func (p *Parser) ParseMessage(words []string) (*osc.Message, error) {
	if len(words) == 0 {
		return nil, errors.New("no address")
	}
	addr := words[0]
	if addr == "" || addr[0] != '/' || strings.IndexByte(addr, 0) >= 0 {
		return nil, &AddressError{addr}
	}
	args, err := p.ParseArgs(words[1:])
	if err != nil {
		return nil, err
	}
	return &osc.Message{Address: addr, Args: args}, nil
}

// ParseArgs parses argument words; array brackets must balance.
func (p *Parser) ParseArgs(words []string) ([]osc.Arg, error) {
	args := make([]osc.Arg, 0, len(words))
	depth, openPos := 0, 0
	for i, w := range words {
		a, err := p.ParseArg(w)
		if err != nil {
			ae := &ArgError{Pos: i + 1, Word: w, Reason: err.Error()}
			var we *wordError
			if errors.As(err, &we) {
				ae.Hint = we.hint
			}
			return nil, ae
		}
		switch a.Tag {
		case osc.TagArrayBegin:
			if depth == 0 {
				openPos = i + 1
			}
			depth++
			if depth > osc.MaxArrayDepth {
				return nil, &ArgError{Pos: i + 1, Word: w, Reason: "arrays nested deeper than " + strconv.Itoa(osc.MaxArrayDepth)}
			}
		case osc.TagArrayEnd:
			depth--
			if depth < 0 {
				return nil, &ArgError{Pos: i + 1, Word: w, Reason: "']' without '['"}
			}
		}
		args = append(args, a)
	}
	if depth > 0 {
		return nil, &ArgError{Pos: openPos, Word: "[", Reason: "'[' without ']'"}
	}
	return args, nil
}

// ParseArg parses one word. Typed words are TAG:VALUE for the tags
// i h f d s S c b t r m; the bare words T F N I [ ] are those tags. A word
// that starts with any other single ASCII letter and ':' ("q:1", "T:1") is
// an error, not a string: oscli is strict, and s:q:1 says "string". Any
// other word is untyped and inferred: an integer in int32 range is i,
// another integer h, a decimal number with '.' or an exponent f, true and
// false T and F, nil N, anything else s ("ab:c", "http://x", "1:30").
// A signed infinity or NaN ("-inf", "+NaN") is an error: it looks like a
// number but is not inferred as one, and f:-Inf or s:-inf says which.
func (p *Parser) ParseArg(w string) (osc.Arg, error) {
	if len(w) == 1 {
		switch t := osc.Tag(w[0]); t {
		case osc.TagTrue, osc.TagFalse, osc.TagNil, osc.TagImpulse, osc.TagArrayBegin, osc.TagArrayEnd:
			return osc.Arg{Tag: t}, nil
		}
	}
	if len(w) >= 2 && w[1] == ':' && isLetter(w[0]) {
		if a, ok, err := p.parseTyped(osc.Tag(w[0]), w[2:]); ok {
			return a, err
		}
		return osc.Arg{}, unknownType(w)
	}
	if isSignedInfNaN(w) {
		float := "f:" + w[:1] + "Inf"
		if canonInfNaN(w[1:]) == "NaN" {
			float = "f:NaN" // a NaN's sign is rarely meant; f:NaN:0xffc00000 sets it
		}
		return osc.Arg{}, &wordError{
			reason: "not inferred as a number (only digits are)",
			hint:   "write " + float + " for the float, or s:" + w + " for the string",
		}
	}
	return inferArg(w)
}

// TypedTags are the letters that start a typed word, as a hint lists them.
const TypedTags = "i: h: f: d: s: S: c: b: t: r: m:"

func unknownType(w string) error {
	t := w[:1]
	e := &wordError{
		reason: "unknown type " + strconv.Quote(t+":"),
		hint:   "typed words are " + TypedTags + " (and T F N I [ ] alone); write s:" + w + " to send the string " + strconv.Quote(w),
	}
	switch osc.Tag(w[0]) {
	case osc.TagTrue, osc.TagFalse, osc.TagNil, osc.TagImpulse:
		e.reason = t + " takes no value"
		e.hint = "write " + t + " alone, or s:" + w + " to send the string " + strconv.Quote(w)
	}
	return e
}

// wordError is why a word is not an argument, with advice.
type wordError struct{ reason, hint string }

func (e *wordError) Error() string { return e.reason }

func isLetter(c byte) bool { return 'A' <= c&^0x20 && c&^0x20 <= 'Z' }

// isSignedInfNaN reports a word such as "-inf", "+Infinity" or "-nan":
// strtod and liblo read these as floats, oscli's inference does not.
func isSignedInfNaN(w string) bool {
	return len(w) > 1 && (w[0] == '-' || w[0] == '+') && canonInfNaN(w[1:]) != ""
}

// canonInfNaN spells inf, infinity and nan (any case) as oscli prints
// them, or returns "" for any other word.
func canonInfNaN(w string) string {
	switch strings.ToLower(w) {
	case "inf", "infinity":
		return "Inf"
	case "nan":
		return "NaN"
	}
	return ""
}

// IsNumberWord reports whether a word that starts with '-' is a number to
// oscli ("-1", "-0.5", "-1e3", "-0x10") or a signed infinity or NaN: a
// word that, after a message's address, is an argument and never a flag.
func IsNumberWord(w string) bool {
	return numberKind(w) != kindOther || isSignedInfNaN(w)
}

func (p *Parser) parseTyped(t osc.Tag, v string) (osc.Arg, bool, error) {
	var (
		a   osc.Arg
		err error
	)
	switch t {
	case osc.TagInt32:
		var n int64
		n, err = parseInt(v, 32, "int32")
		a = osc.Int32(int32(n))
	case osc.TagInt64:
		var n int64
		n, err = parseInt(v, 64, "int64")
		a = osc.Int64(n)
	case osc.TagFloat32, osc.TagFloat64:
		a.Tag = t
		a.Bits, err = ParseFloatBits(v, t == osc.TagFloat32)
	case osc.TagString, osc.TagSymbol:
		if strings.IndexByte(v, 0) >= 0 {
			return a, true, errors.New("strings cannot contain NUL")
		}
		a = osc.Arg{Tag: t, Data: []byte(v)}
	case osc.TagChar:
		a, err = parseChar(v)
	case osc.TagBlob:
		a, err = p.parseBlob(v)
	case osc.TagTimetag:
		var tt osc.Timetag
		tt, err = ParseWhen(v, p.now())
		a = osc.TimetagArg(tt)
	case osc.TagRGBA, osc.TagMIDI:
		var n uint64
		n, err = parseHex32(v)
		a = osc.Arg{Tag: t, Bits: n}
	default:
		return a, false, nil
	}
	return a, true, err
}

func (p *Parser) now() time.Time {
	if p.Now != nil {
		return p.Now()
	}
	return time.Now()
}

// parseInt reads a decimal or 0x-prefixed hex integer of the given size.
// Leading zeros do not mean octal: "010" is ten.
func parseInt(v string, bits int, name string) (int64, error) {
	neg := false
	s := v
	if s != "" && (s[0] == '-' || s[0] == '+') {
		neg = s[0] == '-'
		s = s[1:]
	}
	base := 10
	if len(s) > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X') {
		base, s = 16, s[2:]
	}
	if s == "" || s[0] == '+' || s[0] == '-' || strings.IndexByte(s, '_') >= 0 {
		return 0, errors.New("invalid " + name)
	}
	u, err := strconv.ParseUint(s, base, 64)
	if err != nil {
		if errors.Is(err, strconv.ErrRange) {
			return 0, errors.New("out of " + name + " range")
		}
		return 0, errors.New("invalid " + name)
	}
	limit := uint64(1) << (bits - 1)
	if neg && u > limit || !neg && u >= limit {
		// Hex may spell the two's complement bit pattern: i:0xffffffff is -1.
		if base == 16 && !neg && (bits == 32 && u <= math.MaxUint32 || bits == 64) {
			if bits == 32 {
				return int64(int32(uint32(u))), nil
			}
			return int64(u), nil
		}
		return 0, errors.New("out of " + name + " range")
	}
	if neg {
		return -int64(u), nil
	}
	return int64(u), nil
}

// ParseFloatBits reads a float32 (single) or float64 as its IEEE bits: decimal or hex notation,
// Inf, -Inf, NaN, or NaN:0xBITS for a NaN with a particular payload.
func ParseFloatBits(v string, single bool) (uint64, error) {
	name, size, nan := "float64", 64, osc.NaN64Bits
	if single {
		name, size, nan = "float32", 32, osc.NaN32Bits
	}
	if len(v) >= 3 && strings.EqualFold(v[:3], "nan") {
		if len(v) == 3 {
			return nan, nil
		}
		if bits, ok := strings.CutPrefix(v[3:], ":0x"); ok && len(bits) == size/4 {
			b, err := strconv.ParseUint(bits, 16, size)
			if err == nil && isNaNBits(b, single) {
				return b, nil
			}
		}
		return 0, errors.New("invalid NaN (NaN or NaN:0x followed by the bits of a NaN)")
	}
	f, err := strconv.ParseFloat(v, size)
	if err != nil {
		if errors.Is(err, strconv.ErrRange) && !math.IsInf(f, 0) {
			return floatBits(f, single), nil // underflow to zero or a denormal: fine
		}
		if errors.Is(err, strconv.ErrRange) {
			return 0, errors.New("out of " + name + " range")
		}
		return 0, errors.New("invalid " + name)
	}
	return floatBits(f, single), nil
}

func floatBits(f float64, single bool) uint64 {
	if single {
		return uint64(math.Float32bits(float32(f)))
	}
	return math.Float64bits(f)
}

func isNaNBits(b uint64, single bool) bool {
	if single {
		return math.IsNaN(float64(math.Float32frombits(uint32(b))))
	}
	return math.IsNaN(math.Float64frombits(b))
}

// parseChar reads one character, or a number (decimal or 0x hex) for a
// character that has no printable form.
func parseChar(v string) (osc.Arg, error) {
	if r, n := utf8.DecodeRuneInString(v); n == len(v) && v != "" && r != utf8.RuneError {
		return osc.Char(r), nil
	}
	if v != "" {
		if n, err := parseInt(v, 64, "char"); err == nil && n >= 0 && n <= math.MaxUint32 {
			return osc.Arg{Tag: osc.TagChar, Bits: uint64(n)}, nil
		}
	}
	return osc.Arg{}, errors.New("invalid char (one character, or its code as a number)")
}

func (p *Parser) parseBlob(v string) (osc.Arg, error) {
	if name, ok := strings.CutPrefix(v, "@"); ok {
		if p.ReadFile == nil {
			return osc.Arg{}, errors.New("cannot read blob files here")
		}
		data, err := p.ReadFile(name)
		if err != nil {
			return osc.Arg{}, err
		}
		if len(data) > math.MaxInt32 {
			return osc.Arg{}, errors.New("blob file larger than 2 GiB")
		}
		return osc.Blob(data), nil
	}
	data, err := hex.DecodeString(v)
	if err != nil {
		return osc.Arg{}, errors.New("invalid blob (hex digits, an even number of them, or @FILE)")
	}
	return osc.Blob(data), nil
}

func parseHex32(v string) (uint64, error) {
	if len(v) != 8 {
		return 0, errors.New("want exactly 8 hex digits")
	}
	n, err := strconv.ParseUint(v, 16, 32)
	if err != nil {
		return 0, errors.New("want exactly 8 hex digits")
	}
	return n, nil
}

// inferArg gives an untyped word its type.
func inferArg(w string) (osc.Arg, error) {
	switch w {
	case "true":
		return osc.Bool(true), nil
	case "false":
		return osc.Bool(false), nil
	case "nil":
		return osc.Nil(), nil
	}
	switch numberKind(w) {
	case kindInt:
		n, err := parseInt(w, 64, "int64")
		if err != nil {
			return osc.Arg{}, errors.New("integer out of int64 range (write d:" + w + " or s:" + w + ")")
		}
		if n >= math.MinInt32 && n <= math.MaxInt32 {
			return osc.Int32(int32(n)), nil
		}
		return osc.Int64(n), nil
	case kindFloat:
		bits, err := ParseFloatBits(w, true)
		if err != nil {
			return osc.Arg{}, errors.New("number out of float32 range (write d:" + w + ")")
		}
		return osc.Arg{Tag: osc.TagFloat32, Bits: bits}, nil
	}
	if strings.IndexByte(w, 0) >= 0 {
		return osc.Arg{}, errors.New("strings cannot contain NUL")
	}
	return osc.Arg{Tag: osc.TagString, Data: []byte(w)}, nil
}

type kind int

const (
	kindOther kind = iota
	kindInt
	kindFloat
)

// numberKind classifies a word: [+-]digits (or 0x hex) is an integer;
// [+-]digits.digits with an optional exponent, or digits with an exponent,
// is a float. Nothing else ("inf", "1_000", ".") is a number.
func numberKind(w string) kind {
	s := w
	if s != "" && (s[0] == '+' || s[0] == '-') {
		s = s[1:]
	}
	if len(s) > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X') {
		for i := 2; i < len(s); i++ {
			if !isHex(s[i]) {
				return kindOther
			}
		}
		return kindInt
	}
	digits, i := 0, 0
	for ; i < len(s) && isDigit(s[i]); i++ {
		digits++
	}
	if i == len(s) {
		if digits > 0 {
			return kindInt
		}
		return kindOther
	}
	if s[i] == '.' {
		for i++; i < len(s) && isDigit(s[i]); i++ {
			digits++
		}
	}
	if digits == 0 {
		return kindOther
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		exp := 0
		for ; i < len(s) && isDigit(s[i]); i++ {
			exp++
		}
		if exp == 0 {
			return kindOther
		}
	}
	if i != len(s) {
		return kindOther
	}
	return kindFloat
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }
func isHex(c byte) bool {
	return isDigit(c) || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}
