package replay

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/oscli/oscli/internal/clock"
	"github.com/oscli/oscli/internal/filter"
	"github.com/oscli/oscli/internal/osc"
	"github.com/oscli/oscli/internal/record"
	"github.com/oscli/oscli/internal/sender"
	"github.com/oscli/oscli/internal/transport"
)

// t0 is when the fake clock starts the runs, an hour and a half second
// after the recordings were made.
var t0 = rec0.Add(time.Hour + 500*ms)

// item is one record of an in-memory recording.
type item struct {
	off  time.Duration // from rec0; untimed for none
	addr string        // a message with this address, unless pkt is set
	pkt  osc.Packet
	bad  bool // unreadable: Next reports a *record.BadRecordError
}

// memRecording is a recording held in memory; it counts its passes.
type memRecording struct {
	items []item
	opens int
}

func (m *memRecording) Open() (Records, error) {
	m.opens++
	return &memRecords{items: m.items}, nil
}

type memRecords struct {
	items []item
	i     int
}

func (r *memRecords) Next() (*record.Record, error) {
	if r.i >= len(r.items) {
		return nil, io.EOF
	}
	it := r.items[r.i]
	r.i++
	if it.bad {
		return nil, &record.BadRecordError{Line: r.i, Err: errors.New("unreadable")}
	}
	p := it.pkt
	if p == nil {
		p = &osc.Message{Address: it.addr}
	}
	raw, err := osc.AppendPacket(nil, p)
	if err != nil {
		panic(err)
	}
	return &record.Record{Line: r.i, Time: recTime(it.off), Raw: raw, Packet: p}, nil
}

func recording(offs []time.Duration, addrs ...string) *memRecording {
	m := &memRecording{}
	for i, off := range offs {
		m.items = append(m.items, item{off: off, addr: addrs[i%len(addrs)]})
	}
	return m
}

// call is what the sink was asked to do: send a packet (after waiting),
// queue one, or flush queued ones.
type call struct {
	op   string // send, queue, flush
	addr string // the packet's first address; "#bundle" for a bundle
	due  time.Duration
	sent time.Duration // the clock when the sink was called
}

func (c call) String() string {
	switch c.op {
	case "flush":
		return fmt.Sprintf("flush at +%v", c.sent)
	case "queue":
		return fmt.Sprintf("queue %s due +%v at +%v", c.addr, c.due, c.sent)
	}
	return fmt.Sprintf("send %s due +%v at +%v", c.addr, c.due, c.sent)
}

func send(addr string, due, sent time.Duration) call { return call{"send", addr, due, sent} }
func queue(addr string, due, sent time.Duration) call {
	return call{"queue", addr, due, sent}
}
func flush(sent time.Duration) call { return call{"flush", "", 0, sent} }

// sinkLog is a Sink that records its calls with the fake clock's time. A
// Flush with nothing queued is not recorded (Play flushes before every
// wait).
type sinkLog struct {
	clk    *clock.Fake
	mu     sync.Mutex
	calls  []call
	raws   [][]byte // sent and queued packets, in order
	queued int
	onSend func(n int) // called after the n-th send or queue (from 1)
}

func (s *sinkLog) add(op string, raw []byte, at time.Time) {
	s.mu.Lock()
	addr := "?"
	if p, err := osc.Decode(raw); err == nil {
		switch p := p.(type) {
		case *osc.Message:
			addr = p.Address
		case *osc.Bundle:
			addr = "#bundle"
		}
	}
	s.calls = append(s.calls, call{op, addr, at.Sub(t0), s.clk.Now().Sub(t0)})
	s.raws = append(s.raws, bytes.Clone(raw))
	n, hook := len(s.raws), s.onSend
	s.mu.Unlock()
	if hook != nil {
		hook(n)
	}
}

func (s *sinkLog) Send(raw []byte, at time.Time) error { s.add("send", raw, at); return nil }

