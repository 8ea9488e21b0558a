package top

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/oscli/oscli/internal/format"
	"github.com/oscli/oscli/internal/osc"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

var t0 = time.Date(2026, 11, 21, 18, 0, 0, 0, time.UTC)

// feeder renders events into a model as the pipeline would.
type feeder struct {
	t *testing.T
	m *Model
}

func (f feeder) msg(at time.Duration, from, addr string, args ...osc.Arg) {
	f.t.Helper()
	msg := &osc.Message{Address: addr, Args: args}
	raw, err := osc.AppendMessage(nil, msg)
	if err != nil {
		f.t.Fatal(err)
	}
	f.packet(at, from, raw)
}

func (f feeder) packet(at time.Duration, from string, raw []byte) {
	f.t.Helper()
	ev := &format.Event{Time: t0.Add(at), From: from, Proto: "udp", Raw: raw}
	ev.Packet, ev.Err = osc.Decode(raw)
	if err := f.m.Render(ev); err != nil {
		f.t.Fatal(err)
	}
}

func snap(m *Model, at time.Duration) *Snapshot {
	var s Snapshot
	m.Snapshot(t0.Add(at), &s)
	return &s
}

func rowOf(t *testing.T, s *Snapshot, addr string) *Row {
	t.Helper()
	for i := range s.Rows {
		if s.Rows[i].Key.Address == addr {
			return &s.Rows[i]
		}
	}
	t.Fatalf("no row %s", addr)
	return nil
}

const me = "127.0.0.1:5000"

// The rate is the messages of the last RateSlots complete slots (one
// second), so on a fake clock it is exact, and it falls to zero a second
// after the last message.
func TestRate(t *testing.T) {
	m := New(Config{}, t0)
	f := feeder{t, m}
	// 10 messages a second for 3 s: one every 100 ms.
	for i := range 30 {
		f.msg(time.Duration(i)*100*time.Millisecond, me, "/tick", osc.Int32(int32(i)))
	}
	for _, tt := range []struct {
		at   time.Duration
		want float64
	}{
		{0, 0},                        // no complete slot yet
		{250 * time.Millisecond, 3},   // one slot: 0, 100, 200 ms
		{1 * time.Second, 10},         // 0..999 ms
		{2500 * time.Millisecond, 10}, // 1.5..2.5 s
		{3500 * time.Millisecond, 5},  // 2.5..3.5 s: 2.5 .. 2.9 s
		{4 * time.Second, 0},
	} {
		s := snap(m, tt.at)
		if got := rowOf(t, s, "/tick").Rate; got != tt.want {
			t.Errorf("rate at %v = %v, want %v", tt.at, got, tt.want)
		}
		if s.Rate != tt.want {
			t.Errorf("total rate at %v = %v, want %v", tt.at, s.Rate, tt.want)
		}
	}
}

// Count, min and max of every numeric argument, last value, age, senders.
func TestRowNumbers(t *testing.T) {
	m := New(Config{}, t0)
	f := feeder{t, m}
	f.msg(0, me, "/xy", osc.Float32(0.5), osc.String("a"), osc.Int32(-3))
	f.msg(100*time.Millisecond, "127.0.0.1:5001", "/xy", osc.Float32(0.25), osc.String("b"), osc.Int32(7))
	f.msg(200*time.Millisecond, me, "/xy", osc.Float32(0.75), osc.String("c d"), osc.Int32(1))
	s := snap(m, 1500*time.Millisecond)
	r := rowOf(t, s, "/xy")
	if r.Count != 3 || r.Senders != 2 || r.From != me || r.NumArgs != 2 {
		t.Errorf("count %d senders %d from %s numeric %d", r.Count, r.Senders, r.From, r.NumArgs)
	}
	if r.Min[0] != 0.25 || r.Max[0] != 0.75 || r.Min[1] != -3 || r.Max[1] != 7 {
		t.Errorf("min %v max %v", r.Min[:2], r.Max[:2])
	}
	if got := string(r.AppendLast(nil, &osc.Message{})); got != `f:0.75 s:"c d" i:1` {
		t.Errorf("last %q", got)
	}
	if r.Age != 1300*time.Millisecond || !r.LastSeen.Equal(t0.Add(200*time.Millisecond)) {
		t.Errorf("age %v last seen %v", r.Age, r.LastSeen)
	}
	if got := string(r.AppendTypes(nil)); got != "fsi" || r.TypesChanged() {
		t.Errorf("types %q changed %v", got, r.TypesChanged())
	}
}

