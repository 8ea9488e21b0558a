package pipeline

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/oscli/oscli/internal/clock"
	"github.com/oscli/oscli/internal/filter"
	"github.com/oscli/oscli/internal/format"
	"github.com/oscli/oscli/internal/osc"
	"github.com/oscli/oscli/internal/transport"
)

var t0 = time.Date(2026, 11, 21, 18, 0, 0, 0, time.UTC)

// lockedBuffer is written by the pipeline and read by the test.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

type rig struct {
	p     *Pipeline
	clk   *clock.Fake
	out   *lockedBuffer
	stops int
}

func newRig(t *testing.T, cfg Config) *rig {
	t.Helper()
	r := &rig{clk: clock.NewFake(t0), out: &lockedBuffer{}}
	cfg.Clock, cfg.Out = r.clk, r.out
	if cfg.Render == nil {
		cfg.Render = func(w io.Writer) format.Renderer {
			return format.NewText(w, format.Options{Time: format.TimeRel, Location: time.UTC})
		}
	}
	cfg.Stop = func() { r.stops++ }
	r.p = New(cfg)
	return r
}

var src = transport.NewSource("udp", "127.0.0.1:5000", nil)

func (r *rig) feed(t *testing.T, p osc.Packet, more bool) {
	t.Helper()
	raw, err := osc.AppendPacket(nil, p)
	if err != nil {
		t.Fatal(err)
	}
	r.p.Handle(&transport.Packet{Data: raw, More: more, Source: src})
}

func msg(addr string, args ...osc.Arg) *osc.Message { return &osc.Message{Address: addr, Args: args} }

func bundleAt(d time.Duration, elems ...osc.Packet) *osc.Bundle {
	return &osc.Bundle{Timetag: osc.FromTime(t0.Add(d)), Elements: elems}
}

// --schedule holds future bundles and shows each when due, on the
// injected clock: exact times, earliest first, arrival order for equal
// times; immediate and late bundles show at once.
func TestSchedule(t *testing.T) {
	r := newRig(t, Config{Schedule: true})
	r.feed(t, bundleAt(3*time.Second, msg("/c")), false)
	r.feed(t, bundleAt(time.Second, msg("/a")), false)
	r.feed(t, bundleAt(3*time.Second, msg("/d")), false)
	r.feed(t, msg("/now"), false)
	r.feed(t, bundleAt(-time.Second, msg("/late")), false)
	r.feed(t, &osc.Bundle{Timetag: osc.Immediately, Elements: []osc.Packet{msg("/imm")}}, false)
	if got := addresses(r.out.String()); got != "/now /late /imm" {
		t.Fatalf("shown on arrival: %s", got)
	}
	r.clk.Advance(999 * time.Millisecond)
	if got := addresses(r.out.String()); got != "/now /late /imm" {
		t.Fatalf("shown before 1s: %s", got)
	}
	r.clk.Advance(time.Millisecond)
	if got := addresses(r.out.String()); got != "/now /late /imm /a" {
		t.Fatalf("at 1s: %s", got)
	}
	if !strings.Contains(r.out.String(), "+1.000000") || !strings.Contains(r.out.String(), "in +1s") {
		t.Errorf("the held bundle should print at +1s with its lead on arrival:\n%s", r.out.String())
	}
	r.feed(t, bundleAt(time.Hour, msg("/never")), false)
	r.clk.Advance(2 * time.Second)
	if got := addresses(r.out.String()); got != "/now /late /imm /a /c /d" {
		t.Fatalf("at 3s: %s", got)
	}
	st, err := r.p.Close()
	// A stop loses nothing: what was still held is shown then.
	if err != nil || st.Held != 1 || st.Packets != 7 {
		t.Fatalf("close: %+v %v", st, err)
	}
	if got := addresses(r.out.String()); got != "/now /late /imm /a /c /d /never" {
		t.Fatalf("at close: %s", got)
	}
	r.clk.Advance(2 * time.Hour)
	if strings.Count(r.out.String(), "/never") != 1 {
		t.Error("a bundle was shown again after Close")
	}
}

