package cmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/oscli/oscli/internal/format"
	"github.com/oscli/oscli/internal/iostreams"
	"github.com/oscli/oscli/internal/match"
	"github.com/oscli/oscli/internal/osc"
	"github.com/oscli/oscli/internal/record"
	"github.com/oscli/oscli/internal/transport"
)

type replayOptions struct {
	IO       *iostreams.IOStreams
	Now      func() time.Time
	File     string
	Send     *sendOptions
	Format   string
	Speed    float64
	Loop     int
	Filters  filterSet
	NoTiming bool
	Rate     float64
	Retime   bool
	Verbose  bool
}

func newReplayCmd(env *Env, runF func(*replayOptions) error) *cobra.Command {
	so := &sendOptions{}
	o := &replayOptions{Send: so}
	var (
		nf      netFlags
		framing string
		filters []string
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
		Args: cobra.RangeArgs(1, 2),
		RunE: func(c *cobra.Command, args []string) error {
			io, err := env.streams()
			if err != nil {
				return err
			}
			o.IO, o.Now, o.Verbose = io, env.Now, env.verbose
			so.IO, so.Now, so.Verbose = io, env.Now, env.verbose
			o.File = args[0]
			word := ""
			if len(args) == 2 {
				word = args[1]
			}
			if so.Target, err = resolveEndpoint(word, &nf, c.Flags(), env.config()); err != nil {
				return err
			}
			if so.Framing, err = transport.ParseFraming(framing, false); err != nil {
				return &usageError{err: err}
			}
			switch o.Format {
			case "", record.FormatJSON, record.FormatOscdump, record.FormatSLIP:
			default:
				return usageErrorf("invalid --format %q (want json, oscdump or slip)", o.Format)
			}
			if o.Speed <= 0 {
				return usageErrorf("--speed must be above 0")
			}
			if o.Loop < 0 || o.Rate < 0 {
				return usageErrorf("--loop and --rate cannot be negative")
			}
			for _, f := range filters {
				p, err := match.Compile(f)
				if err != nil {
					return usageErrorf("--filter: %v", err)
				}
				o.Filters.include = append(o.Filters.include, p)
			}
			if runF != nil {
				return runF(o)
			}
			return runReplay(c.Context(), o)
		},
	}
	fs := c.Flags()
	nf.register(fs, "127.0.0.1", "host to send to")
	fs.StringVar(&o.Format, "format", "", "recording format: json, oscdump or slip (default: detect)")
	fs.Float64Var(&o.Speed, "speed", 1, "playback speed factor (2: twice as fast)")
	fs.IntVar(&o.Loop, "loop", 1, "play this many times (0: until interrupted)")
	fs.StringArrayVar(&filters, "filter", nil, "send only addresses matching `PATTERN` (repeatable)")
	fs.BoolVar(&o.NoTiming, "no-timing", false, "send as fast as possible")
	fs.Float64Var(&o.Rate, "rate", 0, "for recordings without times: messages per second (0: back to back)")
	fs.BoolVar(&o.Retime, "retime", false, "shift bundle time tags by the replay offset")
	fs.BoolVar(&so.DryRun, "dry-run", false, "print what would be sent, with times, instead of sending")
	addDeliveryFlags(fs, so, &framing)
	return c
}

// loadRecording reads every record, reporting and counting bad ones.
func loadRecording(o *replayOptions) ([]*record.Record, int, string, error) {
	var in io.Reader
	if o.File == "-" {
		in = o.IO.In
	} else {
		f, err := os.Open(o.File)
		if err != nil {
			return nil, 0, "", err
		}
		defer f.Close()
		in = f
	}
	rd, err := record.NewReader(in, o.Format, o.Now())
	if err != nil {
		return nil, 0, "", fmt.Errorf("%s: %w", o.File, err)
	}
	var recs []*record.Record
	bad := 0
	for {
		rec, err := rd.Next()
		if err == io.EOF {
			break
		}
		var be *record.BadRecordError
		if errors.As(err, &be) {
			bad++
			fmt.Fprintf(o.IO.ErrOut, "oscli: %s: %v (skipped)\n", o.File, be)
			continue
		}
		if err != nil {
			return nil, bad, rd.Format, fmt.Errorf("%s: %w", o.File, err)
		}
		if !o.Filters.pass(rec.Packet) {
			continue
		}
		recs = append(recs, rec)
	}
	return recs, bad, rd.Format, nil
}

