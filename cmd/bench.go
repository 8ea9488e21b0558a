package cmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/oscli/oscli/internal/bench"
	"github.com/oscli/oscli/internal/clock"
	"github.com/oscli/oscli/internal/iostreams"
	"github.com/oscli/oscli/internal/sender"
	"github.com/oscli/oscli/internal/transport"
)

type benchOptions struct {
	IO        *iostreams.IOStreams
	Clock     clock.Clock
	Delivery  sender.Options
	HasTarget bool
	Rate      float64
	Duration  time.Duration
	Count     int64
	Size      int
	Address   string
	Warmup    time.Duration
	JSON      bool
}

func newBenchCmd(env *Env, runF func(*benchOptions) error) *cobra.Command {
	o := &benchOptions{}
	var (
		nf netFlags
		df deliveryFlags
	)
	c := &cobra.Command{
		Use:   "bench [TARGET]",
		Short: "Measure throughput, loss, reordering and latency",
		Long: `Send numbered probe messages and count what arrives.

Without TARGET, bench runs its own receiver in-process on loopback and
measures one-way latency: the ceiling of this machine. With TARGET, it
load-tests that receiver; when the target sends packets back (run
'oscli dump --echo' there), it counts the echoes and measures round trips.
Without echoes it can only say what it sent.

Each probe is /oscli/bench ,hhhb RUN SEQ SENT PAD: a run id, a sequence
number, the send time and padding to --size bytes. Lost = sent − received;
reordered = arrived after a higher sequence number; duplicates = arrived
twice. Latency percentiles come from a log-linear histogram (within ~2%;
the maximum is exact). A live progress line goes to stderr when it is a
terminal. Probes sent during --warmup are not counted.`,
		Example: `  oscli bench                              # loopback, as fast as possible
  oscli bench --rate 50000 --duration 5s
  oscli bench --proto tcp --framing len
  oscli bench --proto ws
  oscli dump -p 9000 --echo --format json > /dev/null &
  oscli bench 9000 --rate 10000 --count 100000
  oscli bench --json | jq .loss_percent`,
		Args: needArgs(0, 1, "", "bench takes one TARGET word at most (a port, host:port or URL)"),
		RunE: func(c *cobra.Command, args []string) error {
			io, err := env.streams()
			if err != nil {
				return err
			}
			o.IO, o.Clock = io, env.Clock
			word := ""
			if len(args) == 1 {
				word = args[0]
			}
			// A target from the command line, the environment or the
			// config file is load-tested; none means the own receiver.
			o.HasTarget = word != "" || flagSet(c.Flags(), "host") || flagSet(c.Flags(), "port") ||
				fromConfig(c.Flags(), "host") || fromConfig(c.Flags(), "port")
			if err := df.resolve(&o.Delivery, word, &nf, c.Flags(), env, io); err != nil {
				return err
			}
			if !o.HasTarget && o.Delivery.Target.Proto == transport.Unix {
				return usageErrorf("bench needs a unix target path")
			}
			if !o.HasTarget && o.Delivery.Target.Proto == transport.WSS {
				return &usageError{err: errors.New("bench's own receiver serves plain ws://, not TLS: --proto wss needs a target"),
					hint: "oscli bench --proto ws, or oscli bench wss://HOST/PATH against a server that echoes"}
			}
			if o.Rate != 0 {
				if err := finitePositive("--rate", o.Rate); err != nil {
					return err
				}
			}
			if err := firstErr(notNegative("duration", o.Duration), inRange("count", o.Count, 0, -1),
				notNegative("warmup", o.Warmup)); err != nil {
				return err
			}
			if err := inRange("size", o.Size, 0, 60000); err != nil {
				return err
			}
			if len(o.Address) == 0 || o.Address[0] != '/' {
				return usageErrorf("--address %q: an OSC address must start with '/'", o.Address)
			}
			if flagSet(c.Flags(), "count") && !flagSet(c.Flags(), "duration") {
				o.Duration = 0
			}
			warnIdle(io.ErrOut, c.Flags(), deliveryIdle(o.Delivery)...)
			env.awaitSignals()
			if runF != nil {
				return runF(o)
			}
			return runBench(c.Context(), o)
		},
	}
	fs := c.Flags()
	nf.register(fs, "127.0.0.1", "host to load-test")
	fs.Float64Var(&o.Rate, "rate", 0, "messages per second (0: as fast as possible)")
	fs.DurationVar(&o.Duration, "duration", 2*time.Second, "how long to send")
	fs.Int64Var(&o.Count, "count", 0, "how many messages to send (instead of --duration)")
	fs.IntVar(&o.Size, "size", 0, "padding bytes per message")
	fs.StringVar(&o.Address, "address", "/oscli/bench", "address of the probe messages")
	fs.DurationVar(&o.Warmup, "warmup", 0, "send this long first without counting")
	fs.BoolVar(&o.JSON, "json", false, "print the report as one JSON object")
	df.register(fs, &o.Delivery, true, false)
	return c
}

