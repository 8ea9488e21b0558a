package pipeline

import (
	"errors"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/oscli/oscli/internal/format"
	"github.com/oscli/oscli/internal/osc"
	"github.com/oscli/oscli/internal/transport"
)

// blockingWriter is a stdout nobody reads: after the first `pass`
// writes, each Write blocks until the test releases it, and says when it
// has started.
type blockingWriter struct {
	pass    int
	started chan struct{} // one value per blocking Write that has started
	release chan struct{}
	mu      sync.Mutex
	got     strings.Builder
}

func newBlockingWriter(t *testing.T, pass int) *blockingWriter {
	w := &blockingWriter{pass: pass, started: make(chan struct{}, 100), release: make(chan struct{})}
	t.Cleanup(func() {
		select {
		case <-w.release:
		default:
			close(w.release)
		}
	})
	return w
}

func (w *blockingWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	block := w.pass == 0
	if !block {
		w.pass--
	}
	w.mu.Unlock()
	if block {
		w.started <- struct{}{}
		<-w.release
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.got.Write(p)
}

func (w *blockingWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.got.String()
}

// waitStarted waits until a Write blocks: the ready signal that the
// pipeline is stuck in a flush.
func (w *blockingWriter) waitStarted(t *testing.T) {
	t.Helper()
	select {
	case <-w.started:
	case <-time.After(10 * time.Second):
		t.Fatal("no write started")
	}
}

// blockedRig is a rig whose output is w. (Its packets are fed with More
// false, or the count reached, so that no flush timer is pending: the
// fake clock runs timers inside Advance, and a timed flush would wait
// there for the lock the blocked flush holds.)
func blockedRig(t *testing.T, cfg Config, w io.Writer) *rig {
	r := newRig(t, cfg)
	r.p.ow.w = w // before the first write starts the writing goroutine
	return r
}

func packet(t *testing.T, p osc.Packet, more bool) *transport.Packet {
	t.Helper()
	raw, err := osc.AppendPacket(nil, p)
	if err != nil {
		t.Fatal(err)
	}
	return &transport.Packet{Data: raw, More: more, Source: src}
}

// handleAsync runs Handle in the background; the channel closes when it
// has returned.
func (r *rig) handleAsync(t *testing.T, p osc.Packet, more bool) <-chan struct{} {
	pk := packet(t, p, more)
	done := make(chan struct{})
	go func() {
		r.p.Handle(pk)
		close(done)
	}()
	return done
}

// waitReturned waits (up to 10 s) for a background Handle to return.
func waitReturned(t *testing.T, c <-chan struct{}) {
	t.Helper()
	select {
	case <-c:
	case <-time.After(10 * time.Second):
		t.Fatal("Handle still blocked 10s after the grace")
	}
}

func returned(c <-chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}

// A flush blocked on the output holds the run as long as it is not
// stopping (back-pressure); once it is, the write gets exactly StopGrace
// on the injected clock, then is given up: Handle and Close return, the
// packet shown but not written is counted, and nothing after it is shown.
func TestBlockedOutputGivenUpAfterGrace(t *testing.T) {
	bw := newBlockingWriter(t, 1)
	r := blockedRig(t, Config{}, bw)
	r.feed(t, msg("/a"), false) // written
	first := r.handleAsync(t, msg("/b"), false)
	bw.waitStarted(t)
	r.clk.Advance(time.Hour) // not stopping: the write takes as long as it takes
	if returned(first) {
		t.Fatal("a blocked write was given up before the run was stopping")
	}
	r.p.Stopping()
	if !r.clk.BlockUntil(1, 10*time.Second) {
		t.Fatal("no grace timer after Stopping")
	}
	second := r.handleAsync(t, msg("/c"), false) // waits for the lock
	r.clk.Advance(StopGrace - time.Nanosecond)
	if returned(first) {
		t.Fatal("given up before StopGrace")
	}
	r.clk.Advance(time.Nanosecond)
	waitReturned(t, first)
	waitReturned(t, second)
	st, err := r.p.Close()
	if !errors.Is(err, ErrBlocked) || st.Packets != 2 || st.Unwritten != 1 || r.stops != 1 {
		t.Fatalf("close: %+v %v, stops %d", st, err, r.stops)
	}
	if s := Summary(st, transport.ListenStats{}, false); !strings.HasSuffix(s, ", 1 not written") {
		t.Errorf("summary %q", s)
	}
	if got := addresses(bw.String()); got != "/a" {
		t.Errorf("written: %q", got)
	}
}

// A write that finishes within StopGrace of the stop is not given up:
// a slow reader still gets everything.
func TestSlowOutputWithinGrace(t *testing.T) {
	bw := newBlockingWriter(t, 0)
	r := blockedRig(t, Config{}, bw)
	handled := r.handleAsync(t, msg("/a"), false)
	bw.waitStarted(t)
	r.p.Stopping()
	if !r.clk.BlockUntil(1, 10*time.Second) {
		t.Fatal("no grace timer after Stopping")
	}
	r.clk.Advance(StopGrace - time.Nanosecond)
	close(bw.release)
	waitReturned(t, handled)
	st, err := r.p.Close()
	if err != nil || st.Unwritten != 0 || addresses(bw.String()) != "/a" {
		t.Fatalf("close: %+v %v; wrote %q", st, err, bw.String())
	}
}

// --count reached while stdout is blocked ends the run StopGrace later,
// with the packet counted as not written.
func TestCountWithBlockedOutput(t *testing.T) {
	bw := newBlockingWriter(t, 1)
	r := blockedRig(t, Config{Count: 2}, bw)
	r.feed(t, msg("/a"), false) // written
	handled := r.handleAsync(t, msg("/b"), true)
	bw.waitStarted(t) // the count stops the run, then flushes
	if !r.clk.BlockUntil(1, 10*time.Second) {
		t.Fatal("no grace timer after --count")
	}
	r.clk.Advance(StopGrace)
	waitReturned(t, handled)
	st, err := r.p.Close()
	if !errors.Is(err, ErrBlocked) || st.Packets != 2 || st.Unwritten != 1 || r.stops != 1 {
		t.Fatalf("close: %+v %v, stops %d", st, err, r.stops)
	}
}

// A failing record (a full disk) stops the run, but what was shown still
// reaches the output; the error says it was the record.
func TestRecordErrorFlushesOutput(t *testing.T) {
	rec := &failRenderer{after: 2}
	r := newRig(t, Config{RecordOut: io.Discard, RecordRender: func(io.Writer) format.Renderer { return rec }})
	for _, a := range []string{"/a", "/b", "/c", "/d"} {
		r.feed(t, msg(a), true) // all buffered: nothing flushed yet
	}
	st, err := r.p.Close()
	var re *RecordError
	if !errors.As(err, &re) || !errors.Is(err, errDiskFull) || st.Packets != 3 || st.Unwritten != 0 || st.Unrecorded != 1 || r.stops != 1 {
		t.Fatalf("close: %+v %v, stops %d", st, err, r.stops)
	}
	if got := addresses(r.out.String()); got != "/a /b /c" {
		t.Fatalf("output %q, want every packet counted", got)
	}
}

var errDiskFull = errors.New("no space left on device")

// failRenderer records `after` events, then fails.
type failRenderer struct{ after int }

func (f *failRenderer) Render(*format.Event) error {
	if f.after == 0 {
		return errDiskFull
	}
	f.after--
	return nil
}

// An output that fails counts what it could not take.
func TestOutputErrorCountsUnwritten(t *testing.T) {
	r := newRig(t, Config{})
	r.p.ow.w = failWriter{}
	r.feed(t, msg("/a"), true)
	r.feed(t, msg("/b"), false)
	r.feed(t, msg("/c"), false)
	st, err := r.p.Close()
	if !errors.Is(err, io.ErrClosedPipe) || st.Packets != 2 || st.Unwritten != 2 {
		t.Fatalf("close: %+v %v", st, err)
	}
}

// Flushing hands the buffer to the writing goroutine and back without
// allocating: a packet flushed on its own (a quiet line) allocates nothing.
func TestFlushAllocs(t *testing.T) {
	raw, _ := osc.AppendPacket(nil, msg("/1/fader", osc.Float32(0.5)))
	p := discard("text")
	pk := &transport.Packet{Data: raw, Source: src} // More false: a flush each
	p.Handle(pk)
	if n := testing.AllocsPerRun(1000, func() { p.Handle(pk) }); n != 0 {
		t.Errorf("%v allocs per flushed packet, want 0", n)
	}
}

// BenchmarkHandleFlushed is a quiet line: each packet is flushed on its
// own, so each pays the handoff to the writing goroutine.
func BenchmarkHandleFlushed(b *testing.B) {
	raw, _ := osc.AppendPacket(nil, msg("/1/fader", osc.Float32(0.5)))
	p := discard("text")
	pk := &transport.Packet{Data: raw, Source: src}
	b.ReportAllocs()
	for b.Loop() {
		p.Handle(pk)
	}
}

// A record nobody reads (a FIFO, a blocked /dev/stdout) holds the run like
// a blocked stdout does, and is given up the same way: StopGrace after the
// stop on the injected clock, the packet shown but not recorded counted,
// a *RecordError wrapping ErrBlocked, and the output still flushed.
func TestBlockedRecordGivenUpAfterGrace(t *testing.T) {
	bw := newBlockingWriter(t, 1)
	r := newRig(t, Config{RecordOut: bw, RecordRender: func(w io.Writer) format.Renderer { return format.NewJSON(w) }})
	r.feed(t, msg("/a"), false) // shown and recorded
	first := r.handleAsync(t, msg("/b"), false)
	bw.waitStarted(t)
	r.clk.Advance(time.Hour) // not stopping: back-pressure
	if returned(first) {
		t.Fatal("a blocked record write was given up before the run was stopping")
	}
	r.p.Stopping()
	if !r.clk.BlockUntil(1, 10*time.Second) {
		t.Fatal("no grace timer after Stopping")
	}
	r.clk.Advance(StopGrace - time.Nanosecond)
	if returned(first) {
		t.Fatal("given up before StopGrace")
	}
	r.clk.Advance(time.Nanosecond)
	waitReturned(t, first)
	r.feed(t, msg("/c"), false) // after the failure: not shown
	st, err := r.p.Close()
	var re *RecordError
	if !errors.As(err, &re) || !errors.Is(err, ErrBlocked) || st.Packets != 2 || st.Unrecorded != 1 || st.Unwritten != 0 || r.stops != 1 {
		t.Fatalf("close: %+v %v, stops %d", st, err, r.stops)
	}
	if s := Summary(st, transport.ListenStats{}, false); !strings.HasSuffix(s, ", 1 not recorded") {
		t.Errorf("summary %q", s)
	}
	if got := addresses(r.out.String()); got != "/a /b" {
		t.Errorf("shown: %q", got)
	}
	if got := bw.String(); !strings.Contains(got, "/a") || strings.Contains(got, "/b") {
		t.Errorf("recorded: %q", got)
	}
}
