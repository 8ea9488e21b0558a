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

	"github.com/oscli/oscli/internal/clock"
	"github.com/oscli/oscli/internal/filter"
	"github.com/oscli/oscli/internal/format"
	"github.com/oscli/oscli/internal/iostreams"
	"github.com/oscli/oscli/internal/osc"
	"github.com/oscli/oscli/internal/pipeline"
	"github.com/oscli/oscli/internal/transport"
)

type dumpOptions struct {
	IO    *iostreams.IOStreams
	Clock clock.Clock

	Listen   transport.Endpoint
	Groups   []string
	Iface    string
	IPv6Only bool
	// Interfaces lists the network interfaces, for "reachable at" (nil:
	// none known).
	Interfaces func() ([]transport.Interface, error)
	Filters    *filter.Set
	Format     string
	Hex        bool
	Time       format.TimeMode
	Count      int
	Timeout    time.Duration
	Verbose    bool
	ReadyFile  string
	Schedule   bool
	Echo       bool
	Framing    transport.Framing
	Record     string
	MaxPacket  int
	MaxConns   int
	Batch      int
	// FrameTimeout is how long a TCP frame may take (0: no limit).
	FrameTimeout time.Duration

	// --schedule-max, --schedule-bytes: what --schedule may hold.
	ScheduleMax, ScheduleBytes int

	// ready, when set, is called with the bound address once listening.
	ready func(addr string)
}