// --schedule holds at most ScheduleMax bundles and ScheduleBytes bytes: a
// bundle that does not fit prints on arrival, is counted, and the caller
// is told once; room made by a bundle falling due is used again.
func TestScheduleFull(t *testing.T) {
	var notes []string
	r := newRig(t, Config{Schedule: true, ScheduleMax: 2, Notice: func(m string) { notes = append(notes, m) }})
	r.feed(t, bundleAt(3*time.Second, msg("/a")), false)
	r.feed(t, bundleAt(time.Second, msg("/b")), false)
	r.feed(t, bundleAt(2*time.Second, msg("/over1")), false)
	r.feed(t, bundleAt(time.Hour, msg("/over2")), false)
	if got := addresses(r.out.String()); got != "/over1 /over2" {
		t.Fatalf("shown on arrival: %s", got)
	}
	if !strings.Contains(r.out.String(), "in +1h0m0s") {
		t.Errorf("an unheld bundle shows how far ahead it is:\n%s", r.out.String())
	}
	r.clk.Advance(time.Second)
	r.feed(t, bundleAt(5*time.Second, msg("/d")), false)
	r.clk.Advance(4 * time.Second)
	if got := addresses(r.out.String()); got != "/over1 /over2 /b /a /d" {
		t.Fatalf("at 5s: %s", got)
	}
	st, err := r.p.Close()
	if err != nil || st.Unheld != 2 || st.Held != 0 || st.Packets != 5 {
		t.Fatalf("close: %+v %v", st, err)
	}
	if len(notes) != 1 || notes[0] != "--schedule holds at most 2 bundles (--schedule-max): bundles that do not fit print on arrival" {
		t.Errorf("notices %q", notes)
	}
	if s := Summary(st, transport.ListenStats{}, false); s != "5 packets, 148 bytes, 0 malformed, 0 filtered, 2 bundles printed on arrival (--schedule full)" {
		t.Errorf("summary %q", s)
	}

	// The byte limit counts packet bytes; a bundle larger than all of it
	// never waits.
	one, _ := osc.AppendPacket(nil, bundleAt(time.Second, msg("/x")))
	notes = nil
	r = newRig(t, Config{Schedule: true, ScheduleBytes: 2 * len(one), Notice: func(m string) { notes = append(notes, m) }})
	r.feed(t, bundleAt(time.Second, msg("/x")), false)
	r.feed(t, bundleAt(time.Second, msg("/y")), false)
	r.feed(t, bundleAt(time.Second, msg("/z")), false)
	r.feed(t, bundleAt(time.Second, msg("/big", osc.Blob(make([]byte, 3*len(one))))), false)
	if got := addresses(r.out.String()); got != "/z /big" {
		t.Fatalf("bytes: shown on arrival: %s", got)
	}
	r.clk.Advance(time.Second)
	if st, _ := r.p.Close(); st.Unheld != 2 || st.Packets != 4 || addresses(r.out.String()) != "/z /big /x /y" {
		t.Fatalf("bytes: %+v\n%s", st, r.out.String())
	}
	if want := fmt.Sprintf("--schedule holds at most %d bytes of bundles (--schedule-bytes): bundles that do not fit print on arrival", 2*len(one)); len(notes) != 1 || notes[0] != want {
		t.Errorf("notices %q", notes)
	}
}

// addresses lists the message addresses in text output, in order.
func addresses(out string) string {
	var as []string
	for _, l := range strings.Split(out, "\n") {
		for _, w := range strings.Fields(l) {
			if strings.HasPrefix(w, "/") {
				as = append(as, w)
				break
			}
		}
	}
	return strings.Join(as, " ")
}

// Output waits in the buffer while the listener says more is queued, and
// is flushed when it says nothing is, or FlushEvery later at most.
func TestFlushPolicy(t *testing.T) {
	r := newRig(t, Config{})
	r.feed(t, msg("/a"), true)
	r.feed(t, msg("/b"), true)
	if r.out.String() != "" {
		t.Fatalf("flushed while more was queued: %q", r.out.String())
	}
	r.clk.Advance(FlushEvery - time.Nanosecond)
	if r.out.String() != "" {
		t.Fatal("flushed before FlushEvery")
	}
	r.clk.Advance(time.Nanosecond)
	if got := addresses(r.out.String()); got != "/a /b" {
		t.Fatalf("after FlushEvery: %q", got)
	}
	r.feed(t, msg("/c"), false)
	if got := addresses(r.out.String()); got != "/a /b /c" {
		t.Fatalf("a quiet line must print at once: %q", got)
	}
}

