package cmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log"
	"net"
	"net/http"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/oscli/oscli/internal/clock"
	"github.com/oscli/oscli/internal/format"
	"github.com/oscli/oscli/internal/iostreams"
	"github.com/oscli/oscli/internal/osc"
	"github.com/oscli/oscli/internal/oscquery"
	"github.com/oscli/oscli/internal/pipeline"
	"github.com/oscli/oscli/internal/transport"
)

type serveOptions struct {
	IO    *iostreams.IOStreams
	Clock clock.Clock

	Tree      string // TREE.json; "" with Learn
	Host      string
	Port      int
	OSCPort   int // -1: the HTTP port's number
	OSCProto  string
	Name      string
	Learn     bool
	Save      string
	JSON      bool
	Time      format.TimeMode
	Count     int
	ReadyFile string
	Verbose   bool

	// ready, when set, is called with HOST:PORT once it serves.
	ready func(addr string)
	// announce, when set, is called with where the server listens once it
	// does (for --advertise); the function it returns is called at the
	// stop, once.
	announce func(servePorts) func()
}

// servePorts is where a running serve listens.
type servePorts struct {
	Host     string // as bound; "" or 0.0.0.0 / :: for every address
	HTTPPort int    // OSCQuery: HTTP and its WebSocket
	OSC      transport.Endpoint
	Name     string
}

func newServeCmd(env *Env, runF func(*serveOptions) error) *cobra.Command {
	o := &serveOptions{}
	var (
		timeStr string
		adv     advertiseFlag
	)
	c := &cobra.Command{
		Use:   "serve [TREE.json] [-p PORT]",
		Short: "Serve an OSCQuery tree, or learn one from traffic (a mock device)",
		Long: `Answer OSCQuery (Vidvox/OSCQueryProposal) for the tree in TREE.json (the
proposal's format: the JSON 'oscli query URL --json' prints), so clients
can be built and tested without the application: HTTP on TCP port -p
answers nodes, attribute queries (?VALUE, ?TYPE, …) and HOST_INFO, and a
WebSocket on the same port takes LISTEN and IGNORE and streams each new
value of a listened address as a binary OSC packet.

The OSC port is UDP on the same number unless --osc-port or --osc-proto
say otherwise (--osc-proto tcp without --osc-port takes a free port, the
HTTP server holding the TCP one); HOST_INFO says where it is. A message
received there is printed as 'oscli dump' prints it (--json for JSON
lines) and sets the VALUE of the address it names (of every address an
OSC pattern matches) when its ACCESS allows writing and its arguments
have the address's TYPE (T and F alike); otherwise it is refused with a
warning on stderr, once per address. Listeners get the message.

--learn starts from an empty tree (or TREE.json) and adds every address
a message arrives at, with its type tags (another type becomes an
OVERLOADS entry) and the range of the numbers seen, and tells WebSocket
clients (PATH_ADDED). --save FILE writes the tree when serve stops (a
FILE serve cannot write is refused as it starts), so a
device you do not own can be captured once and mocked after:
'oscli serve --learn --save dev.json' while the device (or 'oscli
replay') sends, then 'oscli serve dev.json'.

--advertise [NAME] announces serve on the local network with DNS-SD, so
that it is found by name: its HTTP port as _oscjson._tcp ('oscli browse'
lists it, 'oscli query @NAME' asks it) and its OSC port as _osc._udp or
_osc._tcp with OSC 1.1's TXT keys ('oscli send @NAME'). Alone it is
"oscli serve on HOSTNAME"; --name is HOST_INFO's NAME, apart from it. A
word after --advertise that ends in .json or holds a '/' is TREE.json;
--advertise=NAME is always clear. However serve stops, it says goodbye
first, so browsers drop it at once.

-p 0 picks a free port (the OSC port gets the same number). The first line
on stderr says where serve is; --ready-file writes HOST:PORT (127.0.0.1
when it listens on every address), which 'oscli query' takes as its URL
and 'oscli send' as its target when the OSC port has the HTTP port's
number. -n N stops after
N OSC packets. Ctrl-C, SIGTERM or SIGHUP stop serve with a summary.`,
		Example: `  oscli serve examples/oscquery-proposal.json -p 5678
  oscli serve examples/oscquery-proposal.json -p 5678 --osc-port 9000 --osc-proto tcp
  oscli serve --learn --save device.json -p 5678
  oscli serve device.json -H 127.0.0.1 -p 0 --ready-file url.txt
  oscli serve examples/oscquery-proposal.json --advertise "Mock desk"   # then: oscli query @"Mock desk"`,
		Args: needArgs(0, 1, "", "serve takes one TREE.json at most"),
		RunE: func(c *cobra.Command, args []string) error {
			io, err := env.streams()
			if err != nil {
				return err
			}
			o.IO, o.Clock, o.Verbose, o.ready = io, env.Clock, env.verbose, env.onListen
			if len(args) == 1 {
				o.Tree = args[0]
			}
			if o.Tree == "" && !o.Learn {
				return &usageError{err: errors.New("serve needs a TREE.json, or --learn to start empty"),
					hint: "oscli serve examples/oscquery-proposal.json -p 5678, or oscli serve --learn --save tree.json"}
			}
			if err := transport.ValidPort(o.Port); err != nil {
				return usageErrorf("--port %d: want 0 to 65535", o.Port)
			}
			if !flagSet(c.Flags(), "osc-port") {
				o.OSCPort = -1
			} else if err := transport.ValidPort(o.OSCPort); err != nil {
				return usageErrorf("--osc-port %d: want 0 to 65535", o.OSCPort)
			}
			switch o.OSCProto {
			case transport.UDP, transport.TCP:
			default:
				return usageErrorf("invalid --osc-proto %q (want udp or tcp)", o.OSCProto)
			}
			if o.OSCProto == transport.TCP && o.OSCPort == o.Port && o.Port != 0 {
				return usageErrorf("--osc-port %d over TCP: the HTTP server holds TCP port %d; pick another", o.OSCPort, o.Port)
			}
			if o.Time, err = format.ParseTimeMode(timeStr); err != nil {
				return &usageError{err: err}
			}
			if err := inRange("count", o.Count, 0, -1); err != nil {
				return err
			}
			a, err := adv.setup(c.Flags(), env, io, o.OSCProto)
			if err != nil {
				return err
			}
			o.announce = a.serve(c.Context())
			o.Host = bareHost(o.Host)
			warnIdle(io.ErrOut, c.Flags(), idle{"time", o.JSON, "with --json"})
			env.awaitSignals()
			if runF != nil {
				return runF(o)
			}
			return runServe(c.Context(), o)
		},
	}
	fs := c.Flags()
	fs.StringVarP(&o.Host, "host", "H", "0.0.0.0", "address to listen on (HTTP and OSC)")
	fs.IntVarP(&o.Port, "port", "p", 5678, "HTTP port (TCP), and the OSC port's number unless --osc-port (0: a free one)")
	fs.IntVar(&o.OSCPort, "osc-port", 0, "OSC port (default: the HTTP port's number)")
	fs.StringVar(&o.OSCProto, "osc-proto", transport.UDP, "OSC transport: udp or tcp")
	fs.StringVar(&o.Name, "name", "oscli", "NAME in HOST_INFO")
	fs.BoolVar(&o.Learn, "learn", false, "add every address a message arrives at (types, ranges)")
	fs.StringVar(&o.Save, "save", "", "write the tree to `FILE` when serve stops")
	fs.BoolVar(&o.JSON, "json", false, "print received messages as JSON lines, as dump --json does")
	fs.StringVar(&timeStr, "time", "local", "time column: local, utc, unix, rel or none")
	fs.IntVarP(&o.Count, "count", "n", 0, "exit after `N` OSC packets (0: no limit)")
	fs.StringVar(&o.ReadyFile, "ready-file", "", "write HOST:PORT to `FILE` once serving (for scripts)")
	adv.register(fs, "serve")
	return c
}

