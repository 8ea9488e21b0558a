package zeroconf

import (
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"
)

var (
	t0      = time.Date(2026, 11, 21, 18, 0, 0, 0, time.UTC)
	oscType = name{"_osc", "_udp", "local"}
	lan     = netip.MustParseAddr("192.168.1.40")
	remote  = netip.MustParseAddr("192.168.1.50")
	thisBox = netip.MustParseAddr("192.168.1.23")
)

func isThisBox(a netip.Addr) bool { return a == thisBox }

func inst(label string) name { return append(name{label}, oscType...) }

// response builds a response the usual way: everything in the answers.
func response(rs ...record) *message {
	return &message{Flags: flagResponse | flagAuthoritative, Answers: rs}
}

func ptr(label string, ttl uint32) record {
	return record{Name: oscType, Type: typePTR, Class: classIN, TTL: ttl, Target: inst(label)}
}

func srv(label, host string, port uint16, ttl uint32) record {
	return record{Name: inst(label), Type: typeSRV, Class: classIN | classFlush, TTL: ttl, Target: splitDots(host + ".local"), Port: port}
}

func txt(label string, ttl uint32, ss ...string) record {
	return record{Name: inst(label), Type: typeTXT, Class: classIN | classFlush, TTL: ttl, TXT: ss}
}

func a(host, addr string, ttl uint32) record {
	return record{Name: splitDots(host + ".local"), Type: typeA, Class: classIN | classFlush, TTL: ttl, Addr: netip.MustParseAddr(addr)}
}

// events renders events as "kind instance port addrs (reason)" lines.
func events(evs []Event) []string {
	var out []string
	for _, e := range evs {
		s := fmt.Sprintf("%s %s %d %v", e.Kind, e.Service.Instance, e.Service.Port, e.Service.Addrs)
		if e.Reason != "" {
			s += " (" + e.Reason + ")"
		}
		out = append(out, s)
	}
	return out
}

func expect(t *testing.T, what string, got []Event, want ...string) {
	t.Helper()
	if g := events(got); !slices.Equal(g, want) {
		t.Errorf("%s: events %q, want %q", what, g, want)
	}
}

func TestTrackerFindsAndLoses(t *testing.T) {
	tr := newTracker([]string{OSCUDP}, isThisBox)
	// python-zeroconf's way: every record an answer, in one packet.
	evs, asks := tr.handle(response(ptr("TouchOSC on iPad", 4500), srv("TouchOSC on iPad", "ipad", 9000, 120),
		txt("TouchOSC on iPad", 4500, "txtvers=1", "version=1.1"), a("ipad", "192.168.1.40", 120)), lan, "", t0)
	expect(t, "announcement", evs, "found TouchOSC on iPad 9000 [192.168.1.40]")
	if len(asks) != 0 {
		t.Errorf("nothing missing, yet asks %v", asks)
	}
	s := evs[0].Service
	if s.Host != "ipad.local." || s.Type != OSCUDP || !slices.Equal(s.TXT, []string{"txtvers=1", "version=1.1"}) || s.From != lan || s.FromLocal {
		t.Errorf("service %+v", s)
	}
	// The same again changes nothing; a new port (cache flush) is an update.
	evs, _ = tr.handle(response(ptr("TouchOSC on iPad", 4500), srv("TouchOSC on iPad", "ipad", 9000, 120)), lan, "", t0.Add(time.Second))
	expect(t, "repeat", evs)
	evs, _ = tr.handle(response(srv("TouchOSC on iPad", "ipad", 9001, 120)), lan, "", t0.Add(2*time.Second))
	expect(t, "new port", evs, "updated TouchOSC on iPad 9001 [192.168.1.40]")
	// Goodbye: the pointer's time to live 0.
	evs, _ = tr.handle(response(ptr("TouchOSC on iPad", 0)), lan, "", t0.Add(3*time.Second))
	expect(t, "goodbye", evs, "gone TouchOSC on iPad 9001 [192.168.1.40] (goodbye)")
}

