package match_test

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/oscli/oscli/internal/match"
)

func TestMatch(t *testing.T) {
	tests := []struct {
		pattern string
		yes     []string
		no      []string
	}{
		{"/1/fader", []string{"/1/fader"}, []string{"/1/fader2", "/1/fade", "/2/fader", "/1/fader/x", "1/fader", ""}},
		{"/1/fader?", []string{"/1/fader1", "/1/fadere"}, []string{"/1/fader", "/1/fader12", "/1/fader/"}},
		{"/1/*", []string{"/1/fader", "/1/", "/1/x"}, []string{"/1", "/1/a/b", "/2/a"}},
		{"/*/fader", []string{"/1/fader", "//fader"}, []string{"/1/2/fader"}},
		{"/a*b*c", []string{"/abc", "/aXbYc", "/abbbc", "/acbc"}, []string{"/ab", "/abcd", "/a/bc"}},
		{"/ch/[0-9]/level", []string{"/ch/0/level", "/ch/7/level"}, []string{"/ch/a/level", "/ch/10/level"}},
		{"/ch/[!0-9]", []string{"/ch/a", "/ch/-"}, []string{"/ch/5", "/ch/", "/ch/ab"}},
		{"/x/[abc]", []string{"/x/a", "/x/c"}, []string{"/x/d", "/x/ab"}},
		{"/x/[a-]", []string{"/x/a", "/x/-"}, []string{"/x/b"}},
		{"/x/[-a]", []string{"/x/a", "/x/-"}, []string{"/x/b"}},
		{"/x/[a!]", []string{"/x/a", "/x/!"}, []string{"/x/b"}},
		{"/x/[!!]", []string{"/x/a"}, []string{"/x/!"}},
		{"/x/[é-ë]", []string{"/x/é", "/x/ê"}, []string{"/x/e", "/x/ì"}},
		{"/x/?", []string{"/x/é"}, []string{"/x/éé"}},
		{"/{foo,bar}/x", []string{"/foo/x", "/bar/x"}, []string{"/baz/x", "/foobar/x", "/fo/x"}},
		{"/{a,ab}c", []string{"/ac", "/abc"}, []string{"/abbc"}},
		{"/x{,y}", []string{"/x", "/xy"}, []string{"/xyy"}},
		{"/mix/*/gain{1,2}", []string{"/mix/a/gain1", "/mix//gain2"}, []string{"/mix/a/gain3", "/mix/a/b/gain1"}},
		// OSC 1.1: "//" spans zero or more levels.
		{"//fader", []string{"/fader", "/1/fader", "/a/b/c/fader"}, []string{"/fader/x", "/1/fader2"}},
		{"/mix//gain", []string{"/mix/gain", "/mix/1/gain", "/mix/1/2/gain"}, []string{"/gain", "/mixer/gain", "/mix/gain/x"}},
		{"//*/level", []string{"/ch/level", "/a/b/level"}, []string{"/level"}},
		{"/a//", []string{"/a/", "/a/b/"}, []string{"/a", "/a/b"}},
		{"/", []string{"/"}, []string{"/a", ""}},
		// Regular-expression characters are literal.
		{"/a.b+c(d)$", []string{"/a.b+c(d)$"}, []string{"/aXb+c(d)$", "/a.bbc(d)"}},
		{"/a\\b", []string{"/a\\b"}, []string{"/ab"}},
	}
	for _, tt := range tests {
		t.Run(tt.pattern, func(t *testing.T) {
			p, err := match.Compile(tt.pattern)
			if err != nil {
				t.Fatal(err)
			}
			if p.String() != tt.pattern {
				t.Errorf("String() = %q", p.String())
			}
			for _, a := range tt.yes {
				if !p.Match(a) {
					t.Errorf("%q should match %q", tt.pattern, a)
				}
				if !refMatch(tt.pattern, a) {
					t.Errorf("reference disagrees: %q should match %q", tt.pattern, a)
				}
			}
			for _, a := range tt.no {
				if p.Match(a) {
					t.Errorf("%q should not match %q", tt.pattern, a)
				}
				if refMatch(tt.pattern, a) {
					t.Errorf("reference disagrees: %q should not match %q", tt.pattern, a)
				}
			}
		})
	}
}

func TestSyntaxErrors(t *testing.T) {
	tests := []struct {
		pattern string
		off     int
		msg     string
	}{
		{"", 0, "must start with '/'"},
		{"fader", 0, "must start with '/'"},
		{"/a/[bc", 3, "'[' without ']'"},
		{"/a/[]", 3, "empty brackets"},
		{"/a/[!]", 3, "empty brackets"},
		{"/a/[z-a]", 4, "range out of order"},
		{"/a/[a[b]", 5, "'[' inside brackets"},
		{"/a/{b,c", 3, "'{' without '}'"},
		{"/a/{b/c}", 3, "'{' without '}'"},
		{"/a/{b*}", 5, "'*' inside braces"},
		{"/a/b]", 4, "unmatched ']'"},
		{"/a}", 2, "unmatched '}'"},
	}
	for _, tt := range tests {
		t.Run(tt.pattern, func(t *testing.T) {
			_, err := match.Compile(tt.pattern)
			var se *match.SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("err = %v, want *SyntaxError", err)
			}
			if se.Off != tt.off || !strings.Contains(se.Msg, tt.msg) {
				t.Errorf("got offset %d %q, want %d %q", se.Off, se.Msg, tt.off, tt.msg)
			}
			if !strings.Contains(err.Error(), tt.pattern) {
				t.Errorf("message %q does not name the pattern", err)
			}
		})
	}
}