func (s *sinkLog) Queue(raw []byte, at time.Time) error {
	s.mu.Lock()
	s.queued++
	s.mu.Unlock()
	s.add("queue", raw, at)
	return nil
}

func (s *sinkLog) Flush() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.queued > 0 {
		s.calls = append(s.calls, call{op: "flush", sent: s.clk.Now().Sub(t0)})
		s.queued = 0
	}
	return nil
}

func (s *sinkLog) sends() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, c := range s.calls {
		if c.op == "send" {
			n++
		}
	}
	return n
}

func (s *sinkLog) log() []call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]call(nil), s.calls...)
}

type result struct {
	st  Stats
	err error
}

// run plays rec on a fake clock starting at t0. The clock moves only to
// the wake-up times the test expects (from want: each send later than the
// one before), and only once the player waits: it checks at each that no
// send due then has happened yet. The sends' clock times in the log then
// show each went out exactly when due.
func run(t *testing.T, rec Recording, o Options, want []call) (*sinkLog, result) {
	t.Helper()
	clk := clock.NewFake(t0)
	sink := &sinkLog{clk: clk}
	o.Clock = clk
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan result, 1)
	go func() {
		st, err := Play(ctx, rec, sink, o)
		done <- result{st, err}
	}()
	var last time.Duration
	for i, c := range want {
		if c.op != "send" || c.sent <= last {
			continue
		}
		last = c.sent
		if !clk.BlockUntil(1, 10*time.Second) {
			t.Fatalf("the player is not waiting for send %d (+%v); log so far:\n%s", i, c.sent, format(sink.log()))
		}
		before := 0
		for _, w := range want[:i] {
			if w.op == "send" {
				before++
			}
		}
		if n := sink.sends(); n != before {
			t.Fatalf("%d sends before +%v, want %d; log so far:\n%s", n, c.sent, before, format(sink.log()))
		}
		clk.Set(t0.Add(c.sent - 1))
		clk.Set(t0.Add(c.sent))
	}
	select {
	case r := <-done:
		return sink, r
	case <-time.After(10 * time.Second):
		cancel()
		<-done
		t.Fatalf("Play did not return; log:\n%s", format(sink.log()))
		return nil, result{}
	}
}

func format(cs []call) string {
	var b strings.Builder
	for _, c := range cs {
		b.WriteString("\t" + c.String() + "\n")
	}
	return b.String()
}

func checkLog(t *testing.T, got, want []call) {
	t.Helper()
	if format(got) != format(want) {
		t.Errorf("sink calls:\n%swant:\n%s", format(got), format(want))
	}
}

func mustFilter(t *testing.T, include ...string) *filter.Set {
	t.Helper()
	f := &filter.Set{}
	for _, p := range include {
		if err := f.Include(p); err != nil {
			t.Fatal(err)
		}
	}
	return f
}

