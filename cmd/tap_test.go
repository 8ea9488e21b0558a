package cmd

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/oscli/oscli/internal/clock"
	"github.com/oscli/oscli/internal/osc"
	"github.com/oscli/oscli/internal/pipeline"
	"github.com/oscli/oscli/internal/tap"
	"github.com/oscli/oscli/internal/testvec"
	"github.com/oscli/oscli/internal/transport"
)

// jsonRaws returns the "raw" bytes of each JSON line, and checks each
// line's "dir" when dir is set.
func jsonRaws(t *testing.T, out, dir string) [][]byte {
	t.Helper()
	var raws [][]byte
	for _, l := range lines(out) {
		var line struct {
			Raw   string `json:"raw"`
			Dir   string `json:"dir"`
			Proto string `json:"proto"`
		}
		if err := json.Unmarshal([]byte(l), &line); err != nil {
			t.Fatalf("%s: %v", l, err)
		}
		if dir != "" && line.Dir != dir {
			t.Errorf("dir %q, want %q: %s", line.Dir, dir, l)
		}
		b, err := base64.StdEncoding.DecodeString(line.Raw)
		if err != nil {
			t.Fatal(err)
		}
		raws = append(raws, b)
	}
	return raws
}

// sender → tap → receiver: the receiver gets every packet byte for byte
// (malformed ones too), and tap prints each as dump does, marked as
// forwarded.
func TestTapForwardsUnchanged(t *testing.T) {
	var pkts [][]byte
	for _, v := range testvec.Load(t) {
		pkts = append(pkts, v.Data)
	}
	n := fmt.Sprint(len(pkts))
	d := start(t, nil, "dump", "-H", "127.0.0.1", "-p", "0", "--json", "-n", n)
	tp := start(t, nil, "tap", "127.0.0.1:0", d.addr, "--json", "-n", n)
	sendRaw(t, tp.addr, pkts...)
	got, printed := d.wait(t), tp.wait(t)
	if got.code != 0 || printed.code != 0 {
		t.Fatalf("dump %d %s\ntap %d %s", got.code, got.err, printed.code, printed.err)
	}
	for name, raws := range map[string][][]byte{"received": jsonRaws(t, got.out, ""), "printed": jsonRaws(t, printed.out, "forward")} {
		if len(raws) != len(pkts) {
			t.Fatalf("%s %d packets, want %d", name, len(raws), len(pkts))
		}
		for i := range pkts {
			if !bytes.Equal(raws[i], pkts[i]) {
				t.Errorf("%s packet %d: %x, want %x", name, i, raws[i], pkts[i])
			}
		}
	}
	for _, want := range []string{
		fmt.Sprintf("oscli: forwarded %s packets from 1 sender\n", n),
		fmt.Sprintf("oscli: to udp://%s: %s sent\n", d.addr, n),
	} {
		if !strings.Contains(printed.err, want) {
			t.Errorf("tap's summary lacks %q:\n%s", want, printed.err)
		}
	}
}

// Two senders talk through tap to a receiver that answers (dump --echo)
// at once: each gets its own answers, from the port it sent to, and tap
// prints the replies as TARGET→SENDER.
func TestTapRepliesReachTheirSender(t *testing.T) {
	d := start(t, nil, "dump", "-H", "127.0.0.1", "-p", "0", "--echo", "--time", "none")
	tp := start(t, nil, "tap", "127.0.0.1:0", d.addr, "--time", "none")
	to, err := net.ResolveUDPAddr("udp4", tp.addr)
	if err != nil {
		t.Fatal(err)
	}
	var senders []*net.UDPConn
	for range 2 {
		c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		senders = append(senders, c)
	}
	const n = 3
	for i := range n {
		for j, c := range senders {
			m, _ := osc.AppendMessage(nil, &osc.Message{Address: fmt.Sprintf("/s%d", j), Args: []osc.Arg{osc.Int32(int32(i))}})
			if _, err := c.WriteToUDP(m, to); err != nil {
				t.Fatal(err)
			}
		}
	}
	buf := make([]byte, 1024)
	for j, c := range senders {
		for i := range n {
			_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
			k, from, err := c.ReadFromUDP(buf)
			if err != nil {
				t.Fatalf("sender %d, reply %d: %v", j, i, err)
			}
			p, err := osc.Decode(buf[:k])
			if want := fmt.Sprintf("/s%d i:%d", j, i); err != nil || p.(*osc.Message).String() != want || from.String() != tp.addr {
				t.Errorf("sender %d got %v from %s, want %s from %s", j, p, from, want, tp.addr)
			}
		}
	}
	tp.stdout.waitFor(t, func(out string) bool { return strings.Count(out, "→") == 2*n })
	r := tp.stop(t)
	for j, c := range senders {
		reply := fmt.Sprintf("%s→%s  /s%d i:%d\n", d.addr, c.LocalAddr(), j, n-1)
		if !strings.Contains(r.out, reply) {
			t.Errorf("no line %q in\n%s", reply, r.out)
		}
		if !strings.Contains(r.out, fmt.Sprintf("%s  /s%d i:0\n", c.LocalAddr(), j)) {
			t.Errorf("sender %d's packet not printed:\n%s", j, r.out)
		}
	}
	if !strings.Contains(r.err, fmt.Sprintf("oscli: to udp://%s: %d sent, %d replies\n", d.addr, 2*n, 2*n)) {
		t.Errorf("summary:\n%s", r.err)
	}
}

