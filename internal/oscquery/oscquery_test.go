package oscquery

import (
	"bufio"
	"context"
	"crypto/sha1"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/oscli/oscli/internal/osc"
)

// The proposal's examples (examples/oscquery-proposal.json mirrors them,
// node by node) read as the proposal means them.
func TestParseProposalExamples(t *testing.T) {
	data, err := os.ReadFile("../../examples/oscquery-proposal.json")
	if err != nil {
		t.Fatal(err)
	}
	root, err := ParseNode(data, "/", Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if root.Count() != 10 || root.Find("/baz/qux") == nil || root.Find("/nope") != nil {
		t.Fatalf("%d nodes", root.Count())
	}
	tests := []struct {
		path, value, rng, unit, access string
	}{
		{"/foo", "f:0.5", "0.0..100.0", "", "r"},
		{"/bar", "i:4 i:51", "0..50 51..100", "", "rw"},
		{"/baz", "", "", "", "-"},
		{"/baz/qux", "s:half-full", "empty|half-full|full", "", "rw"},
		{"/nested", "i:100 [ f:1 f:1 ] i:100", "0..100 0.0..1.0 0.0..1.0 0..100", "distance.mm distance.miles distance.miles distance.mm", "rw"},
		{"/color", "r:fa6432ff", "", "", "rw"},
		{"/asdf", "", "", "distance.m - distance", "w"},
	}
	for _, tt := range tests {
		r := Describe(root.Find(tt.path), 0)
		if r.Value != tt.value || r.Range != tt.rng || r.Unit != tt.unit || r.Access != tt.access {
			t.Errorf("%s: value %q range %q unit %q access %q", tt.path, r.Value, r.Range, r.Unit, r.Access)
		}
	}
	if c := root.Find("/color"); len(c.Overloads) != 2 || c.Overloads[1].Type != "iiii" {
		t.Errorf("/color overloads %+v", c.Overloads)
	}
	// Written back, the tree reads the same.
	again, err := ParseNode(MarshalNode(root, -1), "/", Limits{})
	if err != nil || string(MarshalNode(again, -1)) != string(MarshalNode(root, -1)) {
		t.Errorf("round trip: %v", err)
	}
}

func TestParseNodeRefuses(t *testing.T) {
	tests := []struct {
		name, doc string
		lim       Limits
		want      error
		why       string
	}{
		{"html", "<html></html>", Limits{}, ErrNotJSON, "invalid character '<'"},
		{"empty", "", Limits{}, ErrNotJSON, "empty document"},
		{"cut", `{"FULL_PATH":"/"`, Limits{}, ErrNotJSON, "ends early"},
		{"trailing", `{"FULL_PATH":"/"} x`, Limits{}, ErrNotJSON, "text after"},
		{"array", `[1]`, Limits{}, ErrNotNode, "an array"},
		{"host info", `{"NAME":"x","EXTENSIONS":{}}`, Limits{}, ErrNotNode, "answered HOST_INFO"},
		{"nothing", `{"A":1}`, Limits{}, ErrNotNode, "no FULL_PATH"},
		{"bad contents", `{"FULL_PATH":"/","CONTENTS":[1]}`, Limits{}, ErrNotNode, "not an object"},
		{"bad child", `{"FULL_PATH":"/","CONTENTS":{"a":1}}`, Limits{}, ErrNotNode, `"a" in CONTENTS`},
		{"big", `{"FULL_PATH":"/"}`, Limits{MaxBody: 4}, ErrTooBig, "more than 4"},
		{"many", `{"FULL_PATH":"/","CONTENTS":{"a":{},"b":{},"c":{}}}`, Limits{MaxNodes: 3}, ErrTooBig, "more nodes"},
		{"deep", `{"FULL_PATH":"/","CONTENTS":{"a":{"CONTENTS":{"b":{"CONTENTS":{"c":{}}}}}}}`, Limits{MaxDepth: 2}, ErrTooBig, "nested"},
		{"deep JSON", `{"FULL_PATH":"/","X":` + strings.Repeat("[", 300) + strings.Repeat("]", 300) + `}`, Limits{MaxDepth: 2}, ErrTooBig, "JSON nested 301 deep"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseNode([]byte(tt.doc), "/", tt.lim)
			if !errors.Is(err, tt.want) || !strings.Contains(err.Error(), tt.why) {
				t.Errorf("got %v, want %v (%s)", err, tt.want, tt.why)
			}
		})
	}
}

