package cmd

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/oscli/oscli/internal/clock"
	"github.com/oscli/oscli/internal/osc"
	"github.com/oscli/oscli/internal/slip"
)

// writeRecording writes JSON lines with the given packets at the given
// offsets from a start time.
func writeRecording(t *testing.T, start time.Time, offsets []time.Duration, pkts [][]byte) string {
	t.Helper()
	var b strings.Builder
	for i, p := range pkts {
		fmt.Fprintf(&b, `{"time":%q,"from":"127.0.0.1:1","proto":"udp","size":%d,"raw":%q}`+"\n",
			start.Add(offsets[i]).Format(time.RFC3339Nano), len(p), base64.StdEncoding.EncodeToString(p))
	}
	path := filepath.Join(t.TempDir(), "rec.jsonl")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

type arrival struct {
	at  time.Time
	raw []byte
}

func arrivals(t *testing.T, jsonl string) []arrival {
	var out []arrival
	for _, l := range lines(jsonl) {
		var ev struct {
			Time string `json:"time"`
			Raw  string `json:"raw"`
		}
		if err := json.Unmarshal([]byte(l), &ev); err != nil {
			t.Fatal(err)
		}
		at, _ := time.Parse(time.RFC3339Nano, ev.Time)
		raw, _ := base64.StdEncoding.DecodeString(ev.Raw)
		out = append(out, arrival{at, raw})
	}
	return out
}

// The replay flags reach the player: --dry-run prints each packet with
// the time it would go out, so the exact timing of --speed, --loop,
// --rate, --no-timing, --filter and --retime shows without a socket or a
// wait. (The timing itself is internal/replay's tests'.)
func TestReplayDryRun(t *testing.T) {
	msg := func(addr string) []byte { b, _ := osc.AppendMessage(nil, &osc.Message{Address: addr}); return b }
	past := t0.Add(-time.Hour)
	cue, _ := osc.AppendBundle(nil, &osc.Bundle{Timetag: osc.FromTime(past.Add(10 * time.Second)), Elements: []osc.Packet{&osc.Message{Address: "/cue"}}})
	rec := writeRecording(t, past, []time.Duration{0, 150 * time.Millisecond, 400 * time.Millisecond}, [][]byte{msg("/a"), cue, msg("/c")})
	slipRec := filepath.Join(t.TempDir(), "rec.slip")
	if err := os.WriteFile(slipRec, slip.Append(slip.Append(nil, msg("/s/1")), msg("/s/2")), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"speed 2 loop 2", []string{rec, "--speed", "2", "--loop", "2", "--filter", "/a", "--filter", "/c"},
			"+0.000000 replay  /a\n+0.200000 replay  /c\n+0.200000 replay  /a\n+0.400000 replay  /c\n"},
		{"no timing", []string{rec, "--no-timing", "--exclude", "/cue"},
			"+0.000000 replay  /a\n+0.000000 replay  /c\n"},
		{"rate", []string{slipRec, "--rate", "4", "--loop", "2"},
			"+0.000000 replay  /s/1\n+0.250000 replay  /s/2\n+0.500000 replay  /s/1\n+0.750000 replay  /s/2\n"},
		// The bundle recorded an hour ago 9.85 s before its time tag goes
		// out with the same lead.
		{"retime", []string{rec, "--retime", "--filter", "/cue"},
			"+0.000000 replay  #bundle 2026-11-21T18:00:09.850000Z in +9.85s [0xeeac5aa9d999999a]\n                    /cue\n"},
		{"without retime", []string{rec, "--filter", "/cue"},
			"+0.000000 replay  #bundle 2026-11-21T17:00:10.000000Z late 59m50s [0xeeac4c9a00000000]\n                    /cue\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runOn(t, clock.NewFake(t0), "", nil, append([]string{"replay", "--dry-run"}, tt.args...)...)
			if r.code != 0 || r.out != tt.want {
				t.Errorf("exit %d, stdout:\n%s\nwant:\n%s\nstderr: %s", r.code, r.out, tt.want, r.err)
			}
		})
	}
}

