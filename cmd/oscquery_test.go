package cmd

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/oscli/oscli/internal/clock"
	"github.com/oscli/oscli/internal/osc"
	"github.com/oscli/oscli/internal/oscquery"
)

// vrchat is an OSCQuery server that behaves as VRChat's does, not as the
// proposal has it: bound to 127.0.0.1, HOST_INFO for any URL holding those
// letters, attribute queries ignored (the whole node comes back), no
// WebSocket and no LISTEN, booleans as TYPE "T" or "F" after their value,
// and parameter names holding '/' split into nested nodes. Its OSC port is
// a UDP socket whose packets the test reads.
type vrchat struct {
	url    string
	osc    net.PacketConn
	mu     sync.Mutex
	params map[string]any // name (may hold '/') → bool, float64 or int
	gets   int
}

func newVRChat(t *testing.T) *vrchat {
	t.Helper()
	v := &vrchat{params: map[string]any{
		"MuteSelf": false, "VelocityX": 0.0, "GestureLeft": 0, "VF/Hat": true,
	}}
	pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	v.osc = pc
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: v}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close(); pc.Close() })
	v.url = "http://" + ln.Addr().String()
	return v
}

func (v *vrchat) set(name string, val any) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.params[name] = val
}

func (v *vrchat) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.gets++
	w.Header().Set("Content-Type", "application/json")
	if strings.Contains(r.URL.String(), "HOST_INFO") {
		port := v.osc.LocalAddr().(*net.UDPAddr).Port
		fmt.Fprintf(w, `{"NAME":"VRChat-Client-ABC123","EXTENSIONS":{"ACCESS":true,"CLIPMODE":false,"RANGE":true,"TYPE":true,"VALUE":true},"OSC_IP":"127.0.0.1","OSC_PORT":%d,"OSC_TRANSPORT":"UDP"}`, port)
		return
	}
	tree := v.treeLocked()
	n := tree
	for _, part := range strings.Split(strings.Trim(r.URL.Path, "/"), "/") {
		if part == "" {
			continue
		}
		c, _ := n["CONTENTS"].(map[string]any)
		next, ok := c[part].(map[string]any)
		if !ok {
			http.Error(w, "not found", http.StatusNotFound)
			return
		}
		n = next
	}
	fmt.Fprint(w, jsonOf(n))
}

func (v *vrchat) treeLocked() map[string]any {
	params := map[string]any{"FULL_PATH": "/avatar/parameters", "ACCESS": 0, "CONTENTS": map[string]any{}}
	for name, val := range v.params {
		node := map[string]any{"FULL_PATH": "/avatar/parameters/" + name, "ACCESS": 3}
		switch x := val.(type) {
		case bool:
			node["TYPE"] = map[bool]string{true: "T", false: "F"}[x]
		case float64:
			node["TYPE"], node["ACCESS"] = "f", 1
		case int:
			node["TYPE"], node["ACCESS"] = "i", 1
		}
		node["VALUE"] = []any{val}
		// A name holding '/' nests, as VRChat's does.
		parent := params
		parts := strings.Split(name, "/")
		for i, p := range parts[:len(parts)-1] {
			c := parent["CONTENTS"].(map[string]any)
			next, ok := c[p].(map[string]any)
			if !ok {
				next = map[string]any{"FULL_PATH": "/avatar/parameters/" + strings.Join(parts[:i+1], "/"), "ACCESS": 0, "CONTENTS": map[string]any{}}
				c[p] = next
			}
			parent = next
		}
		parent["CONTENTS"].(map[string]any)[parts[len(parts)-1]] = node
	}
	return map[string]any{"FULL_PATH": "/", "DESCRIPTION": "root node", "ACCESS": 0, "CONTENTS": map[string]any{
		"avatar": map[string]any{"FULL_PATH": "/avatar", "ACCESS": 2, "CONTENTS": map[string]any{
			"change":     map[string]any{"FULL_PATH": "/avatar/change", "ACCESS": 3, "TYPE": "s", "VALUE": []any{"avtr_1234"}},
			"parameters": params,
		}},
	}}
}

