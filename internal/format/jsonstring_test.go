package format

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// refJSONString is appendJSONString written the obvious way, one byte or
// rune at a time: the reference the run-at-a-time version must match. What
// is not printable (unicode.IsPrint) is a \u escape, as UTF-16.
func refJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c < 0x7f && c != '"' && c != '\\' {
			b = append(b, c)
			i++
			continue
		}
		if c < utf8.RuneSelf {
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\t':
				b = append(b, '\\', 't')
			case '\r':
				b = append(b, '\\', 'r')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			b = append(b, `\ufffd`...)
		case unicode.IsPrint(r):
			b = append(b, s[i:i+n]...)
		default:
			for _, u := range utf16.Encode([]rune{r}) {
				b = fmt.Appendf(b, `\u%04x`, u)
			}
		}
		i += n
	}
	return append(b, '"')
}

// Pieces that need escaping, or look as if they might, and plain text
// for the runs between them.
var jsonStringPieces = []string{
	"a", "/1/fader", "127.0.0.1:54321", " ", "~", "\"", "\\", "/",
	"\x00", "\x01", "\x1b", "\x1f", "\x7f", "\n", "\r", "\t", "\b", "\f",
	"é", "€", "😀", "\ufffd", // valid, printable
	"\u0080", "\u0085", "\u009b", "\u009f", "\u00a0", "\u2028", "\u2029", "\u202a",
	"\u202e", "\u2066", "\u2069", "\u200e", "\u061c", "\u200b", "\u200d", "\u2060", "\ufeff", "\u00ad",
	"\U000e0041", "\U000f0000", "\u0378", // tag, private use, unassigned
	"\xff", "\xc2", "\xe2\x80", "\xed\xa0\x80", "\xc0\xaf", "\xf4\x90\x80\x80", // invalid
}

func TestJSONStringMatchesReference(t *testing.T) {
	tests := map[string]string{"empty": ""}
	for i, p := range jsonStringPieces {
		tests["piece "+p] = p
		tests["surrounded "+p] = "ab" + p + "cd"
		tests["twice "+p] = p + p
		tests["pair "+p] = p + jsonStringPieces[(i+1)%len(jsonStringPieces)]
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for i := range 5000 {
		var sb strings.Builder
		for range rng.IntN(12) {
			sb.WriteString(jsonStringPieces[rng.IntN(len(jsonStringPieces))])
		}
		tests["random "+strconv.Itoa(i)] = sb.String()
	}
	for name, s := range tests {
		got := string(appendJSONString([]byte("x"), s))
		want := string(refJSONString([]byte("x"), s))
		if got != want {
			t.Errorf("%q: got %s, want %s", name, got, want)
		}
	}
}