func runReplay(ctx context.Context, o *replayOptions) error {
	recs, bad, fmtName, err := loadRecording(o)
	if err != nil {
		return err
	}
	if len(recs) == 0 {
		return fmt.Errorf("%s: nothing to replay", o.File)
	}
	timed := !o.NoTiming && !recs[0].Time.IsZero()
	var s *sender
	var dry *format.Text
	if o.Send.DryRun {
		dry = format.NewText(o.IO.Out, format.Options{Time: format.TimeRel})
	} else {
		if s, err = newSender(ctx, o.Send); err != nil {
			return err
		}
		defer s.close()
	}
	var (
		sent     int64
		worst    time.Duration
		start    = time.Now() // monotonic
		iterBase = start
		buf      []byte
	)
	for iter := 0; o.Loop == 0 || iter < o.Loop; iter++ {
		first := recs[0].Time
		for i, rec := range recs {
			if err := ctx.Err(); err != nil {
				return err
			}
			var due time.Time
			switch {
			case timed && !rec.Time.IsZero():
				due = iterBase.Add(time.Duration(float64(rec.Time.Sub(first)) / o.Speed))
			case o.Rate > 0:
				due = iterBase.Add(time.Duration(float64(i) / o.Rate * float64(time.Second)))
			}
			raw := rec.Raw
			if o.Retime && timed {
				if b, ok := rec.Packet.(*osc.Bundle); ok {
					shifted := osc.ClonePacket(b).(*osc.Bundle)
					retime(shifted, iterBase.Sub(start)+start.Sub(first))
					if buf, err = osc.AppendBundle(buf[:0], shifted); err != nil {
						return err
					}
					raw = buf
				}
			}
			if dry != nil {
				at := due
				if at.IsZero() {
					at = iterBase
				}
				p, _ := osc.Decode(raw)
				if err := dry.Render(&format.Event{Time: at, From: "replay", Raw: raw, Packet: p}); err != nil {
					return err
				}
				sent++
				continue
			}
			if due.IsZero() {
				// Back to back: batched, many packets per system call.
				if err := s.queueRaw(raw); err != nil {
					return err
				}
				sent++
				continue
			}
			if err := s.flush(); err != nil {
				return err
			}
			{
				if wait := time.Until(due); wait > 0 {
					t := time.NewTimer(wait)
					select {
					case <-ctx.Done():
						t.Stop()
						return ctx.Err()
					case <-t.C:
					}
				}
				if late := time.Since(due); late > worst {
					worst = late
				}
			}
			if err := s.sendRaw(raw); err != nil {
				return err
			}
			sent++
		}
		if s != nil {
			if err := s.flush(); err != nil {
				return err
			}
		}
		if timed {
			last := recs[len(recs)-1].Time
			iterBase = iterBase.Add(time.Duration(float64(last.Sub(first)) / o.Speed))
			if dry == nil && time.Now().After(iterBase) {
				iterBase = time.Now()
			}
		} else if dry == nil {
			iterBase = time.Now()
		}
	}
	msg := fmt.Sprintf("oscli: replayed %d packets from %s (%s) in %v", sent, o.File, fmtName, time.Since(start).Round(time.Millisecond))
	if bad > 0 {
		msg += fmt.Sprintf("; %d bad records skipped", bad)
	}
	if o.Verbose && timed && dry == nil {
		msg += fmt.Sprintf("; worst lateness %v", worst.Round(time.Microsecond))
	}
	fmt.Fprintln(o.IO.ErrOut, msg)
	return nil
}

// retime shifts every timed bundle by d (immediate ones stay immediate).
func retime(b *osc.Bundle, d time.Duration) {
	if !b.Timetag.IsImmediate() {
		b.Timetag = b.Timetag.Add(d)
	}
	for _, e := range b.Elements {
		if nb, ok := e.(*osc.Bundle); ok {
			retime(nb, d)
		}
	}
}
