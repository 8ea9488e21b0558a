package cmd

import (
	"context"
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
	a.once.Do(func() { a.f.closed <- a.name })
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
