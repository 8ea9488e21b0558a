// Package zeroconf finds OSC services on the local network and announces
// oscli's own, with DNS-SD over multicast DNS (RFC 6763, RFC 6762): the
// way TouchOSC, QLab, libossia, Vezér and VRChat find each other.
//
// Browsing is oscli's own (browse.go, tracker.go), on a DNS codec of its
// own (dns.go), so that it can handle what browsers commonly get wrong:
// services that say goodbye or expire are reported gone; address records
// are taken only for the host a service names (VRChat takes the first A
// record in a packet, whatever its name); a loopback address announced
// from another machine (VRChat announces 127.0.0.1 on every interface) is
// marked unreachable rather than used; and instance names may hold dots.
//
// Advertising (advertise.go) probes the name, announces it with the PTR
// record in the answer section and one address record, the interface's
// own (what VRChat's browser needs), leaves answering queries to
// github.com/pion/mdns/v2, and says goodbye when closed.
//
// Every socket is bound to the wildcard address of port 5353 with
// SO_REUSEADDR and SO_REUSEPORT: a socket bound to one address never sees
// multicast on Linux, and avahi-daemon or another responder usually holds
// the port already. oscli speaks mDNS over IPv4 (224.0.0.251), where the
// OSC applications are; AAAA records that arrive are listed.
//
// The package knows nothing of the command line, prints nothing (notices go
// to a callback) and takes its time from a clock.Clock.
package zeroconf

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/oscli/oscli/internal/clock"
)

// The service types OSC applications use.
const (
	OSCUDP  = "_osc._udp"     // OSC over UDP (OSC 1.1 §5.2)
	OSCTCP  = "_osc._tcp"     // OSC over TCP
	OSCJSON = "_oscjson._tcp" // OSCQuery's HTTP server
)

// domain is the one DNS-SD domain of multicast DNS.
const domain = "local"

// Service is a DNS-SD service instance as browsing last saw it.
type Service struct {
	Instance string // "TouchOSC on iPad": the instance label, unescaped
	Type     string // "_osc._udp"
	Host     string // the SRV record's target, "ipad.local."
	Port     int
	// Addrs are the A and AAAA records of Host, in the order they came.
	Addrs []netip.Addr
	// TXT holds the TXT record's strings as sent ("txtvers=1", …).
	TXT []string
	// From is the address the service's SRV record came from, and
	// FromLocal says that it is an address of this machine.
	From      netip.Addr
	FromLocal bool
	// HostInfo is an OSCQuery server's HOST_INFO (_oscjson._tcp only).
	HostInfo *HostInfo
}

// Key names a service uniquely: instance and type, in lower case.
func (s *Service) Key() string { return strings.ToLower(s.Instance) + "\x00" + strings.ToLower(s.Type) }

// Reachable returns the addresses at which this machine can reach the
// service: every address, less loopback ones announced from another
// machine (they are that machine's loopback, not this one's).
func (s *Service) Reachable() []netip.Addr {
	var out []netip.Addr
	for _, a := range s.Addrs {
		if a.IsLoopback() && !s.FromLocal {
			continue
		}
		out = append(out, a)
	}
	return out
}

// Best is the address to send to: the one the service answered from when
// it announced it, else the first IPv4 address, else the first IPv6 one;
// false when none is reachable.
func (s *Service) Best() (netip.Addr, bool) {
	r := s.Reachable()
	if len(r) == 0 {
		return netip.Addr{}, false
	}
	for _, a := range r {
		if a == s.From {
			return a, true
		}
	}
	for _, a := range r {
		if a.Is4() {
			return a, true
		}
	}
	return r[0], true
}

// Kind says what happened to a service.
type Kind uint8

// The kinds of events.
const (
	Found   Kind = iota + 1 // first seen complete: PTR, SRV and an address
	Updated                 // its port, host, addresses, TXT or HOST_INFO changed
	Gone                    // it said goodbye, or its records expired
)

func (k Kind) String() string {
	switch k {
	case Found:
		return "found"
	case Updated:
		return "updated"
	case Gone:
		return "gone"
	}
	return "unknown"
}

// Event is a change to a browsed service.
type Event struct {
	Kind    Kind
	Time    time.Time
	Service Service
	// Reason says why a service is gone: "goodbye" (it withdrew its
	// records) or "expired" (their time to live ran out unrenewed).
	Reason string
}

// Network is DNS-SD on a network: MDNS on the machine's interfaces, or a
// test's.
type Network interface {
	// Browse reports the services of the given types (_osc._udp) to fn,
	// one event at a time, until ctx is done; it returns ctx's error then,
	// or why it could not browse at all.
	Browse(ctx context.Context, types []string, fn func(Event)) error
	// Advertise announces services until the Advertisement is closed.
	Advertise(ctx context.Context, a Advert) (Advertisement, error)
}

// Advertisement is what Advertise started.
type Advertisement interface {
	// Close withdraws the services (goodbye packets) and stops answering.
	Close() error
}

// MDNS is DNS-SD over multicast DNS on this machine's interfaces.
type MDNS struct {
	Clock clock.Clock
	// Interfaces lists the network interfaces (net.Interfaces when nil).
	Interfaces func() ([]net.Interface, error)
	// Notice, when set, receives what is worth a warning: a flood of
	// services dropped, port 5353 not shared, a probe that found the
	// name taken.
	Notice func(string)
}

func (m *MDNS) notice(s string) {
	if m.Notice != nil {
		m.Notice(s)
	}
}

func (m *MDNS) interfaces() ([]net.Interface, error) {
	if m.Interfaces != nil {
		return m.Interfaces()
	}
	return net.Interfaces()
}

// ValidType checks a service type given by a user: "_name._udp" or
// "_name._tcp", the name 1 to 15 letters, digits and hyphens (RFC 6335
// §5.1), and returns it without a trailing ".local.".
func ValidType(t string) (string, bool) {
	t = strings.TrimSuffix(strings.TrimSuffix(t, "."), ".local")
	svc, proto, ok := strings.Cut(t, ".")
	if !ok || proto != "_udp" && proto != "_tcp" || !strings.HasPrefix(svc, "_") {
		return t, false
	}
	n := svc[1:]
	if n == "" || len(n) > 15 || n[0] == '-' || n[len(n)-1] == '-' || strings.Contains(n, "--") {
		return t, false
	}
	letter := false
	for i := 0; i < len(n); i++ {
		c := n[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z':
			letter = true
		case c >= '0' && c <= '9', c == '-':
		default:
			return t, false
		}
	}
	return t, letter
}

// ValidInstance checks an instance name to advertise: 1 to 63 bytes of
// UTF-8 (one DNS label, RFC 6763 §4.1.1) without control characters.
func ValidInstance(s string) error {
	switch {
	case s == "":
		return errEmptyName
	case len(s) > 63:
		return errLongName
	case !utf8.ValidString(s):
		return errControlName
	}
	for _, r := range s {
		if r < 0x20 || r >= 0x7F && r < 0xA0 {
			return errControlName
		}
	}
	return nil
}

// Errors of ValidInstance.
var (
	errEmptyName   = errors.New("the name is empty")
	errLongName    = errors.New("the name is longer than 63 bytes (one DNS label)")
	errControlName = errors.New("the name holds control characters or invalid UTF-8")
)