func TestArgFromJSON(t *testing.T) {
	tests := []struct {
		tag  osc.Tag
		json string
		want string // the argument's text; "" for no value
		err  bool
	}{
		{'i', `42`, "i:42", false},
		{'i', `4.0`, "i:4", false},
		{'i', `4.5`, "", true},
		{'i', `3000000000`, "", true},
		{'i', `true`, "i:1", false},
		{'h', `9007199254740993`, "h:9007199254740993", false}, // exact: not through float64
		{'f', `0.1`, "f:0.1", false},
		{'d', `0.1`, "d:0.1", false},
		{'f', `"x"`, "", true},
		{'s', `"half-full"`, "s:half-full", false},
		{'s', `"a\u0000b"`, "", true},
		{'S', `"sym"`, "S:sym", false},
		{'c', `"x"`, "c:x", false},
		{'c', `"xy"`, "", true},
		{'r', `"#FA6432FF"`, "r:fa6432ff", false},
		{'r', `"#ff0000"`, "r:ff0000ff", false},
		{'r', `"red"`, "", true},
		{'T', `false`, "F", false}, // T and F follow the value
		{'F', `true`, "T", false},
		{'T', `1`, "T", false},
		{'N', `null`, "N", false},
		{'I', `null`, "I", false},
		{'b', `null`, "", false},
		{'m', `null`, "", false},
		{'m', `[0,144,60,127]`, "m:00903c7f", false},
		{'t', `1`, "t:0x0000000000000001", false},
		{'f', `null`, "", false},
	}
	for _, tt := range tests {
		v, err := decodeJSON([]byte(tt.json))
		if err != nil {
			t.Fatal(err)
		}
		a, ok, err := ArgFromJSON(tt.tag, v)
		got := ""
		if ok {
			got = a.String()
		}
		if got != tt.want || (err != nil) != tt.err {
			t.Errorf("%c %s: got %q, %v; want %q (error %v)", tt.tag, tt.json, got, err, tt.want, tt.err)
		}
		if ok && err == nil && a.Tag != osc.TagNil && a.Tag != osc.TagImpulse && a.Tag != osc.TagTrue && a.Tag != osc.TagFalse && a.Tag != osc.TagMIDI {
			back := ArgJSON(a)
			b, _ := json.Marshal(back)
			if a2, _, _ := ArgFromJSON(tt.tag, back); !a2.Equal(a) {
				t.Errorf("%c %s: back as %s reads %v", tt.tag, tt.json, b, a2)
			}
		}
	}
}

