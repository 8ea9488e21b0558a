package cmd

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/oscli/oscli/internal/bench"
	"github.com/oscli/oscli/internal/iostreams"
	"github.com/oscli/oscli/internal/transport"
)

type benchOptions struct {
	IO        *iostreams.IOStreams
	Target    transport.Endpoint
	HasTarget bool
	Framing   transport.Framing
	Rate      float64
	Duration  time.Duration
	Count     int64
	Size      int
	Address   string
	Warmup    time.Duration
	JSON      bool
	Batch     int
}

func newBenchCmd(env *Env, runF func(*benchOptions) error) *cobra.Command {
	o := &benchOptions{}
	var (
		nf      netFlags
		framing string
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
  oscli dump -p 9000 --echo --format json > /dev/null &
  oscli bench 9000 --rate 10000 --count 100000
  oscli bench --json | jq .loss_percent`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			io, err := env.streams()
			if err != nil {
				return err
			}
			o.IO = io
			word := ""
			if len(args) == 1 {
				word = args[0]
			}
			o.HasTarget = word != "" || flagSet(c.Flags(), "host") || flagSet(c.Flags(), "port")
			if o.Target, err = resolveEndpoint(word, &nf, c.Flags(), env.config()); err != nil {
				return err
			}
			if !o.HasTarget && o.Target.Proto == transport.Unix {
				return usageErrorf("bench needs a unix target path")
			}
			if o.Framing, err = transport.ParseFraming(framing, false); err != nil {
				return &usageError{err: err}
			}
			if o.Rate < 0 || o.Duration < 0 || o.Count < 0 || o.Warmup < 0 {
				return usageErrorf("--rate, --duration, --count and --warmup cannot be negative")
			}
			if o.Size < 0 || o.Size > 60000 {
				return usageErrorf("--size must be 0 to 60000 bytes")
			}
			if len(o.Address) == 0 || o.Address[0] != '/' {
				return usageErrorf("--address %q: an OSC address must start with '/'", o.Address)
			}
			if flagSet(c.Flags(), "count") && !flagSet(c.Flags(), "duration") {
				o.Duration = 0
			}
			if runF != nil {
				return runF(o)
			}
			return runBench(c.Context(), o)
		},
	}
	fs := c.Flags()
	nf.register(fs, "127.0.0.1", "host to load-test")
	fs.StringVar(&framing, "framing", "slip", "TCP framing: slip or len")
	fs.Float64Var(&o.Rate, "rate", 0, "messages per second (0: as fast as possible)")
	fs.DurationVar(&o.Duration, "duration", 2*time.Second, "how long to send")
	fs.Int64Var(&o.Count, "count", 0, "how many messages to send (instead of --duration)")
	fs.IntVar(&o.Size, "size", 0, "padding bytes per message")
	fs.StringVar(&o.Address, "address", "/oscli/bench", "address of the probe messages")
	fs.DurationVar(&o.Warmup, "warmup", 0, "send this long first without counting")
	fs.BoolVar(&o.JSON, "json", false, "print the report as one JSON object")
	fs.IntVar(&o.Batch, "batch", 64, "messages per system call when several are due (1: one at a time)")
	return c
}

// benchRecv is the receiving side of a run: it counts probes, locked
// because the receiver goroutine adds while the sender reads progress.
type benchRecv struct {
	mu   sync.Mutex
	c    *bench.Counter
	addr string
	run  int64
}

func (r *benchRecv) packet(p []byte) {
	seq, sent, err := bench.Parse(p, r.addr, r.run)
	if err != nil {
		return
	}
	lat := time.Since(sent)
	r.mu.Lock()
	r.c.Add(seq, len(p), lat)
	r.mu.Unlock()
}

func (r *benchRecv) received() int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.c.Received
}

func runBench(ctx context.Context, o *benchOptions) error {
	var rb [8]byte
	_, _ = rand.Read(rb[:])
	recv := &benchRecv{c: bench.NewCounter(), addr: o.Address, run: int64(binary.BigEndian.Uint64(rb[:]) >> 1)}
	rep := &bench.Report{Rate: o.Rate, Mode: "round-trip"}
	target := o.Target
	var wg sync.WaitGroup
	var stopRecv func()
	if !o.HasTarget {
		rep.Mode = "one-way"
		var err error
		target, stopRecv, err = startBenchReceiver(ctx, o, recv, &wg)
		if err != nil {
			return err
		}
	}
	// Echoes arrive in bursts: give the sending socket a large buffer.
	client, err := transport.Dial(ctx, target, transport.ClientConfig{Framing: o.Framing,
		UDP: transport.UDPConfig{RecvBuffer: transport.DefaultRecvBuffer}})
	if err != nil {
		if stopRecv != nil {
			stopRecv()
		}
		return err
	}
	if o.HasTarget {
		// Echoes come back on the sending socket.
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				p, _, _, _, err := client.Receive()
				if err != nil {
					return
				}
				recv.packet(p)
			}
		}()
		stopRecv = func() { client.Close() }
	}
	rep.Target, rep.Proto = target.String(), target.Proto
	if target.Proto == transport.TCP {
		rep.Proto += "+" + string(o.Framing)
	}
	probe := bench.NewProbe(o.Address, recv.run, o.Size)
	rep.Size = len(probe.Encode(0, time.Now()))

	sent, elapsed, sendErr := benchSend(ctx, o, client, probe, recv)
	drain(ctx, recv, sent)
	stopRecv()
	client.Close()
	wg.Wait()
	recv.mu.Lock()
	rep.Fill(sent, elapsed, recv.c)
	recv.mu.Unlock()
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

func startBenchReceiver(ctx context.Context, o *benchOptions, recv *benchRecv, wg *sync.WaitGroup) (transport.Endpoint, func(), error) {
	if o.Target.Proto == transport.TCP {
		srv, err := transport.ListenTCP(ctx, "127.0.0.1", 0)
		if err != nil {
			return transport.Endpoint{}, nil, err
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = srv.Serve(benchStream{recv})
		}()
		ep, _ := transport.ParseEndpoint("tcp://"+srv.Local, transport.Endpoint{})
		return ep, func() { srv.Close() }, nil
	}
	conn, err := transport.ListenUDP(ctx, transport.UDPConfig{Host: "127.0.0.1"})
	if err != nil {
		return transport.Endpoint{}, nil, err
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		buf := make([]byte, transport.MaxDatagram)
		for {
			n, _, _, err := conn.ReadFrom(buf)
			if err != nil {
				return
			}
			recv.packet(buf[:n])
		}
	}()
	ep := transport.Endpoint{Proto: transport.UDP, Host: "127.0.0.1", Port: int(conn.Local.Port())}
	return ep, func() { conn.Close() }, nil
}

type benchStream struct{ r *benchRecv }

func (b benchStream) Packet(_ *transport.StreamConn, p []byte) { b.r.packet(p) }
func (benchStream) Opened(*transport.StreamConn)               {}
func (benchStream) Closed(*transport.StreamConn, error)        {}

// benchSend sends probes for the warm-up (sequence -1, not counted) and
// then for --duration or --count, paced by --rate.
func benchSend(ctx context.Context, o *benchOptions, c transport.Client, probe *bench.Probe, recv *benchRecv) (int64, time.Duration, error) {
	if o.Warmup > 0 {
		end := time.Now().Add(o.Warmup)
		pacer := bench.NewPacer(o.Rate, time.Now())
		for time.Now().Before(end) && ctx.Err() == nil {
			if n, next := pacer.Due(time.Now()); n == 0 {
				time.Sleep(time.Until(next))
				continue
			}
			if err := c.Send(probe.Encode(-1, time.Now())); err != nil {
				return 0, 0, err
			}
			pacer.Sent(1)
		}
	}
	batch := max(o.Batch, 1)
	bufs := make([][]byte, batch)
	start := time.Now()
	end := start.Add(o.Duration)
	pacer := bench.NewPacer(o.Rate, start)
	progress := time.Now().Add(250 * time.Millisecond)
	var seq int64
	for ctx.Err() == nil {
		now := time.Now()
		if o.Count > 0 && seq >= o.Count || o.Count == 0 && !now.Before(end) {
			break
		}
		n, next := pacer.Due(now)
		if n == 0 {
			time.Sleep(time.Until(next))
			continue
		}
		if o.Rate == 0 {
			n = int64(batch)
		}
		if o.Count > 0 {
			n = min(n, o.Count-seq)
		}
		for n > 0 {
			k := min(n, int64(batch))
			if k == 1 {
				if err := c.Send(probe.Encode(seq, time.Now())); err != nil {
					return seq, time.Since(start), err
				}
			} else {
				at := time.Now()
				for i := range k {
					bufs[i] = probe.Append(bufs[i][:0], seq+i, at)
				}
				if err := c.SendBatch(bufs[:k]); err != nil {
					return seq, time.Since(start), err
				}
			}
			seq += k
			n -= k
			pacer.Sent(k)
		}
		if o.IO.IsStderrTTY() && now.After(progress) {
			progress = now.Add(250 * time.Millisecond)
			showProgress(o.IO.ErrOut, now.Sub(start), o, seq, recv.received())
		}
	}
	return seq, time.Since(start), nil
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
		el.Seconds(), left, sent, float64(sent)/el.Seconds(), got, loss)
}

// drain waits for packets still in flight: until all arrived, or nothing
// more arrived for 200 ms, or 2 s in all.
func drain(ctx context.Context, r *benchRecv, sent int64) {
	deadline := time.Now().Add(2 * time.Second)
	last, lastChange := r.received(), time.Now()
	for ctx.Err() == nil && time.Now().Before(deadline) {
		got := r.received()
		if got >= sent {
			return
		}
		if got != last {
			last, lastChange = got, time.Now()
		} else if time.Since(lastChange) > 200*time.Millisecond {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
}
