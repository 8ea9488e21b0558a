package cmd

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/oscli/oscli/internal/transport"
	"github.com/oscli/oscli/internal/zeroconf"
)

// lookupTimeout is how long an @NAME the config file does not know waits
// for DNS-SD answers: a responder answers within 120 ms of a query
// (RFC 6762 §6), and the second query goes out after one second.
const lookupTimeout = 2 * time.Second

// lookupTypes are the service types an @NAME is looked for among, in the
// order preferred when one instance name has several.
var lookupTypes = []string{zeroconf.OSCUDP, zeroconf.OSCTCP, zeroconf.OSCJSON}

// errLookupDone ends a lookup that found its service.
var errLookupDone = errors.New("found")

// discoverTarget looks name up as an advertised DNS-SD instance, for an
// @name the config file does not know (configErr says so), and returns
// the target it names: udp://ADDR:PORT for _osc._udp, tcp://… for
// _osc._tcp, and for an OSCQuery server (_oscjson._tcp) the OSC port and
// transport of its HOST_INFO. Names compare without case. It waits at
// most lookupTimeout, less when the service answers; -p, -H and --proto
// then say what the word leaves open, as for any target. With --proto,
// only a service of that transport will do.
func discoverTarget(env *Env, name string, n *netFlags, fs *pflag.FlagSet, configErr error) (string, error) {
	if env.Zeroconf == nil {
		return "", configErr
	}
	proto := ""
	if flagSet(fs, "proto") {
		proto = n.Proto
	}
	found, browseErr, err := lookupInstance(env, name, lookupTypes, func(found map[string]zeroconf.Service) bool {
		_, ok := pickService(found, proto)
		return ok
	})
	switch {
	case err != nil:
		return "", err // interrupted: Run reports the signal
	case browseErr != nil:
		return "", &hintError{
			err:  fmt.Errorf("unknown target @%s: not in the config file's targets, and DNS-SD cannot look for it: %w", name, browseErr),
			hint: configHint(configErr),
		}
	}
	s, ok := pickService(found, proto)
	if !ok {
		where := "no DNS-SD service (_osc._udp, _osc._tcp, _oscjson._tcp) of that name answered"
		if proto != "" && len(found) > 0 {
			where = "no DNS-SD service of that name over " + proto + " answered"
		}
		return "", &hintError{
			err:  fmt.Errorf("unknown target @%s: not in the config file's targets, and %s within %v", name, where, lookupTimeout),
			hint: "'oscli browse' lists the OSC services on the network; " + configHint(configErr),
		}
	}
	spec, err := serviceTarget(&s)
	if err != nil {
		return "", fmt.Errorf("@%s: %w", name, err)
	}
	if env.verbose {
		fprintSafe(env.Err, "oscli: @%s is the DNS-SD service %q (%s) at %s\n", name, s.Instance, s.Type, spec)
	}
	return spec, nil
}

// lookupInstance browses types for the instance called name (compared
// without case) until enough says the services found so far will do, or
// lookupTimeout has passed, and returns them by type. browseErr says why
// it could not browse at all; err is set when the run was interrupted.
func lookupInstance(env *Env, name string, types []string, enough func(map[string]zeroconf.Service) bool) (found map[string]zeroconf.Service, browseErr, err error) {
	env.awaitSignals() // the wait below is one a Ctrl-C should end cleanly
	parent := env.done
	if parent == nil {
		parent = context.Background()
	}
	ctx, cancel := context.WithCancelCause(parent)
	defer cancel(nil)
	t := env.Clock.AfterFunc(lookupTimeout, func() { cancel(context.DeadlineExceeded) })
	defer t.Stop()
	found = map[string]zeroconf.Service{} // by type
	z := env.Zeroconf(env.Clock, func(s string) { fprintSafe(env.Err, "oscli: warning: %s\n", s) })
	berr := z.Browse(ctx, types, func(ev zeroconf.Event) {
		if ev.Kind == zeroconf.Gone || !strings.EqualFold(ev.Service.Instance, name) {
			if ev.Kind == zeroconf.Gone {
				delete(found, ev.Service.Type)
			}
			return
		}
		found[ev.Service.Type] = ev.Service
		if enough(found) {
			cancel(errLookupDone)
		}
	})
	switch cause := context.Cause(ctx); {
	case parent.Err() != nil:
		return nil, nil, parent.Err()
	case cause == errLookupDone, cause == context.DeadlineExceeded:
		return found, nil, nil
	}
	return found, berr, nil
}