func newDumpCmd(env *Env, runF func(*dumpOptions) error) *cobra.Command {
	o := &dumpOptions{}
	var (
		nf                           netFlags
		filters, excludes            []string
		asJSON                       bool
		formatName, timeStr, framing string
	)
	c := &cobra.Command{
		Use:   "dump [LISTEN]",
		Short: "Listen and print every OSC packet",
		Long: `Listen for OSC packets and print each one as it arrives.

LISTEN is a port (9000), host:port, [::1]:9000, a URL (udp://0.0.0.0:9000,
liblo's osc.udp://:9000) or @name from the config file; -H/-p say the same
with flags. The default is 0.0.0.0:8000 over UDP. A multicast group as the
host (osc.udp://239.0.0.1:7000, -H 239.0.0.1) joins that group, as liblo
does, and listens on the port of every address; --group joins more. On ::
dump takes IPv6 and IPv4 (an IPv4 sender shows as plain IPv4);
--ipv6-only takes IPv6 alone. Listening on every address (0.0.0.0 or ::),
the "listening on" line names the addresses other machines reach it at,
the ones to type into a controller app: "reachable at 192.168.1.23:8000".

Text output prints each message in the syntax 'oscli send' reads, after the
arrival time and the sender: paste a line after 'oscli send', or pipe dump's
output into 'oscli send -', and the same bytes go out. Bundles print a header
with their time tag and how far in the future (or late) it is, and their
elements indented below; they print on arrival. Strings are quoted and
escaped so nothing a sender puts in them reaches your terminal raw.

A malformed packet prints one '#malformed' line with the byte offset and the
reason, then its hexdump; dump keeps listening. However dump stops (Ctrl-C,
SIGTERM, SIGHUP, --count, --timeout, an error), every packet it counted is
written to stdout, then a summary goes to stderr saying why: "oscli: stopped
by SIGTERM: 12 packets, 480 bytes, 0 malformed, 0 filtered". Once stopping,
stdout gets 1 s to take what is left (a pipe nobody reads): what it did not
take is counted as "not written" and the exit code is 1; --record to a
FIFO or pipe nobody reads is given up the same way ("not recorded"). A
second signal ends dump at once. With --schedule, bundles still held at
the stop are shown then; at --count they are only counted ("held, not
shown").

--count counts the packets shown (malformed ones included); --timeout is the
longest dump listens in all. With both, fewer than --count packets by
--timeout is exit status 1 and an error after the summary, so
'oscli dump -n 1 --timeout 5s' tells a script whether anything came. --filter and --exclude take OSC address
patterns (* ? [a-z] [!a-z] {a,b} and OSC 1.1's //); a bundle is shown whole
when any of its messages passes.

Over TCP each connection's framing (SLIP or size prefix) is detected from its
first byte. A frame begun must end within --frame-timeout; with --max-conns
connections open, a new one closes the one idle longest. A quiet connection
is otherwise kept however long it is quiet.`,
		Example: `  oscli dump                        # UDP 0.0.0.0:8000
  oscli dump 9000 --json | jq .packet.args
  oscli dump -p 9000 --filter '/1/*' --exclude '/1/ping'
  oscli dump udp://[::]:9000 --time utc --hex   # IPv6 and IPv4
  oscli dump -p 7000 --group 239.0.0.1 --iface eth0
  oscli dump osc.udp://239.0.0.1:7000    # liblo's multicast URL: joins 239.0.0.1
  oscli dump -n 1 --timeout 5s      # wait up to 5 s for one packet; exit 1 if none
  oscli dump --format raw > session.slip`,
		Args: needArgs(0, 1, "", "dump takes one LISTEN word at most (a port, host:port or URL)"),
		RunE: func(c *cobra.Command, args []string) error {
			io, err := env.streams()
			if err != nil {
				return err
			}
			o.IO, o.Clock, o.Verbose, o.ready, o.Interfaces = io, env.Clock, env.verbose, env.onListen, env.Interfaces
			word := ""
			if len(args) == 1 {
				word = args[0]
			}
			if o.Listen, err = resolveEndpoint(word, &nf, c.Flags(), env.targets); err != nil {
				return err
			}
			if o.Filters, err = newFilter(filters, excludes); err != nil {
				return err
			}
			if o.Time, err = format.ParseTimeMode(timeStr); err != nil {
				return &usageError{err: err}
			}
			o.Format = formatName
			if asJSON {
				if flagSet(c.Flags(), "format") && formatName != "json" {
					return usageErrorf("--json and --format %s contradict each other", formatName)
				}
				o.Format = "json"
			}
			switch o.Format {
			case "text", "json", "hex":
			case "raw":
				if io.IsStdoutTTY() {
					return &usageError{err: errors.New("--format raw writes binary; redirect stdout to a file or pipe"),
						hint: "oscli dump --format raw > session.slip"}
				}
			default:
				return usageErrorf("invalid --format %q (want %s)", o.Format, format.FormatNames())
			}
			if err := firstErr(inRange("count", o.Count, 0, -1), notNegative("timeout", o.Timeout)); err != nil {
				return err
			}
			if o.FrameTimeout < 0 {
				return usageErrorf("--frame-timeout %v: cannot be negative (0: no limit)", o.FrameTimeout)
			}
			if o.Framing, err = transport.ParseFraming(framing, true); err != nil {
				return &usageError{err: err}
			}
			if err := firstErr(inRange("max-packet", o.MaxPacket, 16, -1), inRange("max-conns", o.MaxConns, 1, -1),
				inRange("batch", o.Batch, 1, maxBatch)); err != nil {
				return err
			}
			if o.MaxPacket > osc.MaxPacket {
				return usageErrorf("--max-packet %d: at most %d (16 MiB), so that every recording replays", o.MaxPacket, osc.MaxPacket)
			}
			if err := firstErr(inRange("schedule-max", o.ScheduleMax, 1, -1), inRange("schedule-bytes", o.ScheduleBytes, 1, -1)); err != nil {
				return err
			}
			if len(o.Groups) > 0 && o.Listen.Proto != transport.UDP {
				return usageErrorf("--group works with UDP only")
			}
			if isMulticastHost(o.Listen.Host) && o.Listen.Proto != transport.UDP {
				return &usageError{err: fmt.Errorf("cannot listen on %s: %s is a multicast group, and multicast works with UDP only", o.Listen, o.Listen.Host),
					hint: fmt.Sprintf("oscli dump udp://%s", o.Listen.HostPort())}
			}
			for _, g := range o.Groups {
				if !isMulticastHost(g) {
					return usageErrorf("--group %q: want a multicast address (224.0.0.0/4 or ff00::/8), one per --group", g)
				}
			}
			stream, udp := o.Listen.Proto == transport.TCP, o.Listen.Proto == transport.UDP
			other := "with --format " + o.Format
			if asJSON {
				other = "with --json"
			}
			warnIdle(io.ErrOut, c.Flags(),
				idle{"schedule-max", !o.Schedule, "without --schedule"},
				idle{"schedule-bytes", !o.Schedule, "without --schedule"},
				idle{"hex", o.Format != "text", other},
				idle{"time", o.Format != "text", other},
				idle{"framing", !stream, "over " + o.Listen.Proto + ": it frames TCP streams"},
				idle{"max-packet", !stream, "over " + o.Listen.Proto + ": it bounds TCP frames"},
				idle{"max-conns", !stream, "over " + o.Listen.Proto},
				idle{"batch", !udp, "over " + o.Listen.Proto + ": it reads UDP datagrams"},
				idle{"iface", len(o.Groups) == 0 && !isMulticastHost(o.Listen.Host), "without --group"},
				idle{"ipv6-only", o.Listen.Proto == transport.Unix || !isIPv6Wildcard(o.Listen.Host), "unless dump listens on :: (udp://[::]:PORT, -H ::)"})
			env.awaitSignals()
			if runF != nil {
				return runF(o)
			}
			return runDump(c.Context(), o)
		},
	}
	fs := c.Flags()
	nf.register(fs, "0.0.0.0", "address to listen on (:: for IPv6 and IPv4; a multicast group joins it)")
	fs.StringArrayVar(&o.Groups, "group", nil, "join multicast group `ADDR` (repeatable)")
	fs.StringVar(&o.Iface, "iface", "", "network interface for multicast")
	fs.BoolVar(&o.IPv6Only, "ipv6-only", false, "on ::, take IPv6 only (by default IPv4 senders arrive too)")
	fs.StringArrayVar(&filters, "filter", nil, "show only addresses matching `PATTERN` (repeatable)")
	fs.StringArrayVar(&excludes, "exclude", nil, "hide addresses matching `PATTERN` (repeatable)")
	fs.BoolVar(&asJSON, "json", false, "print JSON lines (same as --format json)")
	fs.BoolVar(&o.Hex, "hex", false, "print the osc4py3-style hexdump under each packet")
	fs.StringVar(&formatName, "format", "text", "output format: "+format.FormatNames())
	fs.StringVar(&timeStr, "time", "local", "time column: local, utc, unix, rel or none")
	fs.IntVarP(&o.Count, "count", "n", 0, "exit after `N` packets (0: no limit)")
	fs.DurationVar(&o.Timeout, "timeout", 0, "exit after listening this long (0: no limit)")
	fs.StringVar(&o.ReadyFile, "ready-file", "", "write the bound address to `FILE` once listening (for scripts)")
	fs.BoolVar(&o.Schedule, "schedule", false, "hold future bundles and print them when their time tag is due")
	fs.IntVar(&o.ScheduleMax, "schedule-max", pipeline.DefaultScheduleMax, "with --schedule: hold at most `N` bundles; more print on arrival")
	fs.IntVar(&o.ScheduleBytes, "schedule-bytes", pipeline.DefaultScheduleBytes, "with --schedule: hold at most `BYTES` of bundles; more print on arrival")
	fs.StringVar(&o.Record, "record", "", "also write every packet to `FILE` as JSON lines (for replay)")
	fs.BoolVar(&o.Echo, "echo", false, "send every packet back to its sender (for round trips with bench)")
	fs.StringVar(&framing, "framing", "auto", "TCP framing: auto (detect per connection), slip or len")
	fs.IntVar(&o.MaxPacket, "max-packet", transport.DefaultMaxFrame, "TCP: largest frame in `BYTES` (up to 16 MiB); a bigger one closes the connection")
	fs.IntVar(&o.MaxConns, "max-conns", transport.DefaultMaxConns, "TCP: most connections at once; one more closes the one idle longest")
	fs.DurationVar(&o.FrameTimeout, "frame-timeout", transport.DefaultFrameTimeout, "TCP: longest a frame may take from first byte to last (0: no limit)")
	fs.IntVar(&o.Batch, "batch", 64, "UDP: datagrams read per system call (1: one at a time)")
	return c
}

