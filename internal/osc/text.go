package osc

import (
	"math"
	"strconv"
	"unicode"
	"unicode/utf8"

	"github.com/oscli/oscli/internal/termsafe"
)

// The typed text syntax, shared by `oscli dump` (which prints it) and
// `oscli send` (which reads it, in package argparse):
//
//	/1/fader f:0.5 s:"two words" i:3 [ i:1 i:2 ] T
//
// Every argument carries its tag, so printing then parsing gives back the
// same bytes. Words are quoted the way a POSIX shell reads them, so a
// printed line can be pasted after `oscli send` in bash or zsh, or fed to
// `oscli send -`: bare when every byte is harmless, else in double quotes,
// else in single quotes, else (control characters, invalid UTF-8,
// invisible runes: whatever package termsafe escapes) in bash's $'…' with
// termsafe's escapes. The last form is also what keeps terminal escape
// sequences sent over the network off the screen.

// AppendText appends the argument in the typed text syntax.
func (a Arg) AppendText(dst []byte) []byte {
	switch a.Tag {
	case TagInt32:
		return strconv.AppendInt(append(dst, "i:"...), int64(a.Int32()), 10)
	case TagInt64:
		return strconv.AppendInt(append(dst, "h:"...), a.Int64(), 10)
	case TagFloat32:
		return appendFloat(append(dst, "f:"...), a.Bits, 32)
	case TagFloat64:
		return appendFloat(append(dst, "d:"...), a.Bits, 64)
	case TagString:
		return AppendWord(append(dst, "s:"...), a.Data)
	case TagSymbol:
		return AppendWord(append(dst, "S:"...), a.Data)
	case TagBlob:
		dst = append(dst, "b:"...)
		for _, c := range a.Data {
			dst = appendHexUint(dst, uint64(c), 2)
		}
		return dst
	case TagTimetag:
		return Timetag(a.Bits).AppendHex(append(dst, "t:"...))
	case TagRGBA:
		return appendHexUint(append(dst, "r:"...), a.Bits&0xffffffff, 8)
	case TagMIDI:
		return appendHexUint(append(dst, "m:"...), a.Bits&0xffffffff, 8)
	case TagChar:
		dst = append(dst, "c:"...)
		c := rune(uint32(a.Bits))
		if c > ' ' && c < utf8.RuneSelf && isPlain(byte(c)) {
			return append(dst, byte(c))
		}
		if c >= utf8.RuneSelf && c <= unicode.MaxRune && utf8.ValidRune(c) && termsafe.IsSafe(c) {
			return utf8.AppendRune(dst, c)
		}
		// Anything else, including space and shell metacharacters, as a
		// number: unambiguous because it is more than one character.
		return appendHexUint(append(dst, "0x"...), a.Bits&0xffffffff, 2*hexWidth(uint32(a.Bits)))
	case TagTrue, TagFalse, TagNil, TagImpulse, TagArrayBegin, TagArrayEnd:
		return append(dst, byte(a.Tag))
	}
	// Not a valid tag: nothing the parser would accept, but visible.
	return appendHexUint(append(dst, "?0x"...), uint64(a.Tag), 2)
}

func hexWidth(v uint32) int {
	switch {
	case v <= 0xff:
		return 1
	case v <= 0xffff:
		return 2
	}
	return 4
}

// Canonical NaNs print as "NaN"; any other NaN prints its bits as
// "NaN:0x…" so that it survives a round trip through the text syntax.
const (
	NaN32Bits uint64 = 0x7fc00000
	NaN64Bits uint64 = 0x7ff8000000000000
)

func appendFloat(dst []byte, bits uint64, size int) []byte {
	var f float64
	var nan uint64
	if size == 32 {
		f = float64(math.Float32frombits(uint32(bits)))
		nan = NaN32Bits
	} else {
		f = math.Float64frombits(bits)
		nan = NaN64Bits
	}
	switch {
	case math.IsNaN(f):
		dst = append(dst, "NaN"...)
		if bits != nan {
			dst = append(dst, ":0x"...)
			dst = appendHexUint(dst, bits, size/4)
		}
		return dst
	case math.IsInf(f, 1):
		return append(dst, "Inf"...)
	case math.IsInf(f, -1):
		return append(dst, "-Inf"...)
	}
	return strconv.AppendFloat(dst, f, 'g', -1, size)
}

