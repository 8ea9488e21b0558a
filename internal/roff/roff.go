// Package roff writes man(7) pages by hand: a page of sections of blocks
// (paragraphs, verbatim blocks, bullets, subheadings, definition lists),
// with every character roff or a UTF-8 terminal would change escaped, so
// the source is plain ASCII and a dash or quote copied from a page pastes
// as itself. PlainBlocks turns plain help text (what --help shows) into
// blocks. It knows nothing of commands or flags.
package roff

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Raw is roff source written as it is.
type Raw string

func (s Raw) render(r *roff) { r.b.WriteString(string(s)) }

// Escape escapes text for a roff text line or macro argument: every
// character that roff (or groff's UTF-8 output) would change stands for
// itself, and anything outside printable ASCII becomes a \[uXXXX] escape.
func Escape(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '\\':
			b.WriteString(`\(rs`)
		case r == '-':
			b.WriteString(`\-`) // a minus, so options copy and paste
		case r == '\'':
			b.WriteString(`\(aq`) // not a typographic quote
		case r == '`':
			b.WriteString(`\(ga`)
		case r == '~':
			b.WriteString(`\(ti`)
		case r == '^':
			b.WriteString(`\(ha`)
		case r == '\t':
			b.WriteString("    ")
		case r == utf8.RuneError:
			b.WriteString(`\[uFFFD]`)
		case r < ' ' || r > '~':
			fmt.Fprintf(&b, `\[u%04X]`, r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// Bold and Italic escape s and set it in Bold or italics, for text lines.
func Bold(s string) string   { return `\fB` + Escape(s) + `\fR` }
func Italic(s string) string { return `\fI` + Escape(s) + `\fR` }

// roff collects a page's source.
type roff struct{ b strings.Builder }

// line writes one line of already escaped roff text; a line that would
// start with a control character gets a zero-width \& in front.
func (r *roff) line(s string) {
	if strings.HasPrefix(s, ".") || strings.HasPrefix(s, "'") {
		r.b.WriteString(`\&`)
	}
	r.b.WriteString(s)
	r.b.WriteByte('\n')
}

// text writes plain text, one roff line per line of s, escaped and
// without leading blanks (which would break a filled line).
func (r *roff) text(s string) {
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			r.line(Escape(l))
		}
	}
}

// macro writes a request such as .SH or .TP; args are escaped and quoted.
func (r *roff) macro(name string, args ...string) {
	r.b.WriteString("." + name)
	for _, a := range args {
		r.b.WriteString(` "` + strings.ReplaceAll(Escape(a), `"`, `\(dq`) + `"`)
	}
	r.b.WriteByte('\n')
}

func (r *roff) section(title string) { r.macro("SH", title) }

// A Block is one block of a section's body.
type Block interface{ render(r *roff) }

// Para is a filled paragraph.
type Para string

func (p Para) render(r *roff) { r.macro("PP"); r.text(string(p)) }

// Verbatim is a block shown as written (examples, file contents).
type Verbatim string

func (v Verbatim) render(r *roff) {
	r.macro("PP")
	r.macro("RS", "4")
	r.macro("EX")
	for _, l := range strings.Split(strings.TrimRight(Dedent(string(v)), "\n "), "\n") {
		if l = strings.TrimRight(l, " \t"); l == "" {
			r.line(`\&`)
		} else {
			r.line(Escape(l))
		}
	}
	r.macro("EE")
	r.macro("RE")
	r.b.WriteString(".nh\n") // groff's .EE turns hyphenation back on
}

// Bullets is a list of filled items.
type Bullets []string

func (l Bullets) render(r *roff) {
	for _, item := range l {
		r.b.WriteString(".IP \\(bu 2\n")
		r.text(item)
	}
}

// Subhead is a subsection heading.
type Subhead string

func (h Subhead) render(r *roff) { r.macro("SS", string(h)) }

// Def is one entry of a definition list: a term (roff, already escaped:
// built with Bold and Italic) and its text, paragraphs separated by blank
// lines.
type Def struct{ Term, Text string }

// Defs is a definition list.
type Defs []Def

func (d Defs) render(r *roff) {
	for _, e := range d {
		r.macro("TP")
		r.line(e.Term)
		for i, p := range strings.Split(e.Text, "\n\n") {
			if i > 0 {
				r.macro("IP")
			}
			r.text(p)
		}
	}
}

