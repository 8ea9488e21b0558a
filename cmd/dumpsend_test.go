package cmd

import (
	"bytes"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/oscli/oscli/internal/clock"
	"github.com/oscli/oscli/internal/osc"
	"github.com/oscli/oscli/internal/slip"
	"github.com/oscli/oscli/internal/testvec"
)

func TestDumpIPv6(t *testing.T) {
	if ln, err := net.ListenPacket("udp6", "[::1]:0"); err != nil {
		t.Skip("no IPv6 loopback")
	} else {
		ln.Close()
	}
	d := start(t, nil, "dump", "udp://[::1]:0", "-n", "1", "--json")
	if r := run(t, "", nil, "send", d.addr, "/v6", "i:6"); r.code != 0 {
		t.Fatalf("send: %s", r.err)
	}
	r := d.wait(t)
	if !strings.Contains(r.out, `"from":"[::1]:`) || !strings.Contains(r.out, `"address":"/v6","types":"i","args":[6]`) {
		t.Errorf("got %s", r.out)
	}
}

func countVectors(t *testing.T) int {
	n := 0
	for _, v := range testvec.Load(t) {
		if v.Kind != "malformed" {
			n++
		}
	}
	return n
}

// sendVectors sends every well-formed vector to addr and returns them.
func sendVectors(t *testing.T, addr string) [][]byte {
	var pkts [][]byte
	for _, v := range testvec.Load(t) {
		if v.Kind != "malformed" {
			pkts = append(pkts, v.Data)
		}
	}
	sendRaw(t, addr, pkts...)
	return pkts
}

// slipFrames splits dump --format raw output.
func slipFrames(t *testing.T, out string) [][]byte {
	d := slip.NewDecoder(strings.NewReader(out), 0)
	var frames [][]byte
	for {
		f, err := d.Next()
		if err != nil {
			return frames
		}
		frames = append(frames, bytes.Clone(f))
	}
}

// messages flattens packets to their messages' encodings. A message
// without a type tag string comes back with an empty one (",") since the
// text syntax cannot write its absence.
func messages(t *testing.T, pkts [][]byte) [][]byte {
	var out [][]byte
	var walk func(p osc.Packet)
	walk = func(p osc.Packet) {
		switch p := p.(type) {
		case *osc.Message:
			m := *p
			m.NoTypeTags = false
			b, _ := osc.AppendMessage(nil, &m)
			out = append(out, b)
		case *osc.Bundle:
			for _, e := range p.Elements {
				walk(e)
			}
		}
	}
	for _, b := range pkts {
		p, err := osc.Decode(b)
		if err != nil {
			t.Fatal(err)
		}
		walk(p)
	}
	return out
}

// The promise of SPEC §5: every message line dump prints, fed to
// `send -`, produces a byte-identical packet.
func TestRoundTripText(t *testing.T) {
	a := start(t, nil, "dump", "-H", "127.0.0.1", "-p", "0", "--time", "utc", "-n", fmt.Sprint(countVectors(t)))
	sent := sendVectors(t, a.addr)
	want := messages(t, sent)
	text := a.wait(t).out

	b := start(t, nil, "dump", "-H", "127.0.0.1", "-p", "0", "-n", fmt.Sprint(len(want)), "--format", "raw")
	if r := run(t, text, nil, "send", b.addr, "-"); r.code != 0 {
		t.Fatalf("send - : %d %s\ninput:\n%s", r.code, r.err, text)
	}
	got := slipFrames(t, b.wait(t).out)
	if len(got) != len(want) {
		t.Fatalf("%d packets back, want %d", len(got), len(want))
	}
	for i := range want {
		if !bytes.Equal(got[i], want[i]) {
			t.Errorf("message %d: %x, want %x", i, got[i], want[i])
		}
	}
	// And as arguments: each line's words after `oscli send`.
	c := start(t, nil, "dump", "-H", "127.0.0.1", "-p", "0", "-n", "1", "--format", "raw")
	if r := run(t, "", nil, "send", c.addr, "/my/pattern", "i:1", "i:3", "s:a string", "f:11.3"); r.code != 0 {
		t.Fatal(r.err)
	}
	if got := slipFrames(t, c.wait(t).out); len(got) != 1 || !bytes.Equal(got[0], vectorData(t, "osc4py3-doc")) {
		t.Errorf("got %x", got)
	}
}

// dump --json | send --json - gives back the very packets, bundles too.
func TestRoundTripJSON(t *testing.T) {
	a := start(t, nil, "dump", "-H", "127.0.0.1", "-p", "0", "--json", "-n", fmt.Sprint(countVectors(t)))
	sent := sendVectors(t, a.addr)
	jsonl := a.wait(t).out
	for _, stripRaw := range []bool{false, true} {
		in := jsonl
		if stripRaw {
			var b strings.Builder
			for _, l := range lines(jsonl) {
				i := strings.Index(l, `"raw":"`)
				j := strings.Index(l[i+7:], `"`) + i + 7
				b.WriteString(l[:i] + l[j+2:] + "\n")
			}
			in = b.String()
		}
		b := start(t, nil, "dump", "-H", "127.0.0.1", "-p", "0", "-n", fmt.Sprint(len(sent)), "--format", "raw")
		if r := run(t, in, nil, "send", "--json", b.addr, "-"); r.code != 0 {
			t.Fatalf("send --json - (raw stripped %v): %d %s", stripRaw, r.code, r.err)
		}
		got := slipFrames(t, b.wait(t).out)
		if len(got) != len(sent) {
			t.Fatalf("%d packets back, want %d", len(got), len(sent))
		}
		for i := range sent {
			if !bytes.Equal(got[i], sent[i]) {
				t.Errorf("raw stripped %v, packet %d: %x, want %x", stripRaw, i, got[i], sent[i])
			}
		}
	}
}

