package cmd

import (
	"context"
	"encoding/json"
	"net"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/oscli/oscli/internal/clock"
	"github.com/oscli/oscli/internal/zeroconf"
)

// fakeZeroconf is a network for tests of browse, @NAME and --advertise
// without sockets: Browse reports its events (of the types asked for) at
// once, then waits for the end; Advertise records what it is asked and
// when it is closed.
type fakeZeroconf struct {
	events []zeroconf.Event
	err    error // Browse's, when set

	mu       sync.Mutex
	browsed  [][]string
	adverts  []zeroconf.Advert
	closed   chan string // the instance of each advertisement closed
	announce bool        // Advertise calls Announced
	atClose  func()      // when set, called as an advertisement closes
}

func (f *fakeZeroconf) open(clock.Clock, func(string)) zeroconf.Network { return f }

func (f *fakeZeroconf) Browse(ctx context.Context, types []string, fn func(zeroconf.Event)) error {
	f.mu.Lock()
	f.browsed = append(f.browsed, types)
	f.mu.Unlock()
	if f.err != nil {
		return f.err
	}
	for _, ev := range f.events {
		if slices.Contains(types, ev.Service.Type) {
			fn(ev)
		}
	}
	<-ctx.Done()
	return ctx.Err()
}

type fakeAd struct {
	f    *fakeZeroconf
	name string
	once sync.Once
}

func (a *fakeAd) Close() error {
	a.once.Do(func() {
		if a.f.atClose != nil {
			a.f.atClose()
		}
		a.f.closed <- a.name
	})
	return nil
}

func (f *fakeZeroconf) Advertise(ctx context.Context, a zeroconf.Advert) (zeroconf.Advertisement, error) {
	f.mu.Lock()
	f.adverts = append(f.adverts, a)
	f.mu.Unlock()
	if f.announce && a.Announced != nil {
		a.Announced(a.Instance)
	}
	return &fakeAd{f: f, name: a.Instance}, nil
}

func found(instance, typ string, port int, from string, addrs ...string) zeroconf.Event {
	s := zeroconf.Service{Instance: instance, Type: typ, Host: "h.local.", Port: port, From: netip.MustParseAddr(from),
		TXT: []string{"txtvers=1", "version=1.1"}}
	s.FromLocal = s.From.IsLoopback()
	for _, a := range addrs {
		s.Addrs = append(s.Addrs, netip.MustParseAddr(a))
	}
	return zeroconf.Event{Kind: zeroconf.Found, Time: t0, Service: s}
}

// exampleNetwork announces the instances the examples of README.md and
// --help name with @.
var exampleNetwork = &fakeZeroconf{events: []zeroconf.Event{
	found("TouchOSC on iPad", zeroconf.OSCUDP, 9000, "192.168.1.40", "192.168.1.40"),
	found("Studio monitor", zeroconf.OSCUDP, 9000, "192.168.1.23", "192.168.1.23"),
	found("VRChat-Client-A1B2C3", zeroconf.OSCJSON, 9001, "127.0.0.1", "127.0.0.1"),
	found("Mock desk", zeroconf.OSCJSON, 5678, "127.0.0.1", "127.0.0.1"),
}}

// launchZ runs oscli in the background with z as the network.
func launchZ(t *testing.T, clk clock.Clock, z *fakeZeroconf, getenv map[string]string, args ...string) *background {
	t.Helper()
	return launchEnv(t, clk, getenv, func(e *Env) { e.Zeroconf = z.open }, args...)
}

// runZ runs oscli to completion with z as the network.
func runZ(t *testing.T, z *fakeZeroconf, getenv map[string]string, args ...string) result {
	t.Helper()
	return launchZ(t, clock.Real, z, getenv, args...).wait(t)
}