// VRChat's responder (MeaMod.DNS) puts the PTR record alone in the
// answers and the rest in the additional section; another responder's
// packet may hold other hosts' addresses first. Only the address of the
// host the SRV record names counts, and VRChat withdraws a service by its
// SRV record's time to live.
func TestTrackerVRChatPackets(t *testing.T) {
	tr := newTracker([]string{OSCUDP, OSCJSON}, isThisBox)
	m := &message{Flags: flagResponse,
		Answers: []record{ptr("VRChat-Client-A1B2C3", 4500)},
		Additionals: []record{
			a("other-box", "10.9.9.9", 120), // first, and not the service's host
			srv("VRChat-Client-A1B2C3", "VRChat-Client-A1B2C3.osc", 9000, 120),
			txt("VRChat-Client-A1B2C3", 4500, "txtvers=1"),
			{Name: name{"VRChat-Client-A1B2C3", "osc", "local"}, Type: typeA, Class: classIN, TTL: 120, Addr: netip.MustParseAddr("127.0.0.1")},
		}}
	// From another machine: 127.0.0.1 is that machine's loopback.
	evs, _ := tr.handle(m, remote, "", t0)
	expect(t, "from another machine", evs, "found VRChat-Client-A1B2C3 9000 [127.0.0.1]")
	if s := evs[0].Service; s.FromLocal || len(s.Reachable()) != 0 {
		t.Errorf("a loopback address announced from %v counts as reachable: %+v", remote, s)
	} else if _, ok := s.Best(); ok {
		t.Error("Best found an address for a service only that machine reaches")
	}
	// SRV time to live 0 is VRChat's goodbye.
	m.Additionals[1].TTL = 0
	evs, _ = tr.handle(&message{Flags: flagResponse, Answers: m.Answers, Additionals: m.Additionals[1:2]}, remote, "", t0.Add(time.Second))
	expect(t, "SRV goodbye", evs, "gone VRChat-Client-A1B2C3 9000 [127.0.0.1] (goodbye)")

	// On this machine (from its own address, from loopback, or from 0.0.0.0
	// as Linux sends multicast over lo without a source route), 127.0.0.1 is
	// the address to use.
	for _, from := range []netip.Addr{thisBox, netip.MustParseAddr("127.0.0.1"), netip.IPv4Unspecified()} {
		tr := newTracker([]string{OSCUDP}, isThisBox)
		m.Additionals[1].TTL = 120
		evs, _ := tr.handle(m, from, "", t0)
		if len(evs) != 1 {
			t.Fatalf("from %v: %v", from, events(evs))
		}
		if best, ok := evs[0].Service.Best(); !ok || best != netip.MustParseAddr("127.0.0.1") || !evs[0].Service.FromLocal {
			t.Errorf("from %v: best %v %v, local %v", from, best, ok, evs[0].Service.FromLocal)
		}
	}
}

func TestTrackerAsksForWhatIsMissing(t *testing.T) {
	tr := newTracker([]string{OSCUDP}, nil)
	evs, asks := tr.handle(response(ptr("Mixer 1.2", 4500)), lan, "", t0)
	expect(t, "pointer only", evs)
	if len(asks) != 2 || asks[0].Type != typeSRV || asks[1].Type != typeTXT || asks[0].Name.key() != inst("mixer 1.2").key() {
		t.Errorf("asks %+v, want SRV and TXT of the instance", asks)
	}
	// Asked again within a second: not repeated.
	if _, asks := tr.handle(response(ptr("Mixer 1.2", 4500)), lan, "", t0.Add(500*time.Millisecond)); len(asks) != 0 {
		t.Errorf("asked again at once: %+v", asks)
	}
	evs, asks = tr.handle(response(srv("Mixer 1.2", "desk", 10023, 120)), lan, "", t0.Add(time.Second))
	expect(t, "SRV without an address", evs)
	if len(asks) != 1 || asks[0].Type != typeA || asks[0].Name.key() != "desk.local." {
		t.Errorf("asks %+v, want the host's address", asks)
	}
	evs, _ = tr.handle(response(a("desk", "192.168.1.20", 120)), lan, "", t0.Add(2*time.Second))
	expect(t, "address", evs, "found Mixer 1.2 10023 [192.168.1.20]")
	if got := evs[0].Service.Instance; got != "Mixer 1.2" {
		t.Errorf("instance %q: a dot inside the label is kept as is", got)
	}
}

