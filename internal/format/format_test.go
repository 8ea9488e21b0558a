package format_test

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/oscli/oscli/internal/argparse"
	"github.com/oscli/oscli/internal/format"
	"github.com/oscli/oscli/internal/osc"
	"github.com/oscli/oscli/internal/testvec"
)

var update = flag.Bool("update", false, "rewrite testdata/format goldens")

var arrival = time.Date(2026, 11, 21, 11, 33, 18, 250_000_000, time.UTC)

func events(t *testing.T) []format.Event {
	var evs []format.Event
	for _, v := range testvec.Load(t) {
		p, err := osc.Decode(v.Data)
		evs = append(evs, format.Event{Time: arrival, From: "127.0.0.1:54321", Proto: "udp", Raw: v.Data, Packet: p, Err: err})
	}
	return evs
}

func render(t *testing.T, r format.Renderer, evs []format.Event) string {
	t.Helper()
	for i := range evs {
		if err := r.Render(&evs[i]); err != nil {
			t.Fatal(err)
		}
	}
	return ""
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join(testvec.Dir(), "..", "format", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test -update creates it)", err)
	}
	if got != string(want) {
		gl, wl := strings.Split(got, "\n"), strings.Split(string(want), "\n")
		for i := range min(len(gl), len(wl)) {
			if gl[i] != wl[i] {
				t.Fatalf("%s line %d:\n got %q\nwant %q", name, i+1, gl[i], wl[i])
			}
		}
		t.Fatalf("%s: %d lines, want %d", name, len(gl), len(wl))
	}
}

// Golden outputs of every renderer over every vector: each line of these
// files is what a user sees.
func TestGoldens(t *testing.T) {
	tests := []struct {
		name string
		r    func(w *bytes.Buffer) format.Renderer
	}{
		{"text.golden", func(w *bytes.Buffer) format.Renderer {
			return format.NewText(w, format.Options{Time: format.TimeUTC})
		}},
		{"text-hex.golden", func(w *bytes.Buffer) format.Renderer {
			return format.NewText(w, format.Options{Time: format.TimeNone, Hex: true})
		}},
		{"json.golden", func(w *bytes.Buffer) format.Renderer { return format.NewJSON(w) }},
		{"hex.golden", func(w *bytes.Buffer) format.Renderer { return format.NewHex(w) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			render(t, tt.r(&out), events(t))
			golden(t, tt.name, out.String())
		})
	}
}

