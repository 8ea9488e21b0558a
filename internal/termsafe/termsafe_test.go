package termsafe_test

import (
	"strconv"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/oscli/oscli/internal/termsafe"
)

// Every class the issue names, with the form each takes.
func TestAppend(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"empty", "", ""},
		{"ascii", "/1/fader 127.0.0.1:54321", "/1/fader 127.0.0.1:54321"},
		{"printable unicode", "unix:/tmp/café/音/👍", "unix:/tmp/café/音/👍"},
		{"replacement char sent as UTF-8", "\ufffd", "\ufffd"},
		{"combining mark", "e\u0301", "e\u0301"},
		{"backslash stays", `C:\x1b`, `C:\x1b`},

		{"NUL", "a\x00b", `a\x00b`},
		{"ESC sequence", "\x1b[2J\x1b]0;title\x07", `\x1b[2J\x1b]0;title\x07`},
		{"tab newline return", "a\tb\nc\rd", `a\tb\nc\rd`},
		{"unit separator", "\x1f", `\x1f`},
		{"DEL", "\x7f", `\x7f`},

		{"C1 PAD", "\u0080", `\u0080`},
		{"C1 NEL", "\u0085", `\u0085`},
		{"C1 CSI", "\u009b2J", `\u009b2J`},
		{"C1 APC", "\u009f", `\u009f`},

		{"raw 0x9b byte", "\x9b2J", `\x9b2J`},
		{"lone continuation", "a\x80b", `a\x80b`},
		{"truncated rune", "\xe2\x80", `\xe2\x80`},
		{"overlong slash", "\xc0\xaf", `\xc0\xaf`},
		{"surrogate half", "\xed\xa0\x80", `\xed\xa0\x80`},
		{"above U+10FFFF", "\xf4\x90\x80\x80", `\xf4\x90\x80\x80`},
		{"invalid then valid", "\xffé", `\xffé`},

		{"LRE", "\u202a", `\u202a`},
		{"RLE", "\u202b", `\u202b`},
		{"PDF", "\u202c", `\u202c`},
		{"LRO", "\u202d", `\u202d`},
		{"RLO", "txt.\u202eexe", `txt.\u202eexe`},
		{"LRI", "\u2066", `\u2066`},
		{"RLI", "\u2067", `\u2067`},
		{"FSI", "\u2068", `\u2068`},
		{"PDI", "\u2069", `\u2069`},
		{"LRM", "\u200e", `\u200e`},
		{"RLM", "\u200f", `\u200f`},
		{"ALM", "\u061c", `\u061c`},

		{"ZWSP", "a\u200bb", `a\u200bb`},
		{"ZWNJ", "\u200c", `\u200c`},
		{"ZWJ", "\u200d", `\u200d`},
		{"word joiner", "\u2060", `\u2060`},
		{"BOM", "\ufeff", `\ufeff`},

		{"soft hyphen", "\u00ad", `\u00ad`},
		{"no-break space", "\u00a0", `\u00a0`},
		{"line separator", "\u2028", `\u2028`},
		{"tag character", "\U000e0041", `\U000e0041`},
		{"private use", "\U000f0000", `\U000f0000`},
		{"unassigned", "\u0378", `\u0378`},

		{"mixed", "/x\x1b[2J\u202eevil\u200b\x9b!", `/x\x1b[2J\u202eevil\u200b\x9b!`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := string(termsafe.Append([]byte("> "), tt.in)); got != "> "+tt.want {
				t.Errorf("Append(%q) = %q, want %q", tt.in, got, "> "+tt.want)
			}
			if got := string(termsafe.Append(nil, []byte(tt.in))); got != tt.want {
				t.Errorf("Append([]byte(%q)) = %q, want %q", tt.in, got, tt.want)
			}
			if got := termsafe.String(tt.in); got != tt.want {
				t.Errorf("String(%q) = %q, want %q", tt.in, got, tt.want)
			}
			if safe := termsafe.IsSafeString(tt.in); safe != (tt.in == tt.want) {
				t.Errorf("IsSafeString(%q) = %v", tt.in, safe)
			}
		})
	}
}

