package cmd

import (
	"bufio"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/oscli/oscli/internal/clock"
)

// DNS-SD on a real (namespaced) network: only inside a network namespace
// made for the test, whose loopback carries multicast, never on the
// machine's interfaces. The independent peer is python3-zeroconf
// (Debian's python3-zeroconf, run with /usr/bin/python3): it advertises
// what oscli browse must list, and browses what dump --advertise
// announces.
func TestZeroconfInNetns(t *testing.T) {
	if os.Getenv("OSCLI_IN_NETNS") != "1" {
		reexecInNetns(t, "TestZeroconfInNetns")
		return
	}
	multicastLoopback(t)
	mdns := func(e *Env) { e.Zeroconf = newMDNS }

	t.Run("a python-zeroconf service in browse --timeout 3s --json", func(t *testing.T) {
		t.Parallel()
		py := startPython(t, pyRegister, "Py OSC", "_osc._udp", "9999")
		awaitLine(t, py, "registered")
		clk := clock.NewFake(t0)
		b := launchEnv(t, clk, nil, mdns, "browse", "--timeout", "3s", "--json")
		b.stdout.waitFor(t, func(out string) bool { return strings.Contains(out, `"name":"Py OSC"`) })
		clk.Advance(3 * time.Second)
		r := b.wait(t)
		if r.code != 0 {
			t.Fatalf("exit %d, stderr %q", r.code, r.err)
		}
		var ev struct {
			Event, Name, Type, Host, Target string
			Port                            int
			TXT                             map[string]any
		}
		for _, l := range lines(r.out) { // the other subtests' services are there too
			if strings.Contains(l, `"name":"Py OSC"`) {
				if err := json.Unmarshal([]byte(l), &ev); err != nil {
					t.Fatal(err)
				}
			}
		}
		if ev.Event != "found" || ev.Type != "_osc._udp" || ev.Host != "pyhost.local." || ev.Port != 9999 ||
			ev.Target != "udp://127.0.0.1:9999" || ev.TXT["txtvers"] != "1" || ev.TXT["version"] != "1.1" || ev.TXT["types"] != "ifs" {
			t.Errorf("event %+v from %s", ev, r.out)
		}
	})

	t.Run("dump --advertise is seen by python-zeroconf and goes when dump exits", func(t *testing.T) {
		t.Parallel()
		py := startPython(t, pyBrowse, "_osc._udp.local.", "_osc._tcp.local.")
		awaitLine(t, py, "browsing")
		announced := make(chan string, 1)
		d := startEnv(t, clock.Real, nil, func(e *Env) {
			mdns(e)
			e.onAdvertise = func(name string) { announced <- name }
		}, "dump", "--advertise", "test", "-p", "0")
		port := portOf(d.addr)
		awaitSignal(t, announced, "test")
		add := awaitLine(t, py, "add test._osc._udp.local.")
		if !strings.HasPrefix(add, "add test._osc._udp.local. "+port+" ['127.0.0.1'] ") ||
			!strings.Contains(add, "('txtvers', '1')") || !strings.Contains(add, "('version', '1.1')") {
			t.Errorf("python-zeroconf saw %q, want port %s and OSC 1.1's keys", add, port)
		}
		r := d.stop(t)
		awaitLine(t, py, "remove test._osc._udp.local.")
		if !strings.Contains(r.err, `oscli: advertised as "test" (_osc._udp port `+port+")") {
			t.Errorf("stderr %q", r.err)
		}
	})

	t.Run("send @NAME reaches the dump advertised as NAME", func(t *testing.T) {
		t.Parallel()
		announced := make(chan string, 1)
		d := startEnv(t, clock.Real, nil, func(e *Env) {
			mdns(e)
			e.onAdvertise = func(name string) { announced <- name }
		}, "dump", "--advertise", "Stage Left", "-p", "0", "-n", "1", "--time", "none")
		awaitSignal(t, announced, "Stage Left")
		s := launchEnv(t, clock.Real, nil, mdns, "send", "@stage left", "/x", "i:1").wait(t)
		if s.code != 0 {
			t.Fatalf("send: exit %d, stderr %q", s.code, s.err)
		}
		if r := d.wait(t); !strings.HasSuffix(r.out, "  /x i:1\n") {
			t.Errorf("dump printed %q, stderr %q", r.out, r.err)
		}
	})

	t.Run("browse sees dump's goodbye at --count", func(t *testing.T) {
		t.Parallel()
		announced := make(chan string, 1)
		d := startEnv(t, clock.Real, nil, func(e *Env) {
			mdns(e)
			e.onAdvertise = func(name string) { announced <- name }
		}, "dump", "--advertise", "counted", "-p", "0", "-n", "1")
		awaitSignal(t, announced, "counted")
		b := launchEnv(t, clock.Real, nil, mdns, "browse")
		b.stdout.waitFor(t, func(out string) bool {
			return strings.Contains(out, "+ counted  _osc._udp  udp://127.0.0.1:"+portOf(d.addr))
		})
		sendRaw(t, d.addr, []byte("/x\x00\x00,\x00\x00\x00"))
		d.wait(t)
		b.stdout.waitFor(t, func(out string) bool { return strings.Contains(out, "- counted  _osc._udp  gone (goodbye)\n") })
		b.stop(t)
	})

	t.Run("a name python-zeroconf holds becomes NAME (2)", func(t *testing.T) {
		t.Parallel()
		py := startPython(t, pyRegister, "taken", "_osc._udp", "9998")
		awaitLine(t, py, "registered")
		announced := make(chan string, 1)
		d := startEnv(t, clock.Real, nil, func(e *Env) {
			mdns(e)
			e.onAdvertise = func(name string) { announced <- name }
		}, "dump", "--advertise", "taken", "-p", "0")
		awaitSignal(t, announced, "taken (2)")
		r := d.stop(t)
		if !strings.Contains(r.err, `oscli: warning: DNS-SD: the name "taken" is taken on the network; advertising as "taken (2)"`) {
			t.Errorf("stderr %q", r.err)
		}
	})
}

