package cmd

import (
	"context"
	"errors"
	"io"
	"os"
	"os/signal"
	"runtime"
	"sync"
	"syscall"
	"time"

	"github.com/oscli/oscli/internal/clock"
	"github.com/oscli/oscli/internal/iostreams"
	"github.com/oscli/oscli/internal/transport"
	"github.com/oscli/oscli/internal/zeroconf"
)

// Env is everything a command takes from the process: its streams, its
// environment variables and its clock. Tests build one with buffers and a
// fixed clock, so every command runs in-process.
type Env struct {
	In     io.Reader
	Out    io.Writer
	Err    io.Writer
	Getenv func(string) string
	// Environ lists the environment as KEY=value, for what Getenv cannot
	// tell: which OSCLI_ variables are set at all (a misspelt one gets a
	// warning). Nil means unknown: the settings are then resolved in full
	// and no variable is warned about for its name alone.
	Environ func() []string
	Clock   clock.Clock
	Build   BuildInfo
	// Interfaces lists the machine's network interfaces, for the
	// addresses dump says it is reachable at (transport.Interfaces); nil
	// knows none, so a test's output does not depend on its machine.
	Interfaces func() ([]transport.Interface, error)
	// Zeroconf opens DNS-SD on the network (newMDNS: multicast DNS on the
	// machine's interfaces) for browse, @NAME targets the config file
	// does not name, and --advertise. Nil (tests) has none, so that no
	// test multicasts on the machine's interfaces by accident.
	Zeroconf func(clk clock.Clock, notice func(string)) zeroconf.Network

	// ran is set once a command's flags and arguments were accepted, so
	// that errors before it are usage errors (exit 2).
	ran bool

	// Global flags and the config, set up by the root command.
	configPath string
	colorMode  string
	verbose    bool
	targets    map[string]string // the config file's, by name

	// partialTree says the command tree holds only the command that runs
	// (newRootFor): the config's schema needs a whole one.
	partialTree bool

	// parseOnly (tests) builds commands that check their flags and
	// arguments and then do nothing but pass their options to parsed, when
	// set.
	parseOnly bool
	parsed    func(opts any)

	// onListen, when set (by tests), is called with each listener's
	// address once it is ready.
	onListen func(addr string)
	// onAdvertise, when set (by tests), is called with the name once
	// --advertise has announced it.
	onAdvertise func(name string)

	// ios, when set (by tests, from iostreams.Test and its TTY setters),
	// replaces In, Out, Err and the OS's terminal checks, so a test can say
	// "stdout is a terminal"; --color and Getenv still decide colour.
	ios *iostreams.IOStreams

	// done is the run's context (set by Run): a read of stdin ends when
	// it does.
	done context.Context

	// catchSignals, when set (by Main), catches the stop signals; it
	// returns once they are caught, and does nothing after the first call.
	catchSignals func()

	// onStdinEOF, when set (by tests), is called when stdin has ended,
	// before the reader looks whether the run was stopped: where a signal
	// handled a moment after the EOF would land.
	onStdinEOF func()
}

// streams returns the command's IO streams with the terminal and colour
// decisions made once.
func (e *Env) streams() (*iostreams.IOStreams, error) {
	mode, err := iostreams.ParseColorMode(e.colorMode)
	if err != nil {
		return nil, &usageError{err: err}
	}
	s := e.ios
	if s != nil {
		s.SetColor(mode, e.Getenv)
	} else {
		s = iostreams.New(e.In, e.Out, e.Err, mode, e.Getenv)
	}
	if _, ok := s.In.(*stdinReader); !ok && e.done != nil {
		s.In = &stdinReader{ctx: e.done, r: s.In, onEOF: e.onStdinEOF}
	}
	return s, nil
}

// afterCtrlC reports whether the run was stopped by SIGINT while stderr
// is a terminal: the terminal then echoed "^C" where the cursor was, and a
// line printed now would follow it on the same line.
func afterCtrlC(ctx context.Context, io *iostreams.IOStreams) bool {
	var sc *signalCause
	return io != nil && io.IsStderrTTY() && errors.As(context.Cause(ctx), &sc) && sc.Signal == syscall.SIGINT
}

// stderrStreams returns streams that tell whether stderr is a terminal:
// the test's, else ones decided for the process's stderr.
func (e *Env) stderrStreams() *iostreams.IOStreams {
	if e.ios != nil {
		return e.ios
	}
	return iostreams.New(nil, nil, e.Err, iostreams.ColorNever, e.Getenv)
}

// awaitSignals waits until the stop signals are caught (Main), so that
// one arriving from now on stops the command cleanly. A command calls it
// before it listens, waits or reads stdin; a one-shot send does not, and
// is over before the signals would be caught.
func (e *Env) awaitSignals() {
	if e.catchSignals != nil {
		e.catchSignals()
	}
}

// stdinReader reads in a goroutine of its own, so that a read blocked on a
// terminal or a quiet pipe ends when the run's context does (Ctrl-C, a
// signal): a plain read would hold the command until the next line. A
// read given up that way is left to finish, into a buffer of its own.
type stdinReader struct {
	ctx context.Context
	r   io.Reader
	req chan []byte
	res chan stdinRead
	buf []byte // the reading goroutine's
	out bool   // a read into buf is out

	onEOF func() // tests: called at EOF, before the check for a stop
}

type stdinRead struct {
	n   int
	err error
}