// jsonOf writes a fixture value as JSON (maps with sorted keys).
func jsonOf(v any) string {
	switch x := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sortStrings(keys)
		var b strings.Builder
		b.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, "%q:%s", k, jsonOf(x[k]))
		}
		b.WriteByte('}')
		return b.String()
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = jsonOf(e)
		}
		return "[" + strings.Join(parts, ",") + "]"
	case string:
		return fmt.Sprintf("%q", x)
	case float64:
		return fmt.Sprintf("%g", x)
	}
	return fmt.Sprint(v)
}

func sortStrings(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

// The VRChat-like tree prints with its nested names and booleans; get
// copes with whole-node answers; set sends T or F as the TYPE says, to
// HOST_INFO's OSC port.
func TestQueryVRChat(t *testing.T) {
	v := newVRChat(t)
	r := run(t, "", nil, "query", v.url)
	if r.code != 0 {
		t.Fatalf("query: %d %s", r.code, r.err)
	}
	for _, want := range []string{
		"name        VRChat-Client-ABC123\n",
		"listen      no (query watch polls VALUE)\n",
		"\n      /avatar/parameters/MuteSelf     F  rw  F\n",
		"\n      /avatar/parameters/VF              -\n",
		"\n        /avatar/parameters/VF/Hat     T  rw  T\n",
		"\n      /avatar/parameters/VelocityX    f  r   f:0\n",
	} {
		if !strings.Contains(r.out, want) {
			t.Errorf("query output lacks %q:\n%s", want, r.out)
		}
	}
	if r := run(t, "", nil, "query", "get", v.url, "/avatar/parameters/VF/Hat"); r.out != "/avatar/parameters/VF/Hat T\n" {
		t.Errorf("get: %q %s", r.out, r.err)
	}
	if r := run(t, "", nil, "query", "get", "--json", v.url, "/avatar/parameters/VelocityX"); r.out != "{\"VALUE\":[0]}\n" {
		t.Errorf("get --json: %q %s", r.out, r.err)
	}
	// A boolean whose TYPE is F takes true: T and F are one type.
	if r := run(t, "", nil, "query", "set", v.url, "/avatar/parameters/MuteSelf", "true"); r.code != 0 {
		t.Fatalf("set: %d %s", r.code, r.err)
	}
	buf := make([]byte, 1024)
	_ = v.osc.SetReadDeadline(time.Now().Add(10 * time.Second))
	n, _, err := v.osc.ReadFrom(buf)
	if err != nil {
		t.Fatal(err)
	}
	p, err := osc.Decode(buf[:n])
	if err != nil || p.(*osc.Message).String() != "/avatar/parameters/MuteSelf T" {
		t.Errorf("the OSC port got %v (%v)", p, err)
	}
	// VRChat's read-only parameters are refused, with the reason.
	r = run(t, "", nil, "query", "set", v.url, "/avatar/parameters/VelocityX", "0.5")
	if r.code != 2 || r.err != "oscli: error: /avatar/parameters/VelocityX is read-only (ACCESS 1)\noscli: hint: --force sends anyway\n" {
		t.Errorf("set read-only: %d %q", r.code, r.err)
	}
}

// watch against a server without LISTEN polls VALUE on the command's
// clock, says so once, and prints each change as dump prints a message.
func TestQueryWatchPollsVRChat(t *testing.T) {
	v := newVRChat(t)
	clk := clock.NewFake(t0)
	w := launch(t, clk, nil, "query", "watch", v.url, "/avatar/parameters//*", "--interval", "250ms", "--time", "none")
	// The baseline is taken; the watcher waits for the next poll.
	if !clk.BlockUntil(1, 10*time.Second) {
		t.Fatal("watch never waited for its interval")
	}
	v.set("VF/Hat", false)
	v.set("VelocityX", 0.25)
	clk.Advance(250 * time.Millisecond)
	w.stdout.waitFor(t, func(out string) bool { return strings.Count(out, "\n") == 2 })
	want := "127.0.0.1:PORT  /avatar/parameters/VF/Hat F\n127.0.0.1:PORT  /avatar/parameters/VelocityX f:0.25\n"
	port := strings.TrimPrefix(v.url, "http://127.0.0.1:")
	if got := strings.ReplaceAll(w.stdout.String(), port, "PORT"); got != want {
		t.Errorf("after the first change:\n%s\nwant\n%s", got, want)
	}
	// Nothing changed: nothing printed. A new parameter is named on stderr.
	if !clk.BlockUntil(1, 10*time.Second) {
		t.Fatal("watch stopped polling")
	}
	v.set("Viseme", 3)
	clk.Advance(250 * time.Millisecond)
	w.stderr.waitFor(t, func(out string) bool { return strings.Contains(out, "added /avatar/parameters/Viseme") })
	if !clk.BlockUntil(1, 10*time.Second) {
		t.Fatal("watch stopped polling")
	}
	v.set("Viseme", 7)
	clk.Advance(250 * time.Millisecond)
	w.stdout.waitFor(t, func(out string) bool { return strings.Contains(out, "/avatar/parameters/Viseme i:7\n") })
	r := w.stop(t)
	if strings.Count(r.out, "\n") != 3 {
		t.Errorf("printed:\n%s", r.out)
	}
	if c := strings.Count(r.err, "polling"); c != 1 {
		t.Errorf("said %d times that it polls:\n%s", c, r.err)
	}
	if !strings.Contains(r.err, "oscli: note: "+v.url+" has no LISTEN: polling VALUE every 250ms\n") ||
		!strings.Contains(r.err, "oscli: stopped by interrupt: 3 changes of 5 addresses (polled every 250ms)\n") {
		t.Errorf("stderr:\n%s", r.err)
	}
}

// query set changes a value of oscli serve that query get and a query
// watch running beside it (LISTEN over the WebSocket) both see.
func TestQuerySetGetWatch(t *testing.T) {
	srv := start(t, nil, "serve", "../examples/oscquery-proposal.json", "-H", "127.0.0.1", "-p", "0", "--time", "none")
	url := "http://" + srv.addr
	w := launch(t, clock.Real, nil, "query", "watch", url, "/bar", "/baz/*", "--time", "none", "-n", "2")
	w.stderr.waitFor(t, func(out string) bool { return strings.Contains(out, "oscli: listening to 2 addresses on ws://") })
	// A LISTEN is a WebSocket message the server reads in its own time:
	// set until the watcher has seen one, then once more.
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(w.stdout.String(), "/bar") {
		if r := run(t, "", nil, "query", "set", url, "/bar", "1", "52"); r.code != 0 {
			t.Fatalf("set: %s", r.err)
		}
		if time.Now().After(deadline) {
			t.Fatal("watch saw no value within 10s")
		}
		w.stdout.waitForSome(50 * time.Millisecond)
	}
	if r := run(t, "", nil, "query", "set", url, "/baz/qux", "empty"); r.code != 0 {
		t.Fatalf("set: %s", r.err)
	}
	r := w.wait(t)
	if !strings.HasSuffix(r.out, "/baz/qux s:empty\n") || !strings.Contains(r.out, srv.addr+"  /bar i:1 i:52\n") {
		t.Errorf("watch printed:\n%s", r.out)
	}
	if !strings.Contains(r.err, "oscli: stopped by --count 2: 2 changes of 2 addresses (LISTEN on ws://") {
		t.Errorf("watch stderr:\n%s", r.err)
	}
	// serve printed the set (after taking it): get reads it back.
	srv.stdout.waitFor(t, func(out string) bool { return strings.Contains(out, "/baz/qux s:empty") })
	if r := run(t, "", nil, "query", "get", url, "/baz/qux"); r.out != "/baz/qux s:empty\n" {
		t.Errorf("get: %q %s", r.out, r.err)
	}
	if r := run(t, "", nil, "query", "get", url, "/bar"); r.out != "/bar i:1 i:52\n" {
		t.Errorf("get: %q %s", r.out, r.err)
	}
}

// What an HTTP server that is not OSCQuery, or one that stalls, gets.
func TestQueryBadServers(t *testing.T) {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	stall := make(chan struct{})
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/stall":
			select {
			case <-stall:
			case <-r.Context().Done():
			}
		case "/array":
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprint(w, `[1,2]`)
		case "/deep":
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprint(w, `{"FULL_PATH":"/deep","X":`+strings.Repeat("[", 5000)+strings.Repeat("]", 5000)+`}`)
		default:
			w.Header().Set("Content-Type", "text/html")
			fmt.Fprint(w, "<html>hello</html>")
		}
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { close(stall); srv.Close() })
	url := "http://" + ln.Addr().String()
	tests := []struct {
		args []string
		err  string
	}{
		{[]string{"query", url}, "oscli: error: " + url + "/ did not answer OSCQuery JSON (text/html): not JSON: invalid character '<' looking for beginning of value at byte 1\n"},
		{[]string{"query", url, "/array"}, "oscli: error: " + url + "/array did not answer OSCQuery JSON: not an OSCQuery node: the document is an array, not an object\n"},
		{[]string{"query", url, "/deep"}, "oscli: error: " + url + "/deep did not answer OSCQuery JSON: too big: JSON nested 5001 deep\n"},
		{[]string{"query", url, "/stall", "--timeout", "100ms"}, "oscli: error: no answer from " + url + "/stall within 100ms\n"},
	}
	for _, tt := range tests {
		r := run(t, "", nil, tt.args...)
		first, _, _ := strings.Cut(r.err, "oscli: hint")
		if r.code != 1 || first != tt.err {
			t.Errorf("%v: %d\n%s\nwant\n%s", tt.args, r.code, r.err, tt.err)
		}
	}
}