// Play waits on the injected clock for each timed packet and sends it
// exactly when due; packets without a time are queued back to back and
// flushed before the next wait and at the end of each loop.
func TestPlay(t *testing.T) {
	u := untimed
	three := []time.Duration{0, 100 * ms, 250 * ms}
	tests := []struct {
		name  string
		rec   *memRecording
		o     Options
		want  []call
		st    Stats
		opens int
	}{
		{"speed 1", recording(three, "/a", "/b", "/c"), Options{Timing: Timing{Speed: 1}, Loops: 1},
			[]call{send("/a", 0, 0), send("/b", 100*ms, 100*ms), send("/c", 250*ms, 250*ms)},
			Stats{Sent: 3, Took: 250 * ms}, 1},
		{"speed 2", recording(three, "/a", "/b", "/c"), Options{Timing: Timing{Speed: 2}, Loops: 1},
			[]call{send("/a", 0, 0), send("/b", 50*ms, 50*ms), send("/c", 125*ms, 125*ms)},
			Stats{Sent: 3, Took: 125 * ms}, 1},
		{"speed 0.5", recording(three, "/a", "/b", "/c"), Options{Timing: Timing{Speed: 0.5}, Loops: 1},
			[]call{send("/a", 0, 0), send("/b", 200*ms, 200*ms), send("/c", 500*ms, 500*ms)},
			Stats{Sent: 3, Took: 500 * ms}, 1},
		{"loop 3 without a gap", recording(three, "/a", "/b", "/c"), Options{Timing: Timing{Speed: 1}, Loops: 3},
			[]call{
				send("/a", 0, 0), send("/b", 100*ms, 100*ms), send("/c", 250*ms, 250*ms),
				send("/a", 250*ms, 250*ms), send("/b", 350*ms, 350*ms), send("/c", 500*ms, 500*ms),
				send("/a", 500*ms, 500*ms), send("/b", 600*ms, 600*ms), send("/c", 750*ms, 750*ms),
			},
			Stats{Sent: 9, Took: 750 * ms}, 3},
		{"speed 2 loop 2", recording(three, "/a", "/b", "/c"), Options{Timing: Timing{Speed: 2}, Loops: 2},
			[]call{
				send("/a", 0, 0), send("/b", 50*ms, 50*ms), send("/c", 125*ms, 125*ms),
				send("/a", 125*ms, 125*ms), send("/b", 175*ms, 175*ms), send("/c", 250*ms, 250*ms),
			},
			Stats{Sent: 6, Took: 250 * ms}, 2},
		{"rate for records without times", recording([]time.Duration{u, u, u}, "/a", "/b", "/c"),
			Options{Timing: Timing{Speed: 1, Rate: 10}, Loops: 2},
			[]call{
				send("/a", 0, 0), send("/b", 100*ms, 100*ms), send("/c", 200*ms, 200*ms),
				send("/a", 300*ms, 300*ms), send("/b", 400*ms, 400*ms), send("/c", 500*ms, 500*ms),
			},
			Stats{Sent: 6, Took: 500 * ms}, 2},
		{"no times: queued", recording([]time.Duration{u, u, u}, "/a", "/b", "/c"),
			Options{Timing: Timing{Speed: 1}, Loops: 2},
			[]call{
				queue("/a", 0, 0), queue("/b", 0, 0), queue("/c", 0, 0), flush(0),
				queue("/a", 0, 0), queue("/b", 0, 0), queue("/c", 0, 0), flush(0),
			},
			Stats{Sent: 6}, 2},
		{"no timing: queued", recording(three, "/a", "/b", "/c"), Options{Timing: Timing{Speed: 1, NoTiming: true}, Loops: 1},
			[]call{queue("/a", 0, 0), queue("/b", 0, 0), queue("/c", 0, 0), flush(0)},
			Stats{Sent: 3}, 1},
		// Queued packets go out before the player waits for a timed one.
		{"queued flushed before a wait", recording([]time.Duration{0, u, u, 200 * ms}, "/a", "/b", "/c", "/d"),
			Options{Timing: Timing{Speed: 1}, Loops: 1},
			[]call{send("/a", 0, 0), queue("/b", 0, 0), queue("/c", 0, 0), flush(0), send("/d", 200*ms, 200*ms)},
			Stats{Sent: 4, Took: 200 * ms}, 1},
		// A time earlier than the one before has passed: the packet goes
		// out at once, as late as that.
		{"times going backwards", recording([]time.Duration{0, 300 * ms, 100 * ms}, "/a", "/b", "/c"),
			Options{Timing: Timing{Speed: 1}, Loops: 1},
			[]call{send("/a", 0, 0), send("/b", 300*ms, 300*ms), send("/c", 100*ms, 300*ms)},
			Stats{Sent: 3, Worst: 200 * ms, Took: 300 * ms}, 1},
		// A dry run hands every packet over at once with its due time.
		{"no wait", recording(three, "/a", "/b", "/c"), Options{Timing: Timing{Speed: 1}, Loops: 2, NoWait: true},
			[]call{
				send("/a", 0, 0), send("/b", 100*ms, 0), send("/c", 250*ms, 0),
				send("/a", 250*ms, 0), send("/b", 350*ms, 0), send("/c", 500*ms, 0),
			},
			Stats{Sent: 6}, 2},
		// Filtered records take no time: the first packet sent starts
		// the run, and a loop ends with the last packet sent.
		{"filter", recording([]time.Duration{0, 100 * ms, 250 * ms, 400 * ms}, "/x", "/a", "/a/b", "/x"),
			Options{Timing: Timing{Speed: 1}, Loops: 2, Filter: mustFilter(t, "/a", "/a/*")},
			[]call{
				send("/a", 0, 0), send("/a/b", 150*ms, 150*ms),
				send("/a", 150*ms, 150*ms), send("/a/b", 300*ms, 300*ms),
			},
			Stats{Sent: 4, Took: 300 * ms}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sink, r := run(t, tt.rec, tt.o, tt.want)
			if r.err != nil {
				t.Fatal(r.err)
			}
			checkLog(t, sink.log(), tt.want)
			if r.st != tt.st {
				t.Errorf("stats %+v, want %+v", r.st, tt.st)
			}
			if tt.rec.opens != tt.opens {
				t.Errorf("recording opened %d times, want %d", tt.rec.opens, tt.opens)
			}
		})
	}
}