// multicastLoopback makes the namespace's loopback carry multicast DNS:
// up, multicast on, and the multicast range routed over it.
func multicastLoopback(t *testing.T) {
	t.Helper()
	for _, args := range [][]string{
		{"link", "set", "lo", "up"},
		{"link", "set", "lo", "multicast", "on"},
		{"route", "add", "224.0.0.0/4", "dev", "lo"},
	} {
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			t.Fatalf("ip %v: %v %s", args, err, out)
		}
	}
}

// serve --advertise on a real (namespaced) network: browse lists its
// OSCQuery server with HOST_INFO, query @NAME prints its tree, and
// python3-zeroconf sees both services come and, when serve stops, go.
func TestServeAdvertiseInNetns(t *testing.T) {
	if os.Getenv("OSCLI_IN_NETNS") != "1" {
		reexecInNetns(t, "TestServeAdvertiseInNetns")
		return
	}
	multicastLoopback(t)
	mdns := func(e *Env) { e.Zeroconf = newMDNS }
	py := startPython(t, pyBrowse, "_oscjson._tcp.local.", "_osc._udp.local.")
	awaitLine(t, py, "browsing")

	announced := make(chan string, 1)
	srv := startEnv(t, clock.Real, nil, func(e *Env) {
		mdns(e)
		e.onAdvertise = func(name string) { announced <- name }
	}, "serve", "../examples/oscquery-proposal.json", "--advertise", "test", "--name", "Mock desk", "-p", "0", "--time", "none")
	port := portOf(srv.addr)
	awaitSignal(t, announced, "test")

	// python-zeroconf sees both services, in whichever order they come.
	adds := awaitLines(t, py, "add test._oscjson._tcp.local. ", "add test._osc._udp.local. ")
	for _, add := range adds {
		if !strings.Contains(add, " "+port+" ['127.0.0.1'] ") || !strings.Contains(add, "('txtvers', '1')") {
			t.Errorf("python-zeroconf saw %q, want port %s on 127.0.0.1", add, port)
		}
	}
	if !strings.Contains(adds[1], "('version', '1.1')") {
		t.Errorf("python-zeroconf saw %q, want OSC 1.1's keys", adds[1])
	}

	clk := clock.NewFake(t0)
	b := launchEnv(t, clk, nil, mdns, "browse", "--timeout", "3s", "--json")
	b.stdout.waitFor(t, func(out string) bool { return strings.Contains(out, `"name":"test","type":"_oscjson._tcp"`) })
	clk.Advance(3 * time.Second)
	r := b.wait(t)
	if r.code != 0 {
		t.Fatalf("browse: exit %d, stderr %q", r.code, r.err)
	}
	var ev struct {
		Event, Name, Type, Target string
		Port                      int
		HostInfo                  struct{ Name, OSC string } `json:"host_info"`
	}
	for _, l := range lines(r.out) {
		if strings.Contains(l, `"type":"_oscjson._tcp"`) {
			if err := json.Unmarshal([]byte(l), &ev); err != nil {
				t.Fatal(err)
			}
		}
	}
	if ev.Event != "found" || ev.Name != "test" || strconv.Itoa(ev.Port) != port || ev.Target != "http://127.0.0.1:"+port+"/" ||
		ev.HostInfo.Name != "Mock desk" || ev.HostInfo.OSC != "udp://127.0.0.1:"+port {
		t.Errorf("event %+v from %s", ev, r.out)
	}

	// query @NAME prints the tree query URL prints.
	q := launchEnv(t, clock.Real, nil, mdns, "query", "@test").wait(t)
	byURL := run(t, "", nil, "query", "http://"+srv.addr)
	if q.code != 0 || q.out != byURL.out || !strings.Contains(q.out, "name        Mock desk\n") || !strings.Contains(q.out, "/foo ") {
		t.Errorf("query @test: exit %d, stdout:\n%s\nwant:\n%s\nstderr: %s", q.code, q.out, byURL.out, q.err)
	}

	srv.stop(t)
	awaitLines(t, py, "remove test._oscjson._tcp.local.", "remove test._osc._udp.local.")
}