// Servers that are not OSCQuery at all are named so, in oscli's words:
// a TCP server that closes without answering (an OSC TCP port), one
// that answers something other than HTTP, an HTTP server without the
// root every OSCQuery server has (oscli dump ws://:PORT/osc).
func TestQueryNotOSCQuery(t *testing.T) {
	raw := func(answer string) string {
		ln, err := net.Listen("tcp4", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ln.Close() })
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				c.Read(make([]byte, 4096))
				c.Write([]byte(answer))
				c.Close()
			}
		}()
		return "http://" + ln.Addr().String()
	}
	silent, ssh := raw(""), raw("SSH-2.0-OpenSSH_9.6\r\n")
	plain := strings.Replace(raw("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"), "http://", "https://", 1)
	ws := start(t, nil, "dump", "ws://127.0.0.1:0/osc")
	wsURL := "http://" + strings.TrimPrefix(ws.addr, "ws://")
	wsURL = strings.TrimSuffix(wsURL, "/osc")
	for _, tt := range []struct{ url, err, hint string }{
		{silent, "oscli: error: cannot reach " + silent + "/: no HTTP answer\n", "oscli: hint: is the application running, and is this its OSCQuery (HTTP) port?"},
		{ssh, "oscli: error: cannot reach " + ssh + "/: no HTTP answer\n", "oscli: hint: is the application running, and is this its OSCQuery (HTTP) port?"},
		{plain, "oscli: error: cannot reach " + plain + "/: it does not speak TLS (an http:// server?)\n", "oscli: hint: is the application running, and is this its OSCQuery (HTTP) port?"},
		{wsURL, "oscli: error: " + wsURL + "/ answered 404 Not Found for the root address /: not an OSCQuery server\n", "oscli: hint: is this an OSCQuery server? its OSC port is another one"},
	} {
		r := run(t, "", nil, "query", tt.url)
		if r.code != 1 || !strings.HasPrefix(r.err, tt.err+tt.hint) {
			t.Errorf("query %s: %d\n%s\nwant\n%s%s", tt.url, r.code, r.err, tt.err, tt.hint)
		}
	}
}