// The replay smoke test, over a real socket: a recording made by dump
// --record, cut short by a crash, replays byte for byte, loop after loop;
// the cut line is reported and counted once.
func TestRecordThenReplay(t *testing.T) {
	rec := filepath.Join(t.TempDir(), "s.jsonl")
	a := start(t, nil, "dump", "-H", "127.0.0.1", "-p", "0", "--record", rec, "-n", "3", "--time", "none")
	pkts := [][]byte{vectorData(t, "string-control"), vectorData(t, "bundle-10"), vectorData(t, "float-nan")}
	sendRaw(t, a.addr, pkts...)
	if r := a.wait(t); len(lines(r.out)) != 1+10+2 {
		t.Fatalf("dump printed %q", r.out)
	}
	// A crash mid-write leaves a cut last line: it is skipped, not fatal.
	f, err := os.OpenFile(rec, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(`{"time":"2026-11-21T18:00:00Z","raw":"LzEv`)
	f.Close()
	b := start(t, nil, "dump", "-H", "127.0.0.1", "-p", "0", "--json", "-n", "6")
	r := run(t, "", nil, "replay", "--no-timing", "--loop", "2", rec, b.addr)
	if r.code != 0 || strings.Count(r.err, "line 4: invalid JSON") != 1 || !strings.Contains(r.err, "replayed 6 packets") || !strings.Contains(r.err, "; 1 bad record skipped") {
		t.Errorf("replay: %d %q", r.code, r.err)
	}
	got := arrivals(t, b.wait(t).out)
	if len(got) != 6 {
		t.Fatalf("%d packets arrived, want 6", len(got))
	}
	for i, a := range got {
		if string(a.raw) != string(pkts[i%3]) {
			t.Errorf("packet %d: %x, want %x", i, a.raw, pkts[i%3])
		}
	}
}

// Every recording dump can write, replay can read: a 1 MB packet whose
// string is 1,000,000 ESC bytes (a 7.3 MB JSON line) goes into dump over
// TCP, into its --record file, and out of replay to a second dump, byte
// for byte. (That a UDP target gets the rest, the big one skipped, is
// internal/replay's TestPlaySkipsTooBig.)
func TestRecordReplayEscapeMegabyte(t *testing.T) {
	esc := &osc.Message{Address: "/esc", Args: []osc.Arg{osc.String(strings.Repeat("\x1b", 1_000_000))}}
	want, err := osc.AppendMessage(nil, esc)
	if err != nil {
		t.Fatal(err)
	}
	rec := filepath.Join(t.TempDir(), "esc.jsonl")
	a := tcpDump(t, "--record", rec, "-n", "2", "--format", "raw")
	if r := run(t, "", nil, "send", "tcp://"+tcpAddr(a), "/esc", "s:"+strings.Repeat("\x1b", 1_000_000)); r.code != 0 {
		t.Fatal(r.err)
	}
	if r := run(t, "", nil, "send", "tcp://"+tcpAddr(a), "/after"); r.code != 0 {
		t.Fatal(r.err)
	}
	if r := a.wait(t); r.code != 0 {
		t.Fatalf("dump: %d %s", r.code, r.err)
	}
	if fi, err := os.Stat(rec); err != nil || fi.Size() < 7_000_000 {
		t.Fatalf("recording: %v %v", fi, err)
	}
	b := tcpDump(t, "--format", "raw", "-n", "2")
	if r := run(t, "", nil, "replay", "--no-timing", rec, "tcp://"+tcpAddr(b)); r.code != 0 || !strings.Contains(r.err, "replayed 2 packets") {
		t.Fatalf("replay: %d %s", r.code, r.err)
	}
	// Two connections into the first dump: either may have come first.
	found := false
	d := slip.NewDecoder(strings.NewReader(b.wait(t).out), osc.MaxPacket)
	for {
		p, err := d.Next()
		if err != nil {
			break
		}
		found = found || string(p) == string(want)
	}
	if !found {
		t.Fatalf("the %d bytes sent did not arrive", len(want))
	}
}

// An oscdump log made by the real liblo tools replays to the right
// messages (what liblo printed is what replay would send).
func TestReplayOscdumpLog(t *testing.T) {
	oscdump := needPeer(t, "oscdump")
	oscsend := needPeer(t, "oscsend")
	port := freeUDPPort(t)
	linesc := startPeerLines(t, oscdump, "-L", port)
	awaitPeer(t, linesc, func() { run(t, "", nil, "send", "127.0.0.1:"+port, "/ready") }, "/ready")
	sends := [][]string{
		{"/all", "ihfdsScmTFNI", "-5", "123456789012", "1.5", "-2.25", `say "hi" there`, "sym bol", "x", "00903c7f"},
		{"/empty"},
		{"/s", "s", "two  spaces"},
	}
	var log strings.Builder
	for _, s := range sends {
		if out, err := exec.Command(oscsend, append([]string{"127.0.0.1", port}, s...)...).CombinedOutput(); err != nil {
			t.Fatalf("%v %s", err, out)
		}
		log.WriteString(nextLine(t, linesc) + "\n")
	}
	path := filepath.Join(t.TempDir(), "oscdump.log")
	os.WriteFile(path, []byte(log.String()), 0o644)

	r := run(t, "", nil, "replay", "--dry-run", "--no-timing", path)
	if r.code != 0 || !strings.Contains(r.err, "(oscdump)") {
		t.Fatalf("%d %s", r.code, r.err)
	}
	got := lines(r.out)
	want := []string{
		`/all i:-5 h:123456789012 f:1.5 d:-2.25 s:'say "hi" there' S:"sym bol" c:x m:00903c7f T F N I`,
		`/empty`,
		`/s s:"two  spaces"`,
	}
	for i := range want {
		if i >= len(got) || !strings.HasSuffix(got[i], "  "+want[i]) {
			t.Errorf("line %d: got %q, want %q\nlog:\n%s", i, got, want[i], log.String())
		}
	}
}

func TestBenchLoopback(t *testing.T) {
	for _, proto := range []string{"udp", "tcp"} {
		r := run(t, "", nil, "bench", "--proto", proto, "--count", "100", "--json")
		if r.code != 0 {
			t.Fatalf("%s: %d %s", proto, r.code, r.err)
		}
		var rep struct {
			Sent, Received, Lost, Reordered, Duplicates int64
			Latency                                     string
			P50                                         float64 `json:"p50_us"`
		}
		if err := json.Unmarshal([]byte(r.out), &rep); err != nil {
			t.Fatalf("%v: %s", err, r.out)
		}
		if rep.Sent != 100 || rep.Received != 100 || rep.Lost != 0 || rep.Duplicates != 0 || rep.Latency != "one-way" || rep.P50 <= 0 {
			t.Errorf("%s: %+v", proto, rep)
		}
	}
	r := run(t, "", nil, "bench", "--count", "100")
	for _, want := range []string{"sent       100", "lost       0 (0.000%)", "latency (one-way)  p50"} {
		if !strings.Contains(strings.Join(strings.Fields(r.out), " "), strings.Join(strings.Fields(want), " ")) {
			t.Errorf("table lacks %q:\n%s", want, r.out)
		}
	}
}

// oscli dump --echo + oscli bench TARGET: round trips through a real dump.
// (Loss and reordering accounting is internal/bench's tests'.)
func TestBenchThroughDumpEcho(t *testing.T) {
	d := start(t, nil, "dump", "-H", "127.0.0.1", "-p", "0", "--echo", "--format", "json")
	r := run(t, "", nil, "bench", d.addr, "--count", "100", "--json")
	d.stop(t)
	if !strings.Contains(r.out, `"sent":100,"received":100,"lost":0`) || !strings.Contains(r.out, `"latency":"round-trip"`) {
		t.Errorf("%s %s", r.out, r.err)
	}
}

// A target that does not echo: bench paces at --rate on its clock, waits
// 200 ms (on the clock) for echoes that never come, and says what it can:
// what it sent, and that the loss is unknown (not 100 %).
func TestBenchNoEchoes(t *testing.T) {
	_, addr := listen(t)
	clk := clock.NewFake(t0)
	r := launch(t, clk, nil, "bench", addr, "--rate", "1000", "--count", "5", "--json").tick(t, clk, time.Millisecond)
	// Five probes at 0…4 ms.
	if r.code != 0 || !strings.Contains(r.out, `"latency":"none",`) ||
		!strings.Contains(r.out, `"rate":1000,"duration_s":0.004,"sent":5,"received":0,"lost":null,"loss_percent":null,`) ||
		!strings.Contains(r.err, "no echoes came back") {
		t.Errorf("%d %s %q", r.code, r.out, r.err)
	}
	if waited := clk.Now().Sub(t0); waited != 204*time.Millisecond {
		t.Errorf("ended at +%v, want +204ms (4 ms sending, 200 ms waiting for echoes)", waited)
	}
}
