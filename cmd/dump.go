package cmd

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/oscli/oscli/internal/format"
	"github.com/oscli/oscli/internal/iostreams"
	"github.com/oscli/oscli/internal/match"
	"github.com/oscli/oscli/internal/osc"
	"github.com/oscli/oscli/internal/transport"
)

type dumpOptions struct {
	IO  *iostreams.IOStreams
	Now func() time.Time

	Listen    transport.Endpoint
	Groups    []string
	Iface     string
	Filters   filterSet
	Format    string
	Hex       bool
	Time      format.TimeMode
	Count     int
	Timeout   time.Duration
	Verbose   bool
	ReadyFile string
	Schedule  bool
	Echo      bool
	Framing   transport.Framing
	Record    string
	MaxPacket int
	MaxConns  int
	Batch     int

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
with flags. The default is 0.0.0.0:8000 over UDP.

Text output prints each message in the syntax 'oscli send' reads, after the
arrival time and the sender: paste a line after 'oscli send', or pipe dump's
output into 'oscli send -', and the same bytes go out. Bundles print a header
with their time tag and how far in the future (or late) it is, and their
elements indented below; they print on arrival. Strings are quoted and
escaped so nothing a sender puts in them reaches your terminal raw.

A malformed packet prints one '#malformed' line with the byte offset and the
reason, then its hexdump; dump keeps listening. On exit (Ctrl-C, --count,
--timeout) a summary goes to stderr: packets, bytes, malformed, filtered.

--count counts the packets shown (malformed ones included); --timeout is the
longest dump listens in all. --filter and --exclude take OSC address
patterns (* ? [a-z] [!a-z] {a,b} and OSC 1.1's //); a bundle is shown whole
when any of its messages passes.`,
		Example: `  oscli dump                        # UDP 0.0.0.0:8000
  oscli dump 9000 --json | jq .packet.args
  oscli dump -p 9000 --filter '/1/*' --exclude '/1/ping'
  oscli dump udp://[::]:9000 --time utc --hex
  oscli dump -p 7000 --group 239.0.0.1 --iface eth0
  oscli dump -n 1 --timeout 5s      # wait up to 5 s for one packet
  oscli dump --format raw > session.slip`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			io, err := env.streams()
			if err != nil {
				return err
			}
			o.IO, o.Now, o.Verbose, o.ready = io, env.Now, env.verbose, env.onListen
			word := ""
			if len(args) == 1 {
				word = args[0]
			}
			if o.Listen, err = resolveEndpoint(word, &nf, c.Flags(), env.config()); err != nil {
				return err
			}
			for _, f := range filters {
				p, err := match.Compile(f)
				if err != nil {
					return usageErrorf("--filter: %v", err)
				}
				o.Filters.include = append(o.Filters.include, p)
			}
			for _, f := range excludes {
				p, err := match.Compile(f)
				if err != nil {
					return usageErrorf("--exclude: %v", err)
				}
				o.Filters.exclude = append(o.Filters.exclude, p)
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
			if o.Count < 0 || o.Timeout < 0 {
				return usageErrorf("--count and --timeout cannot be negative")
			}
			if o.Framing, err = transport.ParseFraming(framing, true); err != nil {
				return &usageError{err: err}
			}
			if o.MaxPacket < 16 || o.MaxConns < 1 {
				return usageErrorf("--max-packet must be at least 16 and --max-conns at least 1")
			}
			if len(o.Groups) > 0 && o.Listen.Proto != transport.UDP {
				return usageErrorf("--group works with UDP only")
			}
			if runF != nil {
				return runF(o)
			}
			return runDump(c.Context(), o)
		},
	}
	fs := c.Flags()
	nf.register(fs, "0.0.0.0", "address to listen on (:: for IPv6)")
	fs.StringArrayVar(&o.Groups, "group", nil, "join multicast group `ADDR` (repeatable)")
	fs.StringVar(&o.Iface, "iface", "", "network interface for multicast")
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
	fs.StringVar(&o.Record, "record", "", "also write every packet to `FILE` as JSON lines (for replay)")
	fs.BoolVar(&o.Echo, "echo", false, "send every packet back to its sender (for round trips with bench)")
	fs.StringVar(&framing, "framing", "auto", "TCP framing: auto (detect per connection), slip or len")
	fs.IntVar(&o.MaxPacket, "max-packet", transport.DefaultMaxFrame, "TCP: largest frame in `BYTES`; a bigger one closes the connection")
	fs.IntVar(&o.MaxConns, "max-conns", 500, "TCP: most connections at once")
	fs.IntVar(&o.Batch, "batch", 64, "UDP: datagrams read per system call (1: one at a time)")
	return c
}

// dumpStats are the numbers of the closing summary.
type dumpStats struct {
	packets, bytes, malformed, filtered, truncated int64
	conns, dropped                                 int64
	kernelDrops                                    int64
	pending                                        int
}

// dumper is one dump run: receivers (a UDP or Unix socket loop, or one
// goroutine per TCP connection, and the --schedule timer) hand it events;
// it filters, renders and counts them one at a time.
type dumper struct {
	o     *dumpOptions
	mu    sync.Mutex
	r     format.Renderer
	st    dumpStats
	err   error // first output error; ends the run
	stop  func()
	sched *scheduler
	echo  func(ev *format.Event)
	rec   format.Renderer // --record
	out   *bufio.Writer   // stdout, flushed by batch and by time
}

func runDump(ctx context.Context, o *dumpOptions) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	d := &dumper{o: o, stop: cancel, out: bufio.NewWriterSize(o.IO.Out, 64*1024)}
	d.r = o.renderer(d.out)
	if o.Record != "" {
		f, err := os.Create(o.Record)
		if err != nil {
			return err
		}
		defer f.Close()
		// One Write per packet: a crash leaves every packet but the one
		// being written.
		d.rec = format.NewJSON(f)
	}
	if o.Schedule {
		d.sched = newScheduler(d)
	}
	var serve func() error
	var closeFn func()
	var addr transport.Endpoint
	note := "" // what the "listening on" line adds
	switch o.Listen.Proto {
	case transport.TCP:
		srv, err := transport.ListenTCP(ctx, o.Listen.Host, o.Listen.Port)
		if err != nil {
			return listenError(err)
		}
		srv.Framing, srv.MaxFrame, srv.MaxConns = o.Framing, o.MaxPacket, o.MaxConns
		host, port, _ := net.SplitHostPort(srv.Local)
		p, _ := strconv.Atoi(port)
		addr = transport.Endpoint{Proto: transport.TCP, Host: host, Port: p}
		serve = func() error { return srv.Serve(&streamHandler{d}) }
		closeFn = func() { srv.Close() }
	case transport.Unix:
		conn, err := transport.ListenUnix(o.Listen.Path)
		if err != nil {
			return listenError(err)
		}
		addr = transport.Endpoint{Proto: transport.Unix, Path: conn.Path}
		if o.Echo {
			d.echo = func(ev *format.Event) {
				if path, ok := strings.CutPrefix(ev.From, "unix:"); ok && path != "-" {
					_ = conn.WriteTo(ev.Raw, path)
				}
			}
		}
		serve = func() error { return d.readDatagrams(ctx, transport.Unix, conn.ReadFrom) }
		closeFn = func() { conn.Close() }
	default:
		conn, err := transport.ListenUDP(ctx, transport.UDPConfig{
			Host:   o.Listen.Host,
			Port:   o.Listen.Port,
			Groups: o.Groups,
			Iface:  o.Iface,
		})
		if err != nil {
			return listenError(err)
		}
		addr = transport.Endpoint{Proto: transport.UDP, Host: conn.Local.Addr().String(), Port: int(conn.Local.Port())}
		for _, g := range conn.Groups {
			note += " +group " + g.String()
		}
		if o.Verbose {
			note += fmt.Sprintf(" (receive buffer %d bytes)", conn.RecvBuffer())
		}
		if o.Echo {
			d.echo = func(ev *format.Event) {
				if to, err := netip.ParseAddrPort(ev.From); err == nil {
					_ = conn.WriteTo(ev.Raw, to)
				}
			}
		}
		serve = func() error { return d.readUDP(ctx, conn) }
		closeFn = func() { conn.Close() }
	}
	defer closeFn()
	if o.Listen.Proto == transport.TCP {
		note = " (framing " + string(o.Framing) + ")"
	}
	fmt.Fprintf(o.IO.ErrOut, "oscli: listening on %s%s\n", addr, note)
	if err := o.signalReady(addr.String()); err != nil {
		return err
	}
	// Stop on Ctrl-C, --timeout or --count by closing the socket, which
	// ends the receivers.
	if o.Timeout > 0 {
		timer := time.AfterFunc(o.Timeout, cancel)
		defer timer.Stop()
	}
	go func() {
		<-ctx.Done()
		closeFn()
	}()
	err := serve()
	cancel()
	if d.sched != nil {
		d.st.pending = d.sched.close()
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.flushLocked()
	if d.err != nil {
		return fmt.Errorf("write output: %w", d.err)
	}
	o.summary(&d.st)
	return err
}

func listenError(err error) error {
	var inUse *transport.AddrInUseError
	if errors.As(err, &inUse) {
		return &hintError{err: err, hint: "pick another port with -p (or another path), or stop the program listening there"}
	}
	return err
}

// readUDP is the UDP receive loop. It reads up to --batch datagrams per
// system call and flushes the output when the socket has nothing more
// queued (so a quiet line is printed at once), or every few milliseconds
// under a flood.
func (d *dumper) readUDP(ctx context.Context, conn *transport.UDPConn) error {
	var rs recvState
	batch := transport.NewBatch(max(d.o.Batch, 1), transport.MaxDatagram)
	var (
		lastAddr  netip.AddrPort
		lastFrom  string
		lastFlush = time.Now()
	)
	for {
		n, err := conn.ReadBatch(batch)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("receive: %w", err)
		}
		for i := range n {
			m := &batch.Msgs[i]
			var ap netip.AddrPort
			if ua, ok := m.Addr.(*net.UDPAddr); ok {
				ap = ua.AddrPort()
				ap = netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
			}
			if ap != lastAddr || lastFrom == "" {
				lastAddr, lastFrom = ap, ap.String()
			}
			d.handle(&rs, lastFrom, transport.UDP, m.Buffers[0][:m.N], batch.Truncated(i), false)
		}
		if n < len(batch.Msgs) || time.Since(lastFlush) > flushEvery {
			d.flush()
			lastFlush = time.Now()
		}
		if drops, ok := conn.KernelDrops(); ok {
			d.mu.Lock()
			d.st.kernelDrops = int64(drops)
			d.mu.Unlock()
		}
	}
}

// flushEvery bounds how late output may be under a flood.
const flushEvery = 5 * time.Millisecond

// readDatagrams is the receive loop of a UDP or Unix datagram socket.
func (d *dumper) readDatagrams(ctx context.Context, proto string, read func([]byte) (int, string, bool, error)) error {
	var rs recvState
	buf := make([]byte, transport.MaxDatagram)
	for {
		n, from, truncated, err := read(buf)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("receive: %w", err)
		}
		d.handle(&rs, from, proto, buf[:n], truncated, true)
	}
}

// streamHandler adapts TCP connections to the dumper.
type streamHandler struct{ d *dumper }

func (h *streamHandler) Opened(c *transport.StreamConn) {
	h.d.mu.Lock()
	h.d.st.conns++
	h.d.mu.Unlock()
	if h.d.o.Verbose {
		fmt.Fprintf(h.d.o.IO.ErrOut, "oscli: %s connected (%s)\n", c.Remote, c.Proto())
	}
}

func (h *streamHandler) Closed(c *transport.StreamConn, err error) {
	if err == nil {
		if h.d.o.Verbose {
			fmt.Fprintf(h.d.o.IO.ErrOut, "oscli: %s disconnected\n", c.Remote)
		}
		return
	}
	h.d.mu.Lock()
	h.d.st.dropped++
	h.d.mu.Unlock()
	fmt.Fprintf(h.d.o.IO.ErrOut, "oscli: %s: %v; connection closed\n", c.Remote, err)
}

func (h *streamHandler) Packet(c *transport.StreamConn, frame []byte) {
	// One state per connection: Packet calls for a connection come from
	// its own goroutine.
	rs, ok := c.State.(*recvState)
	if !ok {
		rs = new(recvState)
		c.State = rs
	}
	if h.d.o.Echo {
		_ = c.Send(frame)
	}
	h.d.handle(rs, c.Remote, c.Proto(), frame, false, true)
}

// handle decodes a received packet and shows it, or holds it (--schedule).
// recvState is what one receiving goroutine reuses from packet to packet,
// so that the per-packet path does not allocate.
type recvState struct {
	dec osc.Decoder
	ev  format.Event
}

func (d *dumper) handle(rs *recvState, from, proto string, raw []byte, truncated, flush bool) {
	rs.ev = format.Event{Time: d.o.Now(), From: from, Proto: proto, Raw: raw}
	ev := &rs.ev
	dec := &rs.dec
	if truncated {
		d.mu.Lock()
		d.st.truncated++
		d.mu.Unlock()
		ev.Err = fmt.Errorf("datagram truncated to %d bytes", len(raw))
	} else {
		ev.Packet, ev.Err = dec.Decode(raw)
	}
	if d.echo != nil && ev.Err == nil {
		d.echo(ev)
	}
	if d.sched != nil && ev.Err == nil {
		if b, ok := ev.Packet.(*osc.Bundle); ok && !b.Timetag.IsImmediate() && b.Timetag.Time().After(ev.Time) && d.o.Filters.pass(b) {
			d.sched.hold(ev, b.Timetag.Time())
			return
		}
	}
	d.emit(ev, flush)
}

// emit filters, renders and counts one event, and flushes the output
// when asked (receivers that do not batch, the scheduler).
func (d *dumper) emit(ev *format.Event, flush bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if flush {
		defer d.flushLocked()
	}
	if d.err != nil || d.o.Count > 0 && d.st.packets >= int64(d.o.Count) {
		return
	}
	if ev.Err == nil && !d.o.Filters.pass(ev.Packet) {
		d.st.filtered++
		return
	}
	if ev.Err != nil {
		d.st.malformed++
	}
	d.st.packets++
	d.st.bytes += int64(len(ev.Raw))
	if err := d.r.Render(ev); err != nil {
		d.err = err
		d.stop()
		return
	}
	if d.rec != nil {
		if err := d.rec.Render(ev); err != nil {
			d.err = fmt.Errorf("--record: %w", err)
			d.stop()
			return
		}
	}
	if d.o.Count > 0 && d.st.packets >= int64(d.o.Count) {
		d.flushLocked()
		d.stop()
	}
}

func (d *dumper) flush() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.flushLocked()
}

func (d *dumper) flushLocked() {
	if d.out.Buffered() == 0 || d.err != nil {
		return
	}
	if err := d.out.Flush(); err != nil {
		d.err = err
		d.stop()
	}
}

func (o *dumpOptions) signalReady(addr string) error {
	if o.ready != nil {
		o.ready(addr)
	}
	if o.ReadyFile != "" {
		// Write then rename, so a watcher never reads half a line.
		tmp := o.ReadyFile + ".tmp"
		if err := os.WriteFile(tmp, []byte(addr+"\n"), 0o644); err != nil {
			return err
		}
		return os.Rename(tmp, o.ReadyFile)
	}
	return nil
}

func (o *dumpOptions) renderer(w io.Writer) format.Renderer {
	switch o.Format {
	case "json":
		return format.NewJSON(w)
	case "hex":
		return format.NewHex(w)
	case "raw":
		return format.NewRaw(w)
	}
	return format.NewText(w, format.Options{Time: o.Time, Color: o.IO.ColorOut(), Hex: o.Hex})
}

func (o *dumpOptions) summary(st *dumpStats) {
	var b strings.Builder
	fmt.Fprintf(&b, "oscli: %d packets, %d bytes, %d malformed, %d filtered", st.packets, st.bytes, st.malformed, st.filtered)
	if o.Listen.Proto == transport.TCP {
		fmt.Fprintf(&b, ", %d connections, %d dropped", st.conns, st.dropped)
	}
	if st.truncated > 0 {
		fmt.Fprintf(&b, ", %d truncated", st.truncated)
	}
	if st.kernelDrops > 0 {
		fmt.Fprintf(&b, ", %d dropped by the kernel (receive buffer full)", st.kernelDrops)
	}
	if st.pending > 0 {
		fmt.Fprintf(&b, ", %d bundles still held", st.pending)
	}
	fmt.Fprintln(o.IO.ErrOut, b.String())
}