// A change of type tags is marked and remembered; min and max start
// again, since argument k may now be something else.
func TestTypesChanged(t *testing.T) {
	m := New(Config{}, t0)
	f := feeder{t, m}
	f.msg(0, me, "/v", osc.Int32(5))
	f.msg(time.Millisecond, me, "/v", osc.Int32(9))
	f.msg(2*time.Millisecond, me, "/v", osc.Float32(0.5), osc.Float32(2))
	r := rowOf(t, snap(m, time.Second), "/v")
	if !r.TypesChanged() || r.Changes != 1 || string(r.AppendPrevTypes(nil)) != "i" || string(r.AppendTypes(nil)) != "ff" {
		t.Errorf("changes %d prev %q types %q", r.Changes, r.AppendPrevTypes(nil), r.AppendTypes(nil))
	}
	if r.Min[0] != 0.5 || r.Max[0] != 0.5 || r.Min[1] != 2 {
		t.Errorf("min %v max %v", r.Min[:2], r.Max[:2])
	}
}

// The sparkline holds the mean of the first numeric argument per slot,
// the current slot last, and nothing for slots without one.
func TestSparkline(t *testing.T) {
	m := New(Config{}, t0)
	f := feeder{t, m}
	f.msg(0, me, "/s", osc.Float32(1))
	f.msg(100*time.Millisecond, me, "/s", osc.Float32(3)) // slot 1: mean 2
	f.msg(600*time.Millisecond, me, "/s", osc.Float32(4)) // slot 3
	r := rowOf(t, snap(m, 700*time.Millisecond), "/s")    // current slot: 3
	want := map[int]float32{Slots - 3: 2, Slots - 1: 4}
	for k := range Slots {
		has := r.SparkHas&(1<<k) != 0
		if w, ok := want[k]; has != ok || has && r.Spark[k] != w {
			t.Errorf("slot %d: has %v value %v, want %v %v", k, has, r.Spark[k], ok, w)
		}
	}
}

// Bundles count their messages (nested ones too) in their rows; the
// pipeline's filter passes a bundle whole, the model counts only the
// messages that pass.
func TestBundles(t *testing.T) {
	m := New(Config{Pass: func(a string) bool { return a != "/skip" }}, t0)
	f := feeder{t, m}
	inner := &osc.Bundle{Timetag: osc.Immediately, Elements: []osc.Packet{&osc.Message{Address: "/b", Args: []osc.Arg{osc.Int32(2)}}}}
	b := &osc.Bundle{Timetag: osc.Immediately, Elements: []osc.Packet{
		&osc.Message{Address: "/a", Args: []osc.Arg{osc.Int32(1)}},
		&osc.Message{Address: "/skip"},
		inner,
	}}
	raw, err := osc.AppendBundle(nil, b)
	if err != nil {
		t.Fatal(err)
	}
	f.packet(0, me, raw)
	s := snap(m, time.Second)
	if s.Packets != 1 || s.Bundles != 1 || s.Messages != 2 || len(s.Rows) != 2 {
		t.Fatalf("packets %d bundles %d messages %d rows %d", s.Packets, s.Bundles, s.Messages, len(s.Rows))
	}
	if got := string(rowOf(t, s, "/b").AppendLast(nil, &osc.Message{})); got != "i:2" {
		t.Errorf("/b last %q", got)
	}
	var d Detail
	if !m.Detail(Key{Address: "/b"}, &d) || string(d.Packet) != string(raw) || d.Size != len(raw) {
		t.Errorf("/b's packet is not the bundle: %x", d.Packet)
	}
}