// needPython finds Debian's python3 with its websockets module (apt's
// python3-websockets), the independent client oscli serve is tested
// against. Without them the test skips, unless OSCLI_REQUIRE_PEERS=1.
func needPython(t *testing.T) string {
	t.Helper()
	py := "/usr/bin/python3"
	if err := exec.Command(py, "-c", "import websockets, http.client").Run(); err != nil {
		if os.Getenv("OSCLI_REQUIRE_PEERS") == "1" {
			t.Fatalf("%s with websockets not found and OSCLI_REQUIRE_PEERS=1 (apt-get install python3-websockets): %v", py, err)
		}
		t.Skipf("%s with websockets not found (apt-get install python3-websockets)", py)
	}
	return py
}

// pythonClient reads oscli serve with Python's http.client and the
// websockets package: the tree, an attribute, HOST_INFO, a 404, then
// LISTEN on /bar and the first binary update, whose OSC address and type
// tags it decodes itself.
const pythonClient = `
import asyncio, http.client, json, sys
host, port = sys.argv[1], int(sys.argv[2])
def get(path):
    c = http.client.HTTPConnection(host, port, timeout=10)
    c.request("GET", path)
    r = c.getresponse()
    body = r.read()
    return r.status, r.getheader("Content-Type"), body
status, ctype, body = get("/")
tree = json.loads(body)
print("root", status, ctype, tree["FULL_PATH"], sorted(tree["CONTENTS"]))
status, _, body = get("/baz/qux?RANGE")
print("range", status, json.dumps(json.loads(body), sort_keys=True))
status, _, body = get("/foo?HOST_INFO")
info = json.loads(body)
print("hostinfo", status, info["OSC_PORT"] == port, info["OSC_TRANSPORT"], info["EXTENSIONS"]["LISTEN"])
print("missing", get("/nope")[0], get("/asdf?VALUE")[0], get("/foo?BOGUS")[0])
sys.stdout.flush()
async def listen():
    import websockets
    async with websockets.connect("ws://%s:%d/" % (host, port)) as ws:
        await ws.send(json.dumps({"COMMAND": "LISTEN", "DATA": "/bar"}))
        print("listening")
        sys.stdout.flush()
        while True:
            msg = await asyncio.wait_for(ws.recv(), 10)
            if isinstance(msg, bytes):
                addr = msg[:msg.index(b"\0")].decode()
                off = (len(addr) // 4 + 1) * 4
                tags = msg[off:msg.index(b"\0", off)].decode()
                print("update", addr, tags, msg[-8:].hex())
                return
asyncio.run(listen())
`