// Listen and target protocols may differ, and the framing is converted:
// UDP in, TCP out with SLIP or size prefixes, or a Unix socket; TCP in,
// UDP out.
func TestTapBridges(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "r.sock")
	tests := []struct {
		name      string
		dump      []string // where the receiving dump listens
		listen    string   // where tap listens
		flags     []string
		proto     string // what dump says the packets came over
		sendProto string // how the sender reaches tap
	}{
		{"udp to tcp slip", []string{"--proto", "tcp", "-H", "127.0.0.1", "-p", "0"}, "127.0.0.1:0", nil, "tcp+slip", "udp"},
		{"udp to tcp len", []string{"--proto", "tcp", "-H", "127.0.0.1", "-p", "0"}, "127.0.0.1:0", []string{"--to-framing", "len"}, "tcp+len", "udp"},
		{"udp to unix", []string{"unix://" + sock}, "127.0.0.1:0", nil, "unix", "udp"},
		{"tcp to udp", []string{"-H", "127.0.0.1", "-p", "0"}, "tcp://127.0.0.1:0", nil, "udp", "tcp"},
	}
	a, _ := osc.AppendMessage(nil, &osc.Message{Address: "/a", Args: []osc.Arg{osc.Int32(1)}})
	b, _ := osc.AppendBundle(nil, &osc.Bundle{Timetag: osc.Immediately, Elements: []osc.Packet{&osc.Message{Address: "/b", Args: []osc.Arg{osc.String("x")}}}})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := start(t, nil, append([]string{"dump", "--json", "-n", "2"}, tt.dump...)...)
			target := d.addr
			if !strings.Contains(target, "://") {
				target = "udp://" + target
			}
			tp := start(t, nil, append([]string{"tap", tt.listen, target, "-q"}, tt.flags...)...)
			if tt.sendProto == "udp" {
				sendRaw(t, tp.addr, a, b)
			} else {
				c, err := transport.Dial(t.Context(), transport.Endpoint{Proto: transport.TCP, Host: "127.0.0.1", Port: port(t, tp.addr)}, transport.DialConfig{})
				if err != nil {
					t.Fatal(err)
				}
				if err := c.SendBatch([][]byte{a, b}); err != nil {
					t.Fatal(err)
				}
				defer c.Close()
			}
			r := d.wait(t)
			raws := jsonRaws(t, r.out, "")
			if len(raws) != 2 || !bytes.Equal(raws[0], a) || !bytes.Equal(raws[1], b) {
				t.Fatalf("dump got %q\n%s", raws, r.err)
			}
			if strings.Count(r.out, `"proto":"`+tt.proto+`"`) != 2 {
				t.Errorf("dump did not get them over %s:\n%s", tt.proto, r.out)
			}
			if tr := tp.stop(t); tr.out != "" || !strings.Contains(tr.err, ": 2 sent") || strings.Contains(tr.err, "down") {
				t.Errorf("tap -q printed %q; stderr:\n%s", tr.out, tr.err)
			}
		})
	}
}

func port(t *testing.T, addr string) int {
	t.Helper()
	ap, err := transport.ParseEndpoint(addr, transport.Endpoint{})
	if err != nil {
		t.Fatal(err)
	}
	return ap.Port
}