// loadTree reads TREE.json, bounded by lim; oscquery.ParseTree places a
// subtree at its FULL_PATH and refuses a node that is not where it says.
func loadTree(name string, lim oscquery.Limits) (*oscquery.Node, error) {
	data, err := readFileMax(name, lim.MaxBody, "the most an OSCQuery tree may be")
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, fmt.Errorf("cannot read %s: %w", name, err)
	}
	n, err := oscquery.ParseTree(data, lim)
	if err != nil {
		return nil, usageErrorf("%s: %v", name, err)
	}
	return n, nil
}

// listenServe opens the HTTP listener and the OSC listener. With -p 0
// the OSC port takes the HTTP port's number; should that number be taken
// over UDP, another free port is tried.
func listenServe(ctx context.Context, o *serveOptions, cfg transport.ListenConfig) (net.Listener, transport.Listener, error) {
	for try := 0; ; try++ {
		ln, err := net.Listen("tcp", net.JoinHostPort(o.Host, strconv.Itoa(o.Port)))
		if err != nil {
			if isAddrInUse(err) {
				return nil, nil, &hintError{err: fmt.Errorf("cannot serve on tcp %s: the port is in use", net.JoinHostPort(o.Host, strconv.Itoa(o.Port))),
					hint: "pick another port with -p (0: a free one)"}
			}
			return nil, nil, fmt.Errorf("cannot serve: %w", err)
		}
		httpPort := ln.Addr().(*net.TCPAddr).Port
		oscPort := o.OSCPort
		if oscPort < 0 {
			oscPort = httpPort
			if o.OSCProto == transport.TCP {
				oscPort = 0
			}
		}
		l, err := transport.Listen(ctx, transport.Endpoint{Proto: o.OSCProto, Host: o.Host, Port: oscPort}, cfg)
		if err == nil {
			return ln, l, nil
		}
		ln.Close()
		var inUse *transport.AddrInUseError
		if o.Port == 0 && o.OSCPort < 0 && errors.As(err, &inUse) && try < 5 {
			continue // another program has this number over UDP: pick again
		}
		if errors.As(err, &inUse) {
			return nil, nil, &hintError{err: fmt.Errorf("OSC port: %w", err), hint: "pick another port with --osc-port, or -p 0"}
		}
		return nil, nil, err
	}
}