// DL builds a definition list from term, text pairs, each term in Bold.
func DL(pairs ...string) Defs {
	d := make(Defs, 0, len(pairs)/2)
	for i := 0; i+1 < len(pairs); i += 2 {
		d = append(d, Def{Bold(pairs[i]), pairs[i+1]})
	}
	return d
}

// Dedent removes the indentation all non-blank lines share.
func Dedent(s string) string {
	lines := strings.Split(s, "\n")
	prefix := ""
	first := true
	for _, l := range lines {
		if strings.TrimSpace(l) == "" {
			continue
		}
		ind := l[:len(l)-len(strings.TrimLeft(l, " \t"))]
		if first {
			prefix, first = ind, false
			continue
		}
		for !strings.HasPrefix(ind, prefix) {
			prefix = prefix[:len(prefix)-1]
		}
	}
	for i, l := range lines {
		lines[i] = strings.TrimPrefix(l, prefix)
	}
	return strings.Join(lines, "\n")
}

// PlainBlocks reads help text as --help shows it: blank lines separate
// blocks; a block indented by a tab or four spaces is Verbatim; a block of
// "- " lines is a bullet list; a line of '#' and a title (cobra's
// completion help) is a heading; anything else is a paragraph.
func PlainBlocks(text string) []Block {
	var blocks []Block
	for _, chunk := range splitBlocks(text) {
		lines := strings.Split(chunk, "\n")
		switch {
		case allLines(lines, func(l string) bool { return strings.HasPrefix(l, "\t") || strings.HasPrefix(l, "    ") }):
			blocks = append(blocks, Verbatim(chunk))
		case len(lines) == 1 && strings.HasPrefix(chunk, "#"):
			blocks = append(blocks, Subhead(strings.TrimSpace(strings.TrimLeft(chunk, "#"))))
		case strings.HasPrefix(chunk, "- "):
			var items Bullets
			for _, l := range lines {
				if rest, ok := strings.CutPrefix(l, "- "); ok {
					items = append(items, rest)
				} else if len(items) > 0 {
					items[len(items)-1] += "\n" + l
				}
			}
			blocks = append(blocks, items)
		default:
			blocks = append(blocks, Para(chunk))
		}
	}
	return blocks
}

// splitBlocks splits text at blank lines.
func splitBlocks(text string) []string {
	var out []string
	var cur []string
	flush := func() {
		if len(cur) > 0 {
			out = append(out, strings.Join(cur, "\n"))
			cur = nil
		}
	}
	for _, l := range strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n") {
		if strings.TrimSpace(l) == "" {
			flush()
			continue
		}
		cur = append(cur, strings.TrimRight(l, " \t"))
	}
	flush()
	return out
}

func allLines(lines []string, ok func(string) bool) bool {
	for _, l := range lines {
		if !ok(l) {
			return false
		}
	}
	return true
}

// Section is a section of a page.
type Section struct {
	Title  string
	Blocks []Block
}

// Page is a whole page.
type Page struct {
	Name, Section, Date string // "oscli-send", "1", "2026-11-21"
	Summary             string // the NAME line's text after the dash
	Sections            []Section
}

// render writes the page's source.
func (p *Page) Render() []byte {
	var r roff
	r.b.WriteString(".\\\" Generated by 'oscli gen-docs .'; do not edit.\n")
	r.macro("TH", strings.ToUpper(p.Name), p.Section, p.Date, "oscli", "oscli manual")
	r.b.WriteString(".nh\n.ad l\n") // no hyphenation, ragged right: options stay whole
	r.section("NAME")
	r.line(Escape(p.Name) + ` \- ` + Escape(p.Summary))
	for _, s := range p.Sections {
		if len(s.Blocks) == 0 {
			continue
		}
		r.section(s.Title)
		for _, b := range s.Blocks {
			b.render(&r)
		}
	}
	return []byte(r.b.String())
}

// Lines is a block of lines of roff source (already escaped) shown as
// they are, unfilled: a synopsis.
func Lines(lines ...string) Raw {
	var r roff
	r.b.WriteString(".nf\n")
	for _, l := range lines {
		r.line(l)
	}
	r.b.WriteString(".fi\n")
	return Raw(r.b.String())
}
