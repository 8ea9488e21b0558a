package cmd

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/oscli/oscli/internal/clock"
	"github.com/oscli/oscli/internal/format"
	"github.com/oscli/oscli/internal/iostreams"
	"github.com/oscli/oscli/internal/zeroconf"
)

type browseOptions struct {
	IO    *iostreams.IOStreams
	Clock clock.Clock
	// Zeroconf opens DNS-SD (nil: not available here).
	Zeroconf func(clock.Clock, func(string)) zeroconf.Network

	Types   []string // _osc._udp, _osc._tcp, _oscjson._tcp and --type's
	Timeout time.Duration
	JSON    bool
}

// browseDefaultTypes are what browse looks for without --type.
var browseDefaultTypes = []string{zeroconf.OSCUDP, zeroconf.OSCTCP, zeroconf.OSCJSON}

func newBrowseCmd(env *Env, runF func(*browseOptions) error) *cobra.Command {
	o := &browseOptions{}
	var types []string
	c := &cobra.Command{
		Use:   "browse",
		Short: "List the OSC applications on the network (DNS-SD)",
		Long: `List the OSC applications that announce themselves on the local network
with DNS-SD (zeroconf, Bonjour): services of type _osc._udp, _osc._tcp and
_oscjson._tcp (OSCQuery servers), and any type given with --type.

Each service prints on one line when it is found: its instance name, type,
where to send (udp://ADDR:PORT), its host and addresses, and its TXT
record, whose OSC 1.1 keys (txtvers, version, framing, uri, types) say what
it speaks; an OSCQuery server's HOST_INFO is fetched over HTTP and its name
and OSC port shown. '+' marks a service found, '~' one that changed, '-'
one gone (it said goodbye, or its records expired). The instance name is
a target: oscli send @"TouchOSC on iPad" /x 1. An OSCQuery server's line
ends with the command that asks it: → oscli query @NAME.

Without --timeout, browse prints as services come and go until Ctrl-C.
With --timeout D it prints, after D, the list of what it found, and exits
with status 1 when it found nothing. --json prints one JSON object per
event (found, updated, gone) as it happens, with --timeout too.

A loopback address announced from another machine (VRChat announces
127.0.0.1 on every interface) is shown unreachable, not as a target: it is
that machine's loopback. oscli speaks multicast DNS over IPv4, sharing UDP
port 5353 with avahi-daemon and other responders.`,
		Example: `  oscli browse
  oscli browse --timeout 3s
  oscli browse --json | jq -r 'select(.event == "found") | .target'
  oscli browse --type _qlab._udp --type _qlab._tcp`,
		Args: needArgs(0, 0, "", "browse takes no arguments (--type names more service types)"),
		RunE: func(c *cobra.Command, _ []string) error {
			io, err := env.streams()
			if err != nil {
				return err
			}
			o.IO, o.Clock, o.Zeroconf = io, env.Clock, env.Zeroconf
			o.Types = append([]string(nil), browseDefaultTypes...)
			for _, t := range types {
				norm, ok := zeroconf.ValidType(t)
				if !ok {
					return &usageError{err: fmt.Errorf("--type %q: want a DNS-SD service type, _name._udp or _name._tcp", t),
						hint: "the name has 1 to 15 letters, digits and hyphens: --type _qlab._tcp"}
				}
				if !containsFold(o.Types, norm) {
					o.Types = append(o.Types, norm)
				}
			}
			if err := notNegative("timeout", o.Timeout); err != nil {
				return err
			}
			env.awaitSignals()
			if runF != nil {
				return runF(o)
			}
			return runBrowse(c.Context(), o)
		},
	}
	fs := c.Flags()
	fs.StringArrayVar(&types, "type", nil, "also browse service type `TYPE` (_name._udp or _name._tcp; repeatable)")
	fs.DurationVar(&o.Timeout, "timeout", 0, "browse this long, then print what was found (exit 1 if nothing; 0: until Ctrl-C)")
	fs.BoolVar(&o.JSON, "json", false, "print one JSON object per service found, changed or gone")
	return c
}

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}

// errBrowseTimeout ends a browse at --timeout.
var errBrowseTimeout = errors.New("--timeout")

