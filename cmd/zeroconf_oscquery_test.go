package cmd

import (
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/oscli/oscli/internal/clock"
	"github.com/oscli/oscli/internal/zeroconf"
)

// query @NAME asks the OSCQuery server advertised as NAME: here a real
// serve on loopback, announced by the fake network.
func TestQueryByNameFake(t *testing.T) {
	srv := start(t, nil, "serve", "../examples/oscquery-proposal.json", "-H", "127.0.0.1", "-p", "0", "--time", "none", "--name", "Mock desk")
	port := portOf(srv.addr)
	n, _ := strconv.Atoi(port)
	desk := found("Mock desk", zeroconf.OSCJSON, n, "127.0.0.1", "127.0.0.1")
	net := func() *fakeZeroconf { return &fakeZeroconf{events: []zeroconf.Event{desk}} }

	t.Run("the tree, as by its URL", func(t *testing.T) {
		z := net()
		r := runZ(t, z, nil, "query", "-v", "@mock DESK", "--depth", "1")
		byURL := run(t, "", nil, "query", "http://"+srv.addr, "--depth", "1")
		if r.code != 0 || r.out != byURL.out || !strings.Contains(r.out, "name        Mock desk\n") {
			t.Errorf("exit %d, stdout:\n%s\nwant:\n%s\nstderr: %s", r.code, r.out, byURL.out, r.err)
		}
		if want := `oscli: @mock DESK is the DNS-SD service "Mock desk" (_oscjson._tcp) at http://127.0.0.1:` + port + "\n"; r.err != want {
			t.Errorf("stderr %q, want %q", r.err, want)
		}
		if !slices.Equal(z.browsed[0], lookupTypes) {
			t.Errorf("browsed %q", z.browsed[0])
		}
	})
	t.Run("get, set, info", func(t *testing.T) {
		if r := runZ(t, net(), nil, "query", "set", "@Mock desk", "/baz/qux", "full"); r.code != 0 {
			t.Fatalf("set: exit %d, stderr %q", r.code, r.err)
		}
		srv.stdout.waitFor(t, func(out string) bool { return strings.Contains(out, "/baz/qux s:full") })
		if r := runZ(t, net(), nil, "query", "get", "@Mock desk", "/baz/qux"); r.code != 0 || r.out != "/baz/qux s:full\n" {
			t.Errorf("get: exit %d, stdout %q, stderr %q", r.code, r.out, r.err)
		}
		if r := runZ(t, net(), nil, "query", "info", "@Mock desk"); r.code != 0 || !strings.HasPrefix(r.out, "name        Mock desk\nosc         udp://127.0.0.1:"+port+"\n") {
			t.Errorf("info: exit %d, stdout %q, stderr %q", r.code, r.out, r.err)
		}
	})
	t.Run("watch", func(t *testing.T) {
		w := launchZ(t, clock.Real, net(), nil, "query", "watch", "@mock desk", "/foo", "--poll", "--interval", "1h")
		w.stderr.waitFor(t, func(out string) bool { return strings.Contains(out, "polling VALUE every 1h0m0s") })
		r := w.stop(t)
		if r.code != 0 || !strings.Contains(r.err, "http://127.0.0.1:"+port) {
			t.Errorf("exit %d, stderr %q", r.code, r.err)
		}
	})

	// Usage errors come first: nothing is looked up for them.
	for _, tt := range []struct {
		args []string
		err  string
	}{
		{[]string{"query", "@"}, "oscli: error: @ needs the name of an OSCQuery server\noscli: hint: 'oscli browse' lists them (_oscjson._tcp): oscli query @NAME\n"},
		{[]string{"query", "@Mock desk", "foo"}, `oscli: error: PATH "foo": an OSC address starts with '/'`},
		{[]string{"query", "get", "@Mock desk", "/foo", "--timeout", "0s"}, "oscli: error: --timeout 0s: want more than 0"},
	} {
		z := net()
		if r := runZ(t, z, nil, tt.args...); r.code != 2 || !strings.HasPrefix(r.err, tt.err) || len(z.browsed) != 0 {
			t.Errorf("%q: exit %d, browsed %v, stderr %q; want %q", tt.args, r.code, z.browsed, r.err, tt.err)
		}
	}

	t.Run("found nowhere, after 2s", func(t *testing.T) {
		for _, tt := range []struct {
			name   string
			events []zeroconf.Event
			config string
			want   string
		}{
			{"nothing", nil, "",
				"oscli: error: unknown OSCQuery server @desk: no DNS-SD service (_oscjson._tcp) of that name answered within 2s\n" +
					"oscli: hint: 'oscli browse' lists the OSCQuery servers on the network (_oscjson._tcp)\n"},
			{"a config target of that name", nil, "targets:\n  desk: udp://10.0.0.1:9000\n",
				"oscli: error: unknown OSCQuery server @desk: no DNS-SD service (_oscjson._tcp) of that name answered within 2s\n" +
					"oscli: hint: 'oscli browse' lists the OSCQuery servers on the network (_oscjson._tcp); @desk of the config file is an OSC target (udp://10.0.0.1:9000), not an OSCQuery server\n"},
			{"an OSC service of that name", []zeroconf.Event{found("Desk", zeroconf.OSCUDP, 9000, "127.0.0.1", "127.0.0.1")}, "",
				"oscli: error: @desk: \"Desk\" announces OSC (_osc._udp) but no OSCQuery server (_oscjson._tcp)\n" +
					"oscli: hint: oscli send @desk sends to it; 'oscli browse' lists the OSCQuery servers on the network (_oscjson._tcp)\n"},
		} {
			t.Run(tt.name, func(t *testing.T) {
				var getenv map[string]string
				if tt.config != "" {
					getenv = map[string]string{"OSCLI_CONFIG": writeConfig(t, tt.config)}
				}
				clk := clock.NewFake(t0)
				b := launchZ(t, clk, &fakeZeroconf{events: tt.events}, getenv, "query", "@desk")
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
				if r := b.wait(t); r.code != 1 || r.out != "" || r.err != tt.want {
					t.Errorf("exit %d, stderr:\n%s\nwant:\n%s", r.code, r.err, tt.want)
				}
			})
		}
	})
	t.Run("a loopback address from another machine", func(t *testing.T) {
		far := found("VRChat-Client-A1B2C3", zeroconf.OSCJSON, 9001, "192.168.1.50", "127.0.0.1")
		r := runZ(t, &fakeZeroconf{events: []zeroconf.Event{far}}, nil, "query", "@VRChat-Client-A1B2C3")
		want := `oscli: error: @VRChat-Client-A1B2C3: "VRChat-Client-A1B2C3" (_oscjson._tcp) announces only 127.0.0.1, from 192.168.1.50: the loopback of that machine, which only it reaches` + "\n"
		if r.code != 1 || r.err != want {
			t.Errorf("exit %d, stderr %q", r.code, r.err)
		}
	})
	t.Run("DNS-SD cannot browse", func(t *testing.T) {
		r := runZ(t, &fakeZeroconf{err: zeroconf.ErrNoInterface}, nil, "query", "@desk")
		if r.code != 1 || !strings.HasPrefix(r.err, "oscli: error: cannot look for the OSCQuery server @desk: DNS-SD: no network interface") {
			t.Errorf("exit %d, stderr %q", r.code, r.err)
		}
		if r := run(t, "", nil, "query", "@desk"); r.code != 1 || r.err != "oscli: error: cannot look for the OSCQuery server @desk: DNS-SD is not available here\n" {
			t.Errorf("no DNS-SD: exit %d, stderr %q", r.code, r.err)
		}
	})
	t.Run("Ctrl-C during the lookup", func(t *testing.T) {
		clk := clock.NewFake(t0)
		b := launchZ(t, clk, &fakeZeroconf{}, nil, "query", "@desk")
		if !clk.BlockUntil(1, 10*time.Second) {
			t.Fatal("the lookup does not wait on the clock")
		}
		if r := b.stop(t); r.code != exitInterrupted || r.err != "oscli: interrupted\n" {
			t.Errorf("exit %d, stderr %q", r.code, r.err)
		}
	})
}