// A target that is down (TCP connection refused; UDP port unreachable)
// is reported once and counted, and the other target still gets every
// packet.
func TestTapDeadTargetDoesNotStopOthers(t *testing.T) {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	deadTCP := "tcp://" + ln.Addr().String()
	ln.Close()
	pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	deadUDP := pc.LocalAddr().String()
	pc.Close()
	d := start(t, nil, "dump", "-H", "127.0.0.1", "-p", "0", "-n", "5", "--time", "none")
	tp := start(t, nil, "tap", "127.0.0.1:0", deadTCP, deadUDP, d.addr, "-q")
	for i := range 5 {
		sendRaw(t, tp.addr, []byte(fmt.Sprintf("/p%d\x00,\x00\x00\x00", i)))
	}
	if r := d.wait(t); len(lines(r.out)) != 5 {
		t.Fatalf("the live target got:\n%s", r.out)
	}
	r := tp.stop(t)
	if r.code != 0 {
		t.Errorf("exit %d", r.code)
	}
	if n := strings.Count(r.err, deadTCP+" is down: cannot connect to tcp "); n != 1 {
		t.Errorf("the dead TCP target reported %d times:\n%s", n, r.err)
	}
	for _, want := range []string{
		"oscli: to " + deadTCP + ": 0 sent, 5 not sent (down: cannot connect to tcp " + strings.TrimPrefix(deadTCP, "tcp://") + ": connection refused",
		"oscli: to udp://" + deadUDP + ": ",
		"oscli: to udp://" + d.addr + ": 5 sent\n",
	} {
		if !strings.Contains(r.err, want) {
			t.Errorf("summary lacks %q:\n%s", want, r.err)
		}
	}
}