// --retime shifts every timed bundle, nested ones too, by exactly the
// time between the recording's first time and the loop's start on the
// clock; immediate bundles and messages go out unchanged.
func TestPlayRetime(t *testing.T) {
	msg := &osc.Message{Address: "/cue", Args: []osc.Arg{osc.Int32(1)}}
	at10 := osc.FromTime(rec0.Add(10 * time.Second))
	at11 := osc.FromTime(rec0.Add(11 * time.Second))
	timedB := &osc.Bundle{Timetag: at10, Elements: []osc.Packet{
		msg,
		&osc.Bundle{Timetag: at11, Elements: []osc.Packet{msg}},
		&osc.Bundle{Timetag: osc.Immediately, Elements: []osc.Packet{msg}},
	}}
	immediate := &osc.Bundle{Timetag: osc.Immediately, Elements: []osc.Packet{msg}}
	rec := &memRecording{items: []item{
		{off: 0, pkt: timedB},
		{off: 2 * time.Second, pkt: immediate},
		{off: 3 * time.Second, pkt: msg},
	}}
	want := []call{
		send("#bundle", 0, 0), send("#bundle", 2*time.Second, 2*time.Second), send("/cue", 3*time.Second, 3*time.Second),
		send("#bundle", 3*time.Second, 3*time.Second), send("#bundle", 5*time.Second, 5*time.Second), send("/cue", 6*time.Second, 6*time.Second),
	}
	decode := func(t *testing.T, raw []byte) *osc.Bundle {
		t.Helper()
		var b osc.Bundle
		if err := osc.DecodeBundle(raw, &b); err != nil {
			t.Fatal(err)
		}
		return &b
	}
	raw := func(p osc.Packet) []byte { b, _ := osc.AppendPacket(nil, p); return b }

	t.Run("retime", func(t *testing.T) {
		sink, r := run(t, rec, Options{Timing: Timing{Speed: 1}, Loops: 2, Retime: true}, want)
		if r.err != nil {
			t.Fatal(r.err)
		}
		checkLog(t, sink.log(), want)
		// Loop 1 starts at t0, loop 2 three seconds later.
		for loop, shift := range []time.Duration{t0.Sub(rec0), t0.Sub(rec0) + 3*time.Second} {
			got := decode(t, sink.raws[3*loop])
			if got.Timetag != at10.Add(shift) || got.Timetag != osc.FromTime(t0.Add(10*time.Second+time.Duration(loop)*3*time.Second)) {
				t.Errorf("loop %d: time tag %v, want %v (shifted by %v)", loop+1, got.Timetag, at10.Add(shift), shift)
			}
			nested := got.Elements[1].(*osc.Bundle)
			if nested.Timetag != at11.Add(shift) {
				t.Errorf("loop %d: nested time tag %v, want %v", loop+1, nested.Timetag, at11.Add(shift))
			}
			if imm := got.Elements[2].(*osc.Bundle); imm.Timetag != osc.Immediately {
				t.Errorf("loop %d: a nested immediate bundle became %v", loop+1, imm.Timetag)
			}
			if !bytes.Equal(sink.raws[3*loop+1], raw(immediate)) || !bytes.Equal(sink.raws[3*loop+2], raw(msg)) {
				t.Errorf("loop %d: an immediate bundle or a message changed", loop+1)
			}
		}
	})
	t.Run("without retime", func(t *testing.T) {
		sink, r := run(t, rec, Options{Timing: Timing{Speed: 1}, Loops: 2}, want)
		if r.err != nil {
			t.Fatal(r.err)
		}
		for i, p := range []osc.Packet{timedB, immediate, msg, timedB, immediate, msg} {
			if !bytes.Equal(sink.raws[i], raw(p)) {
				t.Errorf("packet %d changed", i)
			}
		}
	})
	// Without times there is nothing to shift from.
	t.Run("no times", func(t *testing.T) {
		rec := &memRecording{items: []item{{off: untimed, pkt: timedB}}}
		sink, r := run(t, rec, Options{Timing: Timing{Speed: 1}, Loops: 1, Retime: true},
			[]call{queue("#bundle", 0, 0), flush(0)})
		if r.err != nil {
			t.Fatal(r.err)
		}
		if !bytes.Equal(sink.raws[0], raw(timedB)) {
			t.Error("an untimed recording's bundle was retimed")
		}
	})
}

