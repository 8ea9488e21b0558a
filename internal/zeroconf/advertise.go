package zeroconf

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/pion/logging"
	"github.com/pion/mdns/v2"
	"golang.org/x/net/ipv4"
)

// Advert is what to announce under one instance name: a listener, or a
// server's listeners (an OSCQuery server's _oscjson._tcp and _osc._udp).
type Advert struct {
	Instance string
	Services []AdvertService
	// Addr is the address the listeners are bound to. Unset or unspecified
	// (0.0.0.0, ::), each interface announces its own address; a loopback
	// address is announced on loopback interfaces only, any other address
	// on the interface that has it.
	Addr netip.Addr
	// Announced, when set, is called with the name once it is announced:
	// Instance, or "Instance (2)" when the name was taken.
	Announced func(name string)
}

// AdvertService is one service type of an Advert.
type AdvertService struct {
	Type string // "_osc._udp"
	Port int
	TXT  []string // "key=value" strings
}

// Errors of Advertise.
var (
	// ErrLoopbackOnly: the listener is bound to a loopback address and no
	// loopback interface carries multicast, so nothing that could reach
	// it would hear the announcement (and announcing 127.0.0.1 on the
	// network would mislead every other machine).
	ErrLoopbackOnly = errors.New("it listens on a loopback address and no loopback interface carries multicast " +
		"(Linux: ip link set lo multicast on); other machines could not reach it anyway")
	errDotInName = errors.New("a '.' in the name is not supported (the responder, pion/mdns, cannot answer for it)")
)

// Times to live (RFC 6762 §10): records naming a host 120 s, others 75 min.
const (
	hostTTL  = 120
	otherTTL = 4500
)

// probeInterval is the time between probes and after the last (RFC 6762
// §8.1: three probes 250 ms apart).
const probeInterval = 250 * time.Millisecond

// Advertise announces a's services on the interfaces that reach a.Addr.
// In the background it probes the name (three queries 250 ms apart);
// when another responder already uses it, it tries "NAME (2)", "NAME (3)"
// and so on, with a Notice. It then lets github.com/pion/mdns/v2 answer
// queries for the services and their host, announces them twice, one
// second apart, with the PTR record in the answer section and one address
// record, the interface's own (VRChat's browser takes the first address
// record of a packet, and only services whose PTR record is an answer),
// and answers probes for the name. Close says goodbye.
//
// The host name in the SRV records is HOSTNAME-oscli-PID.local, oscli's
// own, so that answering for it never conflicts with the system's
// responder (avahi-daemon renames a host whose name another responder
// answers for with other addresses).
func (m *MDNS) Advertise(ctx context.Context, a Advert) (Advertisement, error) {
	if err := ValidInstance(a.Instance); err != nil {
		return nil, err
	}
	if strings.Contains(a.Instance, ".") {
		return nil, errDotInName
	}
	if len(a.Services) == 0 {
		return nil, errors.New("nothing to advertise")
	}
	for _, s := range a.Services {
		if _, ok := ValidType(s.Type); !ok {
			return nil, fmt.Errorf("service type %q: want _name._udp or _name._tcp", s.Type)
		}
		if s.Port < 1 || s.Port > 65535 {
			return nil, fmt.Errorf("port %d: want 1 to 65535", s.Port)
		}
	}
	all, err := m.interfaces()
	if err != nil {
		return nil, err
	}
	ifs, err := advertInterfaces(multicastInterfaces(all), a.Addr)
	if err != nil {
		return nil, err
	}
	c, err := openConn(ifs, mdnsPort)
	if err != nil {
		return nil, fmt.Errorf("multicast DNS on UDP port %d: %w", mdnsPort, err)
	}
	ctx, cancel := context.WithCancel(ctx)
	ad := &advertisement{m: m, c: c, a: a, host: hostName(), cancel: cancel, done: make(chan struct{})}
	go ad.run(ctx)
	return ad, nil
}