// Past MaxRows, new addresses are counted in the overflow row; rows
// already there go on counting.
func TestOverflow(t *testing.T) {
	m := New(Config{MaxRows: 2}, t0)
	f := feeder{t, m}
	for i := range 5 {
		f.msg(0, me, fmt.Sprintf("/a/%d", i))
	}
	f.msg(0, me, "/a/0")
	s := snap(m, 0)
	if len(s.Rows) != 2 || s.Overflow.Count != 3 || s.Overflow.Address != "/a/4" || s.Messages != 6 {
		t.Errorf("rows %d overflow %+v messages %d", len(s.Rows), s.Overflow, s.Messages)
	}
	if r := rowOf(t, s, "/a/0"); r.Count != 2 {
		t.Errorf("/a/0 count %d", r.Count)
	}
	// An address longer than MaxAddress never gets a row.
	m = New(Config{}, t0)
	f = feeder{t, m}
	long := "/" + strings.Repeat("x", MaxAddress)
	f.msg(0, me, long)
	if s := snap(m, 0); len(s.Rows) != 0 || s.Overflow.Count != 1 || s.Overflow.Address != long {
		t.Errorf("long address: rows %d overflow %d", len(s.Rows), s.Overflow.Count)
	}
}

// Malformed packets have a row of their own with the last error and
// packet.
func TestMalformed(t *testing.T) {
	m := New(Config{}, t0)
	f := feeder{t, m}
	f.packet(0, me, []byte("/a\x00\x00,x\x00\x00"))
	s := snap(m, 0)
	var de *osc.DecodeError
	if s.Malformed.Count != 1 || !errors.As(s.Malformed.Err, &de) || string(s.Malformed.Packet) != "/a\x00\x00,x\x00\x00" || len(s.Rows) != 0 {
		t.Errorf("malformed %+v rows %d", s.Malformed, len(s.Rows))
	}
}

// With BySender, each sender of an address has its row.
func TestBySender(t *testing.T) {
	m := New(Config{BySender: true}, t0)
	f := feeder{t, m}
	f.msg(0, "10.0.0.1:1", "/x")
	f.msg(0, "10.0.0.2:1", "/x")
	f.msg(0, "10.0.0.2:1", "/x")
	s := snap(m, 0)
	order := s.Order(ByCount, nil, nil)
	if len(order) != 2 || s.Rows[order[0]].Key != (Key{"/x", "10.0.0.2:1"}) || s.Rows[order[0]].Count != 2 {
		t.Errorf("rows %+v", s.Rows)
	}
}

// Orders, ties broken by address, and the row filter.
func TestOrder(t *testing.T) {
	m := New(Config{}, t0)
	f := feeder{t, m}
	f.msg(0, me, "/c")
	f.msg(300*time.Millisecond, me, "/a")
	f.msg(300*time.Millisecond, me, "/a")
	f.msg(300*time.Millisecond, me, "/b")
	f.msg(400*time.Millisecond, me, "/d")
	s := snap(m, 2*Slot)
	names := func(by Sort, keep func(Key) bool) string {
		var out []string
		for _, i := range s.Order(by, keep, nil) {
			out = append(out, s.Rows[i].Key.Address)
		}
		return strings.Join(out, " ")
	}
	for _, tt := range []struct {
		by   Sort
		want string
	}{
		{ByAddress, "/a /b /c /d"},
		{ByRate, "/a /b /c /d"}, // slots 1 and 2 are complete: /d's (slot 2) is too
		{ByRecent, "/d /a /b /c"},
		{ByCount, "/a /b /c /d"},
	} {
		if got := names(tt.by, nil); got != tt.want {
			t.Errorf("%s: %s, want %s", tt.by, got, tt.want)
		}
	}
	if got := names(ByAddress, func(k Key) bool { return k.Address >= "/c" }); got != "/c /d" {
		t.Errorf("filtered: %s", got)
	}
}

// History keeps the last History messages, newest first; a message too
// long to keep whole keeps its text, cut.
func TestDetailHistory(t *testing.T) {
	m := New(Config{}, t0)
	f := feeder{t, m}
	for i := range History + 2 {
		f.msg(time.Duration(i)*time.Millisecond, me, "/h", osc.Int32(int32(i)))
	}
	long := strings.Repeat("x", 200)
	f.msg(time.Second, me, "/h", osc.String(long))
	var d Detail
	if !m.Detail(Key{Address: "/h"}, &d) || len(d.History) != History {
		t.Fatalf("history %d entries", len(d.History))
	}
	if d.History[0].Msg != nil || !strings.HasPrefix(string(d.History[0].Text), "s:xxx") || !strings.HasSuffix(string(d.History[0].Text), "…") || len(d.History[0].Text) > historyBytes {
		t.Errorf("long entry %q", d.History[0].Text)
	}
	var msg osc.Message
	if err := osc.DecodeMessage(d.History[1].Msg, &msg); err != nil || msg.Args[0].Int32() != History+1 || !d.History[1].At.Equal(t0.Add((History+1)*time.Millisecond)) {
		t.Errorf("second entry %v %v at %v", msg, err, d.History[1].At)
	}
	if m.Detail(Key{Address: "/none"}, &d) {
		t.Error("detail of a row that is not there")
	}
}