// oscli serve against an independent client: Python's http.client and
// websockets (a WebSocket implementation that shares nothing with oscli's).
func TestServeWithPythonClient(t *testing.T) {
	py := needPython(t)
	srv := start(t, nil, "serve", "../examples/oscquery-proposal.json", "-H", "127.0.0.1", "-p", "0", "--time", "none")
	host, port, _ := net.SplitHostPort(srv.addr)
	linesc := startPeerLines(t, py, "-c", pythonClient, host, port)
	want := []string{
		"root 200 application/json / ['asdf', 'bar', 'baz', 'color', 'distance', 'foo', 'go', 'nested']",
		`range 200 {"RANGE": [{"VALS": ["empty", "half-full", "full"]}]}`,
		"hostinfo 200 True UDP True",
		"missing 404 204 400",
		"listening",
	}
	for _, w := range want {
		if got := nextLine(t, linesc); got != w {
			t.Fatalf("python printed %q, want %q", got, w)
		}
	}
	// The LISTEN reaches the server in its own time: send until an update
	// comes back.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	got := ""
	for got == "" {
		if r := run(t, "", nil, "send", srv.addr, "/bar", "i:9", "i:99"); r.code != 0 {
			t.Fatal(r.err)
		}
		select {
		case l, ok := <-linesc:
			if !ok {
				t.Fatal("python exited")
			}
			got = l
		case <-time.After(20 * time.Millisecond):
		case <-ctx.Done():
			t.Fatal("no update within 10s")
		}
	}
	if got != "update /bar ,ii 0000000900000063" {
		t.Errorf("python got %q", got)
	}
}

// waitForSome waits until something is written or d passes: a pause
// between two tries of a probe, never what a test asserts on.
func (s *syncBuffer) waitForSome(d time.Duration) {
	s.mu.Lock()
	if s.written == nil {
		s.written = make(chan struct{})
	}
	ch := s.written
	s.mu.Unlock()
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ch:
	case <-t.C:
	}
}