// Flags and words: targets are send's words, read apart from LISTEN's
// flags; what cannot work is a usage error naming it.
func TestTapArgs(t *testing.T) {
	exampleWorld(t)
	cfg := map[string]string{"OSCLI_CONFIG": exampleConfig}
	ok := []struct {
		args    []string
		listen  string
		targets []string
		framing transport.Framing
	}{
		{[]string{"tap", "9000", "9001"}, "udp://0.0.0.0:9000", []string{"udp://127.0.0.1:9001"}, transport.FramingSLIP},
		{[]string{"tap", "-H", "127.0.0.1", "9000", "10.0.0.1:9", "@mixer", "tcp://[::1]:9100", "--to-framing", "len"}, "udp://127.0.0.1:9000",
			[]string{"udp://10.0.0.1:9", "udp://192.168.1.20:10023", "tcp://[::1]:9100"}, transport.FramingLen},
		{[]string{"tap", "tcp://127.0.0.1:9000", "9000"}, "tcp://127.0.0.1:9000", []string{"udp://127.0.0.1:9000"}, transport.FramingSLIP},
		{[]string{"tap", "osc.udp://:9000", "osc.unix:///tmp/o.sock"}, "udp://0.0.0.0:9000", []string{"unix:///tmp/o.sock"}, transport.FramingSLIP},
	}
	for _, tt := range ok {
		opts, code, stderr := parse(t, cfg, tt.args...)
		o, _ := opts.(*tapOptions)
		if code != 0 || o == nil {
			t.Errorf("%q: exit %d: %s", tt.args, code, stderr)
			continue
		}
		var got []string
		for _, tg := range o.Targets {
			got = append(got, tg.Endpoint.String())
			if tg.Dial.Framing != tt.framing || tg.MaxPacket == 0 {
				t.Errorf("%q: target %v dial %+v max %d", tt.args, tg.Endpoint, tg.Dial, tg.MaxPacket)
			}
		}
		if o.Listen.String() != tt.listen || strings.Join(got, " ") != strings.Join(tt.targets, " ") {
			t.Errorf("%q: listen %s, targets %v; want %s, %v", tt.args, o.Listen, got, tt.listen, tt.targets)
		}
	}
	bad := []struct {
		args []string
		err  string
	}{
		{[]string{"tap", "9000"}, "tap needs where to listen and at least one target"},
		{[]string{"tap", "9000", "9000"}, `target "9000" is where tap listens (udp://0.0.0.0:9000)`},
		{[]string{"tap", "127.0.0.1:9000", "localhost:9000"}, "is where tap listens"},
		{[]string{"tap", "[::]:9000", "[::1]:9000"}, "is where tap listens"},
		{[]string{"tap", "osc.udp://239.0.0.1:7000", "239.0.0.1:7000"}, "is where tap listens"},
		{[]string{"tap", "unix:///tmp/a.sock", "unix:///tmp/a.sock"}, "is where tap listens"},
		{[]string{"tap", "9000", "9001", "127.0.0.1:9001"}, `target "127.0.0.1:9001" is udp://127.0.0.1:9001 again (as "9001")`},
		{[]string{"tap", "9000", "localhost"}, `target "localhost" has no port`},
		{[]string{"tap", "9000", "0"}, "port 0 cannot be sent to"},
		{[]string{"tap", "9000", "ftp://x:1"}, `unknown scheme "ftp"`},
		{[]string{"tap", "9000", "@nowhere"}, "nowhere"},
		{[]string{"tap", "9000", "9001", "--only", "/a["}, "--only: "},
		{[]string{"tap", "9000", "9001", "--drop", "a"}, "--drop: "},
		{[]string{"tap", "9000", "9001", "--to-framing", "auto"}, "--to-framing: "},
		{[]string{"tap", "9000", "9001", "--ttl", "0"}, "--ttl 0: want 1 to 255"},
		{[]string{"tap", "9000", "9001", "--queue", "0"}, "--queue 0"},
		{[]string{"tap", "9000", "9001", "--max-senders", "0"}, "--max-senders 0"},
		{[]string{"tap", "9000", "9001", "--sender-idle", "0s"}, "--sender-idle 0s"},
		{[]string{"tap", "-p", "9100", "9000", "9001"}, "--port 9100 contradicts"},
	}
	for _, tt := range bad {
		_, code, stderr := parse(t, cfg, tt.args...)
		if code != 2 || !strings.HasPrefix(stderr, "oscli: error: ") || !strings.Contains(stderr, tt.err) {
			t.Errorf("%q: exit %d, stderr %q; want 2 and %q", tt.args, code, stderr, tt.err)
		}
	}
	many := []string{"tap", "9000"}
	for i := range maxTargets + 1 {
		many = append(many, fmt.Sprint(10000+i))
	}
	if _, code, stderr := parse(t, nil, many...); code != 2 || !strings.Contains(stderr, "tap forwards to 32 at most") {
		t.Errorf("%d targets: exit %d %s", maxTargets+1, code, stderr)
	}
	warn := []struct {
		args []string
		warn string
	}{
		{[]string{"tap", "9000", "9001", "--to-framing", "len"}, "--to-framing does nothing without a TCP target"},
		{[]string{"tap", "9000", "9001", "-q", "--json"}, "--json does nothing with -q"},
		{[]string{"tap", "9000", "9001", "--ttl", "4"}, "--ttl does nothing without a multicast target"},
		{[]string{"tap", "9000", "tcp://127.0.0.1:9", "--broadcast"}, "--broadcast does nothing without a UDP target"},
	}
	for _, tt := range warn {
		if _, code, stderr := parse(t, nil, tt.args...); code != 0 || !strings.Contains(stderr, "oscli: warning: "+tt.warn) {
			t.Errorf("%q: exit %d, stderr %q; want a warning %q", tt.args, code, stderr, tt.warn)
		}
	}
}