// advertInterfaces picks the interfaces to announce on, with the address
// each announces first in its list.
func advertInterfaces(ifs []iface, addr netip.Addr) ([]iface, error) {
	if !addr.IsValid() || addr.IsUnspecified() {
		if len(ifs) == 0 {
			return nil, ErrNoInterface
		}
		return ifs, nil
	}
	addr = addr.Unmap().WithZone("")
	if !addr.Is4() {
		return nil, fmt.Errorf("it listens on %v only, and oscli announces IPv4 addresses", addr)
	}
	var out []iface
	for _, ifi := range ifs {
		switch {
		case slices.Contains(ifi.addrs, addr):
		case addr.IsLoopback() && ifi.Flags&net.FlagLoopback != 0:
			// 127.0.0.2 is reached over lo, which holds 127.0.0.1/8.
		default:
			continue
		}
		ifi.addrs = []netip.Addr{addr}
		out = append(out, ifi)
	}
	switch {
	case len(out) > 0:
		return out, nil
	case addr.IsLoopback():
		return nil, ErrLoopbackOnly
	}
	return nil, fmt.Errorf("%v is not an address of an interface that is up and carries multicast", addr)
}

// Hostname is this machine's name without its domain, "oscli" when the
// system does not say.
func Hostname() string {
	h, err := os.Hostname()
	if err != nil || h == "" {
		return "oscli"
	}
	h, _, _ = strings.Cut(h, ".")
	return h
}

// hostName is the host name oscli answers for: HOSTNAME-oscli-PID.local,
// as one DNS label of letters, digits and hyphens.
func hostName() name {
	suffix := "-oscli-" + strconv.Itoa(os.Getpid())
	var b strings.Builder
	for _, r := range Hostname() {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-':
			b.WriteRune(r)
		default:
			b.WriteByte('-')
		}
	}
	h := b.String()
	if len(h)+len(suffix) > 63 {
		h = h[:63-len(suffix)]
	}
	return name{h + suffix, domain}
}

// renamed is the n-th name tried for base after a conflict: "base (n)",
// base cut (at a character boundary) to keep within 63 bytes.
func renamed(base string, n int) string {
	suffix := " (" + strconv.Itoa(n) + ")"
	for len(base)+len(suffix) > 63 {
		_, size := utf8.DecodeLastRuneInString(base)
		base = base[:len(base)-size]
	}
	return base + suffix
}

// advertisement is a running Advertise.
type advertisement struct {
	m      *MDNS
	c      *conn
	a      Advert
	host   name
	cancel context.CancelFunc
	done   chan struct{}

	mu        sync.Mutex
	name      string     // the name announced; "" until then
	responder *mdns.Conn // pion's, once the name is ours
	closeOnce sync.Once
	closeErr  error
}

// records are the records of the services under instance name inst, with
// the address addr for the host (none when not valid).
func (ad *advertisement) records(inst string, addr netip.Addr, ttlScale uint32) (answers, extra []record) {
	for _, s := range ad.a.Services {
		typ := append(splitDots(s.Type), domain)
		full := append(name{inst}, typ...)
		answers = append(answers, record{Name: typ, Type: typePTR, Class: classIN, TTL: otherTTL * ttlScale, Target: full})
		extra = append(extra,
			record{Name: full, Type: typeSRV, Class: classIN | classFlush, TTL: hostTTL * ttlScale, Target: ad.host, Port: uint16(s.Port)},
			record{Name: full, Type: typeTXT, Class: classIN | classFlush, TTL: otherTTL * ttlScale, TXT: s.TXT})
	}
	if addr.IsValid() {
		extra = append(extra, record{Name: ad.host, Type: typeA, Class: classIN | classFlush, TTL: hostTTL * ttlScale, Addr: addr})
	}
	return answers, extra
}

