package cmd

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/oscli/oscli/internal/osc"
)

// writeRecording writes JSON lines with the given packets at the given
// offsets from a start time.
func writeRecording(t *testing.T, offsets []time.Duration, pkts [][]byte) string {
	t.Helper()
	start := time.Date(2026, 11, 21, 18, 0, 0, 0, time.UTC)
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

// Replay reproduces the packets byte for byte and their spacing, within a
// tolerance fit for a loaded CI machine; --speed and --loop scale and
// repeat it.
func TestReplayTimingSpeedLoop(t *testing.T) {
	pkts := [][]byte{vectorData(t, "fader"), vectorData(t, "bundle-nested"), vectorData(t, "mixed-8")}
	offsets := []time.Duration{0, 150 * time.Millisecond, 400 * time.Millisecond}
	rec := writeRecording(t, offsets, pkts)
	const tolerance = 60 * time.Millisecond
	for _, tt := range []struct {
		name  string
		args  []string
		loops int
		speed float64
	}{
		{"normal", nil, 1, 1},
		{"speed 2 loop 2", []string{"--speed", "2", "--loop", "2"}, 2, 2},
	} {
		t.Run(tt.name, func(t *testing.T) {
			n := len(pkts) * tt.loops
			d := start(t, nil, "dump", "-H", "127.0.0.1", "-p", "0", "--json", "-n", fmt.Sprint(n))
			r := run(t, "", nil, append([]string{"replay", rec, d.addr}, tt.args...)...)
			if r.code != 0 || !strings.Contains(r.err, fmt.Sprintf("replayed %d packets", n)) {
				t.Fatalf("replay: %d %s", r.code, r.err)
			}
			got := arrivals(t, d.wait(t).out)
			if len(got) != n {
				t.Fatalf("%d packets arrived, want %d", len(got), n)
			}
			for i, a := range got {
				if string(a.raw) != string(pkts[i%len(pkts)]) {
					t.Errorf("packet %d differs", i)
				}
				want := time.Duration(float64(offsets[i%len(pkts)]+time.Duration(i/len(pkts))*offsets[len(offsets)-1]) / tt.speed)
				if el := a.at.Sub(got[0].at); el < want-tolerance || el > want+tolerance {
					t.Errorf("packet %d at +%v, want +%v ± %v", i, el, want, tolerance)
				}
			}
		})
	}
}

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
	b := start(t, nil, "dump", "-H", "127.0.0.1", "-p", "0", "--json", "-n", "3")
	r := run(t, "", nil, "replay", "--no-timing", rec, b.addr)
	if r.code != 0 || !strings.Contains(r.err, "line 4: invalid JSON") || !strings.Contains(r.err, "replayed 3 packets") || !strings.Contains(r.err, "1 bad records skipped") {
		t.Errorf("replay: %d %q", r.code, r.err)
	}
	for i, a := range arrivals(t, b.wait(t).out) {
		if string(a.raw) != string(pkts[i]) {
			t.Errorf("packet %d: %x, want %x", i, a.raw, pkts[i])
		}
	}
}

func TestReplayRetimeAndFilter(t *testing.T) {
	past := time.Now().Add(-time.Hour)
	b, _ := osc.AppendBundle(nil, &osc.Bundle{Timetag: osc.FromTime(past.Add(10 * time.Second)), Elements: []osc.Packet{&osc.Message{Address: "/cue"}}})
	m, _ := osc.AppendMessage(nil, &osc.Message{Address: "/other"})
	path := filepath.Join(t.TempDir(), "r.jsonl")
	line := func(at time.Time, p []byte) string {
		return fmt.Sprintf(`{"time":%q,"raw":%q}`+"\n", at.Format(time.RFC3339Nano), base64.StdEncoding.EncodeToString(p))
	}
	os.WriteFile(path, []byte(line(past, b)+line(past, m)), 0o644)
	pc, addr := listen(t)
	before := time.Now()
	if r := run(t, "", nil, "replay", "--retime", "--filter", "/cue", path, addr); r.code != 0 || !strings.Contains(r.err, "replayed 1 packets") {
		t.Fatalf("%d %s", r.code, r.err)
	}
	var got osc.Bundle
	if err := osc.DecodeBundle(receive(t, pc), &got); err != nil {
		t.Fatal(err)
	}
	if due := got.Timetag.Time().Sub(before); due < 9*time.Second || due > 11*time.Second {
		t.Errorf("retimed bundle due in %v, want about 10s", due)
	}
}

// An oscdump log made by the real liblo tools replays to the right bytes.
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

	d := start(t, nil, "dump", "-H", "127.0.0.1", "-p", "0", "-n", "3", "--time", "none")
	if r := run(t, "", nil, "replay", "--no-timing", path, d.addr); r.code != 0 || !strings.Contains(r.err, "(oscdump)") {
		t.Fatalf("%d %s", r.code, r.err)
	}
	got := lines(d.wait(t).out)
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
		r := run(t, "", nil, "bench", "--proto", proto, "--rate", "5000", "--count", "1000", "--json")
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
		if rep.Sent != 1000 || rep.Received != 1000 || rep.Lost != 0 || rep.Duplicates != 0 || rep.Latency != "one-way" || rep.P50 <= 0 {
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

// An echoing receiver that drops every 10th probe and swaps pairs: bench
// must count exactly that loss and reordering.
func TestBenchCountsLossAndReordering(t *testing.T) {
	pc, addr := listen(t)
	go func() {
		buf := make([]byte, 2048)
		var held []byte
		var heldFrom net.Addr
		for i := 0; ; i++ {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			p := append([]byte(nil), buf[:n]...)
			switch {
			case i%10 == 9: // dropped
			case i%10 == 0: // held, sent after the next one
				held, heldFrom = p, from
			default:
				pc.WriteTo(p, from)
				if held != nil {
					pc.WriteTo(held, heldFrom)
					held = nil
				}
			}
		}
	}()
	r := run(t, "", nil, "bench", addr, "--rate", "5000", "--count", "1000", "--json")
	var rep struct {
		Sent, Received, Lost, Reordered int64
		Latency                         string
	}
	if err := json.Unmarshal([]byte(r.out), &rep); err != nil {
		t.Fatalf("%v: %s %s", err, r.out, r.err)
	}
	if rep.Sent != 1000 || rep.Lost != 100 || rep.Received != 900 || rep.Reordered != 100 || rep.Latency != "round-trip" {
		t.Errorf("%+v", rep)
	}
}

// oscli dump --echo + oscli bench TARGET: round trips through a real dump.
func TestBenchThroughDumpEcho(t *testing.T) {
	d := start(t, nil, "dump", "-H", "127.0.0.1", "-p", "0", "--echo", "--format", "json")
	r := run(t, "", nil, "bench", d.addr, "--rate", "2000", "--count", "400", "--json")
	d.stop(t)
	if !strings.Contains(r.out, `"sent":400,"received":400,"lost":0`) || !strings.Contains(r.out, `"latency":"round-trip"`) {
		t.Errorf("%s %s", r.out, r.err)
	}
	// A target that does not echo: bench says what it can.
	_, addr := listen(t)
	r = run(t, "", nil, "bench", addr, "--count", "10")
	if r.code != 0 || !strings.Contains(r.err, "no echoes came back") {
		t.Errorf("%d %q", r.code, r.err)
	}
}