// The forwarding engine's limits come from the flags.
func TestTapOptionsReachEngine(t *testing.T) {
	opts, code, stderr := parse(t, nil, "tap", "9000", "9001", "--queue", "10", "--max-senders", "3", "--sender-idle", "5s",
		"--only", "/a/*", "--drop", "/a/ping", "--hide-replies", "-q")
	o, _ := opts.(*tapOptions)
	if code != 0 || o == nil {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if o.Queue != 10 || o.MaxSenders != 3 || o.SenderIdle != 5*time.Second || !o.HideReplies || !o.Quiet || o.Format != "" {
		t.Errorf("options %+v", o)
	}
	m := func(a string) osc.Packet { return &osc.Message{Address: a} }
	if !o.Forward.Pass(m("/a/x")) || o.Forward.Pass(m("/a/ping")) || o.Forward.Pass(m("/b")) || !o.Forward.HasIncludes() {
		t.Error("--only and --drop did not make the forward filter")
	}
	if !o.Filters.Empty() {
		t.Error("--only and --drop changed what is printed")
	}
	_ = tap.DefaultQueue
}

// liblo's oscsend → oscli tap → liblo's oscdump: what liblo sends reaches
// liblo, value for value, and tap prints it; over TCP from oscsend (liblo
// frames with size prefixes) to UDP.
func TestInteropOscsendTapOscdump(t *testing.T) {
	oscsend := needPeer(t, "oscsend")
	oscdump := needPeer(t, "oscdump")
	p := freeUDPPort(t)
	linesc := startPeerLines(t, oscdump, "-L", p)
	for _, listen := range []string{"udp", "tcp"} {
		t.Run(listen, func(t *testing.T) {
			tp := start(t, nil, "tap", listen+"://127.0.0.1:0", "127.0.0.1:"+p, "--time", "none")
			url := "osc." + listen + "://127.0.0.1:" + fmt.Sprint(port(t, tp.addr))
			probe := func() {
				if out, err := exec.Command(oscsend, url, "/ready").CombinedOutput(); err != nil {
					t.Fatalf("oscsend: %v %s", err, out)
				}
			}
			awaitPeer(t, linesc, probe, "/ready")
			if out, err := exec.Command(oscsend, url, "/lib/tap", "ifsT", "42", "0.5", "two words").CombinedOutput(); err != nil {
				t.Fatalf("oscsend: %v %s", err, out)
			}
			got := nextLine(t, linesc)
			if want := `/lib/tap ifsT 42 0.500000 "two words" #T`; len(got) < 18 || got[18:] != want {
				t.Errorf("oscdump printed %q, want %q after the time tag", got, want)
			}
			tp.stdout.waitFor(t, func(out string) bool { return strings.Contains(out, "/lib/tap") })
			r := tp.stop(t)
			if !strings.Contains(r.out, `/lib/tap i:42 f:0.5 s:"two words" T`) {
				t.Errorf("tap printed:\n%s", r.out)
			}
		})
	}
}

// A stdout that nobody reads (a pager never scrolled) does not hold up
// forwarding: the target gets every packet while tap's first write is
// stuck; a signal then ends tap after pipeline.StopGrace (on its clock),
// with the summary, the forwarding numbers and exit status 1 for the
// output lost.
func TestTapForwardsWhileStdoutBlocked(t *testing.T) {
	const n = 100
	d := start(t, nil, "dump", "-H", "127.0.0.1", "-p", "0", "-n", fmt.Sprint(n), "--time", "none")
	clk := clock.NewFake(t0)
	stuck := newStuckStdout(t)
	s := startSession(t, clk, strings.NewReader(""), stuck, "tap", "127.0.0.1:0", d.addr, "--time", "none")
	var addr string
	select {
	case addr = <-s.ready:
	case r := <-s.done:
		t.Fatalf("exited: %d %s", r.code, r.err)
	}
	var pkts [][]byte
	for i := range n {
		pkts = append(pkts, []byte(fmt.Sprintf("/p%02d\x00\x00\x00\x00,\x00\x00\x00", i)))
	}
	// The first packet alone, so that its line is written at once (no
	// flush timer left on the fake clock), and that write sticks.
	to := strings.TrimPrefix(addr, "udp://")
	sendRaw(t, to, pkts[0])
	select {
	case <-stuck.started:
	case <-time.After(10 * time.Second):
		t.Fatal("tap never wrote")
	}
	sendRaw(t, to, pkts[1:]...)
	if r := d.wait(t); len(lines(r.out)) != n {
		t.Fatalf("the target got %d packets:\n%s", len(lines(r.out)), r.err)
	}
	s.cancel(&signalCause{Signal: syscall.SIGTERM})
	var r result
	for done := false; !done; {
		select {
		case r = <-s.done:
			done = true
		case <-time.After(10 * time.Second):
			t.Fatal("tap did not end")
		default:
			if clk.BlockUntil(1, time.Millisecond) {
				clk.Advance(pipeline.StopGrace)
			}
		}
	}
	for _, want := range []string{
		"oscli: stopped by SIGTERM: ",
		fmt.Sprintf("oscli: forwarded %d packets from 2 senders\n", n),
		fmt.Sprintf("oscli: to udp://%s: %d sent\n", d.addr, n),
		"oscli: error: stdout blocked: up to ",
	} {
		if !strings.Contains(r.err, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.err)
		}
	}
	if r.code != 1 {
		t.Errorf("exit %d, want 1", r.code)
	}
}