func (ad *advertisement) run(ctx context.Context) {
	defer close(ad.done)
	packets := make(chan packet, 64)
	done := make(chan struct{})
	defer close(done)
	go ad.c.readLoop(packets, done)
	inst := ad.a.Instance
	for n := 2; ; n++ {
		free, err := ad.probe(ctx, inst, packets)
		if err != nil {
			return // stopped
		}
		if free {
			break
		}
		next := renamed(ad.a.Instance, n)
		if n > 50 {
			ad.m.notice(fmt.Sprintf("DNS-SD: the names %q to %q are all taken on the network; not advertised", ad.a.Instance, inst))
			return
		}
		ad.m.notice(fmt.Sprintf("DNS-SD: the name %q is taken on the network; advertising as %q", inst, next))
		inst = next
	}
	r, err := ad.respond(inst)
	if err != nil {
		ad.m.notice("DNS-SD: cannot answer queries: " + err.Error() + "; not advertised")
		return
	}
	ad.mu.Lock()
	ad.responder, ad.name = r, inst
	ad.mu.Unlock()
	ad.announce(inst)
	if ad.a.Announced != nil {
		ad.a.Announced(inst)
	}
	again := make(chan struct{})
	t := ad.m.Clock.AfterFunc(time.Second, func() { close(again) })
	defer t.Stop()
	warned := false
	for {
		select {
		case <-ctx.Done():
			return
		case <-again:
			ad.announce(inst) // RFC 6762 §8.3: at least twice, a second apart
			again = nil
		case p := <-packets:
			msg, err := parseMessage(p.data)
			if err != nil {
				continue
			}
			if ad.conflicts(msg, inst) && !warned {
				warned = true
				ad.m.notice(fmt.Sprintf("DNS-SD: another responder now announces the name %q too", inst))
			}
			ad.defend(msg, inst, p.ifIndex)
		}
	}
}

// probe asks three times, 250 ms apart, whether anyone uses inst, and
// reports whether the name is free; it fails only when ctx is done.
func (ad *advertisement) probe(ctx context.Context, inst string, packets <-chan packet) (bool, error) {
	_, extra := ad.records(inst, netip.Addr{}, 1)
	q := &message{Authorities: extra}
	for _, s := range ad.a.Services {
		full := append(name{inst}, append(splitDots(s.Type), domain)...)
		q.Questions = append(q.Questions, question{Name: full, Type: typeANY, Class: classIN})
	}
	pkt, err := appendMessage(nil, q)
	if err != nil {
		return false, err
	}
	for range 3 {
		_ = ad.c.sendAll(pkt)
		wait := make(chan struct{})
		t := ad.m.Clock.AfterFunc(probeInterval, func() { close(wait) })
	listen:
		for {
			select {
			case <-ctx.Done():
				t.Stop()
				return false, ctx.Err()
			case <-wait:
				break listen
			case p := <-packets:
				if msg, err := parseMessage(p.data); err == nil && ad.conflicts(msg, inst) {
					t.Stop()
					return false, nil
				}
			}
		}
	}
	return true, nil
}

// conflicts reports a response holding a record of inst's services that
// is not the one oscli would send: another responder uses the name.
func (ad *advertisement) conflicts(m *message, inst string) bool {
	if !m.isResponse() {
		return false
	}
	for _, r := range m.records() {
		for _, s := range ad.a.Services {
			full := append(name{inst}, append(splitDots(s.Type), domain)...)
			if !r.Name.equal(full) {
				continue
			}
			switch r.Type {
			case typeSRV:
				if r.TTL > 0 && (r.Port != uint16(s.Port) || !r.Target.equal(ad.host)) {
					return true
				}
			case typeTXT:
				if r.TTL > 0 && !slices.Equal(r.TXT, s.TXT) && !(len(r.TXT) == 1 && r.TXT[0] == "" && len(s.TXT) == 0) {
					return true
				}
			}
		}
	}
	return false
}

// defend answers a probe for the name (a question of type ANY, which
// pion/mdns leaves unanswered), so that another responder probing it
// finds it taken.
func (ad *advertisement) defend(m *message, inst string, ifIndex int) {
	if m.isResponse() {
		return
	}
	for _, q := range m.Questions {
		if q.Type != typeANY {
			continue
		}
		for _, s := range ad.a.Services {
			if !q.Name.equal(append(name{inst}, append(splitDots(s.Type), domain)...)) {
				continue
			}
			ad.sendRecords(inst, 1, ifIndex)
			return
		}
	}
}

// announce sends the services' records on every interface.
func (ad *advertisement) announce(inst string) { ad.sendRecords(inst, 1, 0) }

