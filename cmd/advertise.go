package cmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strings"
	"sync"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/oscli/oscli/internal/clock"
	"github.com/oscli/oscli/internal/iostreams"
	"github.com/oscli/oscli/internal/transport"
	"github.com/oscli/oscli/internal/zeroconf"
)

// --advertise [NAME] makes a listening command findable with DNS-SD.
// dump, top and tap listen through listenOptions, which starts and
// withdraws the advertisement; each adds the flag with one line:
//
//	o.addAdvertise(fs, "top") // in newTopCmd, after o.register
//
// A command listening otherwise (serve) uses the pieces directly:
//
//	var adv advertiseFlag; adv.register(fs, "serve")    // newServeCmd
//	a, err := adv.setup(c.Flags(), env, io, o.OSCProto) // RunE
//	o.announce = a.serve(c.Context())                   // called by runServe

// advertiseHost stands for this machine's name in --advertise's default.
const advertiseHost = "HOSTNAME"

// optionalValueKey marks a flag whose value may be left out (pflag's
// NoOptDefVal) and may still be given as the next word (--advertise NAME,
// not only --advertise=NAME): joinOptionalValues joins the two.
const optionalValueKey = "oscli_optional_value"

// advertiseFlag is a command's --advertise [NAME].
type advertiseFlag struct {
	value   string
	command string // the command's name; "" when it has no --advertise
}

// addAdvertise gives a command that listens through listenOptions the
// --advertise flag.
func (o *listenOptions) addAdvertise(fs *pflag.FlagSet, command string) {
	o.advertise.register(fs, command)
}

// register adds --advertise [NAME] to command's flags.
func (a *advertiseFlag) register(fs *pflag.FlagSet, command string) {
	a.command = command
	def := "oscli " + command + " on " + advertiseHost
	fs.StringVar(&a.value, "advertise", "", "announce the listener with DNS-SD (zeroconf) as `NAME`; goodbye on exit")
	fs.Lookup("advertise").NoOptDefVal = def
	_ = fs.SetAnnotation("advertise", optionalValueKey, []string{"yes"})
}

// setup checks the flag for a listener of proto and prepares the run's
// advertiser (one that does nothing without --advertise).
func (a *advertiseFlag) setup(fs *pflag.FlagSet, env *Env, io *iostreams.IOStreams, proto string) (advertiser, error) {
	if a.command == "" {
		return advertiser{}, nil
	}
	name := advertiseName(a.value, a.command)
	if err := checkAdvertise(fs, name, proto); err != nil {
		return advertiser{}, err
	}
	return newAdvertiser(env, io, name), nil
}

// advertiseName is the instance name --advertise asks for: its value, or
// the default with this machine's name; "" when not advertising.
func advertiseName(v, command string) string {
	if v == "oscli "+command+" on "+advertiseHost {
		return "oscli " + command + " on " + zeroconf.Hostname()
	}
	return v
}

// checkAdvertise refuses what cannot be advertised: an empty name given
// on purpose (--advertise=), a name DNS-SD cannot carry, a Unix socket.
func checkAdvertise(fs *pflag.FlagSet, name, proto string) error {
	if name == "" {
		if flagSet(fs, "advertise") {
			return &usageError{err: errors.New("--advertise= needs a name"), hint: "--advertise alone announces \"" + fs.Lookup("advertise").NoOptDefVal + "\""}
		}
		return nil
	}
	switch proto {
	case transport.UDP, transport.TCP:
	case transport.Unix:
		return usageErrorf("--advertise works with UDP and TCP listeners; other machines cannot reach a unix socket")
	default:
		// DNS-SD has _osc._udp and _osc._tcp; nothing for other transports.
		return usageErrorf("--advertise works with UDP and TCP listeners, not %s", proto)
	}
	if err := zeroconf.ValidInstance(name); err != nil {
		return usageErrorf("--advertise %q: %v", name, err)
	}
	if strings.Contains(name, ".") {
		return usageErrorf("--advertise %q: a '.' in the name is not supported (pion/mdns, which answers the queries, cannot carry it)", name)
	}
	return nil
}

// joinOptionalValues turns "--advertise NAME" into "--advertise=NAME" for
// the flags marked with optionalValueKey, so that pflag takes the word as
// the value rather than as a positional argument. The next word is not
// taken when it is a flag, a port (9000), a URL (udp://…) or an @name:
// those are the listening word (oscli dump --advertise 9000); nor when it
// looks like a file (serve's TREE.json).
func joinOptionalValues(root *cobra.Command, args []string) []string {
	c, _, err := root.Find(args)
	if err != nil || c == root {
		return args
	}
	out := make([]string, 0, len(args))
	joined := false
	for i := 0; i < len(args); i++ {
		w := args[i]
		if w == "--" {
			out = append(out, args[i:]...)
			break
		}
		if name, ok := strings.CutPrefix(w, "--"); ok && !strings.Contains(name, "=") && i+1 < len(args) {
			if f := c.Flags().Lookup(name); f != nil && len(f.Annotations[optionalValueKey]) > 0 && isOptionalValue(args[i+1]) {
				out = append(out, w+"="+args[i+1])
				i++
				joined = true
				continue
			}
		}
		out = append(out, w)
	}
	if !joined {
		return args
	}
	return out
}

