package cmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/netip"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/oscli/oscli/internal/clock"
	"github.com/oscli/oscli/internal/iostreams"
	"github.com/oscli/oscli/internal/osc"
	"github.com/oscli/oscli/internal/pipeline"
	"github.com/oscli/oscli/internal/transport"
)

// listenOptions are what every command that listens and shows packets
// takes (dump, top, tap): where and how to listen, when to stop, and the
// process's streams and clock. A command embeds them in its options.
type listenOptions struct {
	IO    *iostreams.IOStreams
	Clock clock.Clock

	Listen   transport.Endpoint
	Groups   []string
	Iface    string
	IPv6Only bool
	// Interfaces lists the network interfaces, for "reachable at" (nil:
	// none known).
	Interfaces func() ([]transport.Interface, error)
	Framing    transport.Framing
	MaxPacket  int
	MaxConns   int
	Batch      int
	// FrameTimeout is how long a TCP frame may take (0: no limit).
	FrameTimeout time.Duration
	Count        int
	Timeout      time.Duration
	Verbose      bool
	ReadyFile    string

	// Advertise announces the listener with DNS-SD (--advertise, for the
	// commands that add it with addAdvertise).
	Advertise advertiser

	// ready, when set, is called with the bound address once listening.
	ready func(addr string)

	// Set by register (and addAdvertise), read by setup.
	nf        netFlags
	framing   string
	advertise advertiseFlag
}

// register adds the listening flags; countWhat says what --count counts.
func (o *listenOptions) register(fs *pflag.FlagSet, countWhat string) {
	o.nf.register(fs, "0.0.0.0", "address to listen on (:: for IPv6 and IPv4; a multicast group joins it)")
	fs.StringArrayVar(&o.Groups, "group", nil, "join multicast group `ADDR` (repeatable)")
	fs.StringVar(&o.Iface, "iface", "", "network interface for multicast")
	fs.BoolVar(&o.IPv6Only, "ipv6-only", false, "on ::, take IPv6 only (by default IPv4 senders arrive too)")
	fs.IntVarP(&o.Count, "count", "n", 0, "exit after `N` "+countWhat+" (0: no limit)")
	fs.DurationVar(&o.Timeout, "timeout", 0, "exit after listening this long (0: no limit)")
	fs.StringVar(&o.ReadyFile, "ready-file", "", "write the bound address to `FILE` once listening (for scripts)")
	fs.StringVar(&o.framing, "framing", "auto", "TCP framing: auto (detect per connection), slip or len")
	fs.IntVar(&o.MaxPacket, "max-packet", transport.DefaultMaxFrame, "TCP and WebSocket: largest frame or message in `BYTES` (up to 16 MiB); a bigger one closes the connection")
	fs.IntVar(&o.MaxConns, "max-conns", transport.DefaultMaxConns, "TCP and WebSocket: most connections at once; one more closes the one idle longest")
	fs.DurationVar(&o.FrameTimeout, "frame-timeout", transport.DefaultFrameTimeout, "TCP and WebSocket: longest a frame or message may take from first byte to last (0: no limit)")
	fs.IntVar(&o.Batch, "batch", 64, "UDP: datagrams read per system call (1: one at a time)")
}

// setup takes the process's streams and clock from env, resolves the
// LISTEN word (args[0], if any) with the flags, and checks the listening
// flags' values and combinations.
func (o *listenOptions) setup(c *cobra.Command, args []string, env *Env) error {
	io, err := env.streams()
	if err != nil {
		return err
	}
	o.IO, o.Clock, o.Verbose, o.ready, o.Interfaces = io, env.Clock, env.verbose, env.onListen, env.Interfaces
	word := ""
	if len(args) == 1 {
		word = args[0]
	}
	if o.Listen, err = resolveEndpoint(word, &o.nf, c.Flags(), env); err != nil {
		return err
	}
	if err := firstErr(inRange("count", o.Count, 0, -1), notNegative("timeout", o.Timeout)); err != nil {
		return err
	}
	if o.Advertise, err = o.advertise.setup(c.Flags(), env, io, o.Listen.Proto); err != nil {
		return err
	}
	if o.FrameTimeout < 0 {
		return usageErrorf("--frame-timeout %v: cannot be negative (0: no limit)", o.FrameTimeout)
	}
	if o.Framing, err = transport.ParseFraming(o.framing, true); err != nil {
		return &usageError{err: err}
	}
	if err := firstErr(inRange("max-packet", o.MaxPacket, 16, -1), inRange("max-conns", o.MaxConns, 1, -1),
		inRange("batch", o.Batch, 1, maxBatch)); err != nil {
		return err
	}
	if o.MaxPacket > osc.MaxPacket {
		return usageErrorf("--max-packet %d: at most %d (16 MiB), so that every recording replays", o.MaxPacket, osc.MaxPacket)
	}
	if len(o.Groups) > 0 && o.Listen.Proto != transport.UDP {
		return usageErrorf("--group works with UDP only")
	}
	if isMulticastHost(o.Listen.Host) && o.Listen.Proto != transport.UDP {
		return &usageError{err: fmt.Errorf("cannot listen on %s: %s is a multicast group, and multicast works with UDP only", o.Listen, o.Listen.Host),
			hint: fmt.Sprintf("oscli %s udp://%s", c.Name(), o.Listen.HostPort())}
	}
	for _, g := range o.Groups {
		if !isMulticastHost(g) {
			return usageErrorf("--group %q: want a multicast address (224.0.0.0/4 or ff00::/8), one per --group", g)
		}
	}
	return nil
}

