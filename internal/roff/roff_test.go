package roff

import "testing"

func TestRoffEscape(t *testing.T) {
	tests := []struct{ in, want string }{
		{"--count N", `\-\-count N`},
		{`printf 'a\n'`, `printf \(aqa\(rsn\(aq`},
		{"`x` ~/.config a^b", `\(gax\(ga \(ti/.config a\(hab`},
		{"[ARG…] − é", `[ARG\[u2026]] \[u2212] \[u00E9]`},
		{"a\x1bb", `a\[u001B]b`},
		{"\xff", `\[uFFFD]`},
		{`say "hi"`, `say "hi"`},
	}
	for _, tt := range tests {
		if got := Escape(tt.in); got != tt.want {
			t.Errorf("Escape(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// Help text is plain text: paragraphs are filled, indented blocks kept,
// "- " items are bullets, cobra's "#### " lines are headings, and nothing
// in it is read as Markdown.
func TestPlainBlocks(t *testing.T) {
	help := "First [.frac](today) **x**\n.starts with a dot\n\n\tsource <(oscli completion bash)\n\t  indented more\n\n#### Linux:\n\n- one\n  more\n- two\n"
	var r roff
	for _, b := range PlainBlocks(help) {
		b.render(&r)
	}
	want := `.PP
First [.frac](today) **x**
\&.starts with a dot
.PP
.RS "4"
.EX
source <(oscli completion bash)
  indented more
.EE
.RE
.nh
.SS "Linux:"
.IP \(bu 2
one
more
.IP \(bu 2
two
`
	if got := r.b.String(); got != want {
		t.Errorf("plainBlocks rendered\n%s\nwant\n%s", got, want)
	}
}
