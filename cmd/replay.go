package cmd

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/oscli/oscli/internal/clock"
	"github.com/oscli/oscli/internal/format"
	"github.com/oscli/oscli/internal/iostreams"
	"github.com/oscli/oscli/internal/osc"
	"github.com/oscli/oscli/internal/pipeline"
	"github.com/oscli/oscli/internal/record"
	"github.com/oscli/oscli/internal/replay"
	"github.com/oscli/oscli/internal/sender"
)

type replayOptions struct {
	IO       *iostreams.IOStreams
	Clock    clock.Clock
	File     string
	Format   string
	Delivery sender.Options
	Play     replay.Options
	Verbose  bool
}

func newReplayCmd(env *Env, runF func(*replayOptions) error) *cobra.Command {
	o := &replayOptions{}
	var (
		nf                netFlags
		df                deliveryFlags
		filters, excludes []string
	)
	c := &cobra.Command{
		Use:   "replay FILE [TARGET]",
		Short: "Resend a recording with its original timing",
		Long: `Send the packets of a recording again, spaced as they were recorded.

FILE ('-' for stdin) is JSON lines from 'oscli dump --json' or '--record'
("raw" is sent as is, else "packet" is encoded), a liblo oscdump log
(XXXXXXXX.XXXXXXXX /address types args…, what oscsendfile reads; strings
with spaces and quotes are read right), or SLIP-framed packets from
'oscli dump --format raw' (no times: sent back to back, or at --rate). The
format is detected unless --format says it. TARGET is as for 'oscli send'.

Timing is scheduled against a monotonic clock from the start, so errors do
not add up; -v reports the worst lateness. --speed 2 plays twice as fast;
--loop N plays N times (0: until interrupted); --no-timing sends as fast as
possible. --retime shifts the time tags of bundles by the time between
recording and replay, so bundles meant for the future stay in the future.
A record that cannot be read is reported with its line number and skipped
(a recording cut short by a crash replays up to its last whole line).`,
		Example: `  oscli dump --record session.jsonl
  oscli replay session.jsonl
  oscli replay session.jsonl 9001 --speed 2 --loop 3
  oscli replay session.jsonl --filter '/1/*' --dry-run
  oscli replay oscdump.log osc.udp://mixer:10023
  oscli replay --no-timing session.slip tcp://127.0.0.1:9000`,
		Args: needArgs(1, 2, "replay needs a recording: oscli replay FILE [TARGET]", "replay takes a FILE and one TARGET word at most"),
		RunE: func(c *cobra.Command, args []string) error {
			io, err := env.streams()
			if err != nil {
				return err
			}
			o.IO, o.Clock, o.Verbose = io, env.Clock, env.verbose
			o.File = args[0]
			word := ""
			if len(args) == 2 {
				word = args[1]
			}
			if err := df.resolve(&o.Delivery, word, &nf, c.Flags(), env, io); err != nil {
				return err
			}
			switch o.Format {
			case "", record.FormatJSON, record.FormatOscdump, record.FormatSLIP:
			default:
				return usageErrorf("invalid --format %q (want json, oscdump or slip)", o.Format)
			}
			if err := finitePositive("--speed", o.Play.Speed); err != nil {
				return err
			}
			if o.Play.Rate != 0 {
				if err := finitePositive("--rate", o.Play.Rate); err != nil {
					return err
				}
			}
			if err := inRange("loop", o.Play.Loops, 0, -1); err != nil {
				return err
			}
			if o.Play.Filter, err = newFilter(filters, excludes); err != nil {
				return err
			}
			warnIdle(io.ErrOut, c.Flags(), append(deliveryIdle(o.Delivery),
				idle{"speed", o.Play.NoTiming, "with --no-timing"},
				idle{"rate", o.Play.NoTiming, "with --no-timing"})...)
			env.awaitSignals()
			if runF != nil {
				return runF(o)
			}
			return runReplay(c.Context(), o)
		},
	}
	fs := c.Flags()
	nf.register(fs, "127.0.0.1", "host to send to")
	fs.StringVar(&o.Format, "format", "", "recording format: json, oscdump or slip (default: detect)")
	fs.Float64Var(&o.Play.Speed, "speed", 1, "playback speed factor (2: twice as fast)")
	fs.IntVar(&o.Play.Loops, "loop", 1, "play this many times (0: until interrupted)")
	fs.StringArrayVar(&filters, "filter", nil, "send only addresses matching `PATTERN` (repeatable)")
	fs.StringArrayVar(&excludes, "exclude", nil, "do not send addresses matching `PATTERN` (repeatable)")
	fs.BoolVar(&o.Play.NoTiming, "no-timing", false, "send as fast as possible")
	fs.Float64Var(&o.Play.Rate, "rate", 0, "for recordings without times: messages per second (0: back to back)")
	fs.BoolVar(&o.Play.Retime, "retime", false, "shift bundle time tags by the replay offset")
	df.register(fs, &o.Delivery, true, true)
	fs.Lookup("dry-run").Usage = "print what would be sent, with times, instead of sending"
	return c
}