// A hostile server's strings reach a terminal escaped: in the tree, in
// --json on a terminal (valid JSON may hold a raw C1 CSI or a bidi
// override), and in the errors that quote them. Into a pipe, --json is
// the server's bytes as they came.
func TestQueryEscapesServerStrings(t *testing.T) {
	doc := "{\"FULL_PATH\":\"/\",\"DESCRIPTION\":\"evil\u009b2J\u202etxt\",\"CONTENTS\":{\"x\\u001b\":{\"FULL_PATH\":\"/x\\u001b[31m\",\"TYPE\":\"s\",\"VALUE\":[\"\\u001b]0;pwned\\u0007\"]}}}"
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.RawQuery == "HOST_INFO" {
			fmt.Fprint(w, "{\"NAME\":\"\\u001b[2Jname\"}")
			return
		}
		fmt.Fprint(w, doc)
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	url := "http://" + ln.Addr().String()
	for _, args := range [][]string{{"query", url}, {"query", url, "--json"}, {"query", "info", url}} {
		r := runTTY(t, tty{stdout: true, stderr: true}, map[string]string{"NO_COLOR": "1"}, nil, args...)
		for _, bad := range []string{"\x1b", "\u009b", "\u202e", "\a"} {
			if strings.Contains(r.out+r.err, bad) {
				t.Errorf("%v wrote %q raw:\n%s%s", args, bad, r.out, r.err)
			}
		}
		if r.code != 0 {
			t.Errorf("%v: %d %s", args, r.code, r.err)
		}
	}
	if r := run(t, "", nil, "query", url, "--json"); r.out != doc+"\n" {
		t.Errorf("--json into a pipe changed the body:\n%q", r.out)
	}
}

// watch follows PATH_ADDED: an address serve --learn adds while watch
// runs is listened to, and its changes print.
func TestQueryWatchFollowsPathAdded(t *testing.T) {
	srv := start(t, nil, "serve", "--learn", "-H", "127.0.0.1", "-p", "0", "--time", "none")
	w := launch(t, clock.Real, nil, "query", "watch", "http://"+srv.addr, "--time", "none", "-n", "1")
	w.stderr.waitFor(t, func(out string) bool { return strings.Contains(out, "oscli: listening to 0 addresses on ws://") })
	// The server counts a WebSocket client once its handshake is done,
	// which the client may see first: new addresses until one is seen.
	deadline := time.Now().Add(10 * time.Second)
	path := ""
	for i := 0; path == ""; i++ {
		if r := run(t, "", nil, "send", srv.addr, fmt.Sprintf("/new/%d", i), "f:0.25"); r.code != 0 {
			t.Fatal(r.err)
		}
		if time.Now().After(deadline) {
			t.Fatal("no PATH_ADDED within 10s")
		}
		w.stderr.waitForSome(50 * time.Millisecond)
		if _, after, ok := strings.Cut(w.stderr.String(), "oscli: added "); ok {
			path, _, _ = strings.Cut(after, "\n")
		}
	}
	for !strings.Contains(w.stdout.String(), path) {
		if r := run(t, "", nil, "send", srv.addr, path, "f:0.5"); r.code != 0 {
			t.Fatal(r.err)
		}
		if time.Now().After(deadline) {
			t.Fatal("no update within 10s")
		}
		w.stdout.waitForSome(50 * time.Millisecond)
	}
	if r := w.wait(t); r.out != srv.addr+"  "+path+" f:0.5\n" || r.code != 0 {
		t.Errorf("watch: %d %q %s", r.code, r.out, r.err)
	}
}

// serve --save to a file it cannot write is refused when serve starts,
// not after a session of learning is lost at the stop.
func TestServeRefusesUnwritableSave(t *testing.T) {
	dir := t.TempDir()
	for _, tt := range []struct{ save, err string }{
		{dir + "/none/tree.json", "oscli: error: --save " + dir + "/none/tree.json: no such file or directory\n"},
		{dir, "oscli: error: --save " + dir + ": is a directory\n"},
	} {
		bg := launch(t, clock.Real, nil, "serve", "--learn", "--save", tt.save, "-H", "127.0.0.1", "-p", "0")
		select {
		case r := <-bg.done:
			if r.code != 1 || r.err != tt.err {
				t.Errorf("--save %s: %d %q, want 1 %q", tt.save, r.code, r.err, tt.err)
			}
		case <-bg.ready:
			t.Errorf("--save %s: serve started", tt.save)
			bg.cancel()
			<-bg.done
		case <-time.After(10 * time.Second):
			t.Fatalf("--save %s: neither refused nor serving after 10s", tt.save)
		}
	}
	if names, _ := os.ReadDir(dir); len(names) != 0 {
		t.Errorf("left behind: %v", names)
	}
}

