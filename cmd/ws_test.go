package cmd

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/oscli/oscli/internal/clock"
	"github.com/oscli/oscli/internal/osc"
)

// wsDump runs dump on a WebSocket listen word at a free port of
// loopback; its addr is the URL to send to.
func wsDump(t *testing.T, path string, args ...string) *background {
	t.Helper()
	return start(t, nil, append([]string{"dump", "ws://127.0.0.1:0" + path}, args...)...)
}

// send, bundle and replay reach dump over WebSocket, each packet one
// binary message and each run one connection; dump names the protocol
// "ws" and counts connections; a wrong path is refused with the right
// one named on both sides.
func TestWebSocketDumpSend(t *testing.T) {
	d := wsDump(t, "/osc", "-n", "4", "--json")
	if !strings.HasPrefix(d.addr, "ws://127.0.0.1:") || !strings.HasSuffix(d.addr, "/osc") {
		t.Fatalf("ready address %q", d.addr)
	}
	if r := run(t, "", nil, "send", d.addr, "/a", "i:1", "s:two words"); r.code != 0 {
		t.Fatalf("send: %s", r.err)
	}
	if r := run(t, "/b f:0.5\n/c T\n", nil, "send", d.addr, "-"); r.code != 0 {
		t.Fatalf("send -: %s", r.err)
	}
	// The listen word's path is the only one: -H/-p/--proto ask for "/".
	port := d.addr[strings.LastIndex(d.addr, ":")+1 : strings.LastIndex(d.addr, "/")]
	r := run(t, "", nil, "send", "--proto", "ws", "-H", "127.0.0.1", "-p", port, "/x")
	want := fmt.Sprintf(`oscli: error: cannot connect to ws://127.0.0.1:%s: not a WebSocket endpoint (HTTP 404 Not Found: "oscli: no OSC WebSocket at /; it is at /osc")`+"\n", port)
	if r.code != 1 || r.err != want {
		t.Errorf("send to the wrong path: %d %q\nwant %q", r.code, r.err, want)
	}
	if r := run(t, "", nil, "bundle", d.addr, "/d", "i:4"); r.code != 0 {
		t.Fatalf("bundle: %s", r.err)
	}
	res := d.wait(t)
	got := lines(res.out)
	if len(got) != 4 {
		t.Fatalf("output:\n%s\n%s", res.out, res.err)
	}
	for i, wantPacket := range []string{
		`{"address":"/a","types":"is","args":[1,"two words"]}`,
		`{"address":"/b","types":"f","args":[0.5]}`,
		`{"address":"/c","types":"T","args":[true]}`,
		`"elements":[{"address":"/d","types":"i","args":[4]}]`,
	} {
		var line struct {
			Proto  string          `json:"proto"`
			Packet json.RawMessage `json:"packet"`
		}
		if err := json.Unmarshal([]byte(got[i]), &line); err != nil {
			t.Fatal(err)
		}
		if line.Proto != "ws" || !strings.Contains(string(line.Packet), wantPacket) {
			t.Errorf("line %d: %s, want proto ws and %s", i, got[i], wantPacket)
		}
	}
	for _, want := range []string{
		"oscli: listening on " + d.addr + "\n",
		`: asked for path "/", not /osc (answered 404); connection closed` + "\n",
		"oscli: stopped by --count 4: 4 packets, ",
		", 4 connections, 1 dropped\n",
	} {
		if !strings.Contains(res.err, want) {
			t.Errorf("stderr lacks %q:\n%s", want, res.err)
		}
	}
}

// dump --echo answers each packet on its WebSocket connection, which
// send --reply prints like dump does.
func TestWebSocketEchoReply(t *testing.T) {
	d := wsDump(t, "", "--echo", "--format", "json")
	clk := clock.NewFake(t0)
	host := strings.TrimPrefix(d.addr, "ws://")
	b := launch(t, clk, nil, "send", d.addr+"/any/path", "/ping", "i:7", "--reply", "--timeout", "500ms")
	b.stdout.waitFor(t, func(out string) bool { return strings.Contains(out, host+"  /ping i:7") })
	clk.Advance(500 * time.Millisecond)
	if r := b.wait(t); r.code != 0 || len(lines(r.out)) != 1 {
		t.Errorf("%d out %q err %q", r.code, r.out, r.err)
	}
	if res := d.stop(t); !strings.Contains(res.err, "oscli: listening on "+d.addr+" (any path)\n") {
		t.Errorf("stderr %q", res.err)
	}
}