func runReplay(ctx context.Context, o *replayOptions) error {
	var rec replay.Recording
	var detected *string
	// A regular file is read again for each loop; stdin, a pipe or a FIFO
	// can be read only once, so its records are kept to loop.
	in := o.IO.In
	if o.File != "-" {
		fi, err := os.Stat(o.File)
		if err != nil {
			return fileError("", o.File, err) // "x.jsonl: no such file or directory", not "stat x.jsonl: …"
		}
		if fi.Mode().IsRegular() {
			r := &replay.File{Path: o.File, Format: o.Format, Now: o.Clock.Now()}
			defer r.Close()
			rec, detected = r, &r.Format
		} else {
			f, err := os.Open(o.File)
			if err != nil {
				return err
			}
			defer f.Close()
			in = f
		}
	}
	if rec == nil {
		r := &replay.Stream{R: in, Format: o.Format, Now: o.Clock.Now()}
		rec, detected = r, &r.Format
	}
	po := o.Play
	po.Clock = o.Clock
	po.OnBad = func(err *record.BadRecordError) {
		fprintSafe(o.IO.ErrOut, "oscli: %s: %v (skipped)\n", o.File, err)
	}
	var sink replay.Sink
	if o.Delivery.DryRun {
		po.NoWait = true
		sink = &drySink{r: format.NewText(o.IO.Out, format.Options{Time: format.TimeRel})}
	} else {
		s, err := openSender(ctx, o.Delivery, o.IO, o.Verbose)
		if err != nil {
			return err
		}
		defer s.Close()
		sink = replay.SenderSink{S: s}
	}
	st, err := replay.Play(ctx, rec, sink, po)
	if errors.Is(err, replay.ErrEmpty) {
		return fmt.Errorf("%s: %w", o.File, err)
	}
	if err != nil {
		return err
	}
	msg := fmt.Sprintf("oscli: replayed %d %s from %s (%s) in %v", st.Sent, pipeline.Plural(st.Sent, "packet", "packets"),
		o.File, *detected, st.Took.Round(time.Millisecond))
	if st.Bad > 0 {
		msg += fmt.Sprintf("; %d bad %s skipped", st.Bad, pipeline.Plural(st.Bad, "record", "records"))
	}
	if o.Verbose && !o.Delivery.DryRun {
		msg += fmt.Sprintf("; worst lateness %v", st.Worst.Round(time.Microsecond))
	}
	fprintSafe(o.IO.ErrOut, "%s\n", msg)
	return nil
}

// drySink prints what replay would send, with the time it would go out
// (relative to the first packet).
type drySink struct {
	r   *format.Text
	dec osc.Decoder
}

func (d *drySink) Send(raw []byte, at time.Time) error {
	p, err := d.dec.Decode(raw)
	return d.r.Render(&format.Event{Time: at, From: "replay", Raw: raw, Packet: p, Err: err})
}

func (d *drySink) Queue(raw []byte, at time.Time) error { return d.Send(raw, at) }
func (d *drySink) Flush() error                         { return nil }

// finitePositive checks a rate or speed flag.
func finitePositive(flag string, v float64) error {
	if math.IsNaN(v) || math.IsInf(v, 0) || v <= 0 {
		return usageErrorf("%s %v: want a finite number above 0", flag, v)
	}
	return nil
}
