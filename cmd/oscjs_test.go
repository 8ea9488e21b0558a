package cmd

import (
	"bufio"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/oscli/oscli/internal/osc"
)

// needOscJS finds node with osc.js (npm package osc) and ws, the peers of
// the WebSocket interop tests, and returns node's path and the
// environment to run it in. The modules are looked for on NODE_PATH, else
// in ~/.cache/oscli-node/node_modules (where .ci/run installs them).
// Without them the test skips, unless OSCLI_REQUIRE_PEERS=1 (as in CI),
// where it fails.
func needOscJS(t *testing.T) (string, []string) {
	t.Helper()
	missing := func(why string) {
		const how = "npm install --prefix ~/.cache/oscli-node osc@2.4.5 ws@8.18.0, or see .ci/run"
		if os.Getenv("OSCLI_REQUIRE_PEERS") == "1" {
			t.Fatalf("%s and OSCLI_REQUIRE_PEERS=1 (%s)", why, how)
		}
		t.Skipf("%s (%s)", why, how)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		missing("node not found")
	}
	env := os.Environ()
	if os.Getenv("NODE_PATH") == "" {
		if home, err := os.UserHomeDir(); err == nil {
			env = append(env, "NODE_PATH="+filepath.Join(home, ".cache", "oscli-node", "node_modules"))
		}
	}
	cmd := exec.Command(node, "-e", `require("osc"); require("ws")`)
	cmd.Env = env
	if out, err := cmd.CombinedOutput(); err != nil {
		missing(fmt.Sprintf("node cannot load osc and ws: %v: %s", err, errorLine(string(out))))
	}
	return node, env
}

// errorLine picks node's "Error: Cannot find module 'osc'" out of its
// stack trace.
func errorLine(s string) string {
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, "Error") {
			return strings.TrimSpace(l)
		}
	}
	l, _, _ := strings.Cut(strings.TrimSpace(s), "\n")
	return l
}

// nodeScript writes a script for node and returns its path.
func nodeScript(t *testing.T, src string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "peer.js")
	if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// The client sends what osc.js's README shows, prints the bytes
// osc.writePacket makes of each packet (hex, one per line), and closes.
const oscjsClient = `
const osc = require("osc");
const packets = [
  {address: "/oscjs/ints", args: [{type: "i", value: 42}, {type: "i", value: -7}]},
  {address: "/oscjs/mixed", args: [{type: "f", value: 0.5}, {type: "s", value: "two words"}, {type: "d", value: 3.25},
    {type: "b", value: new Uint8Array([1, 2, 3])}, {type: "T"}, {type: "F"}, {type: "N"}, {type: "I"}]},
  {timeTag: {raw: [3900000000, 2147483648]}, packets: [{address: "/oscjs/in/bundle", args: [{type: "s", value: "x"}]}]},
];
const port = new osc.WebSocketPort({url: process.argv[2], metadata: true});
port.on("error", (e) => { console.error(String(e)); process.exit(1); });
port.on("ready", () => {
  port.socket.send("a text frame, which oscli reports and ignores");
  for (const p of packets) {
    console.log(Buffer.from(osc.writePacket(p, {metadata: true})).toString("hex"));
    port.send(p);
  }
  port.close(1000);
});
port.open();
`

// osc.js's WebSocketPort (in node, over the ws package) → oscli dump
// ws://: every packet arrives byte for byte as osc.js encoded it, decoded
// as osc.js meant it; the text frame is reported, not decoded.
func TestInteropOscJSToDump(t *testing.T) {
	node, env := needOscJS(t)
	d := wsDump(t, "/osc", "-n", "3", "--json")
	cmd := exec.Command(node, nodeScript(t, oscjsClient), d.addr)
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("osc.js client: %v\n%s", err, out)
	}
	sent := lines(string(out))
	res := d.wait(t)
	got := lines(res.out)
	if len(sent) != 3 || len(got) != 3 {
		t.Fatalf("osc.js sent %q\ndump printed:\n%s\n%s", sent, res.out, res.err)
	}
	wantPackets := []string{
		`{"address":"/oscjs/ints","types":"ii","args":[42,-7]}`,
		`{"address":"/oscjs/mixed","types":"fsdbTFNI","args":[0.5,"two words",3.25,"010203",true,false,null,null]}`,
		`"elements":[{"address":"/oscjs/in/bundle","types":"s","args":["x"]}]`,
	}
	for i, line := range got {
		var ev struct {
			Proto  string          `json:"proto"`
			Raw    string          `json:"raw"`
			Packet json.RawMessage `json:"packet"`
		}
		if err := json.Unmarshal([]byte(line), &ev); err != nil {
			t.Fatal(err)
		}
		raw, _ := base64.StdEncoding.DecodeString(ev.Raw)
		if hex.EncodeToString(raw) != sent[i] {
			t.Errorf("packet %d: dump got %x, osc.js sent %s", i, raw, sent[i])
		}
		if ev.Proto != "ws" || !strings.Contains(string(ev.Packet), wantPackets[i]) {
			t.Errorf("packet %d: %s %s, want %s", i, ev.Proto, ev.Packet, wantPackets[i])
		}
	}
	if !strings.Contains(res.err, `sent a text message (45 bytes: "a text frame, which oscli reports and ignores")`) {
		t.Errorf("the text frame was not reported:\n%s", res.err)
	}
}