// wsPeer is a WebSocket client written by hand (one masked frame per
// message): what a browser page would send, text included.
type wsPeer struct {
	net.Conn
}

func dialWSPeer(t *testing.T, url string) *wsPeer {
	t.Helper()
	hostpath := strings.TrimPrefix(url, "ws://")
	host, path, _ := strings.Cut(hostpath, "/")
	c, err := net.Dial("tcp", host)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	fmt.Fprintf(c, "GET /%s HTTP/1.1\r\nHost: %s\r\nOrigin: http://elsewhere.example\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"+
		"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n", path, host)
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil || resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("upgrade: %v %v", resp, err)
	}
	return &wsPeer{c}
}

// send writes one message: opcode 1 text, 2 binary.
func (p *wsPeer) send(t *testing.T, op byte, payload []byte) {
	t.Helper()
	if len(payload) > 125 {
		t.Fatal("wsPeer sends short messages only")
	}
	b := append([]byte{0x80 | op, 0x80 | byte(len(payload)), 0, 0, 0, 0}, payload...)
	if _, err := p.Write(b); err != nil {
		t.Fatal(err)
	}
}

// Text messages are not OSC: the first of a connection is reported,
// escaped, with its size, and every one is counted in the summary; the
// binary messages around them print. Any Origin is accepted (browser
// pages come from elsewhere).
func TestWebSocketTextMessages(t *testing.T) {
	d := wsDump(t, "", "-n", "2", "--time", "none")
	p := dialWSPeer(t, d.addr)
	a, _ := osc.AppendMessage(nil, &osc.Message{Address: "/a"})
	b, _ := osc.AppendMessage(nil, &osc.Message{Address: "/b", Args: []osc.Arg{osc.Int32(2)}})
	p.send(t, 2, a)
	p.send(t, 1, []byte("{\"json\":\"\x1b[2J\"}"))
	p.send(t, 1, []byte("again"))
	p.send(t, 2, b)
	res := d.wait(t)
	if got := lines(res.out); len(got) != 2 || !strings.HasSuffix(got[0], "  /a") || !strings.HasSuffix(got[1], "  /b i:2") {
		t.Errorf("output %q", res.out)
	}
	for _, want := range []*regexp.Regexp{
		regexp.MustCompile(`(?m)^oscli: warning: 127\.0\.0\.1:\d+: sent a text message \(15 bytes: "\{\\"json\\":\\"\\x1b\[2J\\"\}"\), which is not OSC: ignored; OSC over WebSocket is one packet per binary message \(later text messages are counted\)$`),
		regexp.MustCompile(`(?m)^oscli: stopped by --count 2: 2 packets, 20 bytes, 0 malformed, 0 filtered, 1 connection, 0 dropped, 2 WebSocket text messages ignored$`),
	} {
		if !want.MatchString(res.err) {
			t.Errorf("stderr does not match %s:\n%s", want, res.err)
		}
	}
	if strings.Count(res.err, "text message (") != 1 {
		t.Errorf("the text messages were reported more than once:\n%s", res.err)
	}
}