func TestTimeColumns(t *testing.T) {
	m := &osc.Message{Address: "/a"}
	tests := []struct {
		mode format.TimeMode
		want []string
	}{
		{format.TimeLocal, []string{"12:33:18.250000 h:1  /a", "12:33:19.250001 h:1  /a"}},
		{format.TimeUTC, []string{"2026-11-21T11:33:18.250000Z h:1  /a", "2026-11-21T11:33:19.250001Z h:1  /a"}},
		{format.TimeUnix, []string{"1795260798.250000 h:1  /a", "1795260799.250001 h:1  /a"}},
		{format.TimeRel, []string{"+0.000000 h:1  /a", "+1.000001 h:1  /a"}},
		{format.TimeNone, []string{"h:1  /a", "h:1  /a"}},
	}
	for _, tt := range tests {
		t.Run(string(tt.mode), func(t *testing.T) {
			var out bytes.Buffer
			r := format.NewText(&out, format.Options{Time: tt.mode, Location: time.FixedZone("CET", 3600)})
			render(t, r, []format.Event{
				{Time: arrival, From: "h:1", Packet: m},
				{Time: arrival.Add(time.Second + time.Microsecond), From: "h:1", Packet: m},
			})
			if got := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n"); strings.Join(got, "|") != strings.Join(tt.want, "|") {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

// The sender column is aligned per run: as wide as the widest sender seen
// so far, so it stays narrow for one sender and lines up from the moment
// a wider one (192.168.1.23:9000 after 127.0.0.1:9000) has been seen.
func TestSourceColumnAligns(t *testing.T) {
	var out bytes.Buffer
	r := format.NewText(&out, format.Options{Time: format.TimeNone})
	m := &osc.Message{Address: "/a"}
	render(t, r, []format.Event{{From: "[::1]:9000", Packet: m}, {From: "1.2.3.4:5", Packet: m}})
	if got := out.String(); got != "[::1]:9000  /a\n1.2.3.4:5   /a\n" {
		t.Errorf("got %q", got)
	}
	out.Reset()
	r = format.NewText(&out, format.Options{Time: format.TimeNone})
	render(t, r, []format.Event{{From: "127.0.0.1:9000", Packet: m}, {From: "192.168.1.23:9000", Packet: m},
		{From: "127.0.0.1:9000", Packet: m}, {From: "255.255.255.255:65535", Packet: m}, {From: "10.0.0.1:1", Packet: m}})
	want := "127.0.0.1:9000  /a\n" +
		"192.168.1.23:9000  /a\n" +
		"127.0.0.1:9000     /a\n" +
		"255.255.255.255:65535  /a\n" +
		"10.0.0.1:1             /a\n"
	if got := out.String(); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

// A reply through a tap shows "TARGET→SENDER" in the sender column (text)
// and "dir" and "to" (JSON); a forwarded packet shows its sender as dump
// does, and "dir":"forward". The text line still reads back as its
// message.
func TestTapDirections(t *testing.T) {
	m := &osc.Message{Address: "/a", Args: []osc.Arg{osc.Int32(1)}}
	raw, _ := osc.AppendMessage(nil, m)
	evs := []format.Event{
		{From: "127.0.0.1:54321", Proto: "udp", Packet: m, Raw: raw, Dir: format.DirForward},
		{From: "127.0.0.1:9001", Proto: "udp", Packet: m, Raw: raw, Dir: format.DirReply, To: "127.0.0.1:54321"},
		{From: "127.0.0.1:54321", Proto: "udp", Packet: m, Raw: raw, Dir: format.DirForward},
		{From: "unix:/tmp/my sock", Proto: "unix", Packet: m, Raw: raw, Dir: format.DirReply, To: "[::1]:5"},
	}
	var text bytes.Buffer
	render(t, format.NewText(&text, format.Options{Time: format.TimeNone}), evs)
	want := "127.0.0.1:54321  /a i:1\n" +
		"127.0.0.1:9001→127.0.0.1:54321  /a i:1\n" +
		"127.0.0.1:54321                 /a i:1\n" +
		"\"unix:/tmp/my sock\"→[::1]:5     /a i:1\n"
	if got := text.String(); got != want {
		t.Errorf("text:\n%s\nwant\n%s", got, want)
	}
	p := &argparse.Parser{}
	for _, line := range strings.Split(strings.TrimSuffix(text.String(), "\n"), "\n") {
		got, err := format.ParseTextLine([]byte(line), p)
		if err != nil || got == nil || got.(*osc.Message).String() != "/a i:1" {
			t.Errorf("%q reads back as %v, %v", line, got, err)
		}
	}
	var js bytes.Buffer
	render(t, format.NewJSON(&js), evs[:2])
	lines := strings.Split(js.String(), "\n")
	if !strings.Contains(lines[0], `"from":"127.0.0.1:54321","proto":"udp","dir":"forward","size":12,`) ||
		!strings.Contains(lines[1], `"from":"127.0.0.1:9001","proto":"udp","dir":"reply","to":"127.0.0.1:54321","size":12,`) {
		t.Errorf("json:\n%s", js.String())
	}
	for _, line := range lines[:2] {
		if jl, err := format.ParseJSONLine([]byte(line), arrival); err != nil || !bytes.Equal(jl.Raw, raw) {
			t.Errorf("%s reads back as %v, %v", line, jl, err)
		}
	}
}

func TestBundleOffsets(t *testing.T) {
	tests := []struct {
		due  time.Duration
		want string
	}{
		{9998 * time.Millisecond, "in +9.998s"},
		{-2 * time.Millisecond, "late 2ms"},
		{1500 * time.Microsecond, "in +1.5ms"},
	}
	for _, tt := range tests {
		var out bytes.Buffer
		r := format.NewText(&out, format.Options{Time: format.TimeNone})
		b := &osc.Bundle{Timetag: osc.FromTime(arrival.Add(tt.due))}
		render(t, r, []format.Event{{Time: arrival, From: "x", Packet: b}})
		if !strings.Contains(out.String(), " "+tt.want+" [0x") {
			t.Errorf("due %v: %q lacks %q", tt.due, out.String(), tt.want)
		}
	}
}

// Nothing from the network reaches the output as a raw control character,
// bidi control or invisible character: not in strings, addresses, sources
// or error messages, in any format.
func TestNoControlCharacters(t *testing.T) {
	evil := "\x1b]0;pwned\x07\x1b[2J\r\x9b31m\u009b\u202e\u2066\u200b\ufeff\u00ad"
	m := &osc.Message{Address: "/" + evil, Args: []osc.Arg{osc.String(evil), osc.Symbol(evil), osc.Char(0x1b), osc.Char(0x202e)}}
	raw, err := osc.AppendMessage(nil, m)
	if err != nil {
		t.Fatal(err)
	}
	evs := []format.Event{
		{From: "127.0.0.1:1", Packet: m, Raw: raw},
		{From: "unix:/tmp/" + evil, Raw: []byte(evil), Err: errors.New("bad " + evil)},
		{From: "[fe80::1%" + evil + "]:9000", Packet: &osc.Bundle{Elements: []osc.Packet{m}}, Raw: raw},
	}
	for name, r := range map[string]func(*bytes.Buffer) format.Renderer{
		"text": func(w *bytes.Buffer) format.Renderer { return format.NewText(w, format.Options{Hex: true}) },
		"json": func(w *bytes.Buffer) format.Renderer { return format.NewJSON(w) },
		"hex":  func(w *bytes.Buffer) format.Renderer { return format.NewHex(w) },
	} {
		var out bytes.Buffer
		render(t, r(&out), evs)
		for _, line := range strings.Split(out.String(), "\n") {
			assertSafe(t, name, line)
		}
	}
}

func TestColor(t *testing.T) {
	m := &osc.Message{Address: "/a", Args: []osc.Arg{osc.Int32(1)}}
	var plain, colored bytes.Buffer
	render(t, format.NewText(&plain, format.Options{Time: format.TimeNone}), []format.Event{{From: "x:1", Packet: m}})
	render(t, format.NewText(&colored, format.Options{Time: format.TimeNone, Color: true}), []format.Event{{From: "x:1", Packet: m}})
	if strings.Contains(plain.String(), "\x1b[") {
		t.Errorf("colour without Color: %q", plain.String())
	}
	if !strings.Contains(colored.String(), "\x1b[") {
		t.Errorf("no colour with Color: %q", colored.String())
	}
	stripped := stripSGR(colored.String())
	if stripped != plain.String() {
		t.Errorf("coloured text differs from plain beyond colour:\n%q\n%q", stripped, plain.String())
	}
}

func stripSGR(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == 0x1b {
			for i < len(s) && s[i] != 'm' {
				i++
			}
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func TestRenderAllocs(t *testing.T) {
	if testing.Short() {
		t.Skip("alloc counts are checked in full runs")
	}
	m := &osc.Message{Address: "/1/fader", Args: []osc.Arg{osc.Float32(0.5)}}
	raw, _ := osc.AppendMessage(nil, m)
	ev := format.Event{Time: arrival, From: "127.0.0.1:54321", Proto: "udp", Raw: raw, Packet: m}
	for name, r := range map[string]format.Renderer{
		"text": format.NewText(discard{}, format.Options{Time: format.TimeLocal}),
		"json": format.NewJSON(discard{}),
	} {
		_ = r.Render(&ev)
		if n := testing.AllocsPerRun(100, func() { _ = r.Render(&ev) }); n != 0 {
			t.Errorf("%s: %v allocs per packet, want 0", name, n)
		}
		// tap: forwarded packets and replies in turn.
		fwd, reply := ev, ev
		fwd.Dir = format.DirForward
		reply.Dir, reply.From, reply.To = format.DirReply, "127.0.0.1:9001", ev.From
		_, _ = r.Render(&fwd), r.Render(&reply)
		if n := testing.AllocsPerRun(100, func() { _, _ = r.Render(&fwd), r.Render(&reply) }); n != 0 {
			t.Errorf("%s: %v allocs per forwarded packet and reply, want 0", name, n)
		}
	}
}

// The renderer keeps formatted times and sources from packet to packet;
// its lines stay those of the stateless AppendJSON when they change.
func TestJSONRendererMatchesAppendJSON(t *testing.T) {
	m := &osc.Message{Address: "/a", Args: []osc.Arg{osc.Int32(1)}}
	bundle := func(at time.Time) *osc.Bundle {
		return &osc.Bundle{Timetag: osc.FromTime(at), Elements: []osc.Packet{m}}
	}
	cet := time.FixedZone("CET", 3600)
	evs := []format.Event{
		{Time: arrival, From: "127.0.0.1:1", Proto: "udp", Packet: m},
		{Time: arrival.Add(time.Millisecond), From: "127.0.0.1:1", Proto: "udp", Packet: bundle(arrival)},
		{Time: arrival.Add(time.Second), From: "127.0.0.1:2", Proto: "udp", Packet: bundle(arrival.Add(time.Second))},
		{Time: arrival.Add(time.Second).In(cet), From: "127.0.0.1:2", Proto: "tcp+slip", Packet: m},
		{Time: arrival.Add(time.Second), From: "127.0.0.1:" + strconv.Itoa(2), Proto: "udp", Packet: m},
		{Time: arrival.Add(-time.Hour), From: "", Proto: "", Packet: bundle(arrival.Add(-time.Nanosecond))},
		{Time: arrival.Add(-time.Hour), From: "unix:/tmp/\x1b\"", Proto: "unix", Err: errors.New("bad")},
		{Time: arrival.Add(-time.Hour), From: "", Proto: "", Packet: m},
	}
	var out bytes.Buffer
	render(t, format.NewJSON(&out), evs)
	lines := strings.SplitAfter(out.String(), "\n")
	for i := range evs {
		if want := string(format.AppendJSON(nil, &evs[i])) + "\n"; lines[i] != want {
			t.Errorf("packet %d:\n got %q\nwant %q", i, lines[i], want)
		}
	}
}

// JSON renders straight into a bufio.Writer's free space when it can: the
// lines are the same whatever the buffer size, one Write per packet, and
// nothing allocates when lines keep crossing the buffer's end.
func TestJSONIntoBufio(t *testing.T) {
	evs := events(t)
	for _, size := range []int{16, 100, 333, 4096, 64 << 10} {
		t.Run(strconv.Itoa(size), func(t *testing.T) {
			var out bytes.Buffer
			w := &countingWriter{Writer: bufio.NewWriterSize(&out, size)}
			render(t, format.NewJSON(w), evs)
			if err := w.Flush(); err != nil {
				t.Fatal(err)
			}
			if w.writes != len(evs) {
				t.Errorf("%d writes for %d packets", w.writes, len(evs))
			}
			golden(t, "json.golden", out.String())
		})
	}
	t.Run("allocs", func(t *testing.T) {
		if testing.Short() {
			t.Skip("alloc counts are checked in full runs")
		}
		m := &osc.Message{Address: "/1/fader", Args: []osc.Arg{osc.Float32(0.5)}}
		raw, _ := osc.AppendMessage(nil, m)
		ev := format.Event{Time: arrival, From: "127.0.0.1:54321", Proto: "udp", Raw: raw, Packet: m}
		r := format.NewJSON(bufio.NewWriterSize(discard{}, 1000))
		for range 10 {
			_ = r.Render(&ev)
		}
		// Per 1000 packets, not per packet: AllocsPerRun rounds down.
		if n := testing.AllocsPerRun(5, func() {
			for range 1000 {
				_ = r.Render(&ev)
			}
		}); n != 0 {
			t.Errorf("%v allocs per 1000 packets, want 0", n)
		}
	})
}

// countingWriter is a bufio.Writer that counts calls to Write.
type countingWriter struct {
	*bufio.Writer
	writes int
}

func (w *countingWriter) Write(p []byte) (int, error) {
	w.writes++
	return w.Writer.Write(p)
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

func BenchmarkRender(b *testing.B) {
	m := &osc.Message{Address: "/1/fader", Args: []osc.Arg{osc.Float32(0.5)}}
	raw, _ := osc.AppendMessage(nil, m)
	ev := format.Event{Time: arrival, From: "127.0.0.1:54321", Proto: "udp", Raw: raw, Packet: m}
	for name, r := range map[string]format.Renderer{
		"text": format.NewText(discard{}, format.Options{Time: format.TimeLocal}),
		"json": format.NewJSON(discard{}),
	} {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_ = r.Render(&ev)
			}
		})
	}
}