func isAddrInUse(err error) bool {
	var se *os.SyscallError
	return errors.As(err, &se) && se.Err != nil && se.Err.Error() == "address already in use"
}

func runServe(ctx context.Context, o *serveOptions) error {
	lim := oscquery.DefaultLimits()
	var root *oscquery.Node
	if o.Tree != "" {
		var err error
		if root, err = loadTree(o.Tree, lim); err != nil {
			return err
		}
	}
	var save *saveFile
	if o.Save != "" {
		var err error
		if save, err = openSave(o.Save); err != nil {
			return err
		}
		defer save.abandon()
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	ln, l, err := listenServe(ctx, o, transport.ListenConfig{Clock: o.Clock, OnConn: connReporter(o.IO.ErrOut, o.Verbose)})
	if err != nil {
		return err
	}
	defer l.Close()
	httpPort := ln.Addr().(*net.TCPAddr).Port
	oscAt := l.Addr()
	info := oscquery.HostInfo{Name: o.Name, OSCPort: oscAt.Port, OSCTransport: map[string]string{transport.UDP: "UDP", transport.TCP: "TCP"}[o.OSCProto]}
	if !isWildcardHost(o.Host) {
		info.OSCIP = o.Host
	}
	warned := newWarnOnce(o.IO.ErrOut, 1000)
	srv := oscquery.NewServer(root, oscquery.ServerConfig{Info: info, Learn: o.Learn, Limits: lim,
		Notice: func(msg string) { fprintSafe(o.IO.ErrOut, "oscli: warning: %s\n", msg) }})
	hs := &http.Server{
		Handler:           srv,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		IdleTimeout:       60 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          log.New(io.Discard, "", 0), // a client's broken request is its own business
		BaseContext:       func(net.Listener) context.Context { return ctx },
	}
	httpErr := make(chan error, 1)
	go func() {
		err := hs.Serve(ln)
		if !errors.Is(err, http.ErrServerClosed) {
			cancel(fmt.Errorf("HTTP server: %w", err))
		}
		httpErr <- nil
	}()
	p := pipeline.New(pipeline.Config{
		Clock: o.Clock,
		Out:   o.IO.Out,
		Count: o.Count,
		Stop:  func() { cancel(errPipelineStop) },
		Render: func(w io.Writer) format.Renderer {
			name := "text"
			if o.JSON {
				name = "json"
			}
			r, _ := format.NewRenderer(name, w, format.Options{Time: o.Time, Color: o.IO.ColorOut()})
			return r
		},
	})
	defer context.AfterFunc(ctx, p.Stopping)()
	var (
		mu       sync.Mutex
		dec      osc.Decoder
		set, bad int
	)
	handle := func(pk *transport.Packet) {
		// The value is set before the message is printed: a script that
		// sees the line can read the new value.
		if !pk.Truncated {
			mu.Lock()
			if d, err := dec.Decode(pk.Data); err == nil {
				applyElem(d, srv, &set, &bad, warned)
			}
			mu.Unlock()
		}
		p.Handle(pk)
	}
	at := servePorts{Host: o.Host, HTTPPort: httpPort, OSC: oscAt, Name: o.Name}
	addr := serveAddr(o.Host, httpPort)
	nodes := srv.Root().Count()
	fprintSafe(o.IO.ErrOut, "oscli: serving OSCQuery on %s (%d %s; OSC on %s; WebSocket on the same port%s)\n",
		httpURL(o.Host, httpPort), nodes, pipeline.Plural(nodes, "node", "nodes"), l.Describe(), map[bool]string{true: "; learning", false: ""}[o.Learn])
	withdraw := func() {}
	if o.announce != nil {
		withdraw = sync.OnceFunc(o.announce(at))
	}
	defer withdraw()
	if err := (&listenOptions{ready: o.ready, ReadyFile: o.ReadyFile}).signalReady(addr); err != nil {
		hs.Close()
		return err
	}
	serveErr := l.Serve(handle)
	withdraw() // goodbye first, so browsers drop serve at once
	// Stop: no new HTTP requests, WebSockets closed, output flushed.
	sctx, scancel := context.WithTimeout(context.Background(), time.Second)
	_ = hs.Shutdown(sctx)
	scancel()
	hs.Close()
	srv.Close()
	<-httpErr
	st, perr := p.Close()
	if afterCtrlC(ctx, o.IO) {
		fmt.Fprintln(o.IO.ErrOut)
	}
	reason := (&listenOptions{Count: o.Count}).stopReason(ctx, perr, serveErr)
	cause := context.Cause(ctx)
	var sc *signalCause
	if cause != nil && cause != errPipelineStop && !errors.As(cause, &sc) && !errors.Is(cause, context.Canceled) {
		reason = "an error"
	}
	fprintSafe(o.IO.ErrOut, "oscli: stopped by %s: %s, %d %s set, %d refused\n", reason,
		pipeline.Summary(st, l.Stats(), o.OSCProto == transport.TCP), set, pipeline.Plural(set, "value", "values"), bad)
	var saveErr error
	if save != nil {
		saveErr = save.write(srv.Tree())
	}
	switch {
	case perr != nil:
		return fmt.Errorf("write output: %w", perr)
	case serveErr != nil:
		return serveErr
	case reason == "an error":
		return cause
	}
	return saveErr
}

func applyElem(p osc.Packet, srv *oscquery.Server, set, bad *int, w *warnOnce) {
	switch p := p.(type) {
	case *osc.Message:
		if n, err := srv.Apply(p); err != nil {
			*bad++
			w.warn(p.Address, err)
		} else {
			*set += n
		}
	case *osc.Bundle:
		for _, e := range p.Elements {
			applyElem(e, srv, set, bad, w)
		}
	}
}

// saveFile is --save's file, opened when serve starts (as dump opens
// --record's), so that a path serve cannot write is refused before a
// session of learning, not lost at its end. A regular file (or none yet)
// is written as a temporary file then renamed, so a crash never leaves
// half a tree; anything else (a symbolic link such as /dev/stdout, a
// FIFO, a device) is written through, never replaced.
type saveFile struct {
	name string
	f    *os.File
	tmp  string // the temporary file; "" when f is name itself
}

func openSave(name string) (*saveFile, error) {
	if fi, err := os.Lstat(name); err == nil && !fi.Mode().IsRegular() {
		f, err := os.OpenFile(name, os.O_WRONLY|os.O_TRUNC, 0)
		if err != nil {
			return nil, fileError("--save", name, err)
		}
		return &saveFile{name: name, f: f}, nil
	}
	tmp := name + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return nil, fileError("--save", name, err)
	}
	return &saveFile{name: name, f: f, tmp: tmp}, nil
}

