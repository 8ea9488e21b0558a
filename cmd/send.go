package cmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/oscli/oscli/internal/argparse"
	"github.com/oscli/oscli/internal/clock"
	"github.com/oscli/oscli/internal/format"
	"github.com/oscli/oscli/internal/iostreams"
	"github.com/oscli/oscli/internal/osc"
	"github.com/oscli/oscli/internal/pipeline"
	"github.com/oscli/oscli/internal/sender"
	"github.com/oscli/oscli/internal/transport"
)

type sendOptions struct {
	IO     *iostreams.IOStreams
	Clock  clock.Clock
	Parser *argparse.Parser

	Delivery sender.Options
	Message  *osc.Message // from the command line; nil when reading stdin
	Stdin    bool
	JSON     bool
	Repeat   int
	Interval time.Duration
	At       *argparse.When // --at: wrap each message in a bundle
	Reply    bool
	Count    int // with Reply: stop after this many replies (0: wait --timeout)
	Timeout  time.Duration
	Verbose  bool
}

func newSendCmd(env *Env, runF func(*sendOptions) error) *cobra.Command {
	o := &sendOptions{}
	var (
		nf netFlags
		df deliveryFlags
		at string
	)
	c := &cobra.Command{
		Use:   "send [TARGET] ADDRESS [ARG…] | send [TARGET] -",
		Short: "Send one OSC message, or one per line from stdin",
		Long: `Send an OSC message built from typed arguments.

TARGET is a port, host:port, [::1]:9000, a URL (udp://host:port, liblo's
osc.udp://host:port, ws://host:port/path or wss://host/path for OSC over
WebSocket, one binary message per packet) or @name: a target of the
config file, else the instance of that name announced with DNS-SD (oscli
browse lists them; @"TouchOSC on iPad"), looked for up to 2 s. It is the
word before the address and never starts with '/'. liblo's two words, HOST PORT, work
too. A host without a port (localhost) is refused unless -p or the config
gives one, and so is a word like 9000x. The default is 127.0.0.1:8000 over
UDP, where 'oscli dump' listens by default.

Arguments are typed (i:42 h:-1 f:0.5 d:3.14 s:text S:sym c:x b:deadbeef
b:@FILE t:WHEN r:ff8000ff m:00903c7f, bare T F N I, and [ ] around array
contents) or inferred: an int32 is i, a larger integer h, a number with a
'.' or exponent f, true/false T/F, nil N, anything else a string. s:42
forces a string; any other single letter and ':' (q:1) is an error. After
the address a number is an argument, never a flag (/pan -0.5 --repeat 2);
after '--' every word is an argument. A bad argument is reported with its
position and nothing is sent (exit 2).

liblo's oscsend syntax, a type string of ihfdsScmTFNI and one value per
letter (/a if 1 2.5), is read as liblo reads it when the target is written
liblo's way (HOST PORT, or an osc.udp://, osc.tcp:// or osc.unix:// URL);
a note gives the oscli spelling, and values that do not fit the type string
are an error. After any other target oscli's syntax applies, with a warning
when a word that liblo would read as types is sent as a string.

With '-', each line of stdin is one message in the same syntax (blank lines,
# comments and dump --hex's hexdump lines are skipped; dump's time and
sender columns are skipped too, so dump's text output can be sent again). With --json, each line is a JSON
object as 'oscli dump --json' writes it ("raw" wins, else "packet"). A bad
line is reported with its number, the others still go out, and the exit
code is 1.

One socket is used for the whole run, so replies to its port reach
--reply, which prints them like dump does until --timeout (1s), or until
-n N replies came. No reply, or fewer than N, is exit status 1, so a
script can tell that a device answered. --bind [HOST:]PORT fixes that
port (and the source address), for devices that answer a known port
rather than the sender's; a port another program holds is an error.

WHEN (--at, t:): ` + argparse.WhenHelp + `.`,
		Example: `  oscli send /1/fader f:0.5
  oscli send 9000 /synth/note i:60 f:0.8 s:"grand piano"
  oscli send udp://[::1]:9000 /mix [ i:1 i:2 ] T
  oscli send ws://127.0.0.1:8080/osc /1/fader f:0.5
  oscli send @mixer /ch/01/mix/fader 0.75
  oscli send @"TouchOSC on iPad" /1/fader1 0.5   # found with DNS-SD
  oscli send /ping --reply --timeout 2s
  oscli send 10.0.0.5:10023 /xinfo --reply -n 1   # exit 1 if the X32 is silent
  oscli send 10.0.0.7:8000 /status --bind 9000 --reply   # it answers port 9000
  oscli send /tick i:1 --repeat 10 --interval 100ms
  oscli send /pan -0.5 --repeat 2
  oscli send localhost 9000 /sample/address iTfs 1 3.14 hello
  oscli send /go --at +2s
  oscli send --dry-run /my/pattern i:1 i:3 "s:a string" f:11.3
  printf '/a i:1\n/b s:x\n' | oscli send -
  oscli dump --json -n 10 | oscli send --json 9001 -`,
		Args: needArgs(1, -1, "send needs an OSC address: oscli send [TARGET] ADDRESS [ARG…]", ""),
		// After the address, "-0.5" is a value, not a flag (protectNumbers).
		Annotations: map[string]string{messageArgsKey: "yes"},
		RunE: func(c *cobra.Command, args []string) error {
			io, err := env.streams()
			if err != nil {
				return err
			}
			o.IO, o.Clock, o.Verbose = io, env.Clock, env.verbose
			o.Parser = newArgParser(env, &o.Delivery)
			target, args, err := splitSendTarget(args, c.Flags())
			if err != nil {
				return err
			}
			if err := df.resolve(&o.Delivery, target.word, &nf, c.Flags(), env, io); err != nil {
				return err
			}
			switch {
			case args[0] == "-":
				if len(args) > 1 {
					return &usageError{
						err:  errors.New("'-' reads messages from stdin and takes no arguments after it"),
						hint: "liblo's 'oscsend - /a i 1' writes the packet to stdout; 'oscli send --dry-run /a i:1' prints its hexdump",
					}
				}
				o.Stdin = true
				if flagSet(c.Flags(), "repeat") {
					return usageErrorf("--repeat works with one message, not with '-'")
				}
			case o.JSON:
				return usageErrorf("--json reads stdin: use 'oscli send --json -'")
			default:
				m, err := parseSendMessage(o.Parser, target, args, io.ErrOut)
				if err != nil {
					return err
				}
				if _, err := osc.AppendMessage(nil, m); err != nil {
					return &usageError{err: err}
				}
				o.Message = m
			}
			if at != "" {
				w, err := argparse.ParseWhenSpec(at, env.Clock.Now())
				if err != nil {
					return usageErrorf("--at: %v", err)
				}
				o.At = &w
			}
			if err := firstErr(inRange("repeat", o.Repeat, 0, -1), notNegative("interval", o.Interval),
				notNegative("timeout", o.Timeout), inRange("count", o.Count, 0, -1)); err != nil {
				return err
			}
			interval := "without --repeat"
			if o.Stdin {
				interval = "with '-': each line is sent once"
			}
			warnIdle(io.ErrOut, c.Flags(), append(deliveryIdle(o.Delivery),
				idle{"timeout", !o.Reply && !o.Delivery.Target.Stream(), "without --reply (or a TCP or WebSocket target)"},
				idle{"count", !o.Reply, "without --reply: it counts replies"},
				idle{"interval", o.Repeat == 1 || o.Stdin, interval},
				idle{"reply", o.Delivery.DryRun, "with --dry-run: nothing is sent"})...)
			if o.Stdin || o.Repeat != 1 || o.Reply {
				env.awaitSignals()
			}
			if runF != nil {
				return runF(o)
			}
			return runSend(c.Context(), o)
		},
	}
	fs := c.Flags()
	nf.register(fs, "127.0.0.1", "host to send to")
	fs.BoolVar(&o.JSON, "json", false, "with '-': read JSON lines as dump --json writes them")
	fs.IntVar(&o.Repeat, "repeat", 1, "send the message `N` times (0: until interrupted)")
	fs.DurationVar(&o.Interval, "interval", 0, "pause between repeats")
	fs.StringVar(&at, "at", "", "wrap each message in a bundle with time tag `WHEN`")
	fs.BoolVar(&o.Reply, "reply", false, "print replies arriving on the sending socket; none is exit status 1")
	fs.IntVarP(&o.Count, "count", "n", 0, "with --reply: stop after `N` replies; fewer by --timeout is exit status 1")
	fs.DurationVar(&o.Timeout, "timeout", time.Second, "with --reply: the longest to wait for replies; also how long a TCP or WebSocket receiver has to accept")
	df.register(fs, &o.Delivery, true, true)
	return c
}