// watch stopped while it fetches an address a PATH_ADDED named says
// nothing of that fetch: it was the stop that ended it, not the server
// ("warning: PATH_ADDED /new/0: cannot reach …: SIGINT").
func TestQueryWatchStopDuringPathAdded(t *testing.T) {
	qs := oscquery.NewServer(nil, oscquery.ServerConfig{Learn: true})
	fetching := make(chan struct{}, 1)
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/new/") && r.URL.RawQuery == "" {
			select {
			case fetching <- struct{}{}:
			default:
			}
			<-r.Context().Done() // answers only when watch has gone
			return
		}
		qs.ServeHTTP(w, r)
	})}
	go hs.Serve(ln)
	t.Cleanup(func() { qs.Close(); hs.Close() })
	w := launch(t, clock.Real, nil, "query", "watch", "http://"+ln.Addr().String(), "--time", "none")
	w.stderr.waitFor(t, func(out string) bool { return strings.Contains(out, "oscli: listening to 0 addresses on ws://") })
	// The server counts a WebSocket client once its handshake is done,
	// which the client may see first: new addresses until one is fetched.
	deadline := time.Now().Add(10 * time.Second)
	for i := 0; ; i++ {
		qs.Apply(&osc.Message{Address: fmt.Sprintf("/new/%d", i), Args: []osc.Arg{osc.Float32(1)}})
		select {
		case <-fetching:
		case <-time.After(50 * time.Millisecond):
			if time.Now().After(deadline) {
				t.Fatal("no PATH_ADDED fetch within 10s")
			}
			continue
		}
		break
	}
	w.cancel()
	r := w.wait(t)
	if strings.Contains(r.err, "warning") {
		t.Errorf("watch stopped during a fetch warned:\n%s", r.err)
	}
}

// A TREE.json serve cannot answer for as written is refused, one line,
// exit 2: a name in CONTENTS that is empty or holds '/' (its address
// could not be asked for), a FULL_PATH that is not where the node is
// (queries, values and LISTEN would name two addresses for one node).
func TestServeRefusesIncoherentTree(t *testing.T) {
	dir := t.TempDir()
	for _, tt := range []struct{ tree, err string }{
		{`{"FULL_PATH":"/","CONTENTS":{"a/b":{"TYPE":"i"}}}`, `CONTENTS of / holds "a/b": a name holds no '/' (nest a node in another)`},
		{`{"FULL_PATH":"/","CONTENTS":{"x":{"CONTENTS":{"":{"TYPE":"i"}}}}}`, `CONTENTS of /x holds "": an empty name`},
		{`{"FULL_PATH":"/","CONTENTS":{"a":{"FULL_PATH":"/zzz","TYPE":"i"}}}`, `the node at /a has FULL_PATH "/zzz"`},
		{`{"FULL_PATH":"/a//b","TYPE":"i"}`, `FULL_PATH "/a//b" is not an OSC address`},
	} {
		name := dir + "/tree.json"
		if err := os.WriteFile(name, []byte(tt.tree), 0o644); err != nil {
			t.Fatal(err)
		}
		bg := launch(t, clock.Real, nil, "serve", name, "-H", "127.0.0.1", "-p", "0")
		select {
		case r := <-bg.done:
			if want := "oscli: error: " + name + ": " + tt.err + "\n"; r.code != 2 || r.err != want {
				t.Errorf("%s: %d %q, want 2 %q", tt.tree, r.code, r.err, want)
			}
		case <-bg.ready:
			t.Errorf("%s: served", tt.tree)
			bg.cancel()
			<-bg.done
		case <-time.After(10 * time.Second):
			t.Fatalf("%s: neither refused nor serving after 10s", tt.tree)
		}
	}
	// A container's FULL_PATH may end in '/'; a subtree is placed at its
	// FULL_PATH, and a node in it without a FULL_PATH is where CONTENTS
	// puts it (/a/c, not /c).
	name := dir + "/ok.json"
	os.WriteFile(name, []byte(`{"FULL_PATH":"/a/","CONTENTS":{"b":{"FULL_PATH":"/a/b","TYPE":"i"},"c":{"TYPE":"f"}}}`), 0o644)
	srv := start(t, nil, "serve", name, "-H", "127.0.0.1", "-p", "0")
	if r := run(t, "", nil, "query", "http://"+srv.addr, "/a", "--json"); r.code != 0 || !strings.Contains(r.out, `"FULL_PATH":"/a/c"`) || !strings.Contains(r.out, `{"FULL_PATH":"/a",`) {
		t.Errorf("query /a: %s %s", r.out, r.err)
	}
}

