package cmd

import (
	"encoding/json"
	"net/netip"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/oscli/oscli/internal/clock"
	"github.com/oscli/oscli/internal/transport"
)

// Listening where users expect, on wildcard and multicast addresses: only
// inside a network namespace made for the test (unshare -n), never on the
// machine's interfaces. The namespace has its loopback, with IPv4
// multicast routed to it, and a veth link with an IPv6 address for IPv6
// multicast (Linux loops IPv6 multicast back on a real link, not on lo).
func TestListenWildcardsInNetns(t *testing.T) {
	if os.Getenv("OSCLI_IN_NETNS") != "1" {
		reexecInNetns(t, "TestListenWildcardsInNetns")
		return
	}
	for _, args := range [][]string{
		{"link", "set", "lo", "up", "multicast", "on"},
		{"route", "add", "224.0.0.0/4", "dev", "lo", "src", "127.0.0.1"},
		{"link", "add", "oscli0", "type", "veth", "peer", "name", "oscli1"},
		{"link", "set", "oscli0", "up"},
		{"link", "set", "oscli1", "up"},
		{"addr", "add", "fd00:db8::1/64", "dev", "oscli0", "nodad"},
	} {
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			t.Fatalf("ip %v: %v %s", args, err, out)
		}
	}
	send := func(t *testing.T, args ...string) {
		t.Helper()
		if r := run(t, "", nil, append([]string{"send"}, args...)...); r.code != 0 {
			t.Fatalf("send %v: %s", args, r.err)
		}
	}
	// from returns the senders of dump --json's lines.
	from := func(t *testing.T, out string) []string {
		t.Helper()
		var got []string
		for _, l := range lines(out) {
			var p struct{ From string }
			if err := json.Unmarshal([]byte(l), &p); err != nil {
				t.Fatalf("%q: %v", l, err)
			}
			got = append(got, p.From)
		}
		return got
	}

	t.Run("liblo's multicast URL joins its group", func(t *testing.T) {
		d := start(t, nil, "dump", "osc.udp://239.1.2.5:0", "--group", "239.1.2.6", "-n", "2", "--time", "none")
		port := portOf(d.addr)
		send(t, "239.1.2.5:"+port, "/g", "i:5")
		send(t, "239.1.2.6:"+port, "/g", "i:6")
		r := d.wait(t)
		if got := lines(r.out); len(got) != 2 || !strings.HasSuffix(got[0], "  /g i:5") || !strings.HasSuffix(got[1], "  /g i:6") {
			t.Errorf("output %q, stderr %q", r.out, r.err)
		}
		if want := "oscli: listening on udp://0.0.0.0:" + port + ", joined multicast groups 239.1.2.5, 239.1.2.6\n"; !strings.HasPrefix(r.err, want) {
			t.Errorf("stderr %q, want it to start %q", r.err, want)
		}
	})
	// liblo binds a group's port on the wildcard and lets others share
	// it: oscli dump does the same, beside liblo's oscdump, and both
	// read what liblo's oscsend sends to the group.
	t.Run("beside liblo's oscdump on its multicast URL", func(t *testing.T) {
		oscdump, oscsend := needPeer(t, "oscdump"), needPeer(t, "oscsend")
		url := "osc.udp://239.1.2.9:7800" // the namespace's own: free
		linesc := startPeerLines(t, oscdump, "-L", url)
		awaitPeer(t, linesc, func() { run(t, "", nil, "send", "239.1.2.9:7800", "/ready") }, "/ready")
		d := start(t, nil, "dump", url, "--exclude", "/ready", "-n", "1", "--time", "none")
		if out, err := exec.Command(oscsend, url, "/from/liblo", "i", "1").CombinedOutput(); err != nil {
			t.Fatalf("oscsend: %v %s", err, out)
		}
		r := d.wait(t)
		if !strings.HasSuffix(r.out, "  /from/liblo i:1\n") || !strings.HasPrefix(r.err, "oscli: listening on udp://0.0.0.0:7800, joined multicast group 239.1.2.9\n") {
			t.Errorf("output %q, stderr %q", r.out, r.err)
		}
		if got := nextLine(t, linesc); !strings.HasSuffix(got, " /from/liblo i 1") {
			t.Errorf("oscdump printed %q", got)
		}
	})
	t.Run("-H with a group joins it", func(t *testing.T) {
		d := start(t, nil, "dump", "-H", "239.1.2.7", "-p", "0", "-n", "1", "--time", "none")
		port := portOf(d.addr)
		send(t, "239.1.2.7:"+port, "/h")
		r := d.wait(t)
		if !strings.HasPrefix(r.out, "127.0.0.1:") || !strings.HasSuffix(r.out, "  /h\n") ||
			!strings.Contains(r.err, ":"+port+", joined multicast group 239.1.2.7\n") {
			t.Errorf("output %q, stderr %q", r.out, r.err)
		}
	})
	t.Run("an IPv6 group", func(t *testing.T) {
		d := start(t, nil, "dump", "udp://[ff02::1234]:0", "--iface", "oscli0", "-n", "1", "--time", "none")
		port := portOf(d.addr)
		send(t, "udp://[ff02::1234]:"+port, "--iface", "oscli0", "/v6", "i:6")
		r := d.wait(t)
		if !strings.HasSuffix(strings.TrimSpace(r.out), "  /v6 i:6") || !strings.Contains(r.err, "]:"+port+", joined multicast group ff02::1234 (") {
			t.Errorf("output %q, stderr %q", r.out, r.err)
		}
	})
	// On ::, IPv4 senders arrive too and are named as plain IPv4.
	for _, listen := range [][]string{{"udp://[::]:0"}, {"-H", "::", "-p", "0"}, {"tcp://[::]:0"}} {
		t.Run("dual stack "+strings.Join(listen, " "), func(t *testing.T) {
			d := start(t, nil, append([]string{"dump", "-n", "2", "--json"}, listen...)...)
			proto, port := "udp", portOf(d.addr)
			if strings.HasPrefix(d.addr, "tcp://") {
				proto = "tcp"
			}
			send(t, proto+"://127.0.0.1:"+port, "/v4")
			send(t, proto+"://[::1]:"+port, "/v6")
			r := d.wait(t)
			got := from(t, r.out)
			slices.Sort(got) // two TCP connections may print in either order
			if len(got) != 2 || !strings.HasPrefix(got[0], "127.0.0.1:") || !strings.HasPrefix(got[1], "[::1]:") {
				t.Errorf("senders %q (stderr %q)", got, r.err)
			}
			if want := "oscli: listening on " + proto + "://[::]:" + port + " (IPv4 and IPv6"; !strings.HasPrefix(r.err, want) {
				t.Errorf("stderr %q, want it to start %q", r.err, want)
			}
		})
	}
	t.Run("--ipv6-only over UDP", func(t *testing.T) {
		d := start(t, nil, "dump", "udp://[::]:0", "--ipv6-only", "-n", "1", "--time", "none")
		port := portOf(d.addr)
		// The IPv4 datagram finds no socket; the IPv6 one after it is
		// the first dump sees.
		send(t, "127.0.0.1:"+port, "/v4")
		send(t, "[::1]:"+port, "/v6")
		r := d.wait(t)
		if !strings.HasPrefix(r.out, "[::1]:") || !strings.HasSuffix(r.out, "  /v6\n") || strings.Contains(r.err, "IPv4") {
			t.Errorf("output %q, stderr %q", r.out, r.err)
		}
	})
	t.Run("--ipv6-only over TCP", func(t *testing.T) {
		d := start(t, nil, "dump", "tcp://[::]:0", "--ipv6-only", "-n", "1", "--time", "none")
		port := portOf(d.addr)
		if r := run(t, "", nil, "send", "tcp://127.0.0.1:"+port, "/v4"); r.code != 1 || !strings.Contains(r.err, "connection refused") {
			t.Errorf("IPv4 connect to an IPv6-only dump: %d %q", r.code, r.err)
		}
		send(t, "tcp://[::1]:"+port, "/v6")
		if r := d.wait(t); !strings.HasPrefix(r.out, "[::1]:") || strings.Contains(r.err, "IPv4") {
			t.Errorf("output %q, stderr %q", r.out, r.err)
		}
	})
	// What to type into a controller: the interfaces' addresses (fixed
	// ones here, not the machine's), at most four and a count of the rest.
	t.Run("reachable at", func(t *testing.T) {
		addrs := func(ss ...string) []netip.Addr {
			var out []netip.Addr
			for _, s := range ss {
				out = append(out, netip.MustParseAddr(s))
			}
			return out
		}
		ifs := []transport.Interface{
			{Name: "lo", Up: true, Loopback: true, Addrs: addrs("127.0.0.1", "::1")},
			{Name: "eth0", Up: true, Addrs: addrs("192.168.1.23", "fe80::1%eth0", "2001:db8::23")},
			{Name: "wlan0", Up: true, Addrs: addrs("10.0.0.5", "10.0.0.6", "10.0.0.7", "10.0.0.8")},
		}
		setup := func(e *Env) { e.Interfaces = func() ([]transport.Interface, error) { return ifs, nil } }
		for _, tt := range []struct{ listen, want string }{
			{"0.0.0.0:0", " (reachable at 192.168.1.23:P, 10.0.0.5:P, 10.0.0.6:P, 10.0.0.7:P and 1 more)\n"},
			{"[::]:0", " (IPv4 and IPv6; reachable at 192.168.1.23:P, 10.0.0.5:P, 10.0.0.6:P, 10.0.0.7:P and 2 more)\n"},
			{"127.0.0.1:0", "\n"},
		} {
			d := startEnv(t, clock.Real, nil, setup, "dump", tt.listen, "--time", "none")
			r := d.stop(t)
			port := portOf(d.addr)
			line, _, _ := strings.Cut(r.err, "\n")
			if want := "oscli: listening on udp://" + strings.Replace(tt.listen, ":0", ":"+port, 1) + strings.ReplaceAll(tt.want, ":P", ":"+port); line+"\n" != want {
				t.Errorf("dump %s: %q, want %q", tt.listen, line, want)
			}
		}
	})
}
