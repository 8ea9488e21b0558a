// Package termsafe escapes text from the network or the filesystem before
// it reaches a terminal: message strings, sender names (Unix socket paths,
// abstract names, IPv6 zones, which are interface names) and the error
// lines that quote them. One function decides what is shown as itself and
// how the rest is written, so every output agrees.
//
// A rune is shown as itself when it is printable (unicode.IsPrint: a
// letter, mark, number, punctuation, symbol or the ASCII space). Every
// other one is escaped: C0 controls and DEL (ESC starts terminal escape
// sequences), C1 controls (U+009B is a one-rune CSI), bidi controls
// (U+202A–202E, U+2066–2069, U+200E, U+200F, U+061C) and zero-width
// characters (U+200B–200D, U+2060, U+FEFF), which make text read other than
// it is, and the rest of what cannot be seen: other format characters
// (soft hyphen, tag characters), spaces other than U+0020, line and
// paragraph separators, private-use, and runes unassigned in Go's Unicode
// tables (a newer terminal may know them as something invisible). Bytes
// that are not UTF-8, such as a raw 0x9b (CSI on terminals that read
// Latin-1), are escaped byte by byte.
//
// The escapes are those of bash's $'…' quoting, which oscli's text syntax
// reads: \t \n \r, \xHH for other C0 bytes, DEL and bytes that are not
// UTF-8, \uHHHH and \UHHHHHHHH for runes. A backslash is not escaped: the
// result is for reading, not for parsing back (package osc's AppendWord
// quotes words so that they parse back, and uses this package inside $'…').
//
// It does not quote, colour or truncate, and it knows nothing of JSON
// (package format writes JSON's \u escapes for the same runes).
package termsafe

import (
	"sync"
	"sync/atomic"
	"unicode"
	"unicode/utf8"
)

// IsSafe reports whether r can be written to a terminal as itself. It is
// unicode.IsPrint less the blank letters (see blankLetters), named for
// why oscli asks, and faster for the runes text is mostly made of.
func IsSafe(r rune) bool {
	if u := uint32(r); u < tableRunes {
		if t := printable.Load(); t != nil {
			return t[u>>6]>>(u&63)&1 != 0
		}
	}
	return isSafeSlow(r)
}

func isSafeSlow(r rune) bool {
	if uint32(r) < tableRunes {
		return buildTable()[r>>6]&(1<<(r&63)) != 0
	}
	return unicode.IsPrint(r) && !isBlankLetter(r)
}

// blankLetters are letters (so unicode.IsPrint holds) that terminals draw
// as nothing or as a space: the Hangul fillers, the Braille blank and the
// Khmer inherent vowels. A name or string made of them looks empty or like
// another, so they are escaped like the invisible format characters.
var blankLetters = [...]rune{0x115f, 0x1160, 0x17b4, 0x17b5, 0x2800, 0x3164, 0xffa0}

func isBlankLetter(r rune) bool {
	for _, b := range blankLetters {
		if r == b {
			return true
		}
	}
	return false
}

// tableRunes is how many runes the printable table covers: the first two
// planes, where nearly all text and emoji are. unicode.IsPrint searches five
// range tables in turn (letters, marks, numbers, punctuation, symbols), so
// an emoji costs it ten times a table lookup.
const tableRunes = 0x20000

// printable has a bit per rune below tableRunes, set when unicode.IsPrint
// holds. It is made from the tables IsPrint reads on first use (0.1 to
// 0.2 ms), so a command that prints no such rune does not pay for it.
var (
	printable  atomic.Pointer[[tableRunes / 64]uint64]
	buildTable = sync.OnceValue(func() *[tableRunes / 64]uint64 {
		t := new([tableRunes / 64]uint64)
		set := func(c uint32) { t[c>>6] |= 1 << (c & 63) }
		set(' ') // IsPrint's one space; the tables hold no spaces
		for _, tab := range unicode.PrintRanges {
			for _, r := range tab.R16 {
				for c := uint32(r.Lo); c <= uint32(r.Hi); c += uint32(r.Stride) {
					set(c)
				}
			}
			for _, r := range tab.R32 {
				for c := r.Lo; c <= r.Hi && c < tableRunes; c += r.Stride {
					set(c)
				}
			}
		}
		for _, c := range blankLetters {
			t[c>>6] &^= 1 << (c & 63)
		}
		printable.Store(t)
		return t
	})
)

// Append appends s with every rune that is not IsSafe, and every byte that
// is not part of valid UTF-8, escaped. Text with nothing to escape is
// appended as it is, a run at a time.
func Append[S string | []byte](dst []byte, s S) []byte {
	run := 0 // start of what is not yet appended
	for i := 0; i < len(s); {
		c := s[i]
		if ' ' <= c && c < 0x7f {
			i++
			continue
		}
		r, n := rune(c), 1
		if c >= utf8.RuneSelf {
			r, n = decodeRune(s[i:])
			if n > 1 && IsSafe(r) {
				i += n
				continue
			}
		}
		dst = append(dst, s[run:i]...)
		dst = appendEscape(dst, c, r, n)
		i += n
		run = i
	}
	return append(dst, s[run:]...)
}

// String returns s escaped as Append does; s itself when nothing needs
// escaping, without allocating.
func String(s string) string {
	if IsSafeString(s) {
		return s
	}
	return string(Append(make([]byte, 0, len(s)+8), s))
}

// IsSafeString reports whether Append would leave s as it is.
func IsSafeString[S string | []byte](s S) bool {
	for i := 0; i < len(s); {
		c := s[i]
		if ' ' <= c && c < 0x7f {
			i++
			continue
		}
		if c < utf8.RuneSelf {
			return false
		}
		r, n := decodeRune(s[i:])
		if n == 1 || !IsSafe(r) {
			return false
		}
		i += n
	}
	return true
}

// decodeRune decodes the first rune of s (not ASCII); n is 1 for a byte
// that does not start valid UTF-8. The conversion of at most four bytes
// does not allocate.
func decodeRune[S string | []byte](s S) (rune, int) {
	return utf8.DecodeRuneInString(string(s[:min(utf8.UTFMax, len(s))]))
}

// appendEscape appends the escape for the rune r of n bytes starting with
// byte c; n is 1 for an ASCII byte or a byte that is not UTF-8.
func appendEscape(dst []byte, c byte, r rune, n int) []byte {
	if n == 1 {
		switch c {
		case '\t':
			return append(dst, '\\', 't')
		case '\n':
			return append(dst, '\\', 'n')
		case '\r':
			return append(dst, '\\', 'r')
		}
		return appendHex(append(dst, '\\', 'x'), uint32(c), 2)
	}
	if r <= 0xffff {
		return appendHex(append(dst, '\\', 'u'), uint32(r), 4)
	}
	return appendHex(append(dst, '\\', 'U'), uint32(r), 8)
}

func appendHex(dst []byte, v uint32, digits int) []byte {
	const hex = "0123456789abcdef"
	for shift := 4 * (digits - 1); shift >= 0; shift -= 4 {
		dst = append(dst, hex[v>>shift&0xf])
	}
	return dst
}
