package cmd

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/oscli/oscli/internal/clock"
	"github.com/oscli/oscli/internal/iostreams"
	"github.com/oscli/oscli/internal/pipeline"
	"github.com/oscli/oscli/internal/transport"
)

// top draws the full screen only when stdout is a terminal (not a dumb
// one) and neither --interval nor --json asks for snapshots; off a
// terminal it prints a snapshot every second unless told otherwise.
func TestTopScreenOrSnapshots(t *testing.T) {
	for _, tt := range []struct {
		tty      bool
		term     string
		args     []string
		screen   bool
		interval time.Duration
	}{
		{true, "xterm", nil, true, time.Second},
		{true, "xterm", []string{"--interval", "2s"}, false, 2 * time.Second},
		{true, "xterm", []string{"--json"}, false, time.Second},
		{true, "dumb", nil, false, time.Second},
		{false, "xterm", nil, false, time.Second},
		{false, "xterm", []string{"--interval", "250ms"}, false, 250 * time.Millisecond},
	} {
		t.Run(fmt.Sprint(tt.tty, tt.term, tt.args), func(t *testing.T) {
			ios, _, _, errb := iostreams.Test()
			ios.SetStdoutTTY(tt.tty)
			var got *topOptions
			getenv := func(k string) string {
				if k == "TERM" {
					return tt.term
				}
				return ""
			}
			env := &Env{ios: ios, Getenv: getenv, Clock: clock.Real, parseOnly: true,
				parsed: func(o any) { got = o.(*topOptions) }}
			if code := Run(context.Background(), env, append([]string{"top"}, tt.args...)); code != 0 || got == nil {
				t.Fatalf("exit %d: %s", code, errb)
			}
			if got.Screen != tt.screen || got.Interval != tt.interval {
				t.Errorf("screen %v interval %v, want %v %v", got.Screen, got.Interval, tt.screen, tt.interval)
			}
		})
	}
}

// Off a terminal, snapshots come every --interval of top's clock, on
// the interval's grid, and a last one at the stop holds everything
// counted; times, rates and ages are exact on the fake clock.
func TestTopSnapshotsOnClock(t *testing.T) {
	clk := clock.NewFake(t0)
	var out syncBuffer
	s := startSession(t, clk, strings.NewReader(""), &out, "top", "-H", "127.0.0.1", "-p", "0", "--interval", "1s", "-n", "3")
	addr := strings.TrimPrefix(<-s.ready, "udp://")
	clk.Advance(time.Second)
	out.waitFor(t, func(o string) bool { return strings.Contains(o, "\n\n") })
	clk.Advance(500 * time.Millisecond) // no snapshot: not on the grid
	sendRaw(t, addr, vectorData(t, "fader"), vectorData(t, "fader"), vectorData(t, "fader"))
	r := s.wait(t)
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.err)
	}
	t1 := t0.Add(time.Second).Local().Format("2006-01-02T15:04:05.000Z07:00")
	t2 := t0.Add(1500 * time.Millisecond).Local().Format("2006-01-02T15:04:05.000Z07:00")
	want := "# " + t1 + "  0 rows  0 packets (0 bundles)  0 messages  0.0 msgs/s  0 malformed\n" +
		"ADDRESS  TYPES  COUNT  RATE/S  MIN  MAX  AGE  SENDERS  LAST\n\n" +
		"# " + t2 + "  1 row  3 packets (0 bundles)  3 messages  0.0 msgs/s  0 malformed\n" +
		"ADDRESS   TYPES  COUNT  RATE/S  MIN  MAX   AGE  SENDERS  LAST\n" +
		"/1/fader  f          3     0.0  0.5  0.5  0.0s        1  f:0.5\n\n"
	if got := out.String(); got != want {
		t.Errorf("stdout\n%s\nwant\n%s", got, want)
	}
	if !strings.HasSuffix(r.err, "oscli: stopped by --count 3: 3 packets, 60 bytes, 0 malformed, 0 filtered\n") {
		t.Errorf("stderr %q", r.err)
	}
}

