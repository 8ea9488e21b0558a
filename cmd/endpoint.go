package cmd

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/pflag"

	"github.com/oscli/oscli/internal/filter"
	"github.com/oscli/oscli/internal/transport"
)

// netFlags are the flags that say where to listen or send: -H/--host,
// -p/--port and --proto, shared by every command that uses the network.
type netFlags struct {
	Host  string
	Port  int
	Proto string

	sending bool // a destination: port 0 is not one
	// discover lets an @name the config file does not know be looked up
	// as an advertised DNS-SD instance (a destination that is not a dry run).
	discover bool
}

func (n *netFlags) register(fs *pflag.FlagSet, defHost, hostHelp string) {
	fs.StringVarP(&n.Host, "host", "H", defHost, hostHelp)
	fs.IntVarP(&n.Port, "port", "p", 8000, "UDP/TCP port")
	fs.StringVar(&n.Proto, "proto", transport.UDP, "protocol: udp, tcp, unix or ws (WebSocket)")
}

// resolveEndpoint combines a positional word (port, host:port, URL or
// @name; may be empty) with the flags: the word gives what it names, and
// flags the user set explicitly override it. @name is the config file's
// target of that name, else (n.discover) the DNS-SD instance of that name
// on the network (discoverTarget).
func resolveEndpoint(word string, n *netFlags, fs *pflag.FlagSet, env *Env) (transport.Endpoint, error) {
	ep := transport.Endpoint{Proto: n.Proto, Host: bareHost(n.Host), Port: n.Port}
	if word != "" {
		spec := word
		if name, ok := strings.CutPrefix(word, "@"); ok {
			s, err := lookupTarget(env.targets, name)
			var ue *usageError
			switch {
			case err != nil && n.discover:
				s, err = discoverTarget(env, name, n, fs, err)
			case n.sending && errors.As(err, &ue):
				ue.hint += "; a dry run does not look for DNS-SD services"
			}
			if err != nil {
				return ep, err
			}
			spec = s
		}
		parsed, err := transport.ParseEndpoint(spec, ep)
		if err != nil {
			return ep, &usageError{err: err}
		}
		if err := contradicts(word, spec, n, fs); err != nil {
			return ep, err
		}
		ep = parsed
		if flagSet(fs, "host") {
			ep.Host = bareHost(n.Host)
		}
		if flagSet(fs, "port") {
			ep.Port = n.Port
		}
		if flagSet(fs, "proto") {
			ep.Proto = n.Proto
		}
	}
	switch ep.Proto {
	case transport.UDP, transport.TCP:
	case transport.WS:
		if !n.sending && strings.Contains(ep.Path, "?") {
			return ep, usageErrorf("cannot listen on %s: a path to listen on has no ?query", ep)
		}
	case transport.WSS:
		if !n.sending {
			return ep, &usageError{err: fmt.Errorf("cannot listen on %s: oscli serves plain ws://, not TLS", ep),
				hint: "listen on ws://, behind a TLS proxy (caddy, nginx) for wss:// clients"}
		}
	case transport.Unix:
		if ep.Path == "" {
			return ep, usageErrorf("a unix socket needs a path: unix:///tmp/osc.sock")
		}
		return ep, nil
	default:
		return ep, usageErrorf("invalid --proto %q (want udp, tcp, unix, ws or wss)", ep.Proto)
	}
	if err := transport.ValidPort(ep.Port); err != nil {
		// A word's port was checked with the word: this one is --port's.
		return ep, portRange(ep.Port, n.sending)
	}
	return ep, nil
}

// splitTarget takes the optional TARGET word off the front of send's and
// bundle's arguments: the word before the address, which never starts
// with '/' (and is not '-', stdin).
func splitTarget(args []string) (string, []string, error) {
	word := ""
	if args[0] != "-" && !strings.HasPrefix(args[0], "/") {
		word, args = args[0], args[1:]
	}
	if len(args) == 0 {
		return "", nil, usageErrorf("no address after target %q: an OSC address must start with '/'", word)
	}
	return word, args, nil
}

// newFilter compiles --filter and --exclude patterns.
func newFilter(include, exclude []string) (*filter.Set, error) {
	f := &filter.Set{}
	for _, p := range include {
		if err := f.Include(p); err != nil {
			return nil, usageErrorf("--filter: %v", err)
		}
	}
	for _, p := range exclude {
		if err := f.Exclude(p); err != nil {
			return nil, usageErrorf("--exclude: %v", err)
		}
	}
	return f, nil
}