func TestBrowseFake(t *testing.T) {
	touch := found("TouchOSC on iPad", zeroconf.OSCUDP, 9000, "192.168.1.40", "192.168.1.40")
	vrc := found("VRChat-Client-A1B2C3", zeroconf.OSCJSON, 9001, "192.168.1.50", "127.0.0.1")
	vrc.Service.HostInfo = &zeroconf.HostInfo{Name: "VRChat-Client-A1B2C3", OSCIP: "127.0.0.1", OSCPort: 9000, OSCTransport: "UDP"}
	gone := touch
	gone.Kind, gone.Reason = zeroconf.Gone, "goodbye"
	qlab := found("Show", "_qlab._tcp", 53000, "192.168.1.60", "192.168.1.60")

	t.Run("live until Ctrl-C", func(t *testing.T) {
		z := &fakeZeroconf{events: []zeroconf.Event{touch, vrc, gone}}
		b := launchZ(t, clock.Real, z, nil, "browse")
		b.stdout.waitFor(t, func(out string) bool { return strings.Count(out, "\n") == 3 })
		r := b.stop(t)
		want := `+ "TouchOSC on iPad"  _osc._udp  udp://192.168.1.40:9000  host h.local. (192.168.1.40)  txtvers=1 version=1.1
+ VRChat-Client-A1B2C3  _oscjson._tcp  port 9001 (unreachable: 127.0.0.1 is the loopback of 192.168.1.50)  host h.local. (127.0.0.1)  txtvers=1 version=1.1  HOST_INFO name=VRChat-Client-A1B2C3
- "TouchOSC on iPad"  _osc._udp  gone (goodbye)
`
		if r.code != 0 || r.out != want {
			t.Errorf("exit %d, stdout:\n%s\nwant:\n%s\nstderr: %s", r.code, r.out, want, r.err)
		}
		if !strings.HasPrefix(r.err, "oscli: browsing _osc._udp, _osc._tcp, _oscjson._tcp until Ctrl-C\n") ||
			!strings.HasSuffix(r.err, "oscli: stopped by interrupt: 2 services found, 1 gone\n") {
			t.Errorf("stderr %q", r.err)
		}
	})
	t.Run("--timeout prints the list", func(t *testing.T) {
		clk := clock.NewFake(t0)
		z := &fakeZeroconf{events: []zeroconf.Event{touch, qlab, vrc}}
		b := launchZ(t, clk, z, nil, "browse", "--timeout", "3s", "--type", "_qlab._tcp.local.")
		if !clk.BlockUntil(1, 10*time.Second) {
			t.Fatal("browse does not wait on the clock")
		}
		clk.Advance(3 * time.Second)
		r := b.wait(t)
		got := lines(r.out)
		// By type, then name; no sign: a list, not events.
		if r.code != 0 || len(got) != 3 || !strings.HasPrefix(got[0], `"TouchOSC on iPad"  _osc._udp`) ||
			!strings.HasPrefix(got[1], "VRChat-Client-A1B2C3  _oscjson._tcp") || !strings.HasPrefix(got[2], "Show  _qlab._tcp  192.168.1.60:53000") {
			t.Errorf("exit %d, stdout:\n%s\nstderr: %s", r.code, r.out, r.err)
		}
		if !strings.HasSuffix(r.err, "oscli: stopped by --timeout 3s: 3 services found, 0 gone\n") {
			t.Errorf("stderr %q", r.err)
		}
		if !slices.Equal(z.browsed[0], []string{"_osc._udp", "_osc._tcp", "_oscjson._tcp", "_qlab._tcp"}) {
			t.Errorf("browsed %q", z.browsed[0])
		}
	})
	t.Run("--timeout with nothing found is exit 1", func(t *testing.T) {
		clk := clock.NewFake(t0)
		b := launchZ(t, clk, &fakeZeroconf{}, nil, "browse", "--timeout", "2s")
		if !clk.BlockUntil(1, 10*time.Second) {
			t.Fatal("browse does not wait on the clock")
		}
		clk.Advance(2 * time.Second)
		r := b.wait(t)
		if r.code != 1 || r.out != "" || !strings.Contains(r.err, "oscli: error: no service of type _osc._udp, _osc._tcp, _oscjson._tcp answered within --timeout 2s\noscli: hint: multicast DNS needs UDP port 5353") {
			t.Errorf("exit %d, stdout %q, stderr %q", r.code, r.out, r.err)
		}
	})
	t.Run("--json, one object per event", func(t *testing.T) {
		clk := clock.NewFake(t0)
		b := launchZ(t, clk, &fakeZeroconf{events: []zeroconf.Event{touch, vrc, gone}}, nil, "browse", "--json", "--timeout", "1s")
		b.stdout.waitFor(t, func(out string) bool { return strings.Count(out, "\n") == 3 })
		clk.Advance(time.Second)
		r := b.wait(t)
		var evs []map[string]any
		for _, l := range lines(r.out) {
			var v map[string]any
			if err := json.Unmarshal([]byte(l), &v); err != nil {
				t.Fatalf("%q: %v", l, err)
			}
			evs = append(evs, v)
		}
		if r.code != 0 || len(evs) != 3 || evs[0]["event"] != "found" || evs[0]["target"] != "udp://192.168.1.40:9000" ||
			evs[0]["txt"].(map[string]any)["version"] != "1.1" || evs[1]["unreachable"] == nil || evs[1]["target"] != nil ||
			evs[2]["event"] != "gone" || evs[2]["reason"] != "goodbye" {
			t.Errorf("exit %d, stdout:\n%s", r.code, r.out)
		}
	})
	for _, tt := range []struct {
		args []string
		z    *fakeZeroconf
		code int
		err  string
	}{
		{[]string{"browse", "--type", "osc.udp"}, &fakeZeroconf{}, 2, `oscli: error: --type "osc.udp": want a DNS-SD service type, _name._udp or _name._tcp`},
		{[]string{"browse", "x"}, &fakeZeroconf{}, 2, "oscli: error: browse takes no arguments"},
		{[]string{"browse", "--timeout", "-1s"}, &fakeZeroconf{}, 2, "oscli: error: --timeout -1s: cannot be negative"},
		{[]string{"browse"}, &fakeZeroconf{err: zeroconf.ErrNoInterface}, 1, "oscli: error: cannot browse: no network interface that is up carries IPv4 multicast\noscli: hint: "},
	} {
		if r := runZ(t, tt.z, nil, tt.args...); r.code != tt.code || !strings.Contains(r.err, tt.err) {
			t.Errorf("%q: exit %d, stderr %q; want %d, %q", tt.args, r.code, r.err, tt.code, tt.err)
		}
	}
}

