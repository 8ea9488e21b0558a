package cmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/oscli/oscli/internal/filter"
	"github.com/oscli/oscli/internal/format"
	"github.com/oscli/oscli/internal/iostreams"
	"github.com/oscli/oscli/internal/pipeline"
	"github.com/oscli/oscli/internal/top"
	"github.com/oscli/oscli/internal/topview"
	"github.com/oscli/oscli/internal/transport"
)

// defaultInterval is how often top prints a snapshot when it is not on
// a terminal and --interval is not given.
const defaultInterval = time.Second

type topOptions struct {
	listenOptions

	Filters  *filter.Set
	JSON     bool
	Interval time.Duration
	MaxRows  int
	BySender bool
	Sort     top.Sort

	// Screen says whether to put the full-screen table up (stdout is a
	// terminal, and neither --interval nor --json was given).
	Screen bool
	// Keys is the terminal the screen reads keys from (nil: open the
	// controlling terminal); Environ is the environment, for what the
	// terminal can do.
	Keys    io.Reader
	Environ []string
}

func newTopCmd(env *Env, runF func(*topOptions) error) *cobra.Command {
	o := &topOptions{}
	var filters, excludes []string
	var sortName string
	c := &cobra.Command{
		Use:   "top [LISTEN]",
		Short: "Live table of the traffic, one row per address",
		Long: `Listen as dump does and show a live table, one row per OSC address (per
address and sender with --by-sender): the type tags, the last value in the
syntax 'oscli send' reads, how many came, the rate (messages a second over
the last second), the minimum and maximum of each numeric argument, a
sparkline of the first one over the last 8 seconds, how long ago it was
last seen and how many senders sent it. A row whose type tags changed is
marked with '!'. Bundles count their messages; malformed packets, and the
messages of addresses past --max-rows, have a row of their own.

LISTEN and the listening flags are dump's, and packets go through dump's
pipeline: --filter and --exclude choose what is counted (a bundle passes
as in dump, and then only its messages that pass are counted), -n/--count
and --timeout end top as they end dump, and however top ends, dump's
summary goes to stderr.

On a terminal, top draws a full-screen table (at most 30 frames a second;
a slow terminal never holds up the counting). Keys: up/down (j/k), pgup,
pgdn, g, G move; a, r, t, n sort by address, rate, time last seen or
count (s cycles); / sets an OSC address pattern filter (text without a
leading / matches the last part of the address: 'fader' is //*fader*),
an empty one shows everything; enter opens the selected row's detail
(its recent messages with arrival times, and the hexdump of its last
packet), esc closes it; p pauses the display while counting goes on; c
clears the table; y copies the selected row as an 'oscli send' line to
the clipboard (OSC 52, which most terminals and tmux take) and prints it
again when top ends; q or Ctrl-C quits. Colour follows --color, NO_COLOR
and CLICOLOR_FORCE, as dump's does.

Not on a terminal (a pipe, a file, CI, TERM=dumb), or with --interval,
top prints a plain-text table every --interval (1s by default) and a last
one when it stops; --json prints one JSON object a snapshot instead.
--max-rows bounds the rows (and memory); messages of further addresses,
and of addresses longer than 1 KiB, are counted in an overflow row.`,
		Example: `  oscli top                         # UDP 0.0.0.0:8000, full screen on a terminal
  oscli top 9000 --sort rate --filter '/avatar/parameters/*'
  oscli top --by-sender --proto tcp -p 3032
  oscli top 9000 --interval 1s -n 1000 > counts.txt
  oscli top 9000 --json --interval 5s | jq -c '.rows[] | {address, rate}'`,
		Args: needArgs(0, 1, "", "top takes one LISTEN word at most (a port, host:port or URL)"),
		RunE: func(c *cobra.Command, args []string) error {
			if err := o.setup(c, args, env); err != nil {
				return err
			}
			var err error
			if o.Filters, err = newFilter(filters, excludes); err != nil {
				return err
			}
			if o.Sort, err = top.ParseSort(sortName); err != nil {
				return &usageError{err: err}
			}
			if err := inRange("max-rows", o.MaxRows, 1, maxTopRows); err != nil {
				return err
			}
			interval := flagSet(c.Flags(), "interval") || o.Interval != defaultInterval
			if o.Interval <= 0 {
				return usageErrorf("--interval %v: want a duration above zero, such as 1s", o.Interval)
			}
			// A dumb terminal cannot hold a full screen.
			o.Screen = o.IO.IsStdoutTTY() && !interval && !o.JSON && env.Getenv("TERM") != "dumb"
			if o.Screen {
				if iostreams.IsTerminal(env.In) {
					o.Keys = env.In
				}
				if env.Environ != nil {
					o.Environ = env.Environ()
				}
			}
			warnIdle(o.IO.ErrOut, c.Flags(), o.idle(c.Name())...)
			env.awaitSignals()
			if runF != nil {
				return runF(o)
			}
			return runTop(c.Context(), o)
		},
	}
	fs := c.Flags()
	o.register(fs, "packets")
	o.addAdvertise(fs, "top")
	fs.StringArrayVar(&filters, "filter", nil, "count only addresses matching `PATTERN` (repeatable)")
	fs.StringArrayVar(&excludes, "exclude", nil, "leave out addresses matching `PATTERN` (repeatable)")
	fs.BoolVar(&o.JSON, "json", false, "print snapshots as JSON objects, one a line (not full screen)")
	fs.DurationVar(&o.Interval, "interval", defaultInterval, "print a plain snapshot every `D` instead of the full-screen table (the default off a terminal)")
	fs.IntVar(&o.MaxRows, "max-rows", top.DefaultMaxRows, "keep at most `N` rows; messages of further addresses are counted in one overflow row")
	fs.BoolVar(&o.BySender, "by-sender", false, "a row per address and sender")
	fs.StringVar(&sortName, "sort", string(top.ByAddress), "order of the rows: address, rate, recent or count")
	return c
}