// A last message longer than MaxKeep is shown cut and cannot be decoded
// (copied).
func TestLongLastValue(t *testing.T) {
	m := New(Config{}, t0)
	f := feeder{t, m}
	f.msg(0, me, "/blob", osc.Blob(make([]byte, 2000)))
	r := rowOf(t, snap(m, 0), "/blob")
	if r.Message(&osc.Message{}) || r.MsgSize != 2016 || !strings.HasSuffix(string(r.AppendLast(nil, &osc.Message{})), "…") {
		t.Errorf("msg %d bytes, size %d, last %q", len(r.Msg), r.MsgSize, r.AppendLast(nil, &osc.Message{}))
	}
}

// Clear starts again from nothing.
func TestClear(t *testing.T) {
	m := New(Config{}, t0)
	f := feeder{t, m}
	f.msg(0, me, "/a")
	m.Clear(t0.Add(time.Second))
	f.msg(1100*time.Millisecond, me, "/b")
	s := snap(m, 2*time.Second)
	if len(s.Rows) != 1 || s.Rows[0].Key.Address != "/b" || s.Packets != 1 || !s.Start.Equal(t0.Add(time.Second)) {
		t.Errorf("after clear: %+v", s)
	}
}

// Adding a message in the steady state allocates nothing: plain messages,
// bundles and many addresses.
func TestRenderAllocs(t *testing.T) {
	m := New(Config{}, t0)
	events := benchEvents(t, 40)
	for _, ev := range events { // the rows and their buffers exist now
		_ = m.Render(ev)
	}
	i := 0
	if n := testing.AllocsPerRun(1000, func() {
		_ = m.Render(events[i%len(events)])
		i++
	}); n != 0 {
		t.Errorf("Render allocates %v times per packet", n)
	}
}

func benchEvents(t testing.TB, addrs int) []*format.Event {
	var evs []*format.Event
	for i := range addrs {
		raw, _ := osc.AppendMessage(nil, &osc.Message{Address: fmt.Sprintf("/1/fader%d", i), Args: []osc.Arg{osc.Float32(float32(i) / 40)}})
		p, err := osc.Decode(raw)
		if err != nil {
			t.Fatal(err)
		}
		evs = append(evs, &format.Event{Time: t0.Add(time.Duration(i) * time.Millisecond), From: me, Raw: raw, Packet: p})
	}
	b := &osc.Bundle{Timetag: osc.Immediately, Elements: []osc.Packet{
		&osc.Message{Address: "/b/1", Args: []osc.Arg{osc.Int32(1), osc.Float32(2)}},
		&osc.Message{Address: "/b/2", Args: []osc.Arg{osc.String("x")}},
	}}
	raw, _ := osc.AppendBundle(nil, b)
	p, _ := osc.Decode(raw)
	return append(evs, &format.Event{Time: t0, From: me, Raw: raw, Packet: p})
}

func BenchmarkRender(b *testing.B) {
	m := New(Config{}, t0)
	events := benchEvents(b, 40)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		_ = m.Render(events[i%len(events)])
		i++
	}
}

func BenchmarkSnapshot10000(b *testing.B) {
	m := New(Config{}, t0)
	var s Snapshot
	for i := range 10000 {
		raw, _ := osc.AppendMessage(nil, &osc.Message{Address: fmt.Sprintf("/f/%05d", i), Args: []osc.Arg{osc.Float32(0.5)}})
		p, _ := osc.Decode(raw)
		_ = m.Render(&format.Event{Time: t0, From: me, Raw: raw, Packet: p})
	}
	b.ReportAllocs()
	for b.Loop() {
		m.Snapshot(t0.Add(time.Second), &s)
	}
}