// serve --advertise announces its HTTP port as _oscjson._tcp and its OSC
// port as _osc._udp (or _osc._tcp) under one name, and however it stops
// says goodbye before its summary.
func TestServeAdvertiseFake(t *testing.T) {
	tree := "../examples/oscquery-proposal.json"
	for _, tt := range []struct {
		name string
		args []string
		stop func(b *background)
		why  string
	}{
		{"Ctrl-C", nil, func(b *background) { b.cancel() }, "interrupt"},
		{"--count", []string{"-n", "1"}, func(b *background) { sendRaw(t, b.addr, []byte("/x\x00\x00,\x00\x00\x00")) }, "--count 1"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			z := &fakeZeroconf{closed: make(chan string, 1), announce: true}
			var b *background
			var atClose string
			z.atClose = func() { atClose = b.stderr.String() }
			args := append([]string{"serve", tree, "-H", "127.0.0.1", "-p", "0", "--advertise", "stage", "--time", "none"}, tt.args...)
			b = startEnv(t, clock.Real, nil, func(e *Env) { e.Zeroconf = z.open }, args...)
			port := portOf(b.addr)
			b.stderr.waitFor(t, func(out string) bool { return strings.Contains(out, "oscli: advertised as") })
			tt.stop(b)
			r := b.wait(t)
			if name := <-z.closed; name != "stage" {
				t.Errorf("closed %q", name)
			}
			if strings.Contains(atClose, "oscli: stopped by") {
				t.Errorf("goodbye after the summary: %q", atClose)
			}
			a := z.adverts[0]
			if a.Instance != "stage" || a.Addr.String() != "127.0.0.1" || len(a.Services) != 2 ||
				a.Services[0].Type != zeroconf.OSCJSON || portString(a.Services[0].Port) != port || !slices.Equal(a.Services[0].TXT, []string{"txtvers=1"}) ||
				a.Services[1].Type != zeroconf.OSCUDP || portString(a.Services[1].Port) != port || !slices.Contains(a.Services[1].TXT, "version=1.1") {
				t.Errorf("advertised %+v", a)
			}
			if !strings.Contains(r.err, `oscli: advertised as "stage" (_oscjson._tcp port `+port+", _osc._udp port "+port+")\n") ||
				!strings.Contains(r.err, "oscli: stopped by "+tt.why+":") || r.code != 0 {
				t.Errorf("exit %d, stderr %q", r.code, r.err)
			}
		})
	}
	t.Run("--osc-proto tcp, the default name, TREE.json after --advertise", func(t *testing.T) {
		z := &fakeZeroconf{closed: make(chan string, 1)}
		b := startEnv(t, clock.Real, nil, func(e *Env) { e.Zeroconf = z.open }, "serve", "-H", "127.0.0.1", "-p", "0", "--osc-proto", "tcp", "--advertise", tree)
		r := b.stop(t)
		<-z.closed
		a := z.adverts[0]
		if a.Instance != "oscli serve on "+zeroconf.Hostname() || len(a.Services) != 2 || portString(a.Services[0].Port) != portOf(b.addr) ||
			a.Services[1].Type != zeroconf.OSCTCP || a.Services[1].Port == a.Services[0].Port || !slices.Contains(a.Services[1].TXT, "framing=slip") {
			t.Errorf("advertised %+v", a)
		}
		if !strings.Contains(r.err, "(10 nodes;") {
			t.Errorf("TREE.json not served: %q", r.err)
		}
	})
	t.Run("no DNS-SD: a warning, and serve serves", func(t *testing.T) {
		b := startEnv(t, clock.Real, nil, nil, "serve", tree, "-H", "127.0.0.1", "-p", "0", "--advertise", "x")
		if r := b.stop(t); r.code != 0 || !strings.Contains(r.err, `oscli: warning: --advertise "x": DNS-SD is not available here; not advertised`) {
			t.Errorf("exit %d, stderr %q", r.code, r.err)
		}
	})
	for _, tt := range []struct {
		args []string
		err  string
	}{
		{[]string{"serve", tree, "--advertise="}, "oscli: error: --advertise= needs a name\noscli: hint: --advertise alone announces \"oscli serve on HOSTNAME\"\n"},
		{[]string{"serve", tree, "--advertise", "Mixer 1.2"}, "oscli: error: --advertise \"Mixer 1.2\": a '.' in the name is not supported (pion/mdns, which answers the queries, cannot carry it)\n"},
	} {
		if r := run(t, "", nil, tt.args...); r.code != 2 || r.err != tt.err {
			t.Errorf("%q: exit %d, stderr %q; want %q", tt.args, r.code, r.err, tt.err)
		}
	}
}