// idle lists the listening flags that do nothing where o listens; name
// is the command's.
func (o *listenOptions) idle(name string) []idle {
	stream, udp := o.Listen.Stream(), o.Listen.Proto == transport.UDP
	return []idle{
		{"framing", o.Listen.Proto != transport.TCP, "over " + o.Listen.Proto + ": it frames TCP streams"},
		{"max-packet", !stream, "over " + o.Listen.Proto + ": it bounds TCP frames and WebSocket messages"},
		{"max-conns", !stream, "over " + o.Listen.Proto},
		{"frame-timeout", !stream, "over " + o.Listen.Proto},
		{"batch", !udp, "over " + o.Listen.Proto + ": it reads UDP datagrams"},
		{"iface", len(o.Groups) == 0 && !isMulticastHost(o.Listen.Host), "without --group"},
		{"ipv6-only", o.Listen.Proto == transport.Unix || !isIPv6Wildcard(o.Listen.Host), "unless " + name + " listens on :: (udp://[::]:PORT, -H ::)"},
	}
}

// listenRun is one run of a listening command: the pipeline that shows
// what arrives, and what the command adds around it.
type listenRun struct {
	// Pipeline shows the packets; run sets its Clock, Stop and (with
	// Record) RecordOut.
	Pipeline pipeline.Config
	// Record is --record's file ("" for none): every shown packet as
	// JSON lines.
	Record string
	// Handle, when set, wraps the pipeline's handler: tap forwards each
	// packet before it is shown.
	Handle func(show func(*transport.Packet)) func(*transport.Packet)
	// Started, when set, is called once listening, before the ready
	// signal; what it returns is called when the run ends.
	Started func(ctx context.Context, l transport.Listener) (stop func(), err error)
	// Pipe, when set, is given the pipeline before Started is called:
	// tap shows its targets' replies through it.
	Pipe func(p *pipeline.Pipeline)
	// Conn, when set, is told of stream connections opening and closing
	// too (tap closes the sockets of a sender that left).
	Conn func(transport.ConnEvent)
	// Served, when set, is called once the listener has stopped and
	// before the pipeline closes (tap stops forwarding there, and what it
	// still shows is counted); it returns lines for stderr after the
	// summary.
	Served func() []string
	// Stopped, when set, is called once the listener has stopped and the
	// pipeline has shown its last packet, before the summary: top prints
	// its last snapshot, or gives the terminal back, here. Its error ends
	// the run (after the summary) unless the run has one already.
	Stopped func() error
}

// stopCause ends a listening run for a reason of the command's own (top's
// q key, its snapshots failing to print): the summary says "stopped by"
// its reason, and err, when set, is the run's error.
type stopCause struct {
	reason string
	err    error
}

func (c *stopCause) Error() string { return c.reason }

