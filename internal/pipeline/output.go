package pipeline

import (
	"errors"
	"io"
	"sync"
	"time"

	"github.com/oscli/oscli/internal/clock"
)

// StopGrace is how long a write to the output may still take once the run
// is stopping. A write to a pipe nobody reads blocks in the kernel for as
// long as the reader sleeps; after StopGrace it is given up, so a stop
// (Ctrl-C, a signal, --count, --timeout, an error) ends the run within
// about this long whatever the output does.
const StopGrace = time.Second

// ErrBlocked is the output error of a run whose output did not take a
// write within StopGrace of the stop.
var ErrBlocked = errors.New("output blocked")

// outWriter is the output under the pipeline's buffer. Each Write (one per
// flush of the buffer, not one per packet) is done by a goroutine of its
// own while the caller waits for it; until the run is stopping the caller
// waits as long as it takes (back-pressure, as a plain write would), after
// that at most StopGrace. A write given up may still be running: the
// writer is then stuck and refuses every later write, and the buffer it
// was given must not be touched again (the pipeline writes nothing after
// an output error). Writes are serialised by the pipeline's lock.
type outWriter struct {
	w   io.Writer
	clk clock.Clock

	req chan []byte
	res chan outResult

	stopping chan struct{} // closed when the run begins to stop
	stopOnce sync.Once

	started bool  // the writing goroutine runs
	stuck   bool  // a write was given up
	closed  bool  // no more writes
	writes  int64 // writes that reached the output, in full
}

type outResult struct {
	n   int
	err error
}

func newOutWriter(w io.Writer, clk clock.Clock) *outWriter {
	return &outWriter{w: w, clk: clk, req: make(chan []byte), res: make(chan outResult, 1), stopping: make(chan struct{})}
}

func (o *outWriter) loop() {
	for b := range o.req {
		n, err := o.w.Write(b)
		o.res <- outResult{n, err}
	}
}

// Write writes b to the output, or gives up StopGrace after the stop.
func (o *outWriter) Write(b []byte) (int, error) {
	switch {
	case o.stuck:
		return 0, ErrBlocked
	case o.closed:
		return 0, io.ErrClosedPipe
	case !o.started:
		o.started = true
		go o.loop()
	}
	o.req <- b
	var r outResult
	select {
	case r = <-o.res:
	case <-o.stopping:
		r = o.await()
	}
	if r.err == nil && r.n == len(b) {
		o.writes++
	}
	return r.n, r.err
}

// await waits for the pending write for StopGrace at most.
func (o *outWriter) await() outResult {
	select {
	case r := <-o.res:
		return r
	default:
	}
	expired := make(chan struct{})
	t := o.clk.AfterFunc(StopGrace, func() { close(expired) })
	defer t.Stop()
	select {
	case r := <-o.res:
		return r
	case <-expired:
		o.stuck = true
		return outResult{0, ErrBlocked}
	}
}

// stop says the run is stopping: from now on a write gets StopGrace.
func (o *outWriter) stop() { o.stopOnce.Do(func() { close(o.stopping) }) }

// close ends the writing goroutine once its write (if any) returns.
func (o *outWriter) close() {
	if !o.closed && o.started {
		close(o.req)
	}
	o.closed = true
}

// Output writes to w the way the pipeline writes its own output, for
// output a command prints on its own schedule rather than per packet
// (top's snapshots): until Stopping, a Write waits as long as the writer
// takes (back-pressure); after it, at most StopGrace, then it fails with
// ErrBlocked and every later Write fails at once. Writes must not
// overlap.
type Output struct{ w *outWriter }

// NewOutput returns an Output writing to w, timed by clk.
func NewOutput(w io.Writer, clk clock.Clock) *Output { return &Output{w: newOutWriter(w, clk)} }

// Write writes b, or gives up StopGrace after Stopping.
func (o *Output) Write(b []byte) (int, error) { return o.w.Write(b) }

// Stopping says the run is stopping; it may be called from any goroutine,
// any number of times.
func (o *Output) Stopping() { o.w.stop() }

// Close ends the writing goroutine; call it after the last Write.
func (o *Output) Close() { o.w.close() }