// listenUDP is a plain loopback socket standing for an advertised
// receiver; it returns its port and a function that reads one datagram.
func listenUDP(t *testing.T) (int, func() []byte) {
	t.Helper()
	pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	return pc.LocalAddr().(*net.UDPAddr).Port, func() []byte {
		_ = pc.SetReadDeadline(time.Now().Add(10 * time.Second))
		b := make([]byte, 1500)
		n, _, err := pc.ReadFrom(b)
		if err != nil {
			t.Fatalf("nothing arrived: %v", err)
		}
		return b[:n]
	}
}

func TestLookupTargetFake(t *testing.T) {
	port, read := listenUDP(t)
	udp := found("TouchOSC on iPad", zeroconf.OSCUDP, port, "127.0.0.1", "127.0.0.1")

	t.Run("an advertised instance is a target", func(t *testing.T) {
		z := &fakeZeroconf{events: []zeroconf.Event{udp}}
		r := runZ(t, z, nil, "send", "-v", "@touchosc ON ipad", "/x", "i:1")
		if r.code != 0 || !strings.Contains(r.err, `oscli: @touchosc ON ipad is the DNS-SD service "TouchOSC on iPad" (_osc._udp) at udp://127.0.0.1:`) {
			t.Fatalf("exit %d, stderr %q", r.code, r.err)
		}
		if got := read(); !strings.HasPrefix(string(got), "/x\x00") {
			t.Errorf("received %q", got)
		}
	})
	t.Run("the config file comes first", func(t *testing.T) {
		z := &fakeZeroconf{events: []zeroconf.Event{udp}}
		cfg := writeConfig(t, "targets:\n  touch: udp://127.0.0.1:1\n")
		r := runZ(t, z, map[string]string{"OSCLI_CONFIG": cfg}, "send", "--dry-run", "-v", "@touch", "/x")
		if r.code != 0 || len(z.browsed) != 0 || !strings.Contains(r.err, "would send to udp://127.0.0.1:1") {
			t.Errorf("exit %d, browsed %v, stderr %q", r.code, z.browsed, r.err)
		}
	})
	t.Run("an OSCQuery server's HOST_INFO port", func(t *testing.T) {
		q := found("VRChat-Client-A1B2C3", zeroconf.OSCJSON, 1, "127.0.0.1", "127.0.0.1")
		q.Service.HostInfo = &zeroconf.HostInfo{Name: "VRChat-Client-A1B2C3", OSCIP: "127.0.0.1", OSCPort: port, OSCTransport: "UDP"}
		r := runZ(t, &fakeZeroconf{events: []zeroconf.Event{q}}, nil, "send", "@VRChat-Client-A1B2C3", "/avatar/parameters/x", "T")
		if r.code != 0 {
			t.Fatalf("exit %d, stderr %q", r.code, r.err)
		}
		if got := read(); !strings.HasPrefix(string(got), "/avatar/parameters/x\x00") {
			t.Errorf("received %q", got)
		}
	})
	t.Run("--proto picks the transport", func(t *testing.T) {
		tcp := found("Desk", zeroconf.OSCTCP, 3032, "127.0.0.1", "127.0.0.1")
		z := &fakeZeroconf{events: []zeroconf.Event{found("Desk", zeroconf.OSCUDP, 3033, "127.0.0.1", "127.0.0.1"), tcp}}
		r := runZ(t, z, nil, "bundle", "-v", "--proto", "tcp", "@desk", "/a", "/b")
		if !strings.Contains(r.err, `"Desk" (_osc._tcp) at tcp://127.0.0.1:3032`) {
			t.Errorf("stderr %q", r.err)
		}
	})
	t.Run("a loopback address from another machine", func(t *testing.T) {
		far := found("VRChat-Client-A1B2C3", zeroconf.OSCUDP, 9000, "192.168.1.50", "127.0.0.1")
		r := runZ(t, &fakeZeroconf{events: []zeroconf.Event{far}}, nil, "send", "@VRChat-Client-A1B2C3", "/x")
		want := `oscli: error: @VRChat-Client-A1B2C3: "VRChat-Client-A1B2C3" (_osc._udp) announces only 127.0.0.1, from 192.168.1.50: the loopback of that machine, which only it reaches` + "\n"
		if r.code != 1 || r.err != want {
			t.Errorf("exit %d, stderr %q", r.code, r.err)
		}
	})
	t.Run("found nowhere: both places named, after 2s", func(t *testing.T) {
		clk := clock.NewFake(t0)
		cfg := writeConfig(t, "targets:\n  mixer: udp://10.0.0.1:1\n")
		b := launchZ(t, clk, &fakeZeroconf{events: []zeroconf.Event{udp}}, map[string]string{"OSCLI_CONFIG": cfg}, "send", "@desk", "/x")
		if !clk.BlockUntil(1, 10*time.Second) {
			t.Fatal("the lookup does not wait on the clock")
		}
		clk.Advance(lookupTimeout - time.Nanosecond)
		select {
		case r := <-b.done:
			t.Fatalf("gave up before 2s: %+v", r)
		default:
		}
		clk.Advance(time.Nanosecond)
		r := b.wait(t)
		want := "oscli: error: unknown target @desk: not in the config file's targets, and no DNS-SD service (_osc._udp, _osc._tcp, _oscjson._tcp) of that name answered within 2s\n" +
			"oscli: hint: 'oscli browse' lists the OSC services on the network; known targets: @mixer\n"
		if r.code != 1 || r.err != want {
			t.Errorf("exit %d, stderr:\n%s\nwant:\n%s", r.code, r.err, want)
		}
	})
	t.Run("Ctrl-C during the lookup", func(t *testing.T) {
		clk := clock.NewFake(t0)
		b := launchZ(t, clk, &fakeZeroconf{}, nil, "send", "@desk", "/x")
		if !clk.BlockUntil(1, 10*time.Second) {
			t.Fatal("the lookup does not wait on the clock")
		}
		r := b.stop(t)
		if r.code != exitInterrupted || r.err != "oscli: interrupted\n" {
			t.Errorf("exit %d, stderr %q", r.code, r.err)
		}
	})
	t.Run("a dry run does not look", func(t *testing.T) {
		z := &fakeZeroconf{events: []zeroconf.Event{udp}}
		r := runZ(t, z, nil, "send", "--dry-run", "@TouchOSC on iPad", "/x")
		if r.code != 2 || len(z.browsed) != 0 || !strings.Contains(r.err, "unknown target @TouchOSC on iPad") {
			t.Errorf("exit %d, browsed %v, stderr %q", r.code, z.browsed, r.err)
		}
	})
	t.Run("a listening word is not looked up", func(t *testing.T) {
		z := &fakeZeroconf{events: []zeroconf.Event{udp}}
		r := runZ(t, z, nil, "dump", "@TouchOSC on iPad")
		if r.code != 2 || len(z.browsed) != 0 {
			t.Errorf("exit %d, browsed %v, stderr %q", r.code, z.browsed, r.err)
		}
	})
}