// A server's PATH_RENAMED cannot make watch hold more than the 16 MiB of
// addresses a tree may: renaming a container to ever longer names grew
// every address below it each time (2,000 addresses renamed 3 times by
// 60 KB: 376 MB). Addresses past the bound are no longer followed, and
// watch says so. (The bound is 1 MiB here, to keep the test quick.)
func TestQueryWatchRenamesBounded(t *testing.T) {
	defer func(m int) { maxWatchedNames = m }(maxWatchedNames)
	maxWatchedNames = 1 << 20
	const n, step, renames = 20, 5_000, 11 // 20 × 55 KB at the end
	name := func(k int) string { return "/c" + strings.Repeat("x", k*step) }
	var tree strings.Builder
	tree.WriteString(`{"FULL_PATH":"/","CONTENTS":{"c":{"FULL_PATH":"/c","CONTENTS":{`)
	for i := range n {
		if i > 0 {
			tree.WriteString(",")
		}
		fmt.Fprintf(&tree, `"p%d":{"FULL_PATH":"/c/p%d","TYPE":"i","ACCESS":3,"VALUE":[1]}`, i, i)
	}
	tree.WriteString(`}}}}`)
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done, _ := osc.AppendMessage(nil, &osc.Message{Address: "/c/p0", Args: []osc.Arg{osc.Int32(2)}})
	hs := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch {
		case r.URL.RawQuery == "HOST_INFO":
			fmt.Fprint(w, `{"NAME":"renamer","EXTENSIONS":{"LISTEN":true,"VALUE":true,"PATH_RENAMED":true}}`)
		case r.Header.Get("Upgrade") != "":
			c, err := websocket.Accept(w, r, nil)
			if err != nil {
				return
			}
			defer c.CloseNow()
			ctx := r.Context()
			for range n { // every LISTEN taken: renames follow them
				if _, _, err := c.Read(ctx); err != nil {
					return
				}
			}
			for k := 1; k <= renames; k++ {
				msg := fmt.Sprintf(`{"COMMAND":"PATH_RENAMED","DATA":{"OLD":%q,"NEW":%q}}`, name(k-1), name(k))
				if c.Write(ctx, websocket.MessageText, []byte(msg)) != nil {
					return
				}
			}
			c.Write(ctx, websocket.MessageBinary, done)
			c.Read(ctx) // until watch goes
		default:
			fmt.Fprint(w, tree.String())
		}
	})}
	go hs.Serve(ln)
	t.Cleanup(func() { hs.Close() })
	r := run(t, "", nil, "query", "watch", "http://"+ln.Addr().String(), "--time", "none", "-n", "1")
	var watched int
	for _, l := range strings.Split(r.err, "\n") {
		if s, ok := strings.CutPrefix(l, "oscli: stopped by --count 1: 1 change of "); ok {
			fmt.Sscan(s, &watched)
		}
	}
	if r.code != 0 || watched == 0 || watched*renames*step > 1<<20 || !strings.Contains(r.err, "no longer followed") {
		var lines []string
		for _, l := range strings.Split(r.err, "\n") {
			lines = append(lines, fmt.Sprintf("%.200s", l))
		}
		t.Errorf("watch: %d, %d addresses watched\n%s", r.code, watched, strings.Join(lines, "\n"))
	}
}