func runSend(ctx context.Context, o *sendOptions) (err error) {
	s, err := openSender(ctx, o.Delivery, o.IO, o.Verbose)
	if err != nil {
		return err
	}
	defer func() {
		// A WebSocket receiver that closed with an error status (a
		// message over its limit) did not take what was sent.
		if cerr := s.Close(); err == nil && errors.Is(cerr, transport.ErrClosedByPeer) {
			err = cerr
		}
	}()
	if o.Stdin {
		err = sendLines(ctx, s, o)
	} else {
		err = sendRepeated(ctx, s, o)
	}
	if err != nil && !isBadLines(err) {
		return err
	}
	if o.Reply && !o.Delivery.DryRun {
		if rerr := printReplies(ctx, s.Client(), o); rerr != nil {
			return rerr
		}
	}
	return err
}

// stamp wraps a message in a bundle for --at.
func (o *sendOptions) stamp(p osc.Packet) osc.Packet {
	if o.At == nil {
		return p
	}
	return &osc.Bundle{Timetag: o.At.At(o.Clock.Now()), Elements: []osc.Packet{p}}
}

func sendRepeated(ctx context.Context, s *sender.Sender, o *sendOptions) error {
	for i := 0; o.Repeat == 0 || i < o.Repeat; i++ {
		if i > 0 {
			if err := o.Clock.Sleep(ctx, o.Interval); err != nil {
				return err
			}
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := s.SendPacket(o.stamp(o.Message)); err != nil {
			return err
		}
	}
	return nil
}

// badLines ends a stdin run in which some lines could not be sent.
type badLines struct{ bad, total int }

func (e *badLines) Error() string {
	return fmt.Sprintf("%d of %d lines could not be sent", e.bad, e.total)
}

func isBadLines(err error) bool {
	var bl *badLines
	return errors.As(err, &bl)
}

func sendLines(ctx context.Context, s *sender.Sender, o *sendOptions) error {
	parse := func(line []byte) (osc.Packet, error) {
		p, err := format.ParsePacketLine(line, o.JSON, o.Parser, o.Clock.Now())
		if p != nil {
			p = o.stamp(p)
		}
		return p, err
	}
	bad := func(line int, err error) { reportLine(o.IO.ErrOut, line, err) }
	st, err := s.SendLines(ctx, format.NewLineReader(o.IO.In, format.LineLimit(s.MaxPacket())), parse, bad)
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		// Stopped as stdin ended (Ctrl-C killed the producer too): an
		// interrupt, not the end of the input.
		return err
	}
	if st.Bad > 0 {
		return &exitCodeError{code: exitFailure, err: &badLines{st.Bad, st.Bad + st.Packets}}
	}
	return nil
}