// browse ends an OSCQuery server's line with the query command that asks
// it, when this machine reaches it, and not when it is gone.
func TestBrowseShowsQuery(t *testing.T) {
	desk := found("Mock desk", zeroconf.OSCJSON, 5678, "127.0.0.1", "127.0.0.1")
	desk.Service.HostInfo = &zeroconf.HostInfo{Name: "oscli", OSCPort: 5678, OSCTransport: "UDP"}
	far := found("VRChat-Client-A1B2C3", zeroconf.OSCJSON, 9001, "192.168.1.50", "127.0.0.1")
	gone := desk
	gone.Kind, gone.Reason = zeroconf.Gone, "goodbye"
	b := launchZ(t, clock.Real, &fakeZeroconf{events: []zeroconf.Event{desk, far, gone}}, nil, "browse")
	b.stdout.waitFor(t, func(out string) bool { return strings.Count(out, "\n") == 3 })
	got := lines(b.stop(t).out)
	if !strings.HasSuffix(got[0], `HOST_INFO name=oscli osc=udp://127.0.0.1:5678  → oscli query @"Mock desk"`) ||
		strings.Contains(got[1], "oscli query") || got[2] != `- "Mock desk"  _oscjson._tcp  gone (goodbye)` {
		t.Errorf("browse printed:\n%s", strings.Join(got, "\n"))
	}
}