func TestJoinOptionalValues(t *testing.T) {
	env, _, _ := testEnv("")
	for _, tt := range []struct{ in, want string }{
		{"dump --advertise test -p 9000", "dump --advertise=test -p 9000"},
		{"dump --advertise 9000", "dump --advertise 9000"},
		{"dump --advertise udp://0.0.0.0:9000", "dump --advertise udp://0.0.0.0:9000"},
		{"dump --advertise @studio", "dump --advertise @studio"},
		{"dump --advertise -p 9000", "dump --advertise -p 9000"},
		{"dump 9000 --advertise", "dump 9000 --advertise"},
		{"dump --advertise=x y", "dump --advertise=x y"},
		{"dump -- --advertise x", "dump -- --advertise x"},
		{"send --advertise x /a", "send --advertise x /a"}, // send has no such flag
		{"serve --advertise tree.json", "serve --advertise tree.json"},
		{"serve --advertise ../examples/tree", "serve --advertise ../examples/tree"},
		{"serve --advertise Stage t.json", "serve --advertise=Stage t.json"},
	} {
		args := strings.Fields(tt.in)
		root := newRootFor(env, args)
		if got := strings.Join(joinOptionalValues(root, args), " "); got != tt.want {
			t.Errorf("%q → %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestAdvertiseFlag(t *testing.T) {
	host := zeroconf.Hostname()
	for _, tt := range []struct {
		args       []string
		name, word string
		port       int
	}{
		{[]string{"dump", "--advertise", "test", "-p", "9000"}, "test", "", 9000},
		{[]string{"dump", "--advertise", "Studio monitor", "9001"}, "Studio monitor", "", 9001},
		{[]string{"dump", "--advertise", "9002"}, "oscli dump on " + host, "", 9002},
		{[]string{"dump", "9003", "--advertise"}, "oscli dump on " + host, "", 9003},
		{[]string{"dump", "-p", "9004"}, "", "", 9004},
	} {
		opts, code, stderr := parse(t, nil, tt.args...)
		o, ok := opts.(*dumpOptions)
		if code != 0 || !ok || o.Advertise.Name != tt.name || o.Listen.Port != tt.port {
			t.Errorf("%q: exit %d %s, name %q port %d", tt.args, code, stderr, o.Advertise.Name, o.Listen.Port)
		}
	}
	for _, tt := range []struct {
		args []string
		err  string
	}{
		{[]string{"dump", "--advertise="}, "oscli: error: --advertise= needs a name"},
		{[]string{"dump", "unix:///tmp/x.sock", "--advertise"}, "--advertise works with UDP and TCP listeners"},
		{[]string{"dump", "--advertise", "Mixer 1.2"}, `--advertise "Mixer 1.2": a '.' in the name is not supported`},
		{[]string{"dump", "--advertise", strings.Repeat("x", 64)}, "longer than 63 bytes"},
		{[]string{"dump", "--advertise=a\tb"}, "control characters"},
	} {
		if _, code, stderr := parse(t, nil, tt.args...); code != 2 || !strings.Contains(stderr, tt.err) {
			t.Errorf("%q: exit %d, stderr %q; want %q", tt.args, code, stderr, tt.err)
		}
	}
	// From the config file, too.
	cfg := writeConfig(t, "dump:\n  advertise: Stage left\n")
	if opts, code, stderr := parse(t, map[string]string{"OSCLI_CONFIG": cfg}, "dump"); code != 0 || opts.(*dumpOptions).Advertise.Name != "Stage left" {
		t.Errorf("config: exit %d %s", code, stderr)
	}
}

// However dump stops, it withdraws what it advertised: the goodbye comes
// before the summary.
func TestDumpAdvertiseWithdrawn(t *testing.T) {
	stops := []struct {
		name string
		args []string
		stop func(t *testing.T, b *background, clk *clock.Fake)
		why  string
	}{
		{"Ctrl-C", nil, func(t *testing.T, b *background, _ *clock.Fake) { b.cancel() }, "interrupt"},
		{"--count", []string{"-n", "1"}, func(t *testing.T, b *background, _ *clock.Fake) {
			sendRaw(t, b.addr, []byte("/x\x00\x00,\x00\x00\x00"))
		}, "--count 1"},
		{"--timeout", []string{"--timeout", "5s"}, func(t *testing.T, _ *background, clk *clock.Fake) { clk.Advance(5 * time.Second) }, "--timeout 5s"},
	}
	for _, tt := range stops {
		t.Run(tt.name, func(t *testing.T) {
			clk := clock.NewFake(t0)
			z := &fakeZeroconf{closed: make(chan string, 1), announce: true}
			args := append([]string{"dump", "127.0.0.1:0", "--advertise", "stage", "--framing", "len", "--time", "none"}, tt.args...)
			b := startEnv(t, clk, nil, func(e *Env) { e.Zeroconf = z.open }, args...)
			tt.stop(t, b, clk)
			r := b.wait(t)
			select {
			case name := <-z.closed:
				if name != "stage" {
					t.Errorf("closed %q", name)
				}
			default:
				t.Fatalf("not withdrawn; stderr %q", r.err)
			}
			a := z.adverts[0]
			port := portOf(b.addr)
			if a.Instance != "stage" || a.Addr != netip.MustParseAddr("127.0.0.1") || len(a.Services) != 1 ||
				a.Services[0].Type != zeroconf.OSCUDP || portString(a.Services[0].Port) != port ||
				!slices.Contains(a.Services[0].TXT, "version=1.1") {
				t.Errorf("advertised %+v", a)
			}
			if !strings.Contains(r.err, "oscli: advertised as \"stage\" (_osc._udp port "+port+")\n") ||
				!strings.Contains(r.err, "oscli: stopped by "+tt.why+":") {
				t.Errorf("stderr %q", r.err)
			}
		})
	}
	t.Run("TCP with its framing", func(t *testing.T) {
		z := &fakeZeroconf{closed: make(chan string, 1)}
		b := startEnv(t, clock.Real, nil, func(e *Env) { e.Zeroconf = z.open }, "dump", "tcp://127.0.0.1:0", "--advertise", "--framing", "len")
		b.stop(t)
		if s := z.adverts[0].Services[0]; s.Type != zeroconf.OSCTCP || !slices.Contains(s.TXT, "framing=len") ||
			z.adverts[0].Instance != "oscli dump on "+zeroconf.Hostname() {
			t.Errorf("advertised %+v", z.adverts[0])
		}
	})
	t.Run("no DNS-SD: a warning, and dump listens", func(t *testing.T) {
		b := startEnv(t, clock.Real, nil, nil, "dump", "127.0.0.1:0", "--advertise", "x")
		r := b.stop(t)
		if r.code != 0 || !strings.Contains(r.err, `oscli: warning: --advertise "x": DNS-SD is not available here; not advertised`) {
			t.Errorf("exit %d, stderr %q", r.code, r.err)
		}
	})
}

func portString(p int) string {
	return strings.TrimPrefix(netip.AddrPortFrom(netip.IPv4Unspecified(), uint16(p)).String(), "0.0.0.0:")
}