// reportLine reports a line of stdin that could not be sent, with the
// argument's hint if it has one.
func reportLine(w io.Writer, line int, err error) {
	fprintSafe(w, "oscli: error: line %d: %v\n", line, err)
	if h := argHint(err); h != "" {
		fprintSafe(w, "oscli: hint: %s\n", h)
	}
}

// printReplies prints what arrives on the sending socket until --timeout,
// or until --count replies came, through the same pipeline dump uses. No
// reply, or fewer than --count, is exit status 1: the outcome a script
// asked for did not happen.
func printReplies(ctx context.Context, c transport.Client, o *sendOptions) error {
	// A read deadline in the past ends a Receive at once.
	stopReading := func() { _ = c.SetReadDeadline(longAgo) }
	p := pipeline.New(pipeline.Config{
		Clock: o.Clock,
		Out:   o.IO.Out,
		Render: func(w io.Writer) format.Renderer {
			return format.NewText(w, format.Options{Time: format.TimeLocal, Color: o.IO.ColorOut()})
		},
		Count: o.Count,
		Stop:  stopReading,
	})
	// The wait is on the command's clock, like every other wait.
	timeout := o.Clock.AfterFunc(o.Timeout, stopReading)
	defer timeout.Stop()
	stop := context.AfterFunc(ctx, stopReading)
	defer stop()
	var rerr error
	for {
		pk, err := c.Receive()
		if err != nil {
			var ne interface{ Timeout() bool }
			if !(errors.As(err, &ne) && ne.Timeout() || errors.Is(err, io.EOF)) {
				rerr = fmt.Errorf("receive replies: %w", err)
			}
			break
		}
		p.Handle(&pk)
	}
	st, err := p.Close()
	switch {
	case err != nil:
		return fmt.Errorf("write output: %w", err)
	case rerr != nil:
		return rerr
	case ctx.Err() != nil:
		return ctx.Err()
	}
	if o.Verbose {
		fmt.Fprintf(o.IO.ErrOut, "oscli: %d %s\n", st.Packets, pipeline.Plural(st.Packets, "reply", "replies"))
	}
	switch {
	case o.Count > 0 && st.Packets < int64(o.Count):
		return fmt.Errorf("--timeout %v passed with %d of %d replies", o.Timeout, st.Packets, o.Count)
	case st.Packets == 0:
		return fmt.Errorf("no reply within --timeout %v", o.Timeout)
	}
	return nil
}

// longAgo is a read deadline that has passed.
var longAgo = time.Unix(1, 0)
