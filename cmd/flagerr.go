package cmd

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/oscli/oscli/internal/suggest"
)

// Errors the user causes with flags and arguments before a command runs
// come from pflag and cobra, in their words ("strconv.ParseInt: parsing
// \"abc\": invalid syntax", "requires at least 1 arg(s), only received
// 0"). They are rephrased here in oscli's: one line naming the flag or
// the argument and the value, and a hint naming the command's --help.

// flagError is the root's FlagErrorFunc: it rephrases pflag's errors.
func flagError(c *cobra.Command, err error) error {
	hint := helpHint(c)
	var (
		notExist *pflag.NotExistError
		noValue  *pflag.ValueRequiredError
		invalid  *pflag.InvalidValueError
		syntax   *pflag.InvalidSyntaxError
	)
	switch {
	case errors.As(err, &notExist):
		name := notExist.GetSpecifiedName()
		if group := notExist.GetSpecifiedShortnames(); group != "" {
			if len(group) == 1 {
				err = fmt.Errorf("unknown flag: -%s", group)
			} else {
				err = fmt.Errorf("unknown flag: -%s in -%s", name[:1], group)
			}
			break
		}
		err = fmt.Errorf("unknown flag: --%s", name)
		if moved, ok := movedFlags[c.Name()+" --"+name]; ok {
			hint = moved
		} else if near := suggest.Closest(name, flagNames(c)); len(near) > 0 {
			hint = "did you mean --" + strings.Join(near, " or --") + "? " + hint
		}
	case errors.As(err, &noValue):
		f := noValue.GetFlag()
		err = fmt.Errorf("--%s needs a value: %s", f.Name, wants(f))
	case errors.As(err, &invalid):
		f := invalid.GetFlag()
		err, hint = invalidValue(f, invalid.GetValue(), errors.Unwrap(invalid), hint)
	case errors.As(err, &syntax):
		err = fmt.Errorf("%s is not a flag: flags are -x or --name", syntax.GetSpecifiedFlag())
	}
	return &usageError{err: err, hint: hint}
}

// invalidValue says why value does not suit flag f, in oscli's words.
func invalidValue(f *pflag.Flag, value string, cause error, hint string) (error, string) {
	err := fmt.Errorf("--%s %q: want %s", f.Name, value, wants(f))
	switch f.Value.Type() {
	case "duration":
		if _, nerr := strconv.ParseFloat(value, 64); nerr == nil {
			// time.ParseDuration wants a unit even for 0.5.
			return fmt.Errorf("--%s %q: a duration needs a unit", f.Name, value), "did you mean " + value + "s? " + hint
		}
	case "int", "int64":
		if errors.Is(cause, strconv.ErrRange) {
			return fmt.Errorf("--%s %q: too large", f.Name, value), hint
		}
		if _, ferr := strconv.ParseFloat(value, 64); ferr == nil {
			err = fmt.Errorf("--%s %q: want a whole number", f.Name, value)
		}
	}
	return err, hint
}

// wants says what a flag's value is, for messages.
func wants(f *pflag.Flag) string {
	switch f.Value.Type() {
	case "int", "int64":
		return "a whole number"
	case "float64":
		return "a number"
	case "duration":
		return "a duration such as 500ms, 2s or 1m30s"
	case "bool":
		return "true or false"
	}
	if words := enumValues("", f.Name); words != nil {
		return "one of " + strings.Join(words, ", ")
	}
	return "a value"
}

// flagNames lists the long names of the flags c takes.
func flagNames(c *cobra.Command) []string {
	var names []string
	c.Flags().VisitAll(func(f *pflag.Flag) {
		if !f.Hidden {
			names = append(names, f.Name)
		}
	})
	c.InheritedFlags().VisitAll(func(f *pflag.Flag) { names = append(names, f.Name) })
	return names
}

// helpHint points at a command's help.
func helpHint(c *cobra.Command) string {
	return "see '" + c.CommandPath() + " --help'"
}

// needArgs checks the number of a command's positional words: fewer than
// lo is the error missing, more than hi (when hi >= 0) the error tooMany
// followed by the count and the words.
func needArgs(lo, hi int, missing, tooMany string) cobra.PositionalArgs {
	return func(c *cobra.Command, args []string) error {
		switch n := len(args); {
		case n < lo:
			return &usageError{err: errors.New(missing), hint: helpHint(c)}
		case hi >= 0 && n > hi:
			quoted := make([]string, n)
			for i, a := range args {
				quoted[i] = strconv.Quote(a)
			}
			return &usageError{err: fmt.Errorf("%s, not %d: %s", tooMany, n, strings.Join(quoted, " ")), hint: helpHint(c)}
		}
		return nil
	}
}

// enumHint gives a usage error about a flag that takes one of a few words
// (invalid --time "utf" (want …)) a hint with the word meant, when the
// error has no hint yet.
func enumHint(c *cobra.Command, err error) {
	var ue *usageError
	if !errors.As(err, &ue) || ue.hint != "" {
		return
	}
	msg := ue.Error()
	i := strings.Index(msg, "--")
	if i < 0 {
		return
	}
	name, rest, ok := strings.Cut(msg[i+2:], " ")
	if !ok || !strings.HasPrefix(rest, `"`) {
		return
	}
	value, err2 := strconv.QuotedPrefix(rest)
	if err2 != nil {
		return
	}
	value, _ = strconv.Unquote(value)
	if near := suggest.Closest(value, enumValues(c.Name(), name)); len(near) > 0 {
		ue.hint = "did you mean --" + name + " " + strings.Join(near, " or ") + "? " + helpHint(c)
	}
}

// inRange checks a whole-number flag's value: lo to hi, or lo or more
// when hi < lo. The error names the flag and its value.
func inRange[N int | int64](flag string, v, lo, hi N) error {
	switch {
	case hi < lo && v < lo:
		return usageErrorf("--%s %d: want %d or more", flag, v, lo)
	case hi >= lo && (v < lo || v > hi):
		return usageErrorf("--%s %d: want %d to %d", flag, v, lo, hi)
	}
	return nil
}

// notNegative checks a duration flag's value.
func notNegative(flag string, d time.Duration) error {
	if d < 0 {
		return usageErrorf("--%s %v: cannot be negative", flag, d)
	}
	return nil
}

// firstErr returns the first error that is not nil.
func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// maxBatch is the most packets one system call may carry (Linux's
// UIO_MAXIOV, the limit of sendmmsg and recvmmsg).
const maxBatch = 1024