// A shift that would take a time tag past 2104 (or before 1968) does not
// wrap: the bundle is reported once like a bad record and the rest plays.
func TestPlayRetimeOutOfRange(t *testing.T) {
	msg := &osc.Message{Address: "/cue"}
	far := &osc.Bundle{Timetag: osc.NewTimetag(1<<31-10, 0), Elements: []osc.Packet{msg}} // 2104, 10 s before the end
	rec := &memRecording{items: []item{{off: 0, pkt: far}, {off: time.Second, pkt: msg}}}
	var bad []*record.BadRecordError
	_, r := run(t, rec, Options{Timing: Timing{Speed: 1}, Loops: 1, Retime: true,
		OnBad: func(e *record.BadRecordError) { bad = append(bad, e) }},
		[]call{send("/cue", time.Second, time.Second)})
	if r.err != nil {
		t.Fatal(r.err)
	}
	if r.st.Bad != 1 || len(bad) != 1 || !strings.Contains(bad[0].Error(), "outside the range of OSC time tags") {
		t.Fatalf("stats %+v, reports %v", r.st, bad)
	}
}

// A recording with nothing to play after filtering is an error, not a
// silent success; so is an empty one.
func TestPlayEmpty(t *testing.T) {
	tests := []struct {
		name string
		rec  *memRecording
		o    Options
	}{
		{"empty", &memRecording{}, Options{Loops: 1}},
		{"only bad records", &memRecording{items: []item{{bad: true}}}, Options{Loops: 1}},
		{"all filtered", recording([]time.Duration{0, ms}, "/a", "/b"), Options{Loops: 1, Filter: mustFilter(t, "/c")}},
		{"all filtered, endless loop", recording([]time.Duration{0, ms}, "/a", "/b"), Options{Loops: 0, Filter: mustFilter(t, "/c")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sink, r := run(t, tt.rec, tt.o, nil)
			if !errors.Is(r.err, ErrEmpty) {
				t.Errorf("err %v, want ErrEmpty", r.err)
			}
			if r.st.Sent != 0 || len(sink.log()) != 0 || tt.rec.opens != 1 {
				t.Errorf("stats %+v, calls %v, opened %d times", r.st, sink.log(), tt.rec.opens)
			}
		})
	}
}

