package cmd

// Man pages, written as man(7) roff by hand rather than through
// cobra/doc: cobra/doc reads help text as Markdown, so plain text such as
// "HH:MM:SS[.frac] (today, local time)" came out as a link, every page
// got the root's title, and a page could not have EXIT STATUS or
// ENVIRONMENT sections. Help text here is plain text (what --help shows):
// paragraphs, indented blocks shown roff.Verbatim, "- " roff.Bullets and, for
// cobra's completion help, "#### " headings. Every character roff or a
// UTF-8 terminal would change is escaped, so the page source is plain
// ASCII and a dash or quote copied from a page pastes as itself.

import (
	"fmt"
	"sort"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/oscli/oscli/internal/config"
	"github.com/oscli/oscli/internal/roff"
)

// manName is a command's page name: "oscli-completion-bash".
func manName(c *cobra.Command) string {
	return strings.ReplaceAll(c.CommandPath(), " ", "-")
}

// manRef is a reference to another page, for SEE ALSO and COMMANDS.
func manRef(name, section string) string { return roff.Bold(name) + "(" + section + ")" }

// commandPage builds a command's page from its help and what mantext.go
// adds for it.
func commandPage(c *cobra.Command, date string, sch config.Schema) *roff.Page {
	extra := manExtras()[c.CommandPath()]
	p := &roff.Page{Name: manName(c), Section: "1", Date: date, Summary: c.Short}
	long := c.Long
	if long == "" {
		long = c.Short
	}
	add := func(title string, blocks ...roff.Block) {
		var keep []roff.Block
		for _, b := range blocks {
			if b != nil {
				keep = append(keep, b)
			}
		}
		p.Sections = append(p.Sections, roff.Section{Title: title, Blocks: keep})
	}
	add("SYNOPSIS", synopsis(c))
	add("DESCRIPTION", roff.PlainBlocks(long)...)
	add("COMMANDS", subcommands(c))
	add("OPTIONS", flagList(c.NonInheritedFlags()))
	add("GLOBAL OPTIONS", flagList(c.InheritedFlags()))
	p.Sections = append(p.Sections, extra.sections...)
	add("EXIT STATUS", extra.exit...)
	add("ENVIRONMENT", append(append([]roff.Block{}, extra.env...), envList(c, sch)...)...)
	add("FILES", extra.files...)
	if c.Example != "" {
		add("EXAMPLES", roff.Verbatim(c.Example))
	}
	add("SEE ALSO", seeAlso(c, extra.seeAlso))
	return p
}

// manExtra is what a page has beyond the command's help.
type manExtra struct {
	sections   []roff.Section // after the options
	exit       []roff.Block
	env, files []roff.Block
	seeAlso    []string // more pages, "oscli-json(5)"
}

// synopsis is one line per form of the command: cobra's Use may hold
// several, separated by " | ".
func synopsis(c *cobra.Command) roff.Block {
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
	var lines []string
	for _, f := range forms {
		f = strings.TrimSpace(f)
		name, args, _ := strings.Cut(f, " ")
		line := roff.Bold(strings.TrimSpace(parent + name))
		if args != "" {
			line += " " + roff.Escape(args)
		}
		if c.HasAvailableFlags() {
			line += " [flags]"
		}
		lines = append(lines, line)
	}
	return roff.Lines(lines...)
}

// subcommands lists a command's subcommands with their pages.
func subcommands(c *cobra.Command) roff.Block {
	var d roff.Defs
	for _, sub := range c.Commands() {
		if sub.IsAvailableCommand() {
			d = append(d, roff.Def{Term: manRef(manName(sub), "1"), Text: sub.Short})
		}
	}
	if len(d) == 0 {
		return nil
	}
	return d
}

// flagList lists flags as --help does: -s, --name VALUE, the usage and a
// default that is not the zero value.
func flagList(fs *pflag.FlagSet) roff.Block {
	var d roff.Defs
	fs.VisitAll(func(f *pflag.Flag) {
		if f.Hidden || f.Deprecated != "" {
			return
		}
		varname, usage := pflag.UnquoteUsage(f)
		term := roff.Bold("--" + f.Name)
		if f.Shorthand != "" && f.ShorthandDeprecated == "" {
			term = roff.Bold("-"+f.Shorthand) + ", " + term
		}
		if varname != "" {
			term += " " + roff.Italic(varname)
		}
		if !zeroDefault(f) {
			if f.Value.Type() == "string" {
				usage += fmt.Sprintf(" (default %q)", f.DefValue)
			} else {
				usage += fmt.Sprintf(" (default %s)", f.DefValue)
			}
		}
		d = append(d, roff.Def{Term: term, Text: usage})
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
func envList(c *cobra.Command, sch config.Schema) []roff.Block {
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
		var d roff.Defs
		for _, f := range flags {
			term := roff.Bold(config.EnvName(cmd.Name, f.Name))
			if shared[f.Name] {
				term += ", " + roff.Bold(config.EnvName("", f.Name))
			}
			d = append(d, roff.Def{Term: term, Text: "--" + f.Name + ": " + kindText(f)})
		}
		intro := roff.Para(fmt.Sprintf(`A flag not given on the command line takes its value from the environment:
the first of these variables that is set and not empty, else the file's
%s: section, else its top level (shared settings only), else the default.
A value the flag cannot take is a usage error (exit 2) naming the variable.
OSCLI_CONFIG, NO_COLOR, CLICOLOR_FORCE, TERM and XDG_CONFIG_HOME: see
oscli(1).`, cmd.Name))
		return []roff.Block{intro, d}
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
func seeAlso(c *cobra.Command, more []string) roff.Block {
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
	return roff.Raw(".PP\n" + strings.Join(refs, ",\n") + "\n")
}
