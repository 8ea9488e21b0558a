package cmd

import (
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// Multicast and broadcast are tested only inside a network namespace made
// for the test (unshare -n), with nothing but its own loopback: never on
// the machine's interfaces. The test re-runs itself inside the namespace.
func TestMulticastBroadcastInNetns(t *testing.T) {
	if os.Getenv("OSCLI_IN_NETNS") != "1" {
		reexecInNetns(t, "TestMulticastBroadcastInNetns")
		return
	}
	// lo carries multicast; a veth link in TEST-NET-1 (RFC 5737, never
	// routed) gives a real broadcast address. Both exist only here.
	for _, args := range [][]string{
		{"link", "set", "lo", "up"},
		{"route", "add", "224.0.0.0/4", "dev", "lo"},
		{"link", "add", "oscli0", "type", "veth", "peer", "name", "oscli1"},
		{"addr", "add", "192.0.2.1/24", "broadcast", "192.0.2.255", "dev", "oscli0"},
		{"link", "set", "oscli0", "up"},
	} {
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			t.Fatalf("ip %v: %v %s", args, err, out)
		}
	}
	t.Run("multicast", func(t *testing.T) {
		d := start(t, nil, "dump", "-p", "0", "--group", "239.1.2.3", "--group", "239.1.2.4", "-n", "2", "--time", "none")
		_, port, _ := net.SplitHostPort(d.addr)
		for _, g := range []string{"239.1.2.3", "239.1.2.4"} {
			if r := run(t, "", nil, "send", g+":"+port, "--ttl", "1", "/mc", "s:"+g); r.code != 0 {
				t.Fatalf("send to %s: %s", g, r.err)
			}
		}
		r := d.wait(t)
		if got := lines(r.out); len(got) != 2 || !strings.HasSuffix(got[0], "/mc s:239.1.2.3") || !strings.HasSuffix(got[1], "/mc s:239.1.2.4") {
			t.Errorf("output %q, stderr %q", r.out, r.err)
		}
		if !strings.Contains(r.err, ", joined multicast groups 239.1.2.3, 239.1.2.4\n") {
			t.Errorf("stderr %q", r.err)
		}
	})
	t.Run("broadcast", func(t *testing.T) {
		d := start(t, nil, "dump", "-p", "0", "-n", "1", "--time", "none")
		_, port, _ := net.SplitHostPort(d.addr)
		target := "192.0.2.255:" + port
		r := run(t, "", nil, "send", target, "/bc")
		if r.code != 1 || !strings.Contains(r.err, "oscli: hint: sending to a broadcast address needs --broadcast") {
			t.Errorf("without --broadcast: %d %q", r.code, r.err)
		}
		if r := run(t, "", nil, "send", "--broadcast", target, "/bc", "i:1"); r.code != 0 {
			t.Fatalf("with --broadcast: %s", r.err)
		}
		if r := d.wait(t); !strings.HasSuffix(strings.TrimSpace(r.out), "/bc i:1") {
			t.Errorf("output %q", r.out)
		}
	})
	t.Run("bad group", func(t *testing.T) {
		r := run(t, "", nil, "dump", "-p", "0", "--group", "10.0.0.1")
		if r.code != 2 || !strings.Contains(r.err, `--group "10.0.0.1": want a multicast address`) {
			t.Errorf("%d %q", r.code, r.err)
		}
	})
}

// reexecInNetns runs the named test again inside a new network namespace.
func reexecInNetns(t *testing.T, name string) {
	t.Helper()
	unshare, err := exec.LookPath("unshare")
	if err == nil {
		_, err = exec.LookPath("ip")
	}
	require := os.Getenv("OSCLI_REQUIRE_PEERS") == "1"
	if err != nil {
		if require {
			t.Fatalf("unshare and ip are needed (util-linux, iproute2): %v", err)
		}
		t.Skip("unshare or ip missing")
	}
	if out, err := exec.Command(unshare, "-n", "true").CombinedOutput(); err != nil {
		if require {
			t.Fatalf("cannot create a network namespace: %v %s", err, out)
		}
		t.Skipf("cannot create a network namespace here: %s", strings.TrimSpace(string(out)))
	}
	cmd := exec.Command(unshare, "-n", "--", os.Args[0], "-test.run=^"+name+"$", "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), "OSCLI_IN_NETNS=1")
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS: "+name) {
		t.Fatalf("in the namespace: %v\n%s", err, out)
	}
	t.Logf("in the namespace:\n%s", out)
}