// run listens, feeds the pipeline until something stops it (a signal,
// --count, --timeout, an output, record or listener error), then writes
// the summary to stderr saying why, and returns the run's error.
func (o *listenOptions) run(ctx context.Context, r listenRun) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	cfg := r.Pipeline
	cfg.Clock = o.Clock
	cfg.Stop = func() { cancel(errPipelineStop) }
	if r.Record != "" {
		f, err := os.Create(r.Record)
		if err != nil {
			return fileError("--record", r.Record, err)
		}
		defer f.Close()
		cfg.RecordOut = f
	}
	frameTimeout := o.FrameTimeout
	if frameTimeout == 0 {
		frameTimeout = -1 // no limit
	}
	l, err := transport.Listen(ctx, o.Listen, transport.ListenConfig{
		Groups:       o.Groups,
		Iface:        o.Iface,
		IPv6Only:     o.IPv6Only,
		Framing:      o.Framing,
		MaxFrame:     o.MaxPacket,
		MaxConns:     o.MaxConns,
		FrameTimeout: frameTimeout,
		Clock:        o.Clock,
		Batch:        o.Batch,
		OnConn:       chainConn(connReporter(o.IO.ErrOut, o.Verbose), r.Conn),
	})
	if err != nil {
		return listenError(err)
	}
	defer l.Close()
	var notes []string
	if o.Interfaces != nil {
		if ifs, err := o.Interfaces(); err == nil {
			if at := reachableNote(transport.Reachable(l, ifs)); at != "" {
				notes = append(notes, at)
			}
		}
	}
	if o.Verbose && o.Listen.Proto == transport.UDP {
		notes = append(notes, fmt.Sprintf("receive buffer %d bytes", l.Stats().RecvBuffer))
	}
	// Everything that waits on the clock is set up before the ready
	// signal, so a test moving a fake clock finds it in place.
	p := pipeline.New(cfg)
	// A stop gives a blocked stdout pipeline.StopGrace, not forever.
	defer context.AfterFunc(ctx, p.Stopping)()
	if r.Pipe != nil {
		r.Pipe(p)
	}
	if o.Timeout > 0 {
		t := o.Clock.AfterFunc(o.Timeout, func() { cancel(errListenTimeout) })
		defer t.Stop()
	}
	fprintSafe(o.IO.ErrOut, "oscli: listening on %s\n", l.Describe(notes...))
	withdraw := o.Advertise.start(ctx, l.Addr(), oscService(l.Addr(), o.Framing))
	defer withdraw()
	if r.Started != nil {
		stop, err := r.Started(ctx, l)
		if err != nil {
			p.Stopping()
			p.Close()
			return err
		}
		if stop != nil {
			defer stop()
		}
	}
	if err := o.signalReady(l.Addr().String()); err != nil {
		return err
	}
	handle := p.Handle
	if r.Handle != nil {
		handle = r.Handle(handle)
	}
	serveErr := l.Serve(handle)
	withdraw() // goodbye as the listener goes, before the output drains
	var more []string
	if r.Served != nil {
		more = r.Served()
	}
	st, err := p.Close()
	var stoppedErr error
	if r.Stopped != nil {
		stoppedErr = r.Stopped()
	}
	// Whatever ended the run, what was counted has been written (or is
	// counted as not written) and the summary says why it stopped.
	if afterCtrlC(ctx, o.IO) {
		fmt.Fprintln(o.IO.ErrOut)
	}
	fprintSafe(o.IO.ErrOut, "oscli: stopped by %s: %s\n", o.stopReason(ctx, err, serveErr),
		pipeline.Summary(st, l.Stats(), o.Listen.Stream()))
	for _, line := range more {
		fprintSafe(o.IO.ErrOut, "oscli: %s\n", line)
	}
	var re *pipeline.RecordError
	switch {
	case errors.As(err, &re):
		// "record session.jsonl: no space left on device"
		cause := re.Err
		var pe *fs.PathError
		if errors.As(cause, &pe) {
			cause = pe.Err
		}
		if errors.Is(cause, pipeline.ErrBlocked) {
			// A FIFO or pipe nobody reads: given up as stdout is.
			return fmt.Errorf("record %s blocked: up to %d %s not recorded (gave up %v after the stop)", r.Record, st.Unrecorded, pipeline.Plural(st.Unrecorded, "packet", "packets"), pipeline.StopGrace)
		}
		return fmt.Errorf("record %s: %w", r.Record, cause)
	case errors.Is(err, pipeline.ErrBlocked):
		// The write given up may have passed part of its buffer to the
		// pipe: the count is an upper bound.
		return fmt.Errorf("stdout blocked: up to %d %s not written (gave up %v after the stop)", st.Unwritten, pipeline.Plural(st.Unwritten, "packet", "packets"), pipeline.StopGrace)
	case err != nil:
		return fmt.Errorf("write output: %w", err)
	case serveErr != nil:
		return serveErr
	}
	if own := (*stopCause)(nil); errors.As(context.Cause(ctx), &own) && own.err != nil {
		return own.err
	}
	if stoppedErr != nil {
		return stoppedErr
	}
	if context.Cause(ctx) == errListenTimeout && o.Count > 0 && st.Packets < int64(o.Count) {
		// -n 1 --timeout 5s in a script: no packet is an outcome to see.
		return fmt.Errorf("--timeout %v passed with %d of %d packets", o.Timeout, st.Packets, o.Count)
	}
	return nil
}