func TestTrackerExpiresAndRefreshes(t *testing.T) {
	tr := newTracker([]string{OSCUDP}, nil)
	tr.handle(response(ptr("x", 100), srv("x", "h", 1, 100), txt("x", 100), a("h", "10.0.0.1", 100)), lan, "", t0)
	if next := tr.next(); !next.Equal(t0.Add(80 * time.Second)) {
		t.Errorf("next %v, want the refresh at 80 %% of 100 s", next.Sub(t0))
	}
	qs := tr.refresh(t0.Add(80 * time.Second))
	var asked []string
	for _, q := range qs {
		asked = append(asked, fmt.Sprintf("%s %d", q.Name, q.Type))
	}
	want := []string{"_osc._udp.local. 12", "x._osc._udp.local. 33", "h.local. 1", "x._osc._udp.local. 16"}
	if !slices.Equal(asked, want) {
		t.Errorf("refresh at 80 %%: %q, want %q", asked, want)
	}
	if next := tr.next(); !next.Equal(t0.Add(85 * time.Second)) {
		t.Errorf("next %v, want 85 s", next.Sub(t0))
	}
	for _, pct := range []time.Duration{85, 90, 95} {
		tr.refresh(t0.Add(pct * time.Second))
	}
	if next := tr.next(); !next.Equal(t0.Add(100 * time.Second)) {
		t.Errorf("after four refreshes, next %v, want the expiry at 100 s", next.Sub(t0))
	}
	expect(t, "before expiry", tr.expire(t0.Add(99*time.Second)))
	expect(t, "expiry", tr.expire(t0.Add(100*time.Second)), "gone x 1 [10.0.0.1] (expired)")
	if next := tr.next(); !next.IsZero() {
		t.Errorf("nothing cached, next %v", next)
	}
}

func TestTrackerKnownAnswers(t *testing.T) {
	tr := newTracker([]string{OSCUDP, OSCTCP}, nil)
	tr.handle(response(ptr("x", 100)), lan, "", t0)
	q := tr.queries(t0.Add(40 * time.Second))
	if len(q.Questions) != 2 || len(q.Answers) != 1 || q.Answers[0].TTL != 60 {
		t.Errorf("at 40 %% of its life: questions %d, known answers %+v", len(q.Questions), q.Answers)
	}
	if q := tr.queries(t0.Add(60 * time.Second)); len(q.Answers) != 0 {
		t.Errorf("at 60 %%, a known answer is still sent: %+v", q.Answers)
	}
}

func TestTrackerIgnores(t *testing.T) {
	tr := newTracker([]string{OSCUDP}, nil)
	all := []record{ptr("x", 100), srv("x", "h", 1, 100), a("h", "10.0.0.1", 100)}
	// A query's known answers are another browser's cache, not the service.
	evs, _ := tr.handle(&message{Questions: []question{{Name: oscType, Type: typePTR}}, Answers: all}, lan, "", t0)
	expect(t, "query", evs)
	// Another type's pointer, and a pointer to a name that is not an
	// instance of the type.
	evs, _ = tr.handle(response(
		record{Name: name{"_http", "_tcp", "local"}, Type: typePTR, TTL: 100, Target: name{"web", "_http", "_tcp", "local"}},
		record{Name: oscType, Type: typePTR, TTL: 100, Target: name{"a", "b", "_osc", "_udp", "local"}}), lan, "", t0)
	expect(t, "foreign pointers", evs)
}

