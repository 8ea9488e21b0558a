package cmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/oscli/oscli/internal/sender"
	"github.com/oscli/oscli/internal/termsafe"
)

// Exit codes (SPEC §9).
const (
	exitOK          = 0
	exitFailure     = 1
	exitUsage       = 2
	exitInterrupted = 130
)

// usageError marks an error the user caused with flags, arguments or
// patterns: exit code 2.
type usageError struct {
	err  error
	hint string
}

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

func usageErrorf(format string, a ...any) error {
	return &usageError{err: fmt.Errorf(format, a...)}
}

// hintError carries a second line of advice for a runtime failure.
type hintError struct {
	err  error
	hint string
}

func (e *hintError) Error() string { return e.err.Error() }
func (e *hintError) Unwrap() error { return e.err }

// exitCodeError ends a command with a given exit code and, when err is
// nil, no message of its own (the command already reported).
type exitCodeError struct {
	code int
	err  error
}

func (e *exitCodeError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit status %d", e.code)
	}
	return e.err.Error()
}
func (e *exitCodeError) Unwrap() error { return e.err }

// report turns an error into its message lines on w and an exit code. It is
// the one place where errors become output.
func report(w io.Writer, err error, ran bool) int {
	if err == nil {
		return exitOK
	}
	code := exitFailure
	var (
		ue *usageError
		he *hintError
		ce *exitCodeError
		sc *signalCause
		tb *sender.TooBigError
	)
	hint := ""
	switch {
	case errors.As(err, &ce):
		code = ce.code
		if ce.err == nil {
			return code
		}
	case errors.As(err, &ue):
		code, hint = exitUsage, ue.hint
	case errors.As(err, &tb):
		// The message or bundle the user wrote cannot go out
		// (send - and replay skip such packets and go on).
		code = exitUsage
	case errors.Is(err, context.Canceled), errors.As(err, &sc):
		code = exitInterrupted
	case !ran:
		// cobra's own complaints: unknown command or flag, wrong arguments.
		code, hint = exitUsage, "see 'oscli --help'"
	}
	if errors.As(err, &he) {
		hint = he.hint
	} else if errors.Is(err, sender.ErrBroadcast) {
		hint = "sending to a broadcast address needs --broadcast"
	}
	if code == exitInterrupted {
		if sc != nil {
			fmt.Fprintf(w, "oscli: interrupted by %s\n", sc)
		} else {
			fmt.Fprintln(w, "oscli: interrupted")
		}
		return code
	}
	msg := strings.TrimRight(err.Error(), "\n")
	const suggest = "\n\nDid you mean this?\n"
	if i := strings.Index(msg, suggest); i >= 0 {
		// cobra's suggestions, on lines of their own: into the hint.
		hint = "did you mean " + strings.Join(strings.Fields(msg[i+len(suggest):]), " or ") + "? " + hint
		msg = msg[:i]
	}
	fprintSafe(w, "oscli: error: %s\n", msg)
	if hint != "" {
		fprintSafe(w, "oscli: hint: %s\n", hint)
	}
	return code
}

// fprintSafe is fmt.Fprintf for lines on stderr, which carry names and
// errors from the network (a Unix socket's path, an IPv6 zone) and the
// filesystem (file names, what a file holds): everything but a final
// newline goes through termsafe, so a control character, a bidi override
// or an invisible one shows as an escape, and a newline inside cannot fake
// a line of oscli's own.
func fprintSafe(w io.Writer, format string, a ...any) {
	line := fmt.Sprintf(format, a...)
	nl := strings.HasSuffix(line, "\n")
	b := termsafe.Append(make([]byte, 0, len(line)+16), strings.TrimSuffix(line, "\n"))
	if nl {
		b = append(b, '\n')
	}
	_, _ = w.Write(b)
}