// A signal ends top even while stdout is blocked: the snapshot being
// written gets pipeline.StopGrace on top's clock, then is given up, and
// the exit code says output was lost.
func TestTopStopsWithBlockedStdout(t *testing.T) {
	clk := clock.NewFake(t0)
	stuck := newStuckStdout(t)
	s := startSession(t, clk, strings.NewReader(""), stuck, "top", "-H", "127.0.0.1", "-p", "0", "--interval", "1s")
	select {
	case <-s.ready:
	case r := <-s.done:
		t.Fatalf("exited: %d %s", r.code, r.err)
	}
	go clk.Advance(time.Second) // the snapshot's write blocks the clock's callback
	select {
	case <-stuck.started:
	case <-time.After(10 * time.Second):
		t.Fatal("top never wrote")
	}
	s.cancel(&signalCause{Signal: syscall.SIGTERM})
	if !clk.BlockUntil(1, 10*time.Second) {
		t.Fatal("no grace timer after the signal")
	}
	clk.Advance(pipeline.StopGrace)
	r := s.wait(t)
	want := "oscli: stopped by SIGTERM: 0 packets, 0 bytes, 0 malformed, 0 filtered\n" +
		"oscli: error: stdout blocked: a snapshot was not written (gave up 1s after the stop)\n"
	if r.code != 1 || !strings.HasSuffix(r.err, want) {
		t.Fatalf("%d\n%s\nwant suffix\n%s", r.code, r.err, want)
	}
}

// An output error (a closed pipe) stops top at once, named in the
// summary, exit 1.
func TestTopOutputError(t *testing.T) {
	clk := clock.NewFake(t0)
	s := startSession(t, clk, strings.NewReader(""), failingWriter{}, "top", "-H", "127.0.0.1", "-p", "0", "--interval", "1s")
	<-s.ready
	clk.Advance(time.Second)
	r := s.wait(t)
	want := "oscli: stopped by an output error: 0 packets, 0 bytes, 0 malformed, 0 filtered\n" +
		"oscli: error: write output: io: read/write on closed pipe\n"
	if r.code != 1 || !strings.HasSuffix(r.err, want) {
		t.Fatalf("%d\n%s\nwant suffix\n%s", r.code, r.err, want)
	}
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, io.ErrClosedPipe }

// A copied send line aims where top listens, on loopback when top
// listens on every address, and leaves out send's default.
func TestCopyTarget(t *testing.T) {
	for _, tt := range []struct {
		e    transport.Endpoint
		want string
	}{
		{transport.Endpoint{Proto: "udp", Host: "0.0.0.0", Port: 8000}, ""},
		{transport.Endpoint{Proto: "udp", Host: "0.0.0.0", Port: 9000}, "127.0.0.1:9000"},
		{transport.Endpoint{Proto: "udp", Host: "::", Port: 9000}, "[::1]:9000"},
		{transport.Endpoint{Proto: "udp", Host: "192.168.1.5", Port: 9000}, "192.168.1.5:9000"},
		{transport.Endpoint{Proto: "tcp", Host: "0.0.0.0", Port: 3032}, "tcp://127.0.0.1:3032"},
		{transport.Endpoint{Proto: "unix", Path: "/tmp/osc.sock"}, "unix:///tmp/osc.sock"},
	} {
		if got := copyTarget(tt.e); got != tt.want {
			t.Errorf("%v: %q, want %q", tt.e, got, tt.want)
		}
	}
}

// While the screen is up, lines for stderr are held (the last one shown)
// and written out, in order and bounded, once it is down.
func TestHeldLines(t *testing.T) {
	var w bytes.Buffer
	h := &heldLines{w: &w}
	fmt.Fprintln(h, "before")
	h.hold()
	for i := range maxHeld + 2 {
		fmt.Fprintf(h, "line %d\n", i)
	}
	if w.String() != "before\n" || h.last() != fmt.Sprintf("line %d", maxHeld+1) {
		t.Fatalf("while held: %q, last %q", w.String(), h.last())
	}
	if err := h.release(); err != nil {
		t.Fatal(err)
	}
	fmt.Fprintln(h, "after")
	got := strings.Split(w.String(), "\n")
	if got[1] != "line 0" || got[maxHeld] != fmt.Sprintf("line %d", maxHeld-1) ||
		got[maxHeld+1] != "oscli: 2 more lines for stderr while the screen was up were not kept" || got[maxHeld+2] != "after" {
		t.Errorf("released: %q … %q", got[:2], got[maxHeld-1:])
	}
}

// The q key's cause names the key in the summary and is no error.
func TestStopCauseReason(t *testing.T) {
	ctx, cancel := context.WithCancelCause(context.Background())
	cancel(&stopCause{reason: "q"})
	o := &listenOptions{}
	if got := o.stopReason(ctx, nil, nil); got != "q" {
		t.Errorf("reason %q", got)
	}
	var sc *stopCause
	if !errors.As(context.Cause(ctx), &sc) || sc.err != nil {
		t.Errorf("cause %v", context.Cause(ctx))
	}
}