func TestCheck(t *testing.T) {
	data, _ := os.ReadFile("../../examples/oscquery-proposal.json")
	root, err := ParseNode(data, "/", Limits{})
	if err != nil {
		t.Fatal(err)
	}
	ok := func(args ...osc.Arg) []osc.Arg { return args }
	tests := []struct {
		path string
		args []osc.Arg
		err  string // "" for none
		sig  string // the signature that matched
	}{
		{"/bar", ok(osc.Int32(0), osc.Int32(100)), "", "ii"},
		{"/bar", ok(osc.Int32(51), osc.Int32(51)), "/bar: value 1: i:51 is above MAX 50", ""},
		{"/bar", ok(osc.Int32(-1), osc.Int32(51)), "/bar: value 1: i:-1 is below MIN 0", ""},
		{"/bar", ok(osc.Int32(1)), "/bar: takes 2 values (TYPE ii), got 1 value (i)", ""},
		{"/bar", ok(osc.Float32(1), osc.Int32(60)), "/bar: value 1: f:1 is f (float32), but TYPE ii wants i (int32) here", ""},
		{"/foo", ok(osc.Float32(1)), "/foo is read-only (ACCESS 1)", ""},
		{"/baz", ok(osc.Int32(1)), "/baz takes no value (ACCESS 0)", ""},
		{"/baz/qux", ok(osc.String("full")), "", "s"},
		{"/baz/qux", ok(osc.String("Full")), `/baz/qux: value 1: s:Full is not one of VALS "empty", "half-full", "full"`, ""},
		{"/nested", ok(osc.Int32(1), osc.ArrayBegin(), osc.Float32(0), osc.Float32(1), osc.ArrayEnd(), osc.Int32(2)), "", "i[ff]i"},
		{"/nested", ok(osc.Int32(1), osc.Float32(0), osc.Float32(1), osc.Int32(2)), "/nested: takes 4 values (TYPE i[ff]i), got 4 values (iffi)", ""},
		{"/nested", ok(osc.Int32(1), osc.ArrayBegin(), osc.Float32(0), osc.Float32(2), osc.ArrayEnd(), osc.Int32(2)), "/nested: value 3: f:2 is above MAX 1.0", ""},
		{"/color", ok(osc.RGBA(0xff0000ff)), "", "r"},
		{"/color", ok(osc.Float32(1), osc.Float32(0), osc.Float32(0), osc.Float32(1)), "", "ffff"},
		{"/color", ok(osc.Int32(255), osc.Int32(0), osc.Int32(0), osc.Int32(256)), "/color: takes 1 value (TYPE r), got 4 values (iiii)", ""},
		{"/go", ok(osc.Impulse()), "", "I"},
		// NaN is within no range; int64s are compared as integers, not
		// as float64s that round them.
		{"/distance", ok(osc.Float32(float32(math.NaN())), osc.Float32(1)), "/distance: value 1: f:NaN is not a number, outside RANGE 0.0..10.0", ""},
		{"/distance", ok(osc.Float32(1), osc.Float32(float32(math.Inf(1)))), "/distance: value 2: f:Inf is above MAX 987.0", ""},
		{"/h", ok(osc.Int64(math.MaxInt64)), "/h: value 1: h:9223372036854775807 is above MAX 9223372036854775806", ""},
		{"/h", ok(osc.Int64(math.MaxInt64 - 1)), "", "h"},
		{"/h", ok(osc.Int64(-math.MaxInt64)), "/h: value 1: h:-9223372036854775807 is below MIN -9223372036854775806", ""},
	}
	root.Contents["h"] = &Node{FullPath: "/h", Type: "h", Access: AccessReadWrite,
		Range: []any{map[string]any{"MIN": json.Number("-9223372036854775806"), "MAX": json.Number("9223372036854775806")}}}
	for _, tt := range tests {
		sig, err := root.Find(tt.path).Check(tt.args)
		got := ""
		if err != nil {
			got = err.Error()
		}
		if got != tt.err || (err == nil && sig.Type != tt.sig) {
			t.Errorf("%s %v: %q, want %q", tt.path, tt.args, got, tt.err)
		}
	}
	// T and F are one type.
	b := &Node{FullPath: "/b", Type: "T", Access: AccessReadWrite}
	if _, err := b.Check([]osc.Arg{osc.Bool(false)}); err != nil {
		t.Errorf("F to a T node: %v", err)
	}
	var ae *AccessError
	if _, err := root.Find("/foo").Check(nil); !errors.As(err, &ae) || !errors.Is(err, ErrReadOnly) {
		t.Errorf("read-only: %v", err)
	}
}