func TestMatchAllocs(t *testing.T) {
	if testing.Short() {
		t.Skip("alloc counts are checked in full runs")
	}
	p := match.MustCompile("/mix//ch/[0-9]*/{gain,level}")
	n := testing.AllocsPerRun(1000, func() {
		p.Match("/mix/bus/1/ch/12/level")
		p.Match("/mix/bus/1/ch/x/level")
	})
	if n != 0 {
		t.Errorf("%v allocs per match, want 0", n)
	}
}

func BenchmarkMatch(b *testing.B) {
	for _, bc := range []struct{ name, pattern, addr string }{
		{"literal", "/1/fader", "/1/fader"},
		{"wildcards", "/ch/[0-9]*/{gain,level}", "/ch/12/level"},
		{"anylevels", "//level", "/mix/bus/1/ch/12/level"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			p := match.MustCompile(bc.pattern)
			b.ReportAllocs()
			for b.Loop() {
				if !p.Match(bc.addr) {
					b.Fatal("no match")
				}
			}
		})
	}
}

// refMatch is a tiny recursive matcher written straight from the OSC 1.0
// and 1.1 rules, working on the pattern text rune by rune: the
// differential reference for FuzzMatch. Only call it on valid patterns.
func refMatch(p, a string) bool {
	if p == "" {
		return a == ""
	}
	if strings.HasPrefix(p, "//") {
		// The first '/' is a separator like any other; then skip whole parts.
		if a == "" || a[0] != '/' {
			return false
		}
		for j := 0; j < len(a); j++ {
			if a[j] == '/' && refMatch(p[1:], a[j:]) {
				return true
			}
		}
		return false
	}
	pr, _ := utf8.DecodeRuneInString(p)
	ar, an := utf8.DecodeRuneInString(a)
	switch pr {
	case '*':
		for strings.HasPrefix(p, "**") {
			p = p[1:]
		}
		for k := 0; ; {
			if refMatch(p[1:], a[k:]) {
				return true
			}
			if k == len(a) || a[k] == '/' {
				return false
			}
			_, n := utf8.DecodeRuneInString(a[k:])
			k += n
		}
	case '?':
		return a != "" && ar != '/' && refMatch(p[1:], a[an:])
	case '[':
		end := strings.IndexByte(p[1:], ']') + 1
		if end == 1 { // "[]...]" cannot happen in a valid pattern
			return false
		}
		if a == "" || ar == '/' {
			return false
		}
		set := []rune(p[1:end])
		neg := false
		if set[0] == '!' {
			neg, set = true, set[1:]
		}
		in := false
		for i := 0; i < len(set); i++ {
			if i+2 < len(set) && set[i+1] == '-' {
				in = in || set[i] <= ar && ar <= set[i+2]
				i += 2
				continue
			}
			in = in || set[i] == ar
		}
		return in != neg && refMatch(p[end+1:], a[an:])
	case '{':
		end := strings.IndexByte(p, '}')
		for _, alt := range strings.Split(p[1:end], ",") {
			if strings.HasPrefix(a, alt) && refMatch(p[end+1:], a[len(alt):]) {
				return true
			}
		}
		return false
	}
	// Literals compare bytes, so invalid UTF-8 matches itself.
	return a != "" && p[0] == a[0] && refMatch(p[1:], a[1:])
}

func FuzzMatch(f *testing.F) {
	seeds := [][2]string{
		{"/1/fader", "/1/fader"}, {"/a*b*c", "/aXbYc"}, {"//fader", "/a/b/fader"},
		{"/ch/[!0-9]", "/ch/a"}, {"/{foo,bar}/x", "/bar/x"}, {"/x/[é-ë]?", "/x/éé"},
		{"/a//", "/a/b/"}, {"/mix/*/gain{1,2}", "/mix//gain2"}, {"/[a-]*", "/-x"},
	}
	for _, s := range seeds {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, pattern, addr string) {
		if len(pattern) > 24 || len(addr) > 24 {
			return // keep the exponential reference affordable
		}
		p, err := match.Compile(pattern)
		if err != nil {
			var se *match.SyntaxError
			if !errors.As(err, &se) || se.Off < 0 || se.Off > len(pattern) {
				t.Fatalf("bad error %v", err)
			}
			return
		}
		if got, want := p.Match(addr), refMatch(pattern, addr); got != want {
			t.Fatalf("Match(%q, %q) = %v, reference says %v", pattern, addr, got, want)
		}
	})
}

// Without memoisation this takes longer than the test timeout.
func TestPathologicalPatternIsPolynomial(t *testing.T) {
	p := match.MustCompile("/" + strings.Repeat("*a", 30) + "b")
	if p.Match("/" + strings.Repeat("a", 200)) {
		t.Fatal("matched")
	}
	p = match.MustCompile("/" + strings.Repeat("{a,aa}", 40) + "b")
	if p.Match("/" + strings.Repeat("a", 70)) {
		t.Fatal("matched")
	}
}