func vectorData(t *testing.T, name string) []byte {
	for _, v := range testvec.Load(t) {
		if v.Name == name {
			return v.Data
		}
	}
	t.Fatalf("no vector %s", name)
	return nil
}

// --timeout ends dump on its clock, exactly then; Ctrl-C ends it at once;
// both print the summary.
func TestDumpTimeoutAndInterrupt(t *testing.T) {
	clk := clock.NewFake(t0)
	d := startOn(t, clk, nil, "dump", "-H", "127.0.0.1", "-p", "0", "--timeout", "5s")
	if !clk.BlockUntil(1, 10*time.Second) {
		t.Fatal("no --timeout timer")
	}
	clk.Advance(5*time.Second - 1)
	if clk.Waiters() != 1 {
		t.Fatal("--timeout fired early")
	}
	clk.Advance(1)
	if r := d.wait(t); r.code != 0 || !strings.Contains(r.err, "oscli: stopped by --timeout 5s: 0 packets, 0 bytes, 0 malformed, 0 filtered") {
		t.Errorf("timeout: %d %q", r.code, r.err)
	}
	d = start(t, nil, "dump", "-H", "127.0.0.1", "-p", "0", "--time", "none")
	sendRaw(t, d.addr, vectorData(t, "fader"))
	d.stdout.waitFor(t, func(out string) bool { return out != "" })
	if r := d.stop(t); r.code != 0 || !strings.Contains(r.err, "oscli: stopped by interrupt: 1 packet, 20 bytes") {
		t.Errorf("interrupt: %d %q", r.code, r.err)
	}
}

func TestPortInUse(t *testing.T) {
	busy, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	_, port, _ := net.SplitHostPort(busy.LocalAddr().String())
	r := run(t, "", nil, "dump", "-H", "127.0.0.1", "-p", port)
	want := "oscli: error: udp 127.0.0.1:" + port + " is already in use by another program\noscli: hint: pick another port with -p (or another path), or stop the program listening there\n"
	if r.code != 1 || r.err != want {
		t.Errorf("exit %d, stderr %q", r.code, r.err)
	}
}

// listen opens a plain UDP socket standing in for a receiver.
func listen(t *testing.T) (net.PacketConn, string) {
	pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	return pc, pc.LocalAddr().String()
}

func receive(t *testing.T, pc net.PacketConn) []byte {
	t.Helper()
	buf := make([]byte, 65536)
	_ = pc.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, _, err := pc.ReadFrom(buf)
	if err != nil {
		t.Fatal(err)
	}
	return buf[:n]
}

// --repeat waits --interval on the clock between sends, exactly.
func TestRepeat(t *testing.T) {
	clk := clock.NewFake(t0)
	b := launch(t, clk, nil, "send", "--dry-run", "/tick", "i:1", "--repeat", "3", "--interval", "1s")
	dumps := func() int { return strings.Count(b.stdout.String(), "000:") }
	for i := 1; i < 3; i++ {
		if !clk.BlockUntil(1, 10*time.Second) {
			t.Fatalf("not waiting after send %d", i)
		}
		if n := dumps(); n != i {
			t.Fatalf("%d sent before the wait, want %d", n, i)
		}
		clk.Advance(time.Second - 1)
		if clk.Waiters() != 1 || dumps() != i {
			t.Fatalf("send %d went before the interval", i+1)
		}
		clk.Advance(1)
	}
	if r := b.wait(t); r.code != 0 || strings.Count(r.out, "000:2f746963 6b000000 2c690000 00000001") != 3 {
		t.Errorf("exit %d, out:\n%s", r.code, r.out)
	}
}

// --at +10s is ten seconds from the clock's now when it is sent.
func TestAt(t *testing.T) {
	pc, addr := listen(t)
	if r := runOn(t, clock.NewFake(t0), "", nil, "send", addr, "--at", "+10s", "/go"); r.code != 0 {
		t.Fatal(r.err)
	}
	var b osc.Bundle
	if err := osc.DecodeBundle(receive(t, pc), &b); err != nil {
		t.Fatal(err)
	}
	if want := osc.FromTime(t0.Add(10 * time.Second)); b.Timetag != want {
		t.Errorf("time tag %v, want %v", b.Timetag, want)
	}
	if m := b.Elements[0].(*osc.Message); len(b.Elements) != 1 || m.Address != "/go" {
		t.Errorf("elements %v", b.Elements)
	}
}

// --reply prints what comes back on the sending socket until --timeout,
// on the clock.
func TestReply(t *testing.T) {
	pc, addr := listen(t)
	go func() {
		buf := make([]byte, 1024)
		n, from, err := pc.ReadFrom(buf)
		if err != nil {
			return
		}
		// Answer to the sender's port, as OSC servers do.
		reply, _ := osc.AppendMessage(nil, &osc.Message{Address: "/pong", Args: []osc.Arg{osc.Int32(int32(n))}})
		_, _ = pc.WriteTo(reply, from)
	}()
	clk := clock.NewFake(t0)
	b := launch(t, clk, nil, "send", addr, "/ping", "--reply", "--timeout", "500ms")
	b.stdout.waitFor(t, func(out string) bool { return strings.Contains(out, addr+"  /pong i:12") })
	clk.Advance(500*time.Millisecond - 1)
	if clk.Waiters() != 1 {
		t.Fatal("--timeout fired early")
	}
	clk.Advance(1)
	if r := b.wait(t); r.code != 0 || len(lines(r.out)) != 1 || !strings.HasSuffix(r.out, " "+addr+"  /pong i:12\n") || r.err != "" {
		t.Errorf("exit %d, out %q, err %q", r.code, r.out, r.err)
	}
}
