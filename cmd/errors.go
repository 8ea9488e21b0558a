package cmd

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/oscli/oscli/internal/sender"
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
	case errors.Is(err, context.Canceled):
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
		fmt.Fprintln(w, "oscli: interrupted")
		return code
	}
	fmt.Fprintf(w, "oscli: error: %s\n", err)
	if hint != "" {
		fmt.Fprintf(w, "oscli: hint: %s\n", hint)
	}
	return code
}