// maxTopRows bounds --max-rows: about 2 KB a row.
const maxTopRows = 1000000

func runTop(ctx context.Context, o *topOptions) error {
	var pass func(string) bool
	if !o.Filters.Empty() {
		pass = o.Filters.PassAddress
	}
	model := top.New(top.Config{MaxRows: o.MaxRows, BySender: o.BySender, Pass: pass}, o.Clock.Now())
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	r := listenRun{Pipeline: pipeline.Config{
		Out:    io.Discard,
		Filter: o.Filters,
		Count:  o.Count,
		Render: func(io.Writer) format.Renderer { return model },
	}}
	if o.Screen {
		return o.runScreen(ctx, cancel, model, r)
	}
	return o.runSnapshots(ctx, cancel, model, r)
}

// runSnapshots prints a snapshot every --interval and a last one at the
// stop, before the summary.
func (o *topOptions) runSnapshots(ctx context.Context, cancel context.CancelCauseFunc, model *top.Model, r listenRun) error {
	out := pipeline.NewOutput(o.IO.Out, o.Clock)
	var per *top.Periodic
	r.Started = func(ctx context.Context, _ transport.Listener) (func(), error) {
		per = top.StartPeriodic(model, top.PeriodicConfig{
			Clock: o.Clock, Every: o.Interval, Out: out, JSON: o.JSON,
			Print: top.PrintOptions{Sort: o.Sort},
			OnError: func(err error) {
				cancel(&stopCause{reason: "an output error", err: fmt.Errorf("write output: %w", err)})
			},
		})
		// A stop gives a blocked stdout pipeline.StopGrace, not forever.
		stop := context.AfterFunc(ctx, out.Stopping)
		return func() { stop() }, nil
	}
	r.Stopped = func() error {
		out.Stopping()
		err := per.Stop()
		out.Close()
		switch {
		case errors.Is(err, pipeline.ErrBlocked):
			return fmt.Errorf("stdout blocked: a snapshot was not written (gave up %v after the stop)", pipeline.StopGrace)
		case err != nil:
			return fmt.Errorf("write output: %w", err)
		}
		return nil
	}
	return o.run(ctx, r)
}