// isPlain reports whether the ASCII byte c is harmless in a bare shell word
// (and means nothing special to the stdin tokenizer or to OSC patterns).
func isPlain(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	switch c {
	case '%', '+', ',', '-', '.', '/', ':', '=', '@', '^', '_':
		return true
	}
	return false
}

// AppendWord appends s as one word of the text syntax, quoted as a POSIX
// shell (with bash's $'…' for unprintable bytes) would need it. Control
// characters are always escaped, never written raw.
func AppendWord[S string | []byte](dst []byte, s S) []byte {
	plain, printable, dq, sq := true, true, true, true
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			i++
			if isPlain(c) {
				continue
			}
			plain = false
			switch {
			case c < ' ' || c == 0x7f:
				printable = false
			case c == '"' || c == '$' || c == '`' || c == '\\' || c == '!':
				dq = false
			case c == '\'':
				sq = false
			}
			continue
		}
		plain = false
		r, n := utf8.DecodeRuneInString(string(s[i:min(i+utf8.UTFMax, len(s))]))
		if r == utf8.RuneError && n <= 1 || !termsafe.IsSafe(r) {
			printable = false
		}
		i += n
	}
	switch {
	case plain:
		return append(dst, s...)
	case printable && dq:
		dst = append(dst, '"')
		dst = append(dst, s...)
		return append(dst, '"')
	case printable && sq:
		dst = append(dst, '\'')
		dst = append(dst, s...)
		return append(dst, '\'')
	}
	return appendANSIC(dst, s)
}

// appendANSIC appends s in bash's $'…' quoting: backslashes and quotes
// escaped here, everything termsafe escapes in its forms, which $'…' reads
// back as the same bytes.
func appendANSIC[S string | []byte](dst []byte, s S) []byte {
	dst = append(dst, '$', '\'')
	run := 0
	for i := 0; i < len(s); i++ {
		// ASCII never occurs inside a multi-byte rune, so cutting here
		// leaves every rune, and every invalid byte, whole.
		if c := s[i]; c == '\\' || c == '\'' {
			dst = termsafe.Append(dst, s[run:i])
			dst = append(dst, '\\', c)
			run = i + 1
		}
	}
	dst = termsafe.Append(dst, s[run:])
	return append(dst, '\'')
}

// AppendText appends the message in the typed text syntax: the address,
// then each argument, separated by single spaces.
func (m *Message) AppendText(dst []byte) []byte {
	dst = AppendWord(dst, m.Address)
	for _, a := range m.Args {
		dst = append(dst, ' ')
		dst = a.AppendText(dst)
	}
	return dst
}

// String returns the message in the typed text syntax.
func (m *Message) String() string { return string(m.AppendText(nil)) }

// AppendText appends the bundle as lines: a header "#bundle TIMETAG" with
// the raw time tag, then each element indented by two spaces per level.
// The result ends without a newline.
func (b *Bundle) AppendText(dst []byte) []byte { return b.appendText(dst, 0) }

func (b *Bundle) appendText(dst []byte, depth int) []byte {
	dst = appendIndent(dst, depth)
	dst = append(dst, "#bundle "...)
	dst = b.Timetag.AppendHex(dst)
	for _, e := range b.Elements {
		dst = append(dst, '\n')
		switch e := e.(type) {
		case *Message:
			dst = appendIndent(dst, depth+1)
			dst = e.AppendText(dst)
		case *Bundle:
			dst = e.appendText(dst, depth+1)
		}
	}
	return dst
}

func appendIndent(dst []byte, depth int) []byte {
	for range depth {
		dst = append(dst, ' ', ' ')
	}
	return dst
}

// String returns the bundle as AppendText renders it.
func (b *Bundle) String() string { return string(b.AppendText(nil)) }
