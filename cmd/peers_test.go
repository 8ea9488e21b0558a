package cmd

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// needPeer finds a real OSC peer program (liblo-tools). Without it the test
// skips, unless OSCLI_REQUIRE_PEERS=1 (as in CI), where it fails.
func needPeer(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("OSCLI_REQUIRE_PEERS") == "1" {
			t.Fatalf("%s not found and OSCLI_REQUIRE_PEERS=1 (apt-get install liblo-tools)", name)
		}
		t.Skipf("%s not found (apt-get install liblo-tools)", name)
	}
	return p
}

// liblo oscsend → oscli dump --json: every type liblo sends arrives with
// exactly the value liblo was given.
func TestInteropOscsendToDump(t *testing.T) {
	oscsend := needPeer(t, "oscsend")
	tests := []struct {
		types string
		vals  []string
		args  string
	}{
		{"ihfd", []string{"42", "-7", "0.5", "3.25"}, `[42,-7,0.5,3.25]`},
		{"iihh", []string{"-2147483648", "2147483647", "-9223372036854775808", "9223372036854775807"},
			`[-2147483648,2147483647,-9223372036854775808,9223372036854775807]`},
		{"fd", []string{"0.1", "3.141592653589793"}, `[0.1,3.141592653589793]`},
		{"sS", []string{"two words", "sym"}, `["two words","sym"]`},
		{"cm", []string{"x", "00903c7f"}, `["x","00903c7f"]`},
		{"TFNI", nil, `[true,false,null,null]`},
		{"", nil, `[]`},
	}
	d := start(t, nil, "dump", "-H", "127.0.0.1", "-p", "0", "-n", fmt.Sprint(len(tests)), "--json")
	_, port, _ := net.SplitHostPort(d.addr)
	for i, tt := range tests {
		args := append([]string{"127.0.0.1", port, fmt.Sprintf("/lib/%d", i)}, tt.types)
		if tt.types == "" {
			args = args[:3]
		}
		if out, err := exec.Command(oscsend, append(args, tt.vals...)...).CombinedOutput(); err != nil {
			t.Fatalf("oscsend %v: %v %s", args, err, out)
		}
	}
	r := d.wait(t)
	got := lines(r.out)
	if len(got) != len(tests) {
		t.Fatalf("got %d lines:\n%s\n%s", len(got), r.out, r.err)
	}
	for i, tt := range tests {
		var line struct {
			Packet struct {
				Address string          `json:"address"`
				Types   string          `json:"types"`
				Args    json.RawMessage `json:"args"`
			} `json:"packet"`
		}
		if err := json.Unmarshal([]byte(got[i]), &line); err != nil {
			t.Fatal(err)
		}
		p := line.Packet
		if p.Address != fmt.Sprintf("/lib/%d", i) || p.Types != tt.types || string(p.Args) != tt.args {
			t.Errorf("%s: got %s %q %s, want %s", tt.types, p.Address, p.Types, p.Args, tt.args)
		}
	}
}

// oscli send → liblo oscdump: liblo reads what oscli sends, value for value.
func TestInteropSendToOscdump(t *testing.T) {
	oscdump := needPeer(t, "oscdump")
	port := freeUDPPort(t)
	linesc := startPeerLines(t, oscdump, "-L", port)
	target := "127.0.0.1:" + port
	// Ready signal through the protocol: probe until oscdump prints one.
	awaitPeer(t, linesc, func() { run(t, "", nil, "send", target, "/ready") }, "/ready")

	tests := []struct {
		args []string
		want string // oscdump's line after the time tag
	}{
		{[]string{"/a/b", "i:42", "h:-7", "f:0.5", "d:3.25"}, "/a/b ihfd 42 -7 0.500000 3.250000"},
		{[]string{"/s", "s:two words", "S:sym", "c:x"}, `/s sSc "two words" 'sym 'x'`},
		{[]string{"/m", "m:00903c7f", "T", "F", "N", "I"}, "/m mTFNI MIDI [0x00 0x90 0x3c 0x7f] #T #F Nil Infinitum"},
		{[]string{"/inferred", "1", "2.5", "word", "true"}, `/inferred ifsT 1 2.500000 "word" #T`},
		{[]string{"/empty"}, "/empty "},
	}
	for _, tt := range tests {
		if r := run(t, "", nil, append([]string{"send", target}, tt.args...)...); r.code != 0 {
			t.Fatalf("send %v: %s", tt.args, r.err)
		}
		got := nextLine(t, linesc)
		// oscdump prints "%08x.%08x " (the time tag) first.
		if len(got) < 18 || got[8] != '.' || got[18:] != tt.want {
			t.Errorf("oscdump printed %q, want %q after the time tag", got, tt.want)
		}
	}
}

func freeUDPPort(t *testing.T) string {
	pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(pc.LocalAddr().String())
	pc.Close()
	return port
}

// awaitPeer calls probe until the peer prints a line containing want.
func awaitPeer(t *testing.T, lines <-chan string, probe func(), want string) {
	t.Helper()
	deadline := time.After(10 * time.Second)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	probe()
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatal("peer exited")
			}
			if strings.Contains(l, want) {
				return // later probes still in flight are skipped by nextLine
			}
		case <-tick.C:
			probe()
		case <-deadline:
			t.Fatal("peer not ready within 10s")
		}
	}
}

// nextLine returns the peer's next line that is not a readiness probe.
func nextLine(t *testing.T, lines <-chan string) string {
	t.Helper()
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatal("peer exited")
			}
			if strings.Contains(l, " /ready ") {
				continue
			}
			return l
		case <-time.After(5 * time.Second):
			t.Fatal("no line from peer within 5s")
		}
	}
}

// startPeerLines runs a peer program (liblo's oscdump) and returns its
// stdout lines as they come; the process is killed when the test ends.
func startPeerLines(t *testing.T, prog string, args ...string) <-chan string {
	t.Helper()
	cmd := exec.Command(prog, args...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	linesc := make(chan string, 100)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			linesc <- sc.Text()
		}
		close(linesc)
	}()
	return linesc
}