// A record that cannot be read is skipped, reported once and counted
// once, however many loops replay the recording.
func TestPlayBadRecords(t *testing.T) {
	rec := &memRecording{items: []item{
		{off: untimed, addr: "/a"},
		{bad: true},
		{off: untimed, addr: "/b"},
	}}
	var reported []string
	o := Options{Timing: Timing{Speed: 1}, Loops: 3, OnBad: func(err *record.BadRecordError) {
		reported = append(reported, err.Error())
	}}
	want := []call{
		queue("/a", 0, 0), queue("/b", 0, 0), flush(0),
		queue("/a", 0, 0), queue("/b", 0, 0), flush(0),
		queue("/a", 0, 0), queue("/b", 0, 0), flush(0),
	}
	sink, r := run(t, rec, o, want)
	if r.err != nil {
		t.Fatal(r.err)
	}
	checkLog(t, sink.log(), want)
	if r.st.Bad != 1 || r.st.Sent != 6 {
		t.Errorf("stats %+v, want 6 sent and 1 bad", r.st)
	}
	if len(reported) != 1 || reported[0] != "line 2: unreadable" {
		t.Errorf("reported %q, want once", reported)
	}
}

// Cancelling the context ends a wait at once with the context's error.
func TestPlayCancel(t *testing.T) {
	clk := clock.NewFake(t0)
	sink := &sinkLog{clk: clk}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan result, 1)
	rec := recording([]time.Duration{0, time.Hour}, "/a", "/b")
	go func() {
		st, err := Play(ctx, rec, sink, Options{Timing: Timing{Speed: 1}, Loops: 1, Clock: clk})
		done <- result{st, err}
	}()
	if !clk.BlockUntil(1, 10*time.Second) {
		t.Fatal("the player is not waiting")
	}
	cancel()
	r := <-done
	if !errors.Is(r.err, context.Canceled) || r.st.Sent != 1 {
		t.Errorf("err %v, stats %+v; want context.Canceled after 1 sent", r.err, r.st)
	}
	if n := clk.Waiters(); n != 0 || clk.Now() != t0 {
		t.Errorf("%d waiters left, clock at %v", n, clk.Now())
	}
	checkLog(t, sink.log(), []call{send("/a", 0, 0)})
}

// jsonl writes a JSON-lines recording of messages at offsets from rec0.
func jsonl(t *testing.T, path string, offs []time.Duration, addrs ...string) {
	t.Helper()
	var b strings.Builder
	for i, off := range offs {
		if addrs[i] == "" {
			b.WriteString("{not json\n")
			continue
		}
		raw, err := osc.AppendMessage(nil, &osc.Message{Address: addrs[i]})
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, `{"time":%q,"raw":%q}`+"\n", rec0.Add(off).Format(time.RFC3339Nano), base64.StdEncoding.EncodeToString(raw))
	}
	// Write and rename: a reader that has the old file open keeps it.
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// A file is read again from disk for each loop (so memory does not grow
// with its size): what changed on disk after the first pass is what the
// second pass plays.
func TestFileReadPerLoop(t *testing.T) {
	path := filepath.Join(t.TempDir(), "rec.jsonl")
	offs := []time.Duration{0, 100 * ms}
	jsonl(t, path, offs, "/first/a", "/first/b")
	f := &File{Path: path}
	defer f.Close()
	want := []call{
		send("/first/a", 0, 0), send("/first/b", 100*ms, 100*ms),
		send("/second/a", 100*ms, 100*ms), send("/second/b", 200*ms, 200*ms),
	}
	clk := clock.NewFake(t0)
	sink := &sinkLog{clk: clk}
	sink.onSend = func(n int) {
		if n == 2 { // the first pass has been read to its end
			jsonl(t, path, offs, "/second/a", "/second/b")
		}
	}
	done := make(chan result, 1)
	go func() {
		st, err := Play(context.Background(), f, sink, Options{Timing: Timing{Speed: 1}, Loops: 2, Clock: clk})
		done <- result{st, err}
	}()
	for _, at := range []time.Duration{100 * ms, 200 * ms} {
		if !clk.BlockUntil(1, 10*time.Second) {
			t.Fatalf("not waiting for +%v", at)
		}
		clk.Set(t0.Add(at))
	}
	r := <-done
	if r.err != nil {
		t.Fatal(r.err)
	}
	checkLog(t, sink.log(), want)
	if f.Format != record.FormatJSON {
		t.Errorf("format %q", f.Format)
	}
}