// write writes the tree and closes the file.
func (s *saveFile) write(data []byte) error {
	_, err := s.f.Write(data)
	if cerr := s.f.Close(); err == nil {
		err = cerr
	}
	s.f = nil
	if err == nil && s.tmp != "" {
		err = os.Rename(s.tmp, s.name)
	}
	if err != nil {
		if s.tmp != "" {
			os.Remove(s.tmp)
		}
		return fileError("--save", s.name, err)
	}
	return nil
}

// abandon closes a file not written (serve failed before it served),
// leaving no temporary file behind.
func (s *saveFile) abandon() {
	if s.f == nil {
		return
	}
	s.f.Close()
	s.f = nil
	if s.tmp != "" {
		os.Remove(s.tmp)
	}
}

func isWildcardHost(h string) bool { return h == "" || h == "0.0.0.0" || h == "::" }

// serveAddr is where a client on this machine reaches serve, HOST:PORT:
// the address bound, or loopback when it is every address. query takes
// it as its URL, and send as its target when the OSC port has the same
// number.
func serveAddr(host string, port int) string {
	switch host {
	case "", "0.0.0.0":
		host = "127.0.0.1"
	case "::":
		host = "::1"
	}
	return net.JoinHostPort(host, strconv.Itoa(port))
}

func httpURL(host string, port int) string {
	if host == "" {
		host = "0.0.0.0"
	}
	return "http://" + net.JoinHostPort(host, strconv.Itoa(port))
}

// warnOnce warns about a refused message once per address, and about at
// most max addresses, so a flood cannot flood stderr.
type warnOnce struct {
	mu   sync.Mutex
	w    io.Writer
	seen map[string]bool
	max  int
}

func newWarnOnce(w io.Writer, max int) *warnOnce {
	return &warnOnce{w: w, seen: map[string]bool{}, max: max}
}

func (w *warnOnce) warn(addr string, err error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.seen[addr] || len(w.seen) > w.max {
		return
	}
	w.seen[addr] = true
	if len(w.seen) > w.max {
		fprintSafe(w.w, "oscli: warning: more than %d addresses refused; no more warnings\n", w.max)
		return
	}
	fprintSafe(w.w, "oscli: warning: refused: %v (warned once per address)\n", err)
}