// Filters count what they hide; malformed and truncated packets are shown
// and counted; --count stops the run once, and nothing after it shows.
func TestCountFilterMalformed(t *testing.T) {
	f := &filter.Set{}
	if err := f.Exclude("/hide"); err != nil {
		t.Fatal(err)
	}
	r := newRig(t, Config{Filter: f, Count: 3})
	r.feed(t, msg("/hide"), false)
	r.feed(t, msg("/a"), false)
	r.p.Handle(&transport.Packet{Data: []byte("/x\x00\x00,x\x00\x00"), Source: src})
	r.p.Handle(&transport.Packet{Data: []byte("/y\x00\x00"), Truncated: true, Source: src})
	r.feed(t, msg("/after"), false)
	st, err := r.p.Close()
	if err != nil {
		t.Fatal(err)
	}
	want := Stats{Packets: 3, Bytes: 8 + 8 + 4, Malformed: 2, Filtered: 1, Truncated: 1}
	if st != want || r.stops != 1 {
		t.Fatalf("stats %+v, stops %d; want %+v, 1", st, r.stops, want)
	}
	out := r.out.String()
	if strings.Contains(out, "/after") || !strings.Contains(out, "unknown type tag") || !strings.Contains(out, "truncated to 4 bytes") {
		t.Fatalf("output:\n%s", out)
	}
	if s := Summary(st, transport.ListenStats{Conns: 2, KernelDrops: 5}, true); s !=
		"3 packets, 20 bytes, 2 malformed, 1 filtered, 2 connections, 0 dropped, 1 truncated, 5 dropped by the kernel (receive buffer full)" {
		t.Errorf("summary %q", s)
	}
}

// --echo answers each well-formed packet on the socket it came from.
func TestEcho(t *testing.T) {
	var echoed [][]byte
	s := transport.NewSource("udp", "127.0.0.1:9", func(p []byte) error {
		echoed = append(echoed, bytes.Clone(p))
		return nil
	})
	r := newRig(t, Config{Echo: true})
	raw, _ := osc.AppendPacket(nil, msg("/e", osc.Int32(1)))
	r.p.Handle(&transport.Packet{Data: raw, Source: s})
	r.p.Handle(&transport.Packet{Data: []byte("bad!"), Source: s})
	if len(echoed) != 1 || !bytes.Equal(echoed[0], raw) {
		t.Fatalf("echoed %q", echoed)
	}
}