// A file and a stream (stdin, read once and kept) replay the same
// recording the same way, loop after loop, and skip its bad line once.
func TestFileAndStreamLoops(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "rec.jsonl")
	jsonl(t, path, []time.Duration{0, 50 * ms, 100 * ms}, "/a", "", "/b")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want := []call{
		send("/a", 0, 0), send("/b", 100*ms, 100*ms),
		send("/a", 100*ms, 100*ms), send("/b", 200*ms, 200*ms),
		send("/a", 200*ms, 200*ms), send("/b", 300*ms, 300*ms),
	}
	for _, tt := range []struct {
		name string
		rec  Recording
	}{
		{"file", &File{Path: path}},
		{"stream", &Stream{R: bytes.NewReader(data)}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var reported []string
			o := Options{Timing: Timing{Speed: 1}, Loops: 3, OnBad: func(err *record.BadRecordError) {
				reported = append(reported, fmt.Sprint(err.Line))
			}}
			sink, r := run(t, tt.rec, o, want)
			if r.err != nil {
				t.Fatal(r.err)
			}
			checkLog(t, sink.log(), want)
			if r.st.Bad != 1 || len(reported) != 1 || reported[0] != "2" {
				t.Errorf("bad records: counted %d, reported lines %v; want 1, [2]", r.st.Bad, reported)
			}
			if f, ok := tt.rec.(*File); ok {
				f.Close()
			}
		})
	}
}

// A packet too big for the target is skipped like a bad record (named by
// its record, reported and counted once), timed or not, and the packets
// around it go out, in batches too.
func TestPlaySkipsTooBig(t *testing.T) {
	big := &osc.Message{Address: "/big", Args: []osc.Arg{osc.Blob(make([]byte, 70000))}}
	for _, timing := range []Timing{{Speed: 1}, {NoTiming: true}} {
		t.Run(fmt.Sprint(timing), func(t *testing.T) {
			rec := &memRecording{items: []item{
				{off: 0, addr: "/a"}, {off: 10 * ms, pkt: big}, {off: 20 * ms, addr: "/b"},
				{off: untimed, pkt: big}, {off: untimed, addr: "/c"},
			}}
			var out bytes.Buffer
			s, err := sender.Open(context.Background(), sender.Options{
				Target: transport.Endpoint{Proto: transport.UDP, Host: "127.0.0.1", Port: 9}, DryRun: true, DryRunOut: &out,
			})
			if err != nil {
				t.Fatal(err)
			}
			var reported []string
			st, err := Play(context.Background(), rec, SenderSink{S: s}, Options{Timing: timing, Loops: 2, NoWait: true,
				Clock: clock.NewFake(t0), OnBad: func(err *record.BadRecordError) { reported = append(reported, err.Error()) }})
			if err != nil {
				t.Fatal(err)
			}
			if st.Sent != 6 || st.Bad != 2 || s.Sent() != 6 {
				t.Errorf("stats %+v, sender sent %d; want 6 sent, 2 bad", st, s.Sent())
			}
			const why = ": packet is 70016 bytes; a UDP datagram carries at most 65507"
			if strings.Join(reported, "\n") != "line 2"+why+"\nline 4"+why {
				t.Errorf("reported:\n%s", strings.Join(reported, "\n"))
			}
			if n := strings.Count(out.String(), "/a.."); n != 2 || strings.Contains(out.String(), "/big") {
				t.Errorf("dumped:\n%s", out.String())
			}
		})
	}
}