func TestTrackerBounded(t *testing.T) {
	tr := newTracker([]string{OSCUDP}, nil)
	full := 0
	tr.full = func() { full++ }
	var rs []record
	for i := range maxEntries + 10 {
		rs = append(rs, ptr(fmt.Sprint("s", i), 100))
	}
	tr.handle(response(rs...), lan, "", t0)
	if n := len(tr.ptr[oscType.key()]); n != maxEntries || full != 1 {
		t.Errorf("%d pointers kept, told %d times; want %d, once", n, full, maxEntries)
	}
	// A host with endless addresses keeps the first few.
	rs = nil
	for i := range 100 {
		rs = append(rs, a("h", fmt.Sprintf("10.0.%d.%d", i/250, i%250+1), 100))
	}
	tr.handle(response(rs...), lan, "", t0)
	if n := len(tr.addrs["h.local."]); n != maxAddrs {
		t.Errorf("%d addresses kept, want %d", n, maxAddrs)
	}
}

func TestTrackerCacheFlush(t *testing.T) {
	tr := newTracker([]string{OSCUDP}, nil)
	tr.handle(response(ptr("x", 100), srv("x", "h", 1, 100), a("h", "10.0.0.1", 100)), lan, "", t0)
	// Within a second, a second address is added (several interfaces).
	evs, _ := tr.handle(response(a("h", "10.0.0.2", 100)), lan, "", t0.Add(500*time.Millisecond))
	expect(t, "second address", evs, "updated x 1 [10.0.0.1 10.0.0.2]")
	// Later, a cache-flush record replaces what came before on its
	// interface, and only there.
	evs, _ = tr.handle(response(a("h", "192.168.9.1", 100)), lan, "wlan0", t0.Add(3*time.Second))
	expect(t, "another interface", evs, "updated x 1 [10.0.0.1 10.0.0.2 192.168.9.1]")
	evs, _ = tr.handle(response(a("h", "10.0.0.3", 100)), lan, "", t0.Add(5*time.Second))
	expect(t, "flush", evs, "updated x 1 [192.168.9.1 10.0.0.3]")
	// IPv6 link-local addresses get the zone of the interface they came on.
	aaaa := record{Name: name{"h", "local"}, Type: typeAAAA, Class: classIN, TTL: 100, Addr: netip.MustParseAddr("fe80::1")}
	evs, _ = tr.handle(response(aaaa), lan, "eth0", t0.Add(6*time.Second))
	if len(evs) != 1 || !strings.Contains(fmt.Sprint(evs[0].Service.Addrs), "fe80::1%eth0") {
		t.Errorf("link-local address: %v", events(evs))
	}
}

func TestValidType(t *testing.T) {
	for in, want := range map[string]string{
		"_osc._udp": "_osc._udp", "_qlab._tcp.local.": "_qlab._tcp", "_oscjson._tcp.": "_oscjson._tcp",
		"_a1-b._udp": "_a1-b._udp",
	} {
		if got, ok := ValidType(in); !ok || got != want {
			t.Errorf("ValidType(%q) = %q, %v", in, got, ok)
		}
	}
	for _, in := range []string{"osc._udp", "_osc._sctp", "_osc", "_._udp", "_-a._udp", "_a--b._udp", "_123._udp",
		"_sixteen-letters1._udp", "_a b._udp", ""} {
		if _, ok := ValidType(in); ok {
			t.Errorf("ValidType(%q) accepted", in)
		}
	}
}