// An output that fails ends the run and is reported by Close.
func TestOutputError(t *testing.T) {
	stops := 0
	p := New(Config{Clock: clock.NewFake(t0), Out: failWriter{}, Stop: func() { stops++ },
		Render: func(w io.Writer) format.Renderer { return format.NewJSON(w) }})
	raw, _ := osc.AppendPacket(nil, msg("/a"))
	p.Handle(&transport.Packet{Data: raw, Source: src})
	p.Handle(&transport.Packet{Data: raw, Source: src})
	st, err := p.Close()
	if err == nil || stops != 1 || st.Packets != 1 {
		t.Fatalf("err %v stops %d stats %+v", err, stops, st)
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, io.ErrClosedPipe }

// The per-packet path (decode, filter, render into the output buffer)
// allocates nothing, for text and JSON.
func TestHandleAllocs(t *testing.T) {
	raw, _ := osc.AppendPacket(nil, msg("/1/fader", osc.Float32(0.5)))
	for _, name := range []string{"text", "json"} {
		p := discard(name)
		pk := &transport.Packet{Data: raw, More: true, Source: src}
		p.Handle(pk)
		if n := testing.AllocsPerRun(1000, func() { p.Handle(pk) }); n != 0 {
			t.Errorf("%s: %v allocs per packet, want 0", name, n)
		}
	}
}

func BenchmarkHandle(b *testing.B) {
	raw, _ := osc.AppendPacket(nil, msg("/1/fader", osc.Float32(0.5)))
	for _, name := range []string{"text", "json"} {
		b.Run(name, func(b *testing.B) {
			p := discard(name)
			pk := &transport.Packet{Data: raw, More: true, Source: src}
			b.ReportAllocs()
			for b.Loop() {
				p.Handle(pk)
			}
		})
	}
}

// discard is a pipeline rendering to nowhere on the real clock.
func discard(name string) *Pipeline {
	return New(Config{Out: io.Discard, Render: func(w io.Writer) format.Renderer {
		r, _ := format.NewRenderer(name, w, format.Options{Time: format.TimeLocal})
		return r
	}})
}

// --count stops the run: bundles still held are not shown nor recorded
// (the user asked for N packets), but each is counted in the summary, so
// none is lost silently.
func TestScheduleCountDropsHeld(t *testing.T) {
	rec := &lockedBuffer{}
	r := newRig(t, Config{Schedule: true, Count: 1, RecordOut: rec,
		RecordRender: func(w io.Writer) format.Renderer { return format.NewJSON(w) }})
	r.feed(t, bundleAt(time.Hour, msg("/later")), false)
	r.feed(t, bundleAt(2*time.Hour, msg("/later2")), false)
	r.feed(t, msg("/now"), false)
	st, err := r.p.Close()
	if err != nil || st.Packets != 1 || st.Held != 0 || st.Dropped != 2 || r.stops != 1 {
		t.Fatalf("close: %+v %v, stops %d", st, err, r.stops)
	}
	if got := addresses(r.out.String()); got != "/now" {
		t.Errorf("shown: %q", got)
	}
	if strings.Contains(rec.String(), "/later") {
		t.Errorf("recorded: %q", rec.String())
	}
	if s := Summary(st, transport.ListenStats{}, false); !strings.HasSuffix(s, ", 2 bundles held, not shown") {
		t.Errorf("summary %q", s)
	}
	r.clk.Advance(3 * time.Hour)
	if got := addresses(r.out.String()); got != "/now" {
		t.Errorf("shown after Close: %q", got)
	}
}

// A tap's pipeline marks what Handle shows as forwarded and what
// HandleReply shows as a reply to its sender; a reply is never echoed,
// and a held bundle keeps its direction until it is shown.
func TestReplies(t *testing.T) {
	echoed := 0
	target := transport.NewSource("udp", "127.0.0.1:9001", func([]byte) error { echoed++; return nil })
	r := newRig(t, Config{Dir: format.DirForward, Echo: true, Schedule: true,
		Render: func(w io.Writer) format.Renderer { return format.NewJSON(w) }})
	r.feed(t, msg("/fwd"), false)
	raw, _ := osc.AppendPacket(nil, msg("/ans"))
	r.p.HandleReply(&transport.Packet{Data: raw, Source: target}, "127.0.0.1:5000")
	held, _ := osc.AppendPacket(nil, bundleAt(time.Second, msg("/later")))
	r.p.HandleReply(&transport.Packet{Data: held, Source: target}, "127.0.0.1:5000")
	r.clk.Advance(time.Second)
	lines := strings.Split(strings.TrimSpace(r.out.String()), "\n")
	if len(lines) != 3 {
		t.Fatalf("got %d lines:\n%s", len(lines), r.out.String())
	}
	for i, want := range []string{
		`"from":"127.0.0.1:5000","proto":"udp","dir":"forward",`,
		`"from":"127.0.0.1:9001","proto":"udp","dir":"reply","to":"127.0.0.1:5000",`,
		`"from":"127.0.0.1:9001","proto":"udp","dir":"reply","to":"127.0.0.1:5000",`,
	} {
		if !strings.Contains(lines[i], want) {
			t.Errorf("line %d: %s\nwant %s", i, lines[i], want)
		}
	}
	if echoed != 0 {
		t.Errorf("a reply was echoed %d times", echoed)
	}
	if st, _ := r.p.Close(); st.Packets != 3 {
		t.Errorf("counted %d packets, want 3 (replies count)", st.Packets)
	}
}