func isOptionalValue(w string) bool {
	return w != "" && !strings.HasPrefix(w, "-") && !strings.HasPrefix(w, "@") && !isDigits(w) && !strings.Contains(w, "://") &&
		!looksLikeFile(w)
}

// looksLikeFile tells serve's TREE.json (serve --advertise tree.json) from
// a name: a word with a '.' (which no advertised name may hold) that ends
// in .json or has a '/' is a file.
func looksLikeFile(w string) bool {
	return strings.Contains(w, ".") && (strings.HasSuffix(strings.ToLower(w), ".json") || strings.ContainsAny(w, `/\`))
}

// advertiser is what a listening command needs to announce itself.
type advertiser struct {
	Name string // the instance name; "" when not advertising

	open      func(clock.Clock, func(string)) zeroconf.Network
	clock     clock.Clock
	errOut    io.Writer
	announced func(string) // tests: the ready signal
}

// newAdvertiser prepares --advertise NAME for a command run.
func newAdvertiser(env *Env, io *iostreams.IOStreams, name string) advertiser {
	return advertiser{Name: name, open: env.Zeroconf, clock: env.Clock, errOut: io.ErrOut, announced: env.onAdvertise}
}

// oscService is the DNS-SD service of an OSC listener: _osc._udp, or
// _osc._tcp with its framing, and OSC 1.1's TXT keys.
func oscService(ep transport.Endpoint, framing transport.Framing) zeroconf.AdvertService {
	if ep.Proto == transport.TCP {
		f := "slip" // what OSC 1.1 names; dump's auto detection reads it too
		if framing == transport.FramingLen {
			f = "len"
		}
		return zeroconf.AdvertService{Type: zeroconf.OSCTCP, Port: ep.Port, TXT: zeroconf.OSCTXT(true, f)}
	}
	return zeroconf.AdvertService{Type: zeroconf.OSCUDP, Port: ep.Port, TXT: zeroconf.OSCTXT(false, "")}
}

// serve is serve's announce hook: its OSCQuery HTTP server as
// _oscjson._tcp and its OSC port as _osc._udp or _osc._tcp, under one
// instance name (what VRChat does, with the OSC port of HOST_INFO). nil
// when not advertising.
func (a advertiser) serve(ctx context.Context) func(servePorts) func() {
	if a.Name == "" {
		return nil
	}
	return func(p servePorts) func() {
		// serve's TCP port takes SLIP (OSC 1.1) and size-prefixed frames;
		// SLIP is what HOST_INFO's OSC_TRANSPORT TCP means to clients.
		return a.start(ctx, p.OSC,
			zeroconf.AdvertService{Type: zeroconf.OSCJSON, Port: p.HTTPPort, TXT: []string{"txtvers=1"}},
			oscService(p.OSC, transport.FramingAuto))
	}
}

// start announces services of a listener bound to bound, in the
// background (probing the name takes ¾ s), and returns the function that
// withdraws them with goodbye packets; it is safe to call more than once.
// A listener that cannot be advertised gets a warning and goes on: being
// found is a convenience, listening the job.
func (a advertiser) start(ctx context.Context, bound transport.Endpoint, services ...zeroconf.AdvertService) (stop func()) {
	if a.Name == "" {
		return func() {}
	}
	warn := func(format string, args ...any) {
		fprintSafe(a.errOut, "oscli: warning: --advertise %q: %s\n", a.Name, fmt.Sprintf(format, args...))
	}
	if a.open == nil {
		warn("DNS-SD is not available here; not advertised")
		return func() {}
	}
	z := a.open(a.clock, func(s string) { fprintSafe(a.errOut, "oscli: warning: %s\n", s) })
	addr, err := netip.ParseAddr(bound.Host)
	if err != nil || addr.IsMulticast() {
		addr = netip.Addr{} // a group's port is bound on every address
	}
	ad, err := z.Advertise(ctx, zeroconf.Advert{
		Instance: a.Name,
		Services: services,
		Addr:     addr,
		Announced: func(name string) {
			var types []string
			for _, s := range services {
				types = append(types, fmt.Sprintf("%s port %d", s.Type, s.Port))
			}
			fprintSafe(a.errOut, "oscli: advertised as %q (%s)\n", name, strings.Join(types, ", "))
			if a.announced != nil {
				a.announced(name)
			}
		},
	})
	if err != nil {
		warn("cannot advertise: %v", err)
		return func() {}
	}
	var once sync.Once
	return func() { once.Do(func() { _ = ad.Close() }) }
}