// IsSafe over whole ranges of each class, not just one sample of each.
func TestIsSafe(t *testing.T) {
	unsafe := []struct {
		name   string
		lo, hi rune
	}{
		{"C0", 0x00, 0x1f},
		{"DEL", 0x7f, 0x7f},
		{"C1", 0x80, 0x9f},
		{"bidi embeddings and overrides", 0x202a, 0x202e},
		{"bidi isolates", 0x2066, 0x2069},
		{"bidi marks", 0x200e, 0x200f},
		{"arabic letter mark", 0x061c, 0x061c},
		{"zero-width space, joiners", 0x200b, 0x200d},
		{"word joiner", 0x2060, 0x2060},
		{"zero-width no-break space", 0xfeff, 0xfeff},
		{"tag characters", 0xe0000, 0xe007f},
		{"surrogates", 0xd800, 0xdfff},
	}
	for _, c := range unsafe {
		for r := c.lo; r <= c.hi; r++ {
			if termsafe.IsSafe(r) {
				t.Errorf("%s: IsSafe(%U) = true", c.name, r)
			}
		}
	}
	for _, r := range " ~aZ09/é€Ω音👍\ufffd" {
		if !termsafe.IsSafe(r) {
			t.Errorf("IsSafe(%U) = false", r)
		}
	}
}

// Nothing to escape costs no allocation.
func TestStringNoAlloc(t *testing.T) {
	s := strconv.Itoa(54321) + "/unix:/tmp/café"
	if n := testing.AllocsPerRun(100, func() { _ = termsafe.String(s) }); n != 0 {
		t.Errorf("%v allocs, want 0", n)
	}
	buf := make([]byte, 0, 64)
	b := []byte("/x\x1b\u202e\x9b")
	if n := testing.AllocsPerRun(100, func() { buf = termsafe.Append(buf[:0], b) }); n != 0 {
		t.Errorf("Append: %v allocs, want 0", n)
	}
}

// FuzzAppend: whatever the input, the output is valid UTF-8 made only of
// safe runes, it is the input itself when that was safe, and unescaping
// gives the input back when the input has no backslash of its own (a
// backslash is not escaped: the output is for reading).
func FuzzAppend(f *testing.F) {
	for _, s := range []string{"", "/1/fader", "\x1b[2J", "\x9b", "\u009b", "\u202e", "\u200b\ufeff", "\U000e0041", "\xf4\x90\x80\x80", "\xed\xa0\x80", "a\tb\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := string(termsafe.Append(nil, s))
		if !utf8.ValidString(out) {
			t.Fatalf("Append(%q) = %q: not UTF-8", s, out)
		}
		for _, r := range out {
			if !termsafe.IsSafe(r) {
				t.Fatalf("Append(%q) = %q: has %U", s, out, r)
			}
		}
		if termsafe.IsSafeString(s) != (out == s) {
			t.Fatalf("IsSafeString(%q) = %v but Append gives %q", s, termsafe.IsSafeString(s), out)
		}
		if !strings.Contains(s, `\`) {
			if back := unescape(t, out); back != s {
				t.Fatalf("Append(%q) = %q unescapes to %q", s, out, back)
			}
		}
	})
}

// unescape reads the escapes Append writes.
func unescape(t *testing.T, s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' {
			b.WriteByte(s[i])
			continue
		}
		i++
		width := map[byte]int{'x': 2, 'u': 4, 'U': 8}[s[i]]
		if width == 0 {
			b.WriteByte(map[byte]byte{'t': '\t', 'n': '\n', 'r': '\r'}[s[i]])
			continue
		}
		v, err := strconv.ParseUint(s[i+1:i+1+width], 16, 32)
		if err != nil {
			t.Fatalf("bad escape in %q: %v", s, err)
		}
		if s[i] == 'x' {
			b.WriteByte(byte(v))
		} else {
			b.WriteRune(rune(v))
		}
		i += width
	}
	return b.String()
}

// IsSafe is unicode.IsPrint for every rune its table holds (the first two
// planes); above, it asks IsPrint itself.
func TestIsSafeIsIsPrint(t *testing.T) {
	blank := map[rune]bool{0x115f: true, 0x1160: true, 0x17b4: true, 0x17b5: true, 0x2800: true, 0x3164: true, 0xffa0: true}
	for r := rune(0); r <= 0x20000+0x100; r++ {
		if blank[r] {
			if termsafe.IsSafe(r) {
				t.Errorf("IsSafe(%U): a blank letter must be escaped", r)
			}
			continue
		}
		if termsafe.IsSafe(r) != unicode.IsPrint(r) {
			t.Fatalf("IsSafe(%U) = %v, unicode.IsPrint says %v", r, termsafe.IsSafe(r), unicode.IsPrint(r))
		}
	}
	for _, r := range []rune{-1, 0x2a6df, 0xe0001, 0xe0100, 0xf0000, unicode.MaxRune, unicode.MaxRune + 1} {
		if termsafe.IsSafe(r) != unicode.IsPrint(r) {
			t.Errorf("IsSafe(%U) = %v, unicode.IsPrint says %v", r, termsafe.IsSafe(r), unicode.IsPrint(r))
		}
	}
}