func testServer(t *testing.T, learn bool) *Server {
	t.Helper()
	data, _ := os.ReadFile("../../examples/oscquery-proposal.json")
	root, err := ParseNode(data, "/", Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if learn {
		root = nil
	}
	return NewServer(root, ServerConfig{Info: HostInfo{Name: "test", OSCPort: 9000, OSCTransport: "UDP"}, Learn: learn})
}

// The server answers as the proposal has it: nodes, attributes ({} when
// absent), HOST_INFO whatever the path, 404, 204 and 400.
func TestServerHTTP(t *testing.T) {
	s := testServer(t, false)
	tests := []struct {
		method, target string
		code           int
		body           string
	}{
		{"GET", "/foo?VALUE", 200, `{"VALUE":[0.5]}`},
		{"GET", "/baz/qux?RANGE", 200, `{"RANGE":[{"VALS":["empty","half-full","full"]}]}`},
		{"GET", "/baz?TYPE", 200, `{}`},
		{"GET", "/foo?ACCESS", 200, `{"ACCESS":1}`},
		{"GET", "/baz?CONTENTS", 200, `{"CONTENTS":{"qux":{"FULL_PATH":"/baz/qux","DESCRIPTION":"one of three strings (the first GET example, /baz/qux)","TYPE":"s","ACCESS":3,"VALUE":["half-full"],"RANGE":[{"VALS":["empty","half-full","full"]}]}}}`},
		{"GET", "/baz", 200, `{"FULL_PATH":"/baz","DESCRIPTION":"a container with one method (the first GET example, /baz)","ACCESS":0,"CONTENTS":{"qux":{"FULL_PATH":"/baz/qux","DESCRIPTION":"one of three strings (the first GET example, /baz/qux)","TYPE":"s","ACCESS":3,"VALUE":["half-full"],"RANGE":[{"VALS":["empty","half-full","full"]}]}}}`},
		{"GET", "/nope?HOST_INFO", 200, `{"NAME":"test","EXTENSIONS":{"ACCESS":true,"CLIPMODE":true,"CRITICAL":true,"DESCRIPTION":true,"EXTENDED_TYPE":true,"HTML":false,"LISTEN":true,"OVERLOADS":true,"PATH_ADDED":false,"PATH_CHANGED":false,"PATH_REMOVED":false,"PATH_RENAMED":false,"RANGE":true,"TAGS":true,"UNIT":true,"VALUE":true},"OSC_PORT":9000,"OSC_TRANSPORT":"UDP"}`},
		{"GET", "/nope", 404, ""},
		{"GET", "/asdf?VALUE", 204, ""},
		{"GET", "/foo?BOGUS", 400, ""},
		{"POST", "/foo", 405, ""},
	}
	for _, tt := range tests {
		w := httptest.NewRecorder()
		s.ServeHTTP(w, httptest.NewRequest(tt.method, tt.target, nil))
		if w.Code != tt.code || tt.body != "" && w.Body.String() != tt.body {
			t.Errorf("%s %s: %d %s", tt.method, tt.target, w.Code, w.Body)
		}
		if tt.code == 200 && w.Header().Get("Content-Type") != "application/json" {
			t.Errorf("%s: Content-Type %q", tt.target, w.Header().Get("Content-Type"))
		}
	}
}

func TestServerApply(t *testing.T) {
	s := testServer(t, false)
	value := func(path string) string {
		return ValueText(s.Root().Find(path))
	}
	tests := []struct {
		msg  *osc.Message
		took int
		err  string
	}{
		{&osc.Message{Address: "/bar", Args: []osc.Arg{osc.Int32(1), osc.Int32(2)}}, 1, ""},
		{&osc.Message{Address: "/foo", Args: []osc.Arg{osc.Float32(1)}}, 0, "/foo is read-only (ACCESS 1)"},
		{&osc.Message{Address: "/bar", Args: []osc.Arg{osc.Float32(1)}}, 0, "/bar: TYPE ii, got 1 value (f); value unchanged"},
		{&osc.Message{Address: "/nope", Args: nil}, 0, "/nope: no such address"},
		{&osc.Message{Address: "/*/q?x", Args: []osc.Arg{osc.String("x")}}, 1, ""},
		{&osc.Message{Address: "/{distance,bar}", Args: []osc.Arg{osc.Float32(1)}}, 0, "/bar: TYPE ii, got 1 value (f); value unchanged"},
		{&osc.Message{Address: "/[!b]*/qux", Args: []osc.Arg{osc.String("full")}}, 0, "/[!b]*/qux: no such address"},
		{&osc.Message{Address: "/color", Args: []osc.Arg{osc.Float32(1), osc.Float32(0), osc.Float32(0), osc.Float32(1)}}, 1, ""},
	}
	for _, tt := range tests {
		took, err := s.Apply(tt.msg)
		got := ""
		if err != nil {
			got = err.Error()
		}
		if took != tt.took || got != tt.err {
			t.Errorf("%s: took %d, %q", tt.msg, took, got)
		}
	}
	if v := value("/bar"); v != "i:1 i:2" {
		t.Errorf("/bar is %s", v)
	}
	if v := value("/baz/qux"); v != "s:x" {
		t.Errorf("/baz/qux is %s", v)
	}
	if v := value("/foo"); v != "f:0.5" {
		t.Errorf("/foo is %s", v)
	}
	if v := value("/color"); v != "r:fa6432ff" {
		t.Errorf("/color is %s (an overload's message sets the overload's VALUE)", v)
	}
}

// --learn builds the tree: containers on the way, TYPE, the range of the
// numbers seen, another type as an overload.
func TestServerLearn(t *testing.T) {
	s := testServer(t, true)
	for _, m := range []*osc.Message{
		{Address: "/synth/1/freq", Args: []osc.Arg{osc.Float32(440)}},
		{Address: "/synth/1/freq", Args: []osc.Arg{osc.Float32(220)}},
		{Address: "/synth/1/freq", Args: []osc.Arg{osc.Float32(330)}},
		{Address: "/synth/1/on", Args: []osc.Arg{osc.Bool(true)}},
		{Address: "/synth/1/on", Args: []osc.Arg{osc.Bool(false)}},
		{Address: "/synth/1/freq", Args: []osc.Arg{osc.String("A4")}},
	} {
		if _, err := s.Apply(m); err != nil {
			t.Fatalf("%s: %v", m, err)
		}
	}
	for _, bad := range []string{"/a//b", "/a/", "/*"} {
		if _, err := s.Apply(&osc.Message{Address: bad}); err == nil {
			t.Errorf("%s learned", bad)
		}
	}
	root := s.Root()
	f := root.Find("/synth/1/freq")
	if r := Describe(f, 0); r.Value != "f:330" || r.Range != "220..440" || r.Access != "rw" || len(f.Overloads) != 1 || f.Overloads[0].Type != "s" {
		t.Errorf("/synth/1/freq: %+v, overloads %+v", r, f.Overloads)
	}
	if r := Describe(root.Find("/synth/1/on"), 0); r.Value != "F" || r.Types != "T" {
		t.Errorf("/synth/1/on: %+v", r)
	}
	if r := Describe(root.Find("/synth"), 0); r.Access != "-" || r.Types != "" {
		t.Errorf("/synth: %+v", r)
	}
	if root.Count() != 5 {
		t.Errorf("%d nodes", root.Count())
	}
	// A container learned on the way that turns out to take values (as
	// /1/fader1 and /1/fader1/z do) takes them.
	if _, err := s.Apply(&osc.Message{Address: "/synth/1", Args: []osc.Arg{osc.Int32(2)}}); err != nil {
		t.Errorf("/synth/1 i:2: %v", err)
	}
	if r := Describe(s.Root().Find("/synth/1"), 0); r.Value != "i:2" || r.Types != "i" || r.Access != "rw" {
		t.Errorf("/synth/1: %+v", r)
	}
	// Bounded: no more than MaxNodes.
	small := NewServer(nil, ServerConfig{Learn: true, Limits: Limits{MaxNodes: 3}})
	for _, a := range []string{"/a", "/b", "/c", "/d"} {
		small.Apply(&osc.Message{Address: a})
	}
	if n := small.Root().Count(); n != 3 {
		t.Errorf("learned %d nodes with MaxNodes 3", n)
	}
}

// A client copes with a server that answers the whole node to ?VALUE
// (VRChat), one that refuses it (204), and the proposal's answer.
func TestClientAttr(t *testing.T) {
	node := `{"FULL_PATH":"/x","TYPE":"f","VALUE":[0.25]}`
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/whole":
			w.Write([]byte(node))
		case r.URL.Path == "/refuse" && r.URL.RawQuery != "":
			w.WriteHeader(http.StatusNoContent)
		case r.URL.Path == "/refuse":
			w.Write([]byte(node))
		case r.URL.Path == "/proposal":
			w.Write([]byte(`{"VALUE":[0.75]}`))
		case r.URL.Path == "/empty":
			w.Write([]byte(`{}`))
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	c := &Client{}
	c.Base, _ = parseTestURL(srv.URL)
	tests := []struct {
		path    string
		value   string
		present bool
		node    bool
	}{
		{"/whole", "[0.25]", true, true},
		{"/refuse", "[0.25]", true, true},
		{"/proposal", "[0.75]", true, false},
		{"/empty", "null", false, false},
	}
	for _, tt := range tests {
		v, present, n, _, err := c.Attr(t.Context(), tt.path, "VALUE")
		if err != nil || compactJSON(v) != tt.value || present != tt.present || (n != nil) != tt.node {
			t.Errorf("%s: %s %v node %v: %v", tt.path, compactJSON(v), present, n != nil, err)
		}
	}
	if _, _, _, _, err := c.Attr(t.Context(), "/missing", "VALUE"); !NotFound(err) {
		t.Errorf("missing: %v", err)
	}
}

// FuzzParseNode: whatever a server sends, parsing does not panic, and a
// tree that parses writes back to JSON that parses to the same tree.
func FuzzParseNode(f *testing.F) {
	data, _ := os.ReadFile("../../examples/oscquery-proposal.json")
	f.Add(data)
	f.Add([]byte(`{"FULL_PATH":"/","CONTENTS":{"a":{"TYPE":"i[f]","VALUE":[1,[2]],"RANGE":{"MIN":0}}}}`))
	f.Add([]byte(`{"TYPE":"T","VALUE":true,"OVERLOADS":[{"TYPE":"i"}]}`))
	f.Fuzz(func(t *testing.T, doc []byte) {
		n, err := ParseNode(doc, "/", Limits{MaxBody: 1 << 16, MaxNodes: 1000, MaxDepth: 16})
		if err != nil {
			return
		}
		n.Walk(func(m *Node, _ int) bool {
			Describe(m, 0)
			return true
		})
		out := MarshalNode(n, -1)
		again, err := ParseNode(out, "/", Limits{MaxBody: 1 << 20, MaxNodes: 1000, MaxDepth: 16})
		if err != nil {
			t.Fatalf("written back, %s does not parse: %v", out, err)
		}
		if string(MarshalNode(again, -1)) != string(out) {
			t.Fatalf("round trip differs:\n%s\n%s", out, MarshalNode(again, -1))
		}
	})
}

func parseTestURL(s string) (*url.URL, error) { return url.Parse(s) }

// BenchmarkServerApply is serve's work per message on its OSC port, after
// decoding: find the address, check it, set VALUE (and learn its range).
func BenchmarkServerApply(b *testing.B) {
	for _, learn := range []bool{false, true} {
		name := "tree"
		if learn {
			name = "learn"
		}
		b.Run(name, func(b *testing.B) {
			data, _ := os.ReadFile("../../examples/oscquery-proposal.json")
			root, _ := ParseNode(data, "/", Limits{})
			s := NewServer(root, ServerConfig{Learn: learn})
			m := &osc.Message{Address: "/bar", Args: []osc.Arg{osc.Int32(1), osc.Int32(52)}}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := s.Apply(m); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// A WebSocket client's LISTENs are kept only for addresses the tree has:
// a client that asked for 100,000 made-up paths of 64 KiB each held
// gigabytes of the server's memory.
func TestServerListenOnlyKnownPaths(t *testing.T) {
	s := testServer(t, false)
	hs := httptest.NewServer(s)
	defer hs.Close()
	defer s.Close()
	base, _ := parseTestURL(hs.URL)
	c := &Client{Base: base}
	ctx := context.Background()
	st, err := c.OpenStream(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for i := range 100 {
		if err := st.Listen(ctx, fmt.Sprintf("/made/up/%d/%s", i, strings.Repeat("x", 1000))); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.Listen(ctx, "/bar/"); err != nil {
		t.Fatal(err)
	}
	// Commands are read in order: once the last is taken, all are.
	listens := func() map[string]bool {
		s.mu.RLock()
		defer s.mu.RUnlock()
		for cl := range s.clients {
			return maps.Clone(cl.listens)
		}
		return nil
	}
	deadline := time.Now().Add(10 * time.Second)
	for !listens()["/bar"] {
		if time.Now().After(deadline) {
			t.Fatalf("LISTEN /bar/ not taken within 10s: %d listens", len(listens()))
		}
		runtime.Gosched()
	}
	if l := listens(); len(l) != 1 {
		t.Errorf("%d listens kept, want 1 (/bar)", len(l))
	}
}

// A server that closes the WebSocket is named with its status as a
// number and its reason, not the library's Go names (StatusCode(4000),
// StatusInternalError).
func TestStreamCloseStatus(t *testing.T) {
	for _, tt := range []struct {
		code   websocket.StatusCode
		reason string
		want   string
	}{
		{4000, "bye", `closed the WebSocket (status 4000: "bye")`},
		{websocket.StatusInternalError, "", `closed the WebSocket (status 1011, internal error)`},
		{websocket.StatusGoingAway, "", `closed the WebSocket (status 1001, going away)`},
	} {
		hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			c, err := websocket.Accept(w, r, nil)
			if err != nil {
				return
			}
			c.Close(tt.code, tt.reason)
		}))
		base, _ := parseTestURL(hs.URL)
		st, err := (&Client{Base: base}).OpenStream(context.Background(), nil)
		if err != nil {
			t.Fatal(err)
		}
		_, err = st.Next(context.Background())
		if err == nil || !strings.HasSuffix(err.Error(), tt.want) {
			t.Errorf("%d: %v, want …%s", tt.code, err, tt.want)
		}
		st.Close()
		hs.Close()
	}
}

// A server that closes the connection inside a message is an error, not
// a message: the WebSocket library ends the message with io.EOF, as if
// it were whole, when the connection ends where its payload was due.
func TestStreamCutMessage(t *testing.T) {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		req, err := http.ReadRequest(bufio.NewReader(c))
		if err != nil {
			return
		}
		sum := sha1.Sum([]byte(req.Header.Get("Sec-WebSocket-Key") + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
		fmt.Fprintf(c, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n",
			base64.StdEncoding.EncodeToString(sum[:]))
		c.Write([]byte{0x82, 12}) // a binary message of 12 bytes, none of them sent
	}()
	base, _ := parseTestURL("http://" + ln.Addr().String())
	st, err := (&Client{Base: base}).OpenStream(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	m, err := st.Next(context.Background())
	if err == nil || !strings.HasSuffix(err.Error(), "closed the connection inside a message (0 bytes received)") {
		t.Errorf("Next: %+v, %v", m, err)
	}
}