func runBrowse(ctx context.Context, o *browseOptions) error {
	if o.Zeroconf == nil {
		return errors.New("DNS-SD is not available here")
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	if o.Timeout > 0 {
		t := o.Clock.AfterFunc(o.Timeout, func() { cancel(errBrowseTimeout) })
		defer t.Stop()
	}
	z := o.Zeroconf(o.Clock, func(s string) { fprintSafe(o.IO.ErrOut, "oscli: warning: %s\n", s) })
	live := o.JSON || o.Timeout == 0
	if !o.JSON {
		how := "until Ctrl-C"
		if o.Timeout > 0 {
			how = "for " + o.Timeout.String()
		}
		fprintSafe(o.IO.ErrOut, "oscli: browsing %s %s\n", strings.Join(o.Types, ", "), how)
	}
	list := map[string]*format.Service{} // the latest of each service
	var order []string
	found, gone := 0, 0
	var out []byte
	var werr error
	err := z.Browse(ctx, o.Types, func(ev zeroconf.Event) {
		s := serviceLine(&ev)
		key := ev.Service.Key()
		if _, seen := list[key]; !seen {
			order = append(order, key)
		}
		list[key] = s
		switch ev.Kind {
		case zeroconf.Found:
			found++
		case zeroconf.Gone:
			gone++
		}
		if !live || werr != nil {
			return
		}
		if o.JSON {
			out = format.AppendServiceJSON(out[:0], s)
		} else {
			out = format.AppendServiceText(out[:0], s)
		}
		out = append(out, '\n')
		if _, err := o.IO.Out.Write(out); err != nil {
			werr = err
			cancel(err)
		}
	})
	cause := context.Cause(ctx)
	var sc *signalCause
	switch {
	case werr != nil:
		return fmt.Errorf("write output: %w", werr)
	case err != nil && !errors.Is(err, context.Canceled):
		return browseError(err)
	}
	if !live {
		sort.Slice(order, func(i, j int) bool {
			a, b := list[order[i]], list[order[j]]
			if a.Type != b.Type {
				return a.Type < b.Type
			}
			return strings.ToLower(a.Name) < strings.ToLower(b.Name)
		})
		for _, k := range order {
			s := *list[k]
			s.Event = ""
			out = append(format.AppendServiceText(out[:0], &s), '\n')
			if _, err := o.IO.Out.Write(out); err != nil {
				return fmt.Errorf("write output: %w", err)
			}
		}
	}
	why := "interrupt"
	switch {
	case errors.As(cause, &sc):
		why = sc.Error()
	case cause == errBrowseTimeout:
		why = "--timeout " + o.Timeout.String()
	}
	if afterCtrlC(ctx, o.IO) {
		fmt.Fprintln(o.IO.ErrOut)
	}
	fprintSafe(o.IO.ErrOut, "oscli: stopped by %s: %d %s found, %d gone\n", why, found, plural(found, "service", "services"), gone)
	if cause == errBrowseTimeout && found == 0 {
		return &hintError{err: fmt.Errorf("no service of type %s answered within --timeout %v", strings.Join(o.Types, ", "), o.Timeout),
			hint: "multicast DNS needs UDP port 5353 open to the local network (a firewall, or a Wi-Fi that isolates clients, blocks it)"}
	}
	return nil
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// browseError words a failure to browse at all.
func browseError(err error) error {
	if errors.Is(err, zeroconf.ErrNoInterface) {
		return &hintError{err: fmt.Errorf("cannot browse: %w", err),
			hint: "DNS-SD works on a network interface that is up, has an IPv4 address and carries multicast"}
	}
	return fmt.Errorf("cannot browse: %w", err)
}

// serviceLine is what browse prints of an event.
func serviceLine(ev *zeroconf.Event) *format.Service {
	s := &ev.Service
	out := &format.Service{
		Time: ev.Time, Event: ev.Kind.String(), Reason: ev.Reason, Gone: ev.Kind == zeroconf.Gone,
		Name: s.Instance, Type: s.Type, Host: s.Host, Port: s.Port,
	}
	if s.From.IsValid() {
		out.From = s.From.String()
	}
	for _, a := range s.Addrs {
		out.Addrs = append(out.Addrs, a.String())
	}
	for _, kv := range zeroconf.ParseTXT(s.TXT) {
		p := format.TXTPair{Key: kv.Key, Value: kv.Value, HasValue: kv.HasValue}
		out.TXT = append(out.TXT, p)
		if zeroconf.IsOSCKey(kv.Key) {
			p.Key = strings.ToLower(p.Key)
			out.OSC = append(out.OSC, p)
		}
	}
	if a, ok := s.Best(); ok {
		hp := net.JoinHostPort(a.String(), strconv.Itoa(s.Port))
		switch s.Type {
		case zeroconf.OSCUDP:
			out.Target = "udp://" + hp
		case zeroconf.OSCTCP:
			out.Target = "tcp://" + hp
		case zeroconf.OSCJSON:
			out.Target = "http://" + hp + "/"
			out.Query = !out.Gone
		default:
			out.Target = hp
		}
	} else if len(s.Addrs) > 0 {
		out.Unreachable = fmt.Sprintf("%s is the loopback of %v", joinAddrs(s.Addrs), s.From)
	}
	if h := s.HostInfo; h != nil {
		hi := &format.HostInfo{Name: h.Name, OSCIP: h.OSCIP, OSCPort: h.OSCPort, OSCTransport: h.OSCTransport, Err: h.Err}
		if h.Err == "" && h.OSCPort != 0 {
			if spec, err := serviceTarget(s); err == nil {
				hi.OSC = spec
			}
		}
		out.HostInfo = hi
	}
	return out
}
