package cmd

// Man pages, written as man(7) roff by hand rather than through
// cobra/doc: cobra/doc reads help text as Markdown, so plain text such as
// "HH:MM:SS[.frac] (today, local time)" came out as a link, every page
// got the root's title, and a page could not have EXIT STATUS or
// ENVIRONMENT sections. Help text here is plain text (what --help shows):
// paragraphs, indented blocks shown verbatim, "- " bullets and, for
// cobra's completion help, "#### " headings. Every character roff or a
// UTF-8 terminal would change is escaped, so the page source is plain
// ASCII and a dash or quote copied from a page pastes as itself.

import (
	"fmt"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/oscli/oscli/internal/config"
)

// roffEscape escapes text for a roff text line or macro argument: every
// character that roff (or groff's UTF-8 output) would change stands for
// itself, and anything outside printable ASCII becomes a \[uXXXX] escape.
func roffEscape(s string) string {
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

// bold and ital escape s and set it in bold or italics, for text lines.
func bold(s string) string { return `\fB` + roffEscape(s) + `\fR` }
func ital(s string) string { return `\fI` + roffEscape(s) + `\fR` }

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
			r.line(roffEscape(l))
		}
	}
}

// macro writes a request such as .SH or .TP; args are escaped and quoted.
func (r *roff) macro(name string, args ...string) {
	r.b.WriteString("." + name)
	for _, a := range args {
		r.b.WriteString(` "` + strings.ReplaceAll(roffEscape(a), `"`, `\(dq`) + `"`)
	}
	r.b.WriteByte('\n')
}

func (r *roff) section(title string) { r.macro("SH", title) }

// A manBlock is one block of a section's body.
type manBlock interface{ render(r *roff) }

// para is a filled paragraph.
type para string

func (p para) render(r *roff) { r.macro("PP"); r.text(string(p)) }

// verbatim is a block shown as written (examples, file contents).
type verbatim string

func (v verbatim) render(r *roff) {
	r.macro("PP")
	r.macro("RS", "4")
	r.macro("EX")
	for _, l := range strings.Split(strings.TrimRight(dedent(string(v)), "\n "), "\n") {
		if l = strings.TrimRight(l, " \t"); l == "" {
			r.line(`\&`)
		} else {
			r.line(roffEscape(l))
		}
	}
	r.macro("EE")
	r.macro("RE")
	r.b.WriteString(".nh\n") // groff's .EE turns hyphenation back on
}

// bullets is a list of filled items.
type bullets []string

func (l bullets) render(r *roff) {
	for _, item := range l {
		r.b.WriteString(".IP \\(bu 2\n")
		r.text(item)
	}
}

// subhead is a subsection heading.
type subhead string

func (h subhead) render(r *roff) { r.macro("SS", string(h)) }

// def is one entry of a definition list: a term (roff, already escaped:
// built with bold and ital) and its text, paragraphs separated by blank
// lines.
type def struct{ term, text string }

// defs is a definition list.
type defs []def

func (d defs) render(r *roff) {
	for _, e := range d {
		r.macro("TP")
		r.line(e.term)
		for i, p := range strings.Split(e.text, "\n\n") {
			if i > 0 {
				r.macro("IP")
			}
			r.text(p)
		}
	}
}

// dl builds a definition list from term, text pairs, each term in bold.
func dl(pairs ...string) defs {
	d := make(defs, 0, len(pairs)/2)
	for i := 0; i+1 < len(pairs); i += 2 {
		d = append(d, def{bold(pairs[i]), pairs[i+1]})
	}
	return d
}