// The server is the one osc.js's documentation shows: a ws server whose
// connections each get an osc.WebSocketPort. It prints the port it
// listens on, then each packet received (hex, and as osc.js decoded it),
// and echoes each back.
const oscjsServer = `
const osc = require("osc");
const WebSocket = require("ws");
const wss = new WebSocket.Server({host: "127.0.0.1", port: 0});
wss.on("listening", () => console.log("listening " + wss.address().port));
wss.on("connection", (socket) => {
  const port = new osc.WebSocketPort({socket: socket, metadata: true});
  port.on("raw", (data) => {
    // A copy: osc.js 2.4.5 reads a blob from a node Buffer at the wrong
    // offset (colinbdclark/osc.js#153); a browser's ArrayBuffer has none.
    const packet = osc.readPacket(new Uint8Array(data), {metadata: true});
    const json = JSON.stringify(packet, (k, v) => v instanceof Uint8Array ? Buffer.from(v).toString("hex") : v);
    console.log(Buffer.from(data).toString("hex") + " " + json);
    port.send(packet);
  });
});
`

// oscli send/bundle ws:// → an osc.js WebSocketPort server: osc.js reads
// every packet oscli sends, value for value, and what it sends back is
// printed by send --reply.
func TestInteropSendToOscJS(t *testing.T) {
	node, env := needOscJS(t)
	cmd := exec.Command(node, nodeScript(t, oscjsServer))
	cmd.Env = env
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	linesc := make(chan string, 16)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			linesc <- sc.Text()
		}
		close(linesc)
	}()
	next := func() string {
		t.Helper()
		select {
		case l, ok := <-linesc:
			if !ok {
				t.Fatal("the osc.js server exited")
			}
			return l
		case <-time.After(10 * time.Second):
			t.Fatal("no line from the osc.js server within 10s")
		}
		return ""
	}
	port, ok := strings.CutPrefix(next(), "listening ")
	if !ok {
		t.Fatal("the osc.js server did not say where it listens")
	}
	target := "ws://127.0.0.1:" + port

	r := run(t, "", nil, "send", target, "/from/oscli", "i:42", "f:0.5", "s:two words", "b:010203", "T", "N", "--reply", "-n", "1")
	if r.code != 0 || !strings.HasSuffix(r.out, " 127.0.0.1:"+port+"  /from/oscli i:42 f:0.5 s:\"two words\" b:010203 T N\n") {
		t.Errorf("send --reply: %d %q %q", r.code, r.out, r.err)
	}
	want, _ := osc.AppendMessage(nil, &osc.Message{Address: "/from/oscli",
		Args: []osc.Arg{osc.Int32(42), osc.Float32(0.5), osc.String("two words"), osc.Blob([]byte{1, 2, 3}), osc.Bool(true), osc.Nil()}})
	hexs, decoded, _ := strings.Cut(next(), " ")
	if hexs != hex.EncodeToString(want) {
		t.Errorf("osc.js got %s, oscli encodes %x", hexs, want)
	}
	if wantJSON := `{"address":"/from/oscli","args":[{"type":"i","value":42},{"type":"f","value":0.5},{"type":"s","value":"two words"},{"type":"b","value":"010203"},{"type":"T","value":true},{"type":"N","value":null}]}`; decoded != wantJSON {
		t.Errorf("osc.js decoded %s\nwant %s", decoded, wantJSON)
	}

	if r := run(t, "", nil, "bundle", target, "--at", "0xe8763d8000000000", "/b/one", "i:1", "/b/two", "s:z"); r.code != 0 {
		t.Fatalf("bundle: %s", r.err)
	}
	_, decoded, _ = strings.Cut(next(), " ")
	for _, want := range []string{`"raw":[3900063104,0]`, `{"address":"/b/one","args":[{"type":"i","value":1}]}`, `{"address":"/b/two","args":[{"type":"s","value":"z"}]}`} {
		if !strings.Contains(decoded, want) {
			t.Errorf("osc.js decoded the bundle as %s, without %s", decoded, want)
		}
	}
}
