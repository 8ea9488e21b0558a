package cmd

import (
	"context"
	"io"
	"os"
	"os/signal"

	"github.com/oscli/oscli/internal/clock"
	"github.com/oscli/oscli/internal/iostreams"
)

// Env is everything a command takes from the process: its streams, its
// environment variables and its clock. Tests build one with buffers and a
// fixed clock, so every command runs in-process.
type Env struct {
	In     io.Reader
	Out    io.Writer
	Err    io.Writer
	Getenv func(string) string
	Clock  clock.Clock
	Build  BuildInfo

	// ran is set once a command's flags and arguments were accepted, so
	// that errors before it are usage errors (exit 2).
	ran bool

	// Global flags and the config, set up by the root command.
	configPath string
	colorMode  string
	verbose    bool
	targets    map[string]string // the config file's, by name

	// parseOnly (tests) builds commands that check their flags and
	// arguments and then do nothing but pass their options to parsed, when
	// set.
	parseOnly bool
	parsed    func(opts any)

	// onListen, when set (by tests), is called with each listener's
	// address once it is ready.
	onListen func(addr string)

	// ios, when set (by tests, from iostreams.Test and its TTY setters),
	// replaces In, Out, Err and the OS's terminal checks, so a test can say
	// "stdout is a terminal"; --color and Getenv still decide colour.
	ios *iostreams.IOStreams
}

// streams returns the command's IO streams with the terminal and colour
// decisions made once.
func (e *Env) streams() (*iostreams.IOStreams, error) {
	mode, err := iostreams.ParseColorMode(e.colorMode)
	if err != nil {
		return nil, &usageError{err: err}
	}
	if e.ios != nil {
		e.ios.SetColor(mode, e.Getenv)
		return e.ios, nil
	}
	return iostreams.New(e.In, e.Out, e.Err, mode, e.Getenv), nil
}

// Main runs oscli with the process's streams and returns the exit code.
// The first Ctrl-C cancels the command's context (commands then flush and
// summarise); a second one kills the process as usual.
func Main(args []string, b BuildInfo) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	go func() {
		<-ctx.Done()
		stop() // restore default handling: a second Ctrl-C ends the process
	}()
	env := &Env{
		In:     os.Stdin,
		Out:    os.Stdout,
		Err:    os.Stderr,
		Getenv: os.Getenv,
		Clock:  clock.Real,
		Build:  b,
	}
	return Run(ctx, env, args)
}