// maxReachable is how many addresses "reachable at" names; a machine
// with many interfaces (containers, VPNs) gets "and N more".
const maxReachable = 4

// reachableNote says where other machines reach a listener on a wildcard
// address: "reachable at 192.168.1.23:8000, 10.0.0.5:8000"; "" for none.
func reachableNote(at []netip.AddrPort) string {
	if len(at) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString("reachable at ")
	for i, a := range at[:min(len(at), maxReachable)] {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(a.String())
	}
	if n := len(at) - maxReachable; n > 0 {
		fmt.Fprintf(&b, " and %d more", n)
	}
	return b.String()
}

// Causes of a listening run's end besides a signal (the parent context's).
var (
	errPipelineStop  = errors.New("pipeline stopped") // --count, or an output or record error
	errListenTimeout = errors.New("--timeout")
)

// stopReason names what ended a listening run, for "oscli: stopped by
// …": the signal, "--count 5", "--timeout 5s", "a record error", "an
// output error", "a listener error", or "interrupt" (a cancel without a
// signal).
func (o *listenOptions) stopReason(ctx context.Context, err, serveErr error) string {
	var (
		sc  *signalCause
		own *stopCause
	)
	cause := context.Cause(ctx)
	switch {
	case errors.As(cause, &sc):
		return sc.Error()
	case errors.As(cause, &own):
		return own.reason
	case cause == errListenTimeout:
		return "--timeout " + o.Timeout.String()
	case cause == errPipelineStop:
		var re *pipeline.RecordError
		switch {
		case errors.As(err, &re):
			return "a record error"
		case err != nil:
			return "an output error"
		}
		return fmt.Sprintf("--count %d", o.Count)
	case cause == nil && serveErr != nil:
		return "a listener error"
	}
	return "interrupt"
}

// connReporter reports stream connections (TCP, WebSocket) on stderr:
// problems always, comings and goings with -v.
func connReporter(w io.Writer, verbose bool) func(transport.ConnEvent) {
	return func(e transport.ConnEvent) {
		switch {
		case e.Notice != nil:
			fprintSafe(w, "oscli: warning: %s: %v\n", e.Source, e.Notice)
		case e.Err != nil:
			flag := ""
			switch {
			case errors.Is(e.Err, transport.ErrFrameTooLarge):
				flag = " (--max-packet)"
			case errors.Is(e.Err, transport.ErrTooManyConns):
				flag = " (--max-conns)"
			case errors.Is(e.Err, transport.ErrFrameTimeout):
				flag = " (--frame-timeout)"
			case errors.Is(e.Err, transport.ErrNotReading):
				flag = " (--echo)"
			}
			fprintSafe(w, "oscli: %s: %v%s; connection closed\n", e.Source, e.Err, flag)
		case !verbose:
		case e.Opened:
			fprintSafe(w, "oscli: %s connected (%s)\n", e.Source, e.Source.Proto())
		default:
			fprintSafe(w, "oscli: %s disconnected\n", e.Source)
		}
	}
}

// chainConn tells a connection event to report, then to more (if set).
func chainConn(report, more func(transport.ConnEvent)) func(transport.ConnEvent) {
	if more == nil {
		return report
	}
	return func(e transport.ConnEvent) {
		report(e)
		more(e)
	}
}

func listenError(err error) error {
	var inUse *transport.AddrInUseError
	if errors.As(err, &inUse) {
		return &hintError{err: err, hint: "pick another port with -p (or another path), or stop the program listening there"}
	}
	return err
}

func (o *listenOptions) signalReady(addr string) error {
	if o.ready != nil {
		o.ready(addr)
	}
	if o.ReadyFile != "" {
		// Write then rename, so a watcher never reads half a line.
		tmp := o.ReadyFile + ".tmp"
		if err := os.WriteFile(tmp, []byte(addr+"\n"), 0o644); err != nil {
			return fileError("--ready-file", o.ReadyFile, err)
		}
		return os.Rename(tmp, o.ReadyFile)
	}
	return nil
}