// The text and JSON snapshots (goldens in testdata/).
func TestPrint(t *testing.T) {
	m := New(Config{MaxRows: 4}, t0)
	f := feeder{t, m}
	for i := range 8 {
		at := time.Duration(i) * 125 * time.Millisecond
		f.msg(at, me, "/1/fader1", osc.Float32(float32(i)/8))
		if i%2 == 0 {
			f.msg(at, me, "/1/xy", osc.Float32(0.25), osc.Float32(float32(i)))
		}
	}
	f.msg(0, me, "/label", osc.String("two words\x1b[2J"))
	f.msg(0, me, "/v", osc.Int32(1))
	f.msg(time.Millisecond, me, "/v", osc.String("now a string"))
	f.msg(time.Millisecond, me, "/more")
	f.packet(time.Second, "127.0.0.1:6000", []byte("/bad\x00\x00\x00\x00,x\x00\x00"))
	s := snap(m, 1500*time.Millisecond)
	for _, tt := range []struct {
		name string
		got  []byte
	}{
		{"snapshot.txt", NewPrinter(PrintOptions{Location: time.UTC}).AppendText(nil, s)},
		{"snapshot-rate.txt", NewPrinter(PrintOptions{Location: time.UTC, Sort: ByRate}).AppendText(nil, s)},
		{"snapshot.json", NewPrinter(PrintOptions{}).AppendJSON(nil, s)},
	} {
		golden(t, tt.name, tt.got)
	}
	var obj struct {
		Packets int64
		Rows    []struct {
			Address string
			Count   int64
			Args    []any
			Min     []any
		}
		Malformed struct{ Count int64 }
	}
	if err := json.Unmarshal(NewPrinter(PrintOptions{}).AppendJSON(nil, s), &obj); err != nil {
		t.Fatal(err)
	}
	if obj.Packets != 17 || len(obj.Rows) != 4 || obj.Rows[0].Address != "/1/fader1" || obj.Rows[0].Count != 8 || obj.Malformed.Count != 1 {
		t.Errorf("JSON snapshot: %+v", obj)
	}
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update)", err)
	}
	if string(got) != string(want) {
		t.Errorf("%s differs:\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

func TestAppendAge(t *testing.T) {
	for _, tt := range []struct {
		d    time.Duration
		want string
	}{
		{0, "0.0s"}, {340 * time.Millisecond, "0.3s"}, {12 * time.Second, "12s"},
		{185 * time.Second, "3m05s"}, {2*time.Hour + 3*time.Minute, "2h03m"},
	} {
		if got := string(AppendAge(nil, tt.d)); got != tt.want {
			t.Errorf("%v: %s, want %s", tt.d, got, tt.want)
		}
	}
}

func TestParseSort(t *testing.T) {
	if s, err := ParseSort("rate"); err != nil || s != ByRate {
		t.Errorf("rate: %v %v", s, err)
	}
	if _, err := ParseSort("speed"); err == nil || err.Error() != `invalid --sort "speed" (want address, rate, recent, count)` {
		t.Errorf("speed: %v", err)
	}
}

func BenchmarkRender10000(b *testing.B) {
	m := New(Config{}, t0)
	var evs []*format.Event
	for i := range 10000 {
		raw, _ := osc.AppendMessage(nil, &osc.Message{Address: fmt.Sprintf("/f/%05d", i), Args: []osc.Arg{osc.Float32(0.5)}})
		p, _ := osc.Decode(raw)
		evs = append(evs, &format.Event{Time: t0, From: me, Raw: raw, Packet: p})
	}
	for _, ev := range evs {
		_ = m.Render(ev)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		ev := evs[i%len(evs)]
		ev.Time = ev.Time.Add(time.Microsecond)
		_ = m.Render(ev)
		i++
	}
}

func BenchmarkPrintText10000(b *testing.B) {
	m := New(Config{}, t0)
	var s Snapshot
	for i := range 10000 {
		raw, _ := osc.AppendMessage(nil, &osc.Message{Address: fmt.Sprintf("/f/%05d", i), Args: []osc.Arg{osc.Float32(0.5)}})
		p, _ := osc.Decode(raw)
		_ = m.Render(&format.Event{Time: t0, From: me, Raw: raw, Packet: p})
	}
	m.Snapshot(t0.Add(time.Second), &s)
	pr := NewPrinter(PrintOptions{Location: time.UTC})
	var buf []byte
	b.ReportAllocs()
	for b.Loop() {
		buf = pr.AppendText(buf[:0], &s)
	}
}