func runDump(ctx context.Context, o *dumpOptions) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	cfg := pipeline.Config{
		Clock:    o.Clock,
		Out:      o.IO.Out,
		Filter:   o.Filters,
		Schedule: o.Schedule,
		Count:    o.Count,
		Echo:     o.Echo,
		Stop:     func() { cancel(errPipelineStop) },
		Render: func(w io.Writer) format.Renderer {
			r, _ := format.NewRenderer(o.Format, w, format.Options{Time: o.Time, Color: o.IO.ColorOut(), Hex: o.Hex})
			return r
		},
	}
	cfg.ScheduleMax, cfg.ScheduleBytes = o.ScheduleMax, o.ScheduleBytes
	cfg.Notice = func(msg string) { fmt.Fprintf(o.IO.ErrOut, "oscli: warning: %s\n", msg) }
	if o.Record != "" {
		f, err := os.Create(o.Record)
		if err != nil {
			return fileError("--record", o.Record, err)
		}
		defer f.Close()
		cfg.RecordOut = f
		cfg.RecordRender = func(w io.Writer) format.Renderer { return format.NewJSON(w) }
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
		OnConn:       connReporter(o.IO.ErrOut, o.Verbose),
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
	if o.Timeout > 0 {
		t := o.Clock.AfterFunc(o.Timeout, func() { cancel(errDumpTimeout) })
		defer t.Stop()
	}
	fprintSafe(o.IO.ErrOut, "oscli: listening on %s\n", l.Describe(notes...))
	if err := o.signalReady(l.Addr().String()); err != nil {
		return err
	}
	serveErr := l.Serve(p.Handle)
	st, err := p.Close()
	// Whatever ended the run, what was counted has been written (or is
	// counted as not written) and the summary says why it stopped.
	if afterCtrlC(ctx, o.IO) {
		fmt.Fprintln(o.IO.ErrOut)
	}
	fprintSafe(o.IO.ErrOut, "oscli: stopped by %s: %s\n", o.stopReason(ctx, err, serveErr),
		pipeline.Summary(st, l.Stats(), o.Listen.Proto == transport.TCP))
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
			return fmt.Errorf("record %s blocked: up to %d %s not recorded (gave up %v after the stop)", o.Record, st.Unrecorded, pipeline.Plural(st.Unrecorded, "packet", "packets"), pipeline.StopGrace)
		}
		return fmt.Errorf("record %s: %w", o.Record, cause)
	case errors.Is(err, pipeline.ErrBlocked):
		// The write given up may have passed part of its buffer to the
		// pipe: the count is an upper bound.
		return fmt.Errorf("stdout blocked: up to %d %s not written (gave up %v after the stop)", st.Unwritten, pipeline.Plural(st.Unwritten, "packet", "packets"), pipeline.StopGrace)
	case err != nil:
		return fmt.Errorf("write output: %w", err)
	case serveErr != nil:
		return serveErr
	}
	if context.Cause(ctx) == errDumpTimeout && o.Count > 0 && st.Packets < int64(o.Count) {
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

// Causes of a dump run's end besides a signal (the parent context's).
var (
	errPipelineStop = errors.New("pipeline stopped") // --count, or an output or record error
	errDumpTimeout  = errors.New("--timeout")
)

// stopReason names what ended a dump run, for "oscli: stopped by …": the
// signal, "--count 5", "--timeout 5s", "a record error", "an output
// error", "a listener error", or "interrupt" (a cancel without a signal).
func (o *dumpOptions) stopReason(ctx context.Context, err, serveErr error) string {
	var sc *signalCause
	cause := context.Cause(ctx)
	switch {
	case errors.As(cause, &sc):
		return sc.Error()
	case cause == errDumpTimeout:
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

// connReporter reports TCP connections on stderr: problems always,
// comings and goings with -v.
func connReporter(w io.Writer, verbose bool) func(transport.ConnEvent) {
	return func(e transport.ConnEvent) {
		switch {
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

func listenError(err error) error {
	var inUse *transport.AddrInUseError
	if errors.As(err, &inUse) {
		return &hintError{err: err, hint: "pick another port with -p (or another path), or stop the program listening there"}
	}
	return err
}

func (o *dumpOptions) signalReady(addr string) error {
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