// sendRecords sends the records on the interface ifIndex (every one when
// 0 or unknown), each interface with its own address; ttlScale 0 makes
// them goodbyes.
func (ad *advertisement) sendRecords(inst string, ttlScale uint32, ifIndex int) {
	for i := range ad.c.ifaces {
		ifi := &ad.c.ifaces[i]
		if ifIndex != 0 && ad.c.byIdx[ifIndex] != nil && ifi.Index != ifIndex {
			continue
		}
		addr := ifi.addrs[0]
		if ttlScale == 0 {
			addr = netip.Addr{} // the address stays: only the services go
		}
		answers, extra := ad.records(inst, addr, ttlScale)
		pkt, err := appendMessage(nil, &message{Flags: flagResponse | flagAuthoritative, Answers: answers, Additionals: extra})
		if err != nil {
			continue
		}
		_ = ad.c.send(pkt, ifi)
	}
}

// respond starts pion/mdns answering queries for the services and for
// oscli's host name, on a socket of its own.
func (ad *advertisement) respond(inst string) (*mdns.Conn, error) {
	lc := net.ListenConfig{Control: reusePort}
	pc, err := lc.ListenPacket(context.Background(), "udp4", net.JoinHostPort("0.0.0.0", strconv.Itoa(mdnsPort)))
	if err != nil {
		return nil, err
	}
	host := strings.TrimSuffix(ad.host.String(), ".")
	var nets []net.Interface
	for _, ifi := range ad.c.ifaces {
		nets = append(nets, ifi.Interface)
	}
	opts := []mdns.ServerOption{
		mdns.WithLocalNames(host),
		mdns.WithInterfaces(nets...),
		mdns.WithIncludeLoopback(true), // the interfaces are chosen already
		mdns.WithLoggerFactory(quietLogs{}),
		mdns.WithResponseTTL(hostTTL),
	}
	if a := ad.a.Addr; a.IsValid() && !a.IsUnspecified() {
		opts = append(opts, mdns.WithLocalAddress(a.AsSlice()))
	}
	for _, s := range ad.a.Services {
		svc := mdns.ServiceInstance{Instance: inst, Service: s.Type, Domain: domain, Host: host + ".", Port: uint16(s.Port)}
		for _, kv := range s.TXT {
			if k, v, ok := strings.Cut(kv, "="); ok {
				svc.Text = append(svc.Text, mdns.NewTXTString(k, v))
			} else {
				svc.Text = append(svc.Text, mdns.NewTXTFlag(kv))
			}
		}
		opts = append(opts, mdns.WithService(svc))
	}
	r, err := mdns.NewServer(ipv4.NewPacketConn(pc), nil, opts...)
	if err != nil {
		pc.Close()
		return nil, err
	}
	return r, nil
}

// Close stops answering, sends goodbyes for what was announced (twice,
// back to back, against a lost datagram) and closes the sockets.
func (ad *advertisement) Close() error {
	ad.closeOnce.Do(func() {
		ad.cancel()
		<-ad.done
		ad.mu.Lock()
		r, inst := ad.responder, ad.name
		ad.mu.Unlock()
		if r != nil {
			ad.closeErr = r.Close()
		}
		if inst != "" {
			ad.sendRecords(inst, 0, 0)
			ad.sendRecords(inst, 0, 0)
		}
		if err := ad.c.Close(); ad.closeErr == nil {
			ad.closeErr = err
		}
	})
	return ad.closeErr
}

// quietLogs silences pion/mdns, which would write to stdout: what it
// could say is about single packets on the network.
type quietLogs struct{}

func (quietLogs) NewLogger(string) logging.LeveledLogger { return quietLogs{} }
func (quietLogs) Trace(string)                           {}
func (quietLogs) Tracef(string, ...any)                  {}
func (quietLogs) Debug(string)                           {}
func (quietLogs) Debugf(string, ...any)                  {}
func (quietLogs) Info(string)                            {}
func (quietLogs) Infof(string, ...any)                   {}
func (quietLogs) Warn(string)                            {}
func (quietLogs) Warnf(string, ...any)                   {}
func (quietLogs) Error(string)                           {}
func (quietLogs) Errorf(string, ...any)                  {}