func TestValidInstance(t *testing.T) {
	for _, ok := range []string{"test", "TouchOSC on iPad", "Mixer 1.2", "Régie son ♪"} {
		if err := ValidInstance(ok); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
	for _, bad := range []string{"", strings.Repeat("x", 64), "a\nb", "a\x7fb", "a\u0085b", "\xff"} {
		if err := ValidInstance(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestParseTXT(t *testing.T) {
	got := ParseTXT([]string{"txtvers=1", "", "=x", "flag", "Version=1.1", "version=2", "uri=a=b", "empty="})
	want := []TXTPair{{"txtvers", "1", true}, {"flag", "", false}, {"Version", "1.1", true}, {"uri", "a=b", true}, {"empty", "", true}}
	if !slices.Equal(got, want) {
		t.Errorf("ParseTXT = %+v\nwant %+v", got, want)
	}
	if !IsOSCKey("TYPES") || IsOSCKey("flag") {
		t.Error("IsOSCKey")
	}
	if got := OSCTXT(true, "slip"); !slices.Equal(got, []string{"txtvers=1", "version=1.1", "framing=slip", "types=" + Types}) {
		t.Errorf("OSCTXT(tcp) = %q", got)
	}
	if got := OSCTXT(false, ""); slices.ContainsFunc(got, func(s string) bool { return strings.HasPrefix(s, "framing=") }) {
		t.Errorf("OSCTXT(udp) = %q: UDP has no framing", got)
	}
}

func TestRenamed(t *testing.T) {
	if got := renamed("test", 2); got != "test (2)" {
		t.Errorf("renamed = %q", got)
	}
	long := strings.Repeat("é", 31) // 62 bytes
	got := renamed(long, 12)
	if len(got) > 63 || !strings.HasSuffix(got, " (12)") || !strings.HasPrefix(got, "éé") || ValidInstance(got) != nil {
		t.Errorf("renamed(62 bytes) = %q (%d bytes)", got, len(got))
	}
}

func TestAdvertInterfaces(t *testing.T) {
	lo := iface{Interface: net.Interface{Index: 1, Name: "lo", Flags: net.FlagUp | net.FlagLoopback | net.FlagMulticast},
		addrs: []netip.Addr{netip.MustParseAddr("127.0.0.1")}}
	eth := iface{Interface: net.Interface{Index: 2, Name: "eth0", Flags: net.FlagUp | net.FlagMulticast},
		addrs: []netip.Addr{netip.MustParseAddr("192.168.1.23"), netip.MustParseAddr("192.168.1.24")}}
	wlan := iface{Interface: net.Interface{Index: 3, Name: "wlan0", Flags: net.FlagUp | net.FlagMulticast},
		addrs: []netip.Addr{netip.MustParseAddr("10.0.0.5")}}
	all := []iface{lo, eth, wlan}
	for _, tt := range []struct {
		addr string
		want string // interface=announced address, or the error's start
	}{
		{"", "lo=127.0.0.1 eth0=192.168.1.23 wlan0=10.0.0.5"},
		{"0.0.0.0", "lo=127.0.0.1 eth0=192.168.1.23 wlan0=10.0.0.5"},
		{"::", "lo=127.0.0.1 eth0=192.168.1.23 wlan0=10.0.0.5"},
		{"192.168.1.24", "eth0=192.168.1.24"},
		{"::ffff:10.0.0.5", "wlan0=10.0.0.5"},
		{"127.0.0.2", "lo=127.0.0.2"},
		{"10.9.9.9", "10.9.9.9 is not an address of an interface"},
		{"::1", "it listens on ::1 only, and oscli announces IPv4 addresses"},
		{"2001:db8::1", "it listens on 2001:db8::1 only"},
	} {
		var addr netip.Addr
		if tt.addr != "" {
			addr = netip.MustParseAddr(tt.addr)
		}
		ifs, err := advertInterfaces(all, addr)
		var got []string
		for _, i := range ifs {
			got = append(got, i.Name+"="+i.addrs[0].String())
		}
		if g := strings.Join(got, " "); err == nil && g != tt.want || err != nil && !strings.HasPrefix(err.Error(), tt.want) {
			t.Errorf("%q: %q %v, want %q", tt.addr, g, err, tt.want)
		}
	}
	// Linux's lo without multicast: a loopback listener cannot be found.
	if _, err := advertInterfaces([]iface{eth}, netip.MustParseAddr("127.0.0.1")); err != ErrLoopbackOnly {
		t.Errorf("loopback listener, no multicast loopback: %v", err)
	}
	if _, err := advertInterfaces(nil, netip.Addr{}); err != ErrNoInterface {
		t.Errorf("no interface: %v", err)
	}
}