// dedent removes the indentation all non-blank lines share.
func dedent(s string) string {
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

// plainBlocks reads help text as --help shows it: blank lines separate
// blocks; a block indented by a tab or four spaces is verbatim; a block of
// "- " lines is a bullet list; a line of '#' and a title (cobra's
// completion help) is a heading; anything else is a paragraph.
func plainBlocks(text string) []manBlock {
	var blocks []manBlock
	for _, chunk := range splitBlocks(text) {
		lines := strings.Split(chunk, "\n")
		switch {
		case allLines(lines, func(l string) bool { return strings.HasPrefix(l, "\t") || strings.HasPrefix(l, "    ") }):
			blocks = append(blocks, verbatim(chunk))
		case len(lines) == 1 && strings.HasPrefix(chunk, "#"):
			blocks = append(blocks, subhead(strings.TrimSpace(strings.TrimLeft(chunk, "#"))))
		case strings.HasPrefix(chunk, "- "):
			var items bullets
			for _, l := range lines {
				if rest, ok := strings.CutPrefix(l, "- "); ok {
					items = append(items, rest)
				} else if len(items) > 0 {
					items[len(items)-1] += "\n" + l
				}
			}
			blocks = append(blocks, items)
		default:
			blocks = append(blocks, para(chunk))
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

// manSection is a section of a page.
type manSection struct {
	title  string
	blocks []manBlock
}

// manPage is a whole page.
type manPage struct {
	name, section, date string // "oscli-send", "1", "2026-11-21"
	summary             string // the NAME line's text after the dash
	sections            []manSection
}

// render writes the page's source.
func (p *manPage) render() []byte {
	var r roff
	r.b.WriteString(".\\\" Generated by 'oscli gen-docs .'; do not edit.\n")
	r.macro("TH", strings.ToUpper(p.name), p.section, p.date, "oscli", "oscli manual")
	r.b.WriteString(".nh\n.ad l\n") // no hyphenation, ragged right: options stay whole
	r.section("NAME")
	r.line(roffEscape(p.name) + ` \- ` + roffEscape(p.summary))
	for _, s := range p.sections {
		if len(s.blocks) == 0 {
			continue
		}
		r.section(s.title)
		for _, b := range s.blocks {
			b.render(&r)
		}
	}
	return []byte(r.b.String())
}

// manName is a command's page name: "oscli-completion-bash".
func manName(c *cobra.Command) string {
	return strings.ReplaceAll(c.CommandPath(), " ", "-")
}

// manRef is a reference to another page, for SEE ALSO and COMMANDS.
func manRef(name, section string) string { return bold(name) + "(" + section + ")" }

// commandPage builds a command's page from its help and what mantext.go
// adds for it.
func commandPage(c *cobra.Command, date string, sch config.Schema) *manPage {
	extra := manExtras()[c.CommandPath()]
	p := &manPage{name: manName(c), section: "1", date: date, summary: c.Short}
	long := c.Long
	if long == "" {
		long = c.Short
	}
	add := func(title string, blocks ...manBlock) {
		var keep []manBlock
		for _, b := range blocks {
			if b != nil {
				keep = append(keep, b)
			}
		}
		p.sections = append(p.sections, manSection{title, keep})
	}
	add("SYNOPSIS", synopsis(c))
	add("DESCRIPTION", plainBlocks(long)...)
	add("COMMANDS", subcommands(c))
	add("OPTIONS", flagList(c.NonInheritedFlags()))
	add("GLOBAL OPTIONS", flagList(c.InheritedFlags()))
	p.sections = append(p.sections, extra.sections...)
	add("EXIT STATUS", extra.exit...)
	add("ENVIRONMENT", append(append([]manBlock{}, extra.env...), envList(c, sch)...)...)
	add("FILES", extra.files...)
	if c.Example != "" {
		add("EXAMPLES", verbatim(c.Example))
	}
	add("SEE ALSO", seeAlso(c, extra.seeAlso))
	return p
}

// manExtra is what a page has beyond the command's help.
type manExtra struct {
	sections   []manSection // after the options
	exit       []manBlock
	env, files []manBlock
	seeAlso    []string // more pages, "oscli-json(5)"
}

// synopsis is one line per form of the command: cobra's Use may hold
// several, separated by " | ".
func synopsis(c *cobra.Command) manBlock {
	path := c.CommandPath()
	parent := strings.TrimSuffix(path, c.Name())
	var forms []string
	switch {
	case c.HasAvailableSubCommands() && !c.Runnable() && c.HasParent():
		forms = []string{c.Use + " COMMAND"}
	case c.HasAvailableSubCommands() && !c.Runnable():
		forms = []string{c.Use + " COMMAND [ARG...]"}
	case c.HasAvailableSubCommands():
		forms = []string{c.Use + " COMMAND [ARG...]", c.Use}
	default:
		forms = strings.Split(c.Use, " | ")
	}
	var r roff
	r.b.WriteString(".nf\n")
	for _, f := range forms {
		f = strings.TrimSpace(f)
		name, args, _ := strings.Cut(f, " ")
		line := bold(strings.TrimSpace(parent + name))
		if args != "" {
			line += " " + roffEscape(args)
		}
		if c.HasAvailableFlags() {
			line += " [flags]"
		}
		r.line(line)
	}
	r.b.WriteString(".fi\n")
	return rawRoff(r.b.String())
}

// rawRoff is roff source built elsewhere.
type rawRoff string

func (s rawRoff) render(r *roff) { r.b.WriteString(string(s)) }

// subcommands lists a command's subcommands with their pages.
func subcommands(c *cobra.Command) manBlock {
	var d defs
	for _, sub := range c.Commands() {
		if sub.IsAvailableCommand() {
			d = append(d, def{manRef(manName(sub), "1"), sub.Short})
		}
	}
	if len(d) == 0 {
		return nil
	}
	return d
}

// flagList lists flags as --help does: -s, --name VALUE, the usage and a
// default that is not the zero value.
func flagList(fs *pflag.FlagSet) manBlock {
	var d defs
	fs.VisitAll(func(f *pflag.Flag) {
		if f.Hidden || f.Deprecated != "" {
			return
		}
		varname, usage := pflag.UnquoteUsage(f)
		term := bold("--" + f.Name)
		if f.Shorthand != "" && f.ShorthandDeprecated == "" {
			term = bold("-"+f.Shorthand) + ", " + term
		}
		if varname != "" {
			term += " " + ital(varname)
		}
		if !zeroDefault(f) {
			if f.Value.Type() == "string" {
				usage += fmt.Sprintf(" (default %q)", f.DefValue)
			} else {
				usage += fmt.Sprintf(" (default %s)", f.DefValue)
			}
		}
		d = append(d, def{term, usage})
	})
	if len(d) == 0 {
		return nil
	}
	return d
}

// zeroDefault reports whether --help leaves a flag's default unsaid.
func zeroDefault(f *pflag.Flag) bool {
	switch f.DefValue {
	case "", "false", "0", "0s", "[]", "<nil>":
		return true
	}
	return false
}

// envList lists the variables a command reads, from the same schema the
// config code resolves them with: OSCLI_<COMMAND>_<FLAG> for each flag,
// and OSCLI_<FLAG> after it for a shared one.
func envList(c *cobra.Command, sch config.Schema) []manBlock {
	if c.Parent() == nil || c.Parent().Parent() != nil {
		return nil
	}
	shared := map[string]bool{}
	for _, s := range sch.Shared {
		shared[s] = true
	}
	for _, cmd := range sch.Commands {
		if cmd.Name != c.Name() {
			continue
		}
		flags := append([]config.Flag(nil), cmd.Flags...)
		sort.Slice(flags, func(i, j int) bool { return flags[i].Name < flags[j].Name })
		var d defs
		for _, f := range flags {
			term := bold(config.EnvName(cmd.Name, f.Name))
			if shared[f.Name] {
				term += ", " + bold(config.EnvName("", f.Name))
			}
			d = append(d, def{term, "--" + f.Name + ": " + kindText(f)})
		}
		intro := para(fmt.Sprintf(`A flag not given on the command line takes its value from the environment:
the first of these variables that is set and not empty, else the file's
%s: section, else its top level (shared settings only), else the default.
A value the flag cannot take is a usage error (exit 2) naming the variable.
OSCLI_CONFIG, NO_COLOR, CLICOLOR_FORCE, TERM and XDG_CONFIG_HOME: see
oscli(1).`, cmd.Name))
		return []manBlock{intro, d}
	}
	return nil
}

// kindText says what a variable's value must be.
func kindText(f config.Flag) string {
	if len(f.Words) > 0 {
		return "one of " + strings.Join(f.Words, ", ")
	}
	switch f.Kind {
	case config.Bool:
		return "true or false"
	case config.Int:
		return "a whole number"
	case config.Float:
		return "a number"
	case config.Duration:
		return "a duration with a unit (250ms, 5s, 1m30s)"
	case config.List:
		return "one value (the file's key takes a list)"
	}
	return "a value as on the command line"
}

// seeAlso links the parent, the subcommands and more.
func seeAlso(c *cobra.Command, more []string) manBlock {
	var refs []string
	if c.HasParent() {
		refs = append(refs, manRef(manName(c.Parent()), "1"))
	}
	for _, sub := range c.Commands() {
		if sub.IsAvailableCommand() {
			refs = append(refs, manRef(manName(sub), "1"))
		}
	}
	for _, m := range more {
		name, sec, _ := strings.Cut(strings.TrimSuffix(m, ")"), "(")
		refs = append(refs, manRef(name, sec))
	}
	if len(refs) == 0 {
		return nil
	}
	return rawRoff(".PP\n" + strings.Join(refs, ",\n") + "\n")
}