// runScreen puts the full-screen table up once listening and takes it
// down before the summary; lines for stderr meanwhile are held, the last
// one shown on the screen, and written out after it.
func (o *topOptions) runScreen(ctx context.Context, cancel context.CancelCauseFunc, model *top.Model, r listenRun) error {
	held := &heldLines{w: o.IO.ErrOut}
	ios := *o.IO
	ios.ErrOut = held
	o.IO = &ios
	var prog *topview.Program
	r.Started = func(ctx context.Context, l transport.Listener) (func(), error) {
		held.hold()
		var err error
		prog, err = topview.Start(ctx, topview.Config{
			Model: model, Clock: o.Clock, In: o.Keys, Out: o.IO.Out, Environ: o.Environ,
			Color: o.IO.ColorOut(), Sort: o.Sort,
			Title:  l.Addr().String(),
			Target: copyTarget(l.Addr()),
			Status: held.last,
			Quit:   func(key string) { cancel(&stopCause{reason: key}) },
		})
		if err != nil {
			_ = held.release()
			return nil, &hintError{err: err, hint: "oscli top --interval 1s prints plain snapshots instead"}
		}
		go func() {
			// The screen closing by itself (its terminal gone) ends the
			// run; after q or a stop the cause is already set.
			<-prog.Done()
			cancel(&stopCause{reason: "the terminal closing"})
		}()
		return nil, nil
	}
	r.Stopped = func() error {
		copied, err := prog.Stop(o.Clock, pipeline.StopGrace)
		if rerr := held.release(); err == nil && rerr != nil {
			err = rerr
		}
		for _, line := range copied {
			fmt.Fprintln(o.IO.Out, line)
		}
		if err != nil {
			return fmt.Errorf("screen: %w", err)
		}
		return nil
	}
	return o.run(ctx, r)
}

// copyTarget is the word a copied send line aims at: where top listens,
// on loopback when it listens on every address; "" for send's default
// (udp 127.0.0.1:8000).
func copyTarget(e transport.Endpoint) string {
	switch e.Proto {
	case transport.Unix:
		return e.String()
	case transport.UDP, transport.TCP:
	default:
		return ""
	}
	switch e.Host {
	case "", "0.0.0.0":
		e.Host = "127.0.0.1"
	case "::":
		e.Host = "::1"
	}
	if e.Proto == transport.UDP {
		if e.Host == "127.0.0.1" && e.Port == 8000 {
			return ""
		}
		return e.HostPort()
	}
	return e.String()
}

// maxHeld bounds the stderr lines held while the screen is up.
const maxHeld = 1000

// heldLines stands in for stderr while top's screen is up: a line
// written then would tear the screen, so it is held (the screen shows the
// last one) and written out once the screen is down.
type heldLines struct {
	mu      sync.Mutex
	w       io.Writer
	holding bool
	lines   []byte
	n       int
	dropped int
	lastOne string
}

func (h *heldLines) Write(p []byte) (int, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.holding {
		return h.w.Write(p)
	}
	if line := strings.TrimSpace(string(p)); line != "" {
		h.lastOne = line[strings.LastIndexByte(line, '\n')+1:]
	}
	if h.n >= maxHeld {
		h.dropped++
		return len(p), nil
	}
	h.n++
	h.lines = append(h.lines, p...)
	return len(p), nil
}

func (h *heldLines) hold() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.holding = true
}

// last returns the last line held.
func (h *heldLines) last() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.lastOne
}

// release writes what was held and lets later writes through.
func (h *heldLines) release() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.holding {
		return nil
	}
	h.holding = false
	if h.dropped > 0 {
		h.lines = fmt.Appendf(h.lines, "oscli: %d more lines for stderr while the screen was up were not kept\n", h.dropped)
	}
	_, err := h.w.Write(h.lines)
	h.lines = nil
	return err
}
