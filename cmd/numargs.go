package cmd

import (
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/oscli/oscli/internal/argparse"
)

// messageArgsKey marks a command whose arguments after an OSC address are
// message arguments (send, bundle): there, a negative number is a value.
const messageArgsKey = "oscli:message-args"

// protectNumbers rewrites a send or bundle command line so that the flag
// parser leaves negative numbers after the address alone. pflag reads
// every word that starts with '-' as a flag, wherever it stands, so
// "oscli send /pan -0.5 --repeat 2" would fail with "unknown shorthand
// flag: '0'". After the address (the first positional word starting with
// '/', or '-' for stdin), a word that is a number to oscli ("-1", "-0.5",
// "-1e3", "-0x10", and "-inf", which argparse then refuses with advice) is
// an argument. The line is walked as pflag walks it, flag values skipped
// (--at -1s, -p 9000), and when a number needed protecting it comes back
// as COMMAND FLAGS… -- POSITIONALS…: the same flags, the same positional
// words in the same order, now out of pflag's reach. Everything after a
// "--" the user wrote is positional already and stays so. Any other line
// is returned unchanged.
func protectNumbers(root *cobra.Command, args []string) []string {
	c, _, err := root.Find(args)
	if err != nil || c == root || c.Annotations[messageArgsKey] == "" {
		return args
	}
	lookup := func(name string, short bool) *pflag.Flag {
		for _, fs := range []*pflag.FlagSet{c.Flags(), c.InheritedFlags()} {
			if short {
				if f := fs.ShorthandLookup(name); f != nil {
					return f
				}
			} else if f := fs.Lookup(name); f != nil {
				return f
			}
		}
		return nil
	}
	// The words that name the command: "set" is "query set", whose
	// "query" is no positional word either.
	var names []string
	for p := c; p != root; p = p.Parent() {
		names = append([]string{p.Name()}, names...)
	}
	var flags, pos []string
	named, inMessage, protected := 0, false, false
	for i := 0; i < len(args); i++ {
		w := args[i]
		switch {
		case w == "--":
			pos = append(pos, args[i+1:]...)
			i = len(args)
		case inMessage && argparse.IsNumberWord(w):
			pos = append(pos, w)
			protected = protected || strings.HasPrefix(w, "-")
		case len(w) > 1 && w[0] == '-':
			flags = append(flags, w)
			if i+1 < len(args) && takesValue(w, lookup) {
				i++
				flags = append(flags, args[i])
			}
		case named < len(names) && w == names[named]:
			named++
		default:
			pos = append(pos, w)
			inMessage = inMessage || strings.HasPrefix(w, "/") || w == "-"
		}
	}
	if !protected || named < len(names) {
		return args
	}
	out := make([]string, 0, len(args)+2)
	out = append(out, names...)
	out = append(out, flags...)
	out = append(out, "--")
	return append(out, pos...)
}

// takesValue reports whether the flag word w (--name, -x, -xyz) consumes
// the next word as its value, as pflag decides: a flag without a default
// for a bare use (NoOptDefVal), written without "=" or an attached value.
// Unknown flags take nothing; pflag reports them.
func takesValue(w string, lookup func(string, bool) *pflag.Flag) bool {
	if strings.HasPrefix(w, "--") {
		name := w[2:]
		if strings.Contains(name, "=") {
			return false
		}
		f := lookup(name, false)
		return f != nil && f.NoOptDefVal == ""
	}
	for j := 1; j < len(w); j++ {
		f := lookup(w[j:j+1], true)
		if f == nil {
			return false
		}
		if f.NoOptDefVal == "" {
			return j == len(w)-1 // -p9000 carries its value; -p takes the next word
		}
		if j+1 < len(w) && w[j+1] == '=' {
			return false
		}
	}
	return false
}
