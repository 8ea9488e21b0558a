// Package match compiles OSC address patterns and matches them against
// addresses, as OSC 1.0 "OSC Message Dispatching and Pattern Matching"
// defines, plus OSC 1.1's "//" (any number of levels).
//
// A pattern is matched against a whole address, anchored at both ends, part
// by part ('/' separates parts and nothing but "//" crosses one):
//
//	?        any single character
//	*        any sequence of zero or more characters
//	[abc]    any of the listed characters; [a-z] a range; [!a-z] negated;
//	         a '-' at the end and a '!' not first are literal
//	{foo,bar} any of the comma-separated strings
//	//       zero or more whole parts (OSC 1.1), e.g. //fader or /mix//gain
//
// Every other character is literal. Characters are UTF-8 runes. The package
// does not use regular expressions; Match does not allocate.
package match

import (
	"strconv"
	"unicode/utf8"
)

// Pattern is a compiled address pattern. It is safe for concurrent use.
type Pattern struct {
	src   string
	parts []part
}

// part is one '/'-separated piece of a pattern; a nil tokens slice with
// anyLevels set stands for the "//" operator.
type part struct {
	anyLevels bool
	toks      []token
}

type tokKind uint8

const (
	tokLiteral tokKind = iota // text
	tokOne                    // ?
	tokStar                   // *
	tokClass                  // [...]: ranges, negate
	tokAlt                    // {...}: alts
)

type token struct {
	kind   tokKind
	text   string
	negate bool
	ranges []runeRange
	alts   []string
}

type runeRange struct{ lo, hi rune }

// SyntaxError reports a malformed pattern and the byte offset of the problem.
type SyntaxError struct {
	Pattern string
	Off     int
	Msg     string
}

func (e *SyntaxError) Error() string {
	return "bad pattern " + strconv.Quote(e.Pattern) + " at offset " + strconv.Itoa(e.Off) + ": " + e.Msg
}

// String returns the pattern as it was compiled.
func (p *Pattern) String() string { return p.src }

// MustCompile is Compile that panics on error; for tests and constants.
func MustCompile(s string) *Pattern {
	p, err := Compile(s)
	if err != nil {
		panic(err)
	}
	return p
}

// Compile parses an address pattern. It must start with '/'.
func Compile(s string) (*Pattern, error) {
	if s == "" || s[0] != '/' {
		return nil, &SyntaxError{s, 0, "a pattern must start with '/'"}
	}
	p := &Pattern{src: s}
	start := 1
	for {
		end := start
		for end < len(s) && s[end] != '/' {
			end++
		}
		if end == start && end < len(s) {
			// An empty part followed by '/': the "//" operator. Repeats
			// collapse; they mean nothing more.
			if n := len(p.parts); n == 0 || !p.parts[n-1].anyLevels {
				p.parts = append(p.parts, part{anyLevels: true})
			}
		} else {
			toks, err := compilePart(s, start, end)
			if err != nil {
				return nil, err
			}
			p.parts = append(p.parts, part{toks: toks})
		}
		if end == len(s) {
			return p, nil
		}
		start = end + 1
	}
}

func compilePart(s string, start, end int) ([]token, error) {
	var toks []token
	lit := start
	flush := func(i int) {
		if i > lit {
			toks = append(toks, token{kind: tokLiteral, text: s[lit:i]})
		}
	}
	for i := start; i < end; {
		switch s[i] {
		case '?':
			flush(i)
			toks = append(toks, token{kind: tokOne})
			i++
		case '*':
			flush(i)
			if n := len(toks); n == 0 || toks[n-1].kind != tokStar {
				toks = append(toks, token{kind: tokStar})
			}
			i++
		case '[':
			flush(i)
			t, next, err := compileClass(s, i, end)
			if err != nil {
				return nil, err
			}
			toks = append(toks, t)
			i = next
		case '{':
			flush(i)
			t, next, err := compileAlt(s, i, end)
			if err != nil {
				return nil, err
			}
			toks = append(toks, t)
			i = next
		case ']', '}':
			return nil, &SyntaxError{s, i, "unmatched " + strconv.QuoteRune(rune(s[i]))}
		default:
			i++
			continue
		}
		lit = i
	}
	flush(end)
	return toks, nil
}

// compileClass parses "[...]" starting at s[i] == '['.
func compileClass(s string, i, end int) (token, int, error) {
	open := i
	t := token{kind: tokClass}
	i++
	if i < end && s[i] == '!' {
		t.negate = true
		i++
	}
	first := i
	for i < end && s[i] != ']' {
		lo, n := utf8.DecodeRuneInString(s[i:end])
		if lo == '[' {
			return t, 0, &SyntaxError{s, i, "'[' inside brackets"}
		}
		i += n
		// "a-z" is a range unless the '-' is the last character.
		if i+1 < end && s[i] == '-' && s[i+1] != ']' {
			hi, m := utf8.DecodeRuneInString(s[i+1 : end])
			if hi < lo {
				return t, 0, &SyntaxError{s, i - n, "range out of order"}
			}
			t.ranges = append(t.ranges, runeRange{lo, hi})
			i += 1 + m
			continue
		}
		t.ranges = append(t.ranges, runeRange{lo, lo})
	}
	if i >= end {
		return t, 0, &SyntaxError{s, open, "'[' without ']'"}
	}
	if i == first {
		return t, 0, &SyntaxError{s, open, "empty brackets"}
	}
	return t, i + 1, nil
}