func runBench(ctx context.Context, o *benchOptions) error {
	// The run's id tells its probes from another run's; it need not be
	// secret (math/rand/v2 is seeded by the runtime), and crypto/rand
	// would link the FIPS module, whose start-up every command pays.
	recv := bench.NewReceiver(o.Address, rand.Int64(), o.Clock)
	rep := &bench.Report{Rate: o.Rate, Mode: "round-trip"}
	d := o.Delivery
	// Probes come back to bench's own receiver on loopback, or as echoes
	// on the sending socket.
	var wg sync.WaitGroup
	stopRecv := func() {}
	if !o.HasTarget {
		rep.Mode = "one-way"
		l, err := transport.Listen(ctx, transport.Endpoint{Proto: d.Target.Proto, Host: "127.0.0.1"}, transport.ListenConfig{})
		if err != nil {
			return err
		}
		d.Target = l.Addr()
		wg.Go(func() { _ = l.Serve(func(p *transport.Packet) { recv.Packet(p.Data) }) })
		stopRecv = func() { l.Close() }
	} else {
		// Echoes arrive in bursts: give the sending socket a large buffer.
		d.RecvBuffer = transport.DefaultRecvBuffer
	}
	s, err := sender.Open(ctx, d)
	if err != nil {
		stopRecv()
		wg.Wait()
		return openError(d, err)
	}
	if o.HasTarget {
		c := s.Client()
		wg.Go(func() {
			for {
				p, err := c.Receive()
				if err != nil {
					return
				}
				recv.Packet(p.Data)
			}
		})
		stopRecv = func() { c.Close() }
	}
	rep.Target, rep.Proto = d.Target.String(), d.Target.Proto
	if d.Target.Proto == transport.TCP {
		rep.Proto += "+" + string(d.Framing)
	}
	probe := bench.NewProbe(o.Address, recv.Run(), o.Size)
	rep.Size = len(probe.Encode(0, o.Clock.Now()))

	cfg := bench.Config{Clock: o.Clock, Rate: o.Rate, Duration: o.Duration, Count: o.Count,
		Warmup: o.Warmup, Batch: d.Batch}
	if o.IO.IsStderrTTY() {
		cfg.Progress = func(el time.Duration, sent, got int64) { showProgress(o.IO.ErrOut, el, o, sent, got) }
	}
	sent, elapsed, sendErr := bench.Send(ctx, cfg, s, probe, recv)
	bench.Drain(ctx, o.Clock, recv, sent)
	stopRecv()
	s.Close()
	wg.Wait()
	recv.Fill(rep, sent, elapsed)
	if o.HasTarget && rep.Received == 0 {
		rep.Mode = "none"
	}
	if o.IO.IsStderrTTY() {
		fmt.Fprint(o.IO.ErrOut, "\r\033[K")
	}
	if o.JSON {
		fmt.Fprintln(o.IO.Out, rep.JSON())
	} else if err := rep.WriteTable(o.IO.Out); err != nil {
		return err
	}
	if o.HasTarget && rep.Received == 0 && sent > 0 {
		fmt.Fprintln(o.IO.ErrOut, "oscli: no echoes came back: loss and latency are unknown (run 'oscli dump --echo' at the target)")
	}
	if sendErr != nil {
		return sendErr
	}
	return ctx.Err()
}

func showProgress(w io.Writer, el time.Duration, o *benchOptions, sent, got int64) {
	loss := 0.0
	if sent > 0 {
		loss = 100 * float64(max(sent-got, 0)) / float64(sent)
	}
	left := ""
	if o.Count == 0 {
		left = fmt.Sprintf(" / %s", o.Duration.Round(time.Second))
	}
	fmt.Fprintf(w, "\r\033[K%5.1fs%s  sent %d (%.0f/s)  received %d  in flight or lost %.2f%%",
		el.Seconds(), left, sent, float64(sent)/max(el.Seconds(), 1e-9), got, loss)
}