// What a user gets wrong is refused in oscli's words, with the right
// exit code.
func TestWebSocketUsage(t *testing.T) {
	refused := func() string {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		return ln.Addr().String()
	}()
	tests := []struct {
		args []string
		code int
		err  string
	}{
		{[]string{"send", "ws://" + refused + "/osc", "/x"}, 1,
			"oscli: error: cannot connect to ws://" + refused + "/osc: connection refused (is a receiver listening?)\n"},
		{[]string{"dump", "wss://127.0.0.1:0"}, 2,
			"oscli: error: cannot listen on wss://127.0.0.1:0: oscli serves plain ws://, not TLS\n" +
				"oscli: hint: listen on ws://, behind a TLS proxy (caddy, nginx) for wss:// clients\n"},
		{[]string{"dump", "--proto", "wss", "-p", "0"}, 2,
			"oscli: error: cannot listen on wss://0.0.0.0:0: oscli serves plain ws://, not TLS\n" +
				"oscli: hint: listen on ws://, behind a TLS proxy (caddy, nginx) for wss:// clients\n"},
		{[]string{"dump", "ws://127.0.0.1:0/osc?token=1"}, 2,
			"oscli: error: cannot listen on ws://127.0.0.1:0/osc?token=1: a path to listen on has no ?query\n"},
		{[]string{"bench", "--proto", "wss"}, 2,
			"oscli: error: bench's own receiver serves plain ws://, not TLS: --proto wss needs a target\n" +
				"oscli: hint: oscli bench --proto ws, or oscli bench wss://HOST/PATH against a server that echoes\n"},
		{[]string{"send", "ws://host:9000/a b", "/x"}, 2,
			"oscli: error: invalid address \"ws://host:9000/a b\": the path has spaces or control characters\n"},
		{[]string{"send", "--proto", "ws", "ws://127.0.0.1:9000", "--framing", "len", "/x", "--dry-run"}, 0,
			"oscli: warning: --framing does nothing over ws: it frames TCP streams\n"},
		{[]string{"send", "--proto", "tcp", "ws://127.0.0.1:9000", "/x"}, 2,
			"oscli: error: --proto tcp contradicts the target \"ws://127.0.0.1:9000\"\n" +
				"oscli: hint: say it once: in the word (udp://host:port) or with -H, -p and --proto\n"},
	}
	for _, tt := range tests {
		r := run(t, "", nil, tt.args...)
		if r.code != tt.code || r.err != tt.err {
			t.Errorf("%v: %d %q\nwant %d %q", tt.args, r.code, r.err, tt.code, tt.err)
		}
	}
}

// bench over WebSocket: its own receiver (--proto ws), and round trips
// through a dump --echo.
func TestBenchWebSocket(t *testing.T) {
	r := run(t, "", nil, "bench", "--proto", "ws", "--count", "200", "--json")
	if r.code != 0 || !strings.Contains(r.out, `"proto":"ws"`) || !strings.Contains(r.out, `"sent":200,"received":200,"lost":0`) ||
		!strings.Contains(r.out, `"latency":"one-way"`) {
		t.Errorf("own receiver: %d %s %s", r.code, r.out, r.err)
	}
	d := wsDump(t, "/echo", "--echo", "--format", "json")
	r = run(t, "", nil, "bench", d.addr, "--count", "200", "--json")
	res := d.stop(t)
	if r.code != 0 || !strings.Contains(r.out, `"sent":200,"received":200,"lost":0`) || !strings.Contains(r.out, `"latency":"round-trip"`) {
		t.Errorf("through dump --echo: %d %s %s\ndump: %s", r.code, r.out, r.err, res.err)
	}
}

// A message over dump's --max-packet is refused with status 1009 and
// reported on both sides: send exits 1 saying so, rather than 0 as if it
// had been taken.
func TestWebSocketMessageTooBig(t *testing.T) {
	d := wsDump(t, "", "--max-packet", "64")
	r := run(t, "", nil, "send", d.addr, "/big", "b:"+strings.Repeat("ab", 100))
	want := "oscli: error: " + d.addr + ` closed the connection (status 1009 (message too big): "message larger than the 64-byte limit")` + "\n"
	if r.code != 1 || r.err != want {
		t.Errorf("send: %d %q\nwant %q", r.code, r.err, want)
	}
	res := d.stop(t)
	if !regexp.MustCompile(`(?m)^oscli: 127\.0\.0\.1:\d+: message larger than the 64-byte limit \(--max-packet\); connection closed$`).MatchString(res.err) {
		t.Errorf("dump's stderr:\n%s", res.err)
	}
}