// compileAlt parses "{a,b,...}" starting at s[i] == '{'.
func compileAlt(s string, i, end int) (token, int, error) {
	open := i
	t := token{kind: tokAlt}
	i++
	start := i
	for ; i < end; i++ {
		switch s[i] {
		case ',':
			t.alts = append(t.alts, s[start:i])
			start = i + 1
		case '}':
			t.alts = append(t.alts, s[start:i])
			return t, i + 1, nil
		case '{', '[', ']', '*', '?':
			return t, 0, &SyntaxError{s, i, strconv.QuoteRune(rune(s[i])) + " inside braces"}
		}
	}
	return t, 0, &SyntaxError{s, open, "'{' without '}'"}
}

// Match reports whether the address matches the pattern. The address is
// taken literally: pattern characters in it are just characters.
func (p *Pattern) Match(addr string) bool {
	if addr == "" || addr[0] != '/' {
		return false
	}
	return matchParts(p.parts, addr[1:])
}

// matchParts matches parts against rest, the address after a '/'.
func matchParts(parts []part, rest string) bool {
	for len(parts) > 0 {
		pt := parts[0]
		if pt.anyLevels {
			parts = parts[1:]
			if len(parts) == 0 {
				// A trailing "//" (only reachable as "/x//"): handled by
				// Compile as anyLevels followed by an empty literal part.
				return true
			}
			for {
				if matchParts(parts, rest) {
					return true
				}
				i := indexSlash(rest)
				if i < 0 {
					return false
				}
				rest = rest[i+1:]
			}
		}
		i := indexSlash(rest)
		seg := rest
		if i >= 0 {
			seg = rest[:i]
		}
		if !matchToks(pt.toks, seg) {
			return false
		}
		parts = parts[1:]
		if i < 0 {
			return len(parts) == 0
		}
		if len(parts) == 0 {
			return false
		}
		rest = rest[i+1:]
	}
	return false
}

func indexSlash(s string) int {
	for i := 0; i < len(s); i++ {
		if s[i] == '/' {
			return i
		}
	}
	return -1
}

// memo records (token, position) pairs already known not to match, so that
// patterns like "*a*a*a*b" take polynomial rather than exponential time.
// Small cases (the usual ones) use a bitmap on the stack.
type memo struct {
	width int // positions per token: len(segment)+1
	small [64]uint64
	large []uint64
}

func (m *memo) bit(i, j int) (word *uint64, mask uint64) {
	k := i*m.width + j
	if m.large != nil {
		return &m.large[k/64], 1 << (k % 64)
	}
	return &m.small[k/64], 1 << (k % 64)
}

// matchToks matches one part's tokens against one address part (no '/').
func matchToks(toks []token, s string) bool {
	var m memo
	m.width = len(s) + 1
	if n := (len(toks) + 1) * m.width; n > len(m.small)*64 {
		m.large = make([]uint64, (n+63)/64)
	}
	return matchFrom(toks, 0, s, 0, &m)
}

func matchFrom(toks []token, i int, s string, j int, m *memo) bool {
	for ; i < len(toks); i++ {
		switch t := &toks[i]; t.kind {
		case tokLiteral:
			if len(s)-j < len(t.text) || s[j:j+len(t.text)] != t.text {
				return false
			}
			j += len(t.text)
		case tokOne:
			if j == len(s) {
				return false
			}
			_, n := utf8.DecodeRuneInString(s[j:])
			j += n
		case tokClass:
			if j == len(s) {
				return false
			}
			r, n := utf8.DecodeRuneInString(s[j:])
			if t.inClass(r) == t.negate {
				return false
			}
			j += n
		case tokAlt, tokStar:
			return matchBranch(toks, i, s, j, m)
		}
	}
	return j == len(s)
}

// matchBranch tries every way the star or alternation at toks[i] can
// consume input from s[j:], remembering failures.
func matchBranch(toks []token, i int, s string, j int, m *memo) bool {
	word, mask := m.bit(i, j)
	if *word&mask != 0 {
		return false
	}
	t := &toks[i]
	if t.kind == tokAlt {
		for _, alt := range t.alts {
			if len(s)-j >= len(alt) && s[j:j+len(alt)] == alt && matchFrom(toks, i+1, s, j+len(alt), m) {
				return true
			}
		}
	} else {
		if i+1 == len(toks) {
			return true
		}
		for k := j; ; {
			if matchFrom(toks, i+1, s, k, m) {
				return true
			}
			if k == len(s) {
				break
			}
			_, n := utf8.DecodeRuneInString(s[k:])
			k += n
		}
	}
	*word |= mask
	return false
}

func (t *token) inClass(r rune) bool {
	for _, rg := range t.ranges {
		if rg.lo <= r && r <= rg.hi {
			return true
		}
	}
	return false
}