// discoverQuery looks name up as an advertised OSCQuery server
// (_oscjson._tcp), for query's @NAME, and returns its HTTP URL. It waits
// as discoverTarget does. The config file's targets are not looked at:
// they name OSC ports, not OSCQuery's HTTP servers.
func discoverQuery(env *Env, name string) (*url.URL, error) {
	if name == "" {
		return nil, &usageError{err: errors.New("@ needs the name of an OSCQuery server"),
			hint: "'oscli browse' lists them (_oscjson._tcp): oscli query @NAME"}
	}
	if env.Zeroconf == nil {
		return nil, fmt.Errorf("cannot look for the OSCQuery server @%s: DNS-SD is not available here", name)
	}
	found, browseErr, err := lookupInstance(env, name, lookupTypes, func(found map[string]zeroconf.Service) bool {
		_, ok := found[zeroconf.OSCJSON]
		return ok
	})
	switch {
	case err != nil:
		return nil, err // interrupted: Run reports the signal
	case browseErr != nil:
		return nil, fmt.Errorf("cannot look for the OSCQuery server @%s: DNS-SD: %w", name, browseErr)
	}
	s, ok := found[zeroconf.OSCJSON]
	if !ok {
		hint := "'oscli browse' lists the OSCQuery servers on the network (_oscjson._tcp)"
		if spec, err := lookupTarget(env.targets, name); err == nil {
			hint += fmt.Sprintf("; @%s of the config file is an OSC target (%s), not an OSCQuery server", name, spec)
		}
		for _, typ := range []string{zeroconf.OSCUDP, zeroconf.OSCTCP} {
			if o, ok := found[typ]; ok {
				return nil, &hintError{
					err:  fmt.Errorf("@%s: %q announces OSC (%s) but no OSCQuery server (_oscjson._tcp)", name, o.Instance, typ),
					hint: fmt.Sprintf("oscli send @%s sends to it; %s", name, hint),
				}
			}
		}
		return nil, &hintError{
			err:  fmt.Errorf("unknown OSCQuery server @%s: no DNS-SD service (_oscjson._tcp) of that name answered within %v", name, lookupTimeout),
			hint: hint,
		}
	}
	addr, ok := s.Best()
	if !ok {
		return nil, fmt.Errorf("@%s: %w", name, loopbackOnly(&s))
	}
	u := &url.URL{Scheme: "http", Host: net.JoinHostPort(addr.String(), strconv.Itoa(s.Port))}
	if env.verbose {
		fprintSafe(env.Err, "oscli: @%s is the DNS-SD service %q (%s) at %s\n", name, s.Instance, s.Type, u)
	}
	return u, nil
}

// configHint is the hint of an unknown config target: the names known.
func configHint(configErr error) string {
	var ue *usageError
	if errors.As(configErr, &ue) && ue.hint != "" {
		return ue.hint
	}
	return "define it under targets: in the config file"
}

// pickService chooses among the services of one instance name: the one
// of the transport asked for, else _osc._udp, _osc._tcp, then an OSCQuery
// server whose HOST_INFO names an OSC port.
func pickService(found map[string]zeroconf.Service, proto string) (zeroconf.Service, bool) {
	for _, typ := range lookupTypes {
		s, ok := found[typ]
		if !ok {
			continue
		}
		switch typ {
		case zeroconf.OSCUDP, zeroconf.OSCTCP:
			if proto == "" || typ == "_osc._"+proto {
				return s, true
			}
		case zeroconf.OSCJSON:
			h := s.HostInfo
			if h == nil || h.Err != "" || h.OSCPort == 0 {
				continue
			}
			if proto == "" || strings.EqualFold(h.OSCTransport, proto) || h.OSCTransport == "" && proto == transport.UDP {
				return s, true
			}
		}
	}
	return zeroconf.Service{}, false
}

// serviceTarget is the target word for a service found: its URL.
func serviceTarget(s *zeroconf.Service) (string, error) {
	addr, ok := s.Best()
	port, proto := s.Port, transport.UDP
	if s.Type == zeroconf.OSCTCP {
		proto = transport.TCP
	}
	if s.Type == zeroconf.OSCJSON {
		h := s.HostInfo
		port = h.OSCPort
		if strings.EqualFold(h.OSCTransport, "TCP") {
			proto = transport.TCP
		}
		if ip, err := netip.ParseAddr(h.OSCIP); err == nil && !ip.IsUnspecified() {
			ip = ip.Unmap()
			if ip.IsLoopback() && !s.FromLocal {
				return "", fmt.Errorf("its OSCQuery server (%s) takes OSC on %v, the loopback of %v: only that machine reaches it", s.Type, ip, s.From)
			}
			addr, ok = ip, true
		}
	}
	if !ok {
		return "", loopbackOnly(s)
	}
	return proto + "://" + net.JoinHostPort(addr.String(), strconv.Itoa(port)), nil
}

// loopbackOnly says why a service announced from another machine cannot
// be reached: its only addresses are loopback ones, that machine's.
func loopbackOnly(s *zeroconf.Service) error {
	return fmt.Errorf("%q (%s) announces only %s, from %v: the loopback of that machine, which only it reaches",
		s.Instance, s.Type, joinAddrs(s.Addrs), s.From)
}

func joinAddrs(as []netip.Addr) string {
	var ss []string
	for _, a := range as {
		ss = append(ss, a.String())
	}
	return strings.Join(ss, ", ")
}
