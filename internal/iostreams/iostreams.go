// Package iostreams holds a command's standard streams and the decisions
// that depend on them, made once: whether each stream is a terminal and
// whether to colour it (--color, NO_COLOR, CLICOLOR_FORCE). Test builds
// streams over buffers whose terminal flags a test sets. It does not format
// anything.
package iostreams

import (
	"bytes"
	"fmt"
	"io"
	"os"

	"github.com/mattn/go-isatty"
)

// IOStreams are the streams a command reads and writes.
type IOStreams struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer

	inTTY, outTTY, errTTY bool
	outColor              bool

	// What the colour decisions are made from, kept so that a test's
	// TTY setters decide again as New did.
	mode   ColorMode
	getenv func(string) string
}

// ColorMode is the --color setting.
type ColorMode string

// The --color values.
const (
	ColorAuto   ColorMode = "auto"
	ColorAlways ColorMode = "always"
	ColorNever  ColorMode = "never"
)

// ParseColorMode validates a --color value.
func ParseColorMode(s string) (ColorMode, error) {
	switch m := ColorMode(s); m {
	case ColorAuto, ColorAlways, ColorNever:
		return m, nil
	}
	return "", fmt.Errorf("invalid --color %q (want auto, always or never)", s)
}

// New decides, once, whether in, out and errOut are terminals and whether
// to colour out. getenv reads NO_COLOR (any non-empty value disables colour
// in auto mode), CLICOLOR_FORCE (non-empty and not "0" enables it) and TERM
// ("dumb" disables it).
func New(in io.Reader, out, errOut io.Writer, mode ColorMode, getenv func(string) string) *IOStreams {
	s := &IOStreams{
		In: in, Out: out, ErrOut: errOut,
		inTTY: IsTerminal(in), outTTY: IsTerminal(out), errTTY: IsTerminal(errOut),
		mode: mode, getenv: getenv,
	}
	s.decideColor()
	return s
}

// Test returns streams over empty buffers for tests, like GitHub CLI's
// iostreams.Test: no stream is a terminal until SetStdinTTY, SetStdoutTTY
// or SetStderrTTY says so, and colour is decided as New decides it in auto
// mode with an empty environment (so it follows the TTY flags) until
// SetColor says otherwise.
func Test() (s *IOStreams, in, out, errOut *bytes.Buffer) {
	in, out, errOut = &bytes.Buffer{}, &bytes.Buffer{}, &bytes.Buffer{}
	s = &IOStreams{In: in, Out: out, ErrOut: errOut, mode: ColorAuto, getenv: func(string) string { return "" }}
	s.decideColor()
	return s, in, out, errOut
}

func (s *IOStreams) decideColor() {
	s.outColor = decide(s.mode, s.outTTY, s.getenv)
}

// SetStdinTTY says whether In is a terminal (tests).
func (s *IOStreams) SetStdinTTY(tty bool) { s.inTTY = tty }

// SetStdoutTTY says whether Out is a terminal (tests) and decides its
// colour again.
func (s *IOStreams) SetStdoutTTY(tty bool) { s.outTTY = tty; s.decideColor() }

// SetStderrTTY says whether ErrOut is a terminal (tests).
func (s *IOStreams) SetStderrTTY(tty bool) { s.errTTY = tty }

// SetColor decides colour again, as New does, for mode and the environment
// getenv reads, keeping the terminal flags.
func (s *IOStreams) SetColor(mode ColorMode, getenv func(string) string) {
	s.mode, s.getenv = mode, getenv
	s.decideColor()
}

func decide(mode ColorMode, tty bool, getenv func(string) string) bool {
	switch mode {
	case ColorAlways:
		return true
	case ColorNever:
		return false
	}
	if getenv("NO_COLOR") != "" {
		return false
	}
	if f := getenv("CLICOLOR_FORCE"); f != "" && f != "0" {
		return true
	}
	return tty && getenv("TERM") != "dumb"
}

// IsTerminal reports whether w is a terminal.
func IsTerminal(w any) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	return isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd())
}

// IsStdinTTY reports whether In is a terminal.
func (s *IOStreams) IsStdinTTY() bool { return s.inTTY }

// IsStdoutTTY reports whether Out is a terminal.
func (s *IOStreams) IsStdoutTTY() bool { return s.outTTY }

// IsStderrTTY reports whether ErrOut is a terminal.
func (s *IOStreams) IsStderrTTY() bool { return s.errTTY }

// ColorOut reports whether to colour Out.
func (s *IOStreams) ColorOut() bool { return s.outColor }