func (s *stdinReader) Read(p []byte) (int, error) {
	if err := s.ctx.Err(); err != nil {
		return 0, err
	}
	if len(p) == 0 {
		return 0, nil
	}
	if s.req == nil {
		s.req, s.res = make(chan []byte), make(chan stdinRead, 1)
		go func(req <-chan []byte) {
			for b := range req {
				n, err := s.r.Read(b)
				s.res <- stdinRead{n, err}
				if err != nil {
					return // at the end of stdin, no goroutine is left waiting
				}
			}
		}(s.req)
	}
	if !s.out {
		if cap(s.buf) < len(p) {
			s.buf = make([]byte, len(p))
		}
		s.req <- s.buf[:len(p)]
		s.out = true
	}
	select {
	case r := <-s.res:
		// A read given up (ctx done) is never resumed, so r.n <= len(p).
		s.out = false
		if r.err != nil {
			s.req = nil // the goroutine has returned; a later Read starts another
		}
		if r.err == io.EOF {
			if err := s.stoppedAtEOF(); err != nil {
				return 0, err
			}
		}
		return copy(p, s.buf[:r.n]), r.err
	case <-s.ctx.Done():
		return 0, s.ctx.Err()
	}
}

// stoppedAtEOF reports the run's error when it was stopped as stdin
// ended. Ctrl-C in a terminal signals the whole process group: the
// producer in 'producer | oscli send -' dies of the same SIGINT, and its
// end of the pipe closes while oscli's own SIGINT is still on its way
// from the runtime's signal handler to the watcher goroutine (Main). The
// EOF is then not the end of the input but the interrupt: stdin's end
// yields to the other goroutines a few times (no sleep), so that a signal
// already taken by the runtime is handled, and the command then sees the
// stop instead of acting on a cut input (bundle sending part of it).
func (s *stdinReader) stoppedAtEOF() error {
	for i := 0; i < 8 && s.ctx.Err() == nil; i++ {
		runtime.Gosched()
	}
	if s.onEOF != nil {
		s.onEOF()
	}
	return s.ctx.Err()
}

// Main runs oscli with the process's streams and returns the exit code.
// The first SIGINT (Ctrl-C), SIGTERM or SIGHUP cancels the command's
// context with that signal as the cause (commands then flush and
// summarise, as for Ctrl-C); a second one of any of them ends the process
// at once, killed by that signal (exit status 128+n in a shell). A signal
// the process was started ignoring (SIGHUP under nohup, SIGINT in a
// background job) stays ignored.
func Main(args []string, b BuildInfo) int {
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	// The stop signals are caught when a command first waits for them
	// (Env.awaitSignals), before it listens, waits or reads stdin: a
	// one-shot send never does, and is spared signal.Notify's start of
	// the runtime's signal thread. Until then a signal has its default
	// effect, as it has while the runtime starts.
	var once sync.Once
	catch := func() {
		once.Do(func() {
			var sigs []os.Signal
			for _, s := range stopSignals {
				if !signal.Ignored(s) {
					sigs = append(sigs, s)
				}
			}
			ch := make(chan os.Signal, 2)
			signal.Notify(ch, sigs...)
			// No signal.Stop: the process ends when Main returns, and
			// Stop waits for the signal goroutine to go idle.
			go watchSignals(ch, cancel, func(s os.Signal) { die(s, sigs) })
		})
	}
	env := &Env{
		In:           os.Stdin,
		Out:          os.Stdout,
		Err:          os.Stderr,
		Getenv:       os.Getenv,
		Environ:      os.Environ,
		Clock:        clock.Real,
		Build:        b,
		Interfaces:   transport.Interfaces,
		Zeroconf:     newMDNS,
		catchSignals: catch,
	}
	return Run(ctx, env, args)
}

// stopSignals stop a command the way Ctrl-C does.
var stopSignals = []os.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP}

// signalCause is the cause of a context cancelled by a signal: commands
// name it in their summary ("stopped by SIGTERM").
type signalCause struct{ Signal os.Signal }

func (e *signalCause) Error() string { return signalName(e.Signal) }

// signalName is the conventional name of a stop signal (SIGTERM), not
// Go's description ("terminated").
func signalName(s os.Signal) string {
	switch s {
	case syscall.SIGINT:
		return "SIGINT"
	case syscall.SIGTERM:
		return "SIGTERM"
	case syscall.SIGHUP:
		return "SIGHUP"
	}
	return s.String()
}

// watchSignals cancels the run at the first signal on ch, with the signal
// as the cause, and calls die with the second.
func watchSignals(ch <-chan os.Signal, cancel context.CancelCauseFunc, die func(os.Signal)) {
	s, ok := <-ch
	if !ok {
		return
	}
	cancel(&signalCause{Signal: s})
	if s, ok = <-ch; ok {
		die(s)
	}
}

// die ends the process at once, killed by s as if oscli had not caught
// it, so a shell sees 128+n and a script running oscli stops too; where a
// process cannot signal itself (Windows), it exits with 128+n.
func die(s os.Signal, caught []os.Signal) {
	signal.Reset(caught...)
	if p, err := os.FindProcess(os.Getpid()); err == nil && p.Signal(s) == nil {
		// The default action is taken before kill(2) returns for a
		// process signalling itself; this is a fallback.
		time.Sleep(100 * time.Millisecond)
	}
	n := 0
	if ss, ok := s.(syscall.Signal); ok {
		n = int(ss)
	}
	os.Exit(128 + n)
}

// newMDNS is DNS-SD over multicast DNS on this machine's interfaces.
func newMDNS(clk clock.Clock, notice func(string)) zeroconf.Network {
	return &zeroconf.MDNS{Clock: clk, Notice: notice}
}
