package cmd

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync/atomic"
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
	Filters   []*match.Pattern
	Excludes  []*match.Pattern
	Format    string
	Hex       bool
	Time      format.TimeMode
	Count     int
	Timeout   time.Duration
	Verbose   bool
	ReadyFile string

	// ready, when set, is called with the bound address once listening.
	ready func(addr string)
}

func newDumpCmd(env *Env, runF func(*dumpOptions) error) *cobra.Command {
	o := &dumpOptions{}
	var (
		nf                  netFlags
		filters, excludes   []string
		asJSON              bool
		formatName, timeStr string
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
				o.Filters = append(o.Filters, p)
			}
			for _, f := range excludes {
				p, err := match.Compile(f)
				if err != nil {
					return usageErrorf("--exclude: %v", err)
				}
				o.Excludes = append(o.Excludes, p)
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
	return c
}

// dumpStats are the numbers of the closing summary.
type dumpStats struct {
	packets, bytes, malformed, filtered, truncated int64
}

func runDump(ctx context.Context, o *dumpOptions) error {
	conn, err := transport.ListenUDP(ctx, transport.UDPConfig{
		Host:   o.Listen.Host,
		Port:   o.Listen.Port,
		Groups: o.Groups,
		Iface:  o.Iface,
	})
	if err != nil {
		var inUse *transport.AddrInUseError
		if errors.As(err, &inUse) {
			return &hintError{err: err, hint: "pick another port with -p, or stop the program listening there"}
		}
		return err
	}
	defer conn.Close()
	addr := transport.Endpoint{Proto: transport.UDP, Host: conn.Local.Addr().String(), Port: int(conn.Local.Port())}
	fmt.Fprintf(o.IO.ErrOut, "oscli: listening on %s", addr)
	for _, g := range conn.Groups {
		fmt.Fprintf(o.IO.ErrOut, " +group %s", g)
	}
	if o.Verbose {
		fmt.Fprintf(o.IO.ErrOut, " (receive buffer %d bytes)", conn.RecvBuffer())
	}
	fmt.Fprintln(o.IO.ErrOut)
	if err := o.signalReady(addr.String()); err != nil {
		return err
	}

	// Stop on Ctrl-C or --timeout by closing the socket, which ends the read.
	var stopped atomic.Bool
	stop := func() {
		stopped.Store(true)
		conn.Close()
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if o.Timeout > 0 {
		timer := time.AfterFunc(o.Timeout, stop)
		defer timer.Stop()
	}
	go func() {
		<-ctx.Done()
		stop()
	}()

	r := o.renderer()
	var (
		st  dumpStats
		dec osc.Decoder
		buf = make([]byte, transport.MaxDatagram)
	)
	for o.Count == 0 || st.packets < int64(o.Count) {
		n, from, truncated, err := conn.ReadFrom(buf)
		if err != nil {
			if stopped.Load() {
				break
			}
			return fmt.Errorf("receive: %w", err)
		}
		ev := format.Event{Time: o.Now(), From: from.String(), Proto: transport.UDP, Raw: buf[:n]}
		if truncated {
			st.truncated++
			ev.Err = fmt.Errorf("datagram truncated to %d bytes", n)
		} else {
			ev.Packet, ev.Err = dec.Decode(ev.Raw)
		}
		if ev.Err == nil && !o.pass(ev.Packet) {
			st.filtered++
			continue
		}
		if ev.Err != nil {
			st.malformed++
		}
		st.packets++
		st.bytes += int64(n)
		if err := r.Render(&ev); err != nil {
			return fmt.Errorf("write output: %w", err)
		}
	}
	o.summary(&st)
	return nil
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

func (o *dumpOptions) renderer() format.Renderer {
	switch o.Format {
	case "json":
		return format.NewJSON(o.IO.Out)
	case "hex":
		return format.NewHex(o.IO.Out)
	case "raw":
		return format.NewRaw(o.IO.Out)
	}
	return format.NewText(o.IO.Out, format.Options{Time: o.Time, Color: o.IO.ColorOut(), Hex: o.Hex})
}

// pass applies --filter and --exclude: a message passes when it matches a
// filter (or there are none) and no exclude; a bundle when any of its
// messages passes.
func (o *dumpOptions) pass(p osc.Packet) bool {
	if len(o.Filters) == 0 && len(o.Excludes) == 0 {
		return true
	}
	switch p := p.(type) {
	case *osc.Message:
		for _, x := range o.Excludes {
			if x.Match(p.Address) {
				return false
			}
		}
		if len(o.Filters) == 0 {
			return true
		}
		for _, f := range o.Filters {
			if f.Match(p.Address) {
				return true
			}
		}
		return false
	case *osc.Bundle:
		for _, e := range p.Elements {
			if o.pass(e) {
				return true
			}
		}
	}
	return false
}

func (o *dumpOptions) summary(st *dumpStats) {
	var b strings.Builder
	fmt.Fprintf(&b, "oscli: %d packets, %d bytes, %d malformed, %d filtered", st.packets, st.bytes, st.malformed, st.filtered)
	if st.truncated > 0 {
		fmt.Fprintf(&b, ", %d truncated", st.truncated)
	}
	fmt.Fprintln(o.IO.ErrOut, b.String())
}