// awaitLines returns the peer's first line starting with each prefix, in
// the order of the prefixes whatever the order the lines came in, within
// 10 s; other lines are skipped.
func awaitLines(t *testing.T, lines <-chan string, prefixes ...string) []string {
	t.Helper()
	got := make([]string, len(prefixes))
	left := len(prefixes)
	deadline := time.After(10 * time.Second)
	for left > 0 {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("peer exited before printing %q", prefixes)
			}
			for i, p := range prefixes {
				if got[i] == "" && strings.HasPrefix(l, p) {
					got[i] = l
					left--
					break
				}
			}
		case <-deadline:
			t.Fatalf("peer did not print %q within 10s (got %q)", prefixes, got)
		}
	}
	return got
}

// pyRegister advertises NAME TYPE PORT with OSC 1.1's keys, says
// "registered", and withdraws it when stdin closes.
const pyRegister = `
import sys, socket
from zeroconf import Zeroconf, ServiceInfo, IPVersion
name, typ, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
zc = Zeroconf(interfaces=["127.0.0.1"], ip_version=IPVersion.V4Only)
info = ServiceInfo(typ + ".local.", name + "." + typ + ".local.", port=port,
    properties={"txtvers": "1", "version": "1.1", "types": "ifs"},
    server="pyhost.local.", addresses=[socket.inet_aton("127.0.0.1")])
zc.register_service(info)
print("registered", flush=True)
try:
    sys.stdin.read()
finally:
    zc.unregister_service(info)
    zc.close()
`

// pyBrowse browses the types given and prints "add NAME PORT ADDRS HOST
// TXT" and "remove NAME" lines.
const pyBrowse = `
import sys
from zeroconf import Zeroconf, ServiceBrowser, ServiceListener, IPVersion
class L(ServiceListener):
    def add_service(self, zc, type_, name):
        info = zc.get_service_info(type_, name, timeout=3000)
        if info is None:
            print("add", name, "unresolved", flush=True)
            return
        props = sorted((k.decode(), v.decode() if v is not None else None) for k, v in info.properties.items())
        print("add", name, info.port, info.parsed_addresses(), info.server, props, flush=True)
    def remove_service(self, zc, type_, name):
        print("remove", name, flush=True)
    def update_service(self, zc, type_, name):
        pass
zc = Zeroconf(interfaces=["127.0.0.1"], ip_version=IPVersion.V4Only)
browser = ServiceBrowser(zc, sys.argv[1:], L())
print("browsing", flush=True)
try:
    sys.stdin.read()
finally:
    zc.close()
`

// needPythonZeroconf finds Debian's python3 with the zeroconf module (not a
// pyenv python3 on PATH). Without it the test skips, unless
// OSCLI_REQUIRE_PEERS=1 (as in CI), where it fails.
func needPythonZeroconf(t *testing.T) string {
	t.Helper()
	const py = "/usr/bin/python3"
	if out, err := exec.Command(py, "-c", "import zeroconf").CombinedOutput(); err != nil {
		if os.Getenv("OSCLI_REQUIRE_PEERS") == "1" {
			t.Fatalf("python3-zeroconf not found and OSCLI_REQUIRE_PEERS=1 (apt-get install python3-zeroconf): %v %s", err, out)
		}
		t.Skipf("python3-zeroconf not found (apt-get install python3-zeroconf): %s", strings.TrimSpace(string(out)))
	}
	return py
}

// startPython runs a python-zeroconf script with args; its stdout lines
// come on the channel. Closing its stdin at the end of the test lets it
// withdraw what it registered.
func startPython(t *testing.T, script string, args ...string) <-chan string {
	t.Helper()
	py := needPythonZeroconf(t)
	path := filepath.Join(t.TempDir(), "peer.py")
	if err := os.WriteFile(path, []byte(script), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(py, append([]string{path}, args...)...)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	linesc := make(chan string, 100)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			linesc <- sc.Text()
		}
		close(linesc)
	}()
	t.Cleanup(func() {
		stdin.Close()
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		if t.Failed() && stderr.Len() > 0 {
			t.Logf("python stderr:\n%s", stderr.String())
		}
	})
	return linesc
}

// awaitLine returns the peer's first line starting with prefix, skipping
// others, within 10 s.
func awaitLine(t *testing.T, lines <-chan string, prefix string) string {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("peer exited before printing %q", prefix)
			}
			if strings.HasPrefix(l, prefix) {
				return l
			}
		case <-deadline:
			t.Fatalf("peer did not print %q within 10s", prefix)
		}
	}
}

// awaitSignal waits for a command's ready signal carrying want.
func awaitSignal(t *testing.T, ch <-chan string, want string) {
	t.Helper()
	select {
	case got := <-ch:
		if got != want {
			t.Fatalf("announced %q, want %q", got, want)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("%q not announced within 10s", want)
	}
}
