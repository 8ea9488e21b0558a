// Package iostreams holds a command's standard streams and the decisions
// that depend on them, made once: whether each stream is a terminal and
// whether to colour it (--color, NO_COLOR, CLICOLOR_FORCE). It does not
// format anything.
package iostreams

import (
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

	outTTY, errTTY     bool
	outColor, errColor bool
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

// New decides, once, whether out and errOut are terminals and whether to
// colour them. getenv reads NO_COLOR (any non-empty value disables colour
// in auto mode), CLICOLOR_FORCE (non-empty and not "0" enables it) and TERM
// ("dumb" disables it).
func New(in io.Reader, out, errOut io.Writer, mode ColorMode, getenv func(string) string) *IOStreams {
	s := &IOStreams{In: in, Out: out, ErrOut: errOut, outTTY: IsTerminal(out), errTTY: IsTerminal(errOut)}
	s.outColor = decide(mode, s.outTTY, getenv)
	s.errColor = decide(mode, s.errTTY, getenv)
	return s
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

// IsStdoutTTY reports whether Out is a terminal.
func (s *IOStreams) IsStdoutTTY() bool { return s.outTTY }

// IsStderrTTY reports whether ErrOut is a terminal.
func (s *IOStreams) IsStderrTTY() bool { return s.errTTY }

// ColorOut reports whether to colour Out.
func (s *IOStreams) ColorOut() bool { return s.outColor }

// ColorErr reports whether to colour ErrOut.
func (s *IOStreams) ColorErr() bool { return s.errColor }
