// Package pipeline is what happens to each packet a listener receives in
// dump (and the commands built like it): decode, filter, hold a future
// bundle until it is due (--schedule), render, record, count, and flush
// the output when the listener has nothing more queued. Time comes from an
// injected clock. It knows nothing of flags or terminals: the caller
// builds the renderers and the filter, and ends the run when asked.
package pipeline

import (
	"bufio"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/oscli/oscli/internal/clock"
	"github.com/oscli/oscli/internal/filter"
	"github.com/oscli/oscli/internal/format"
	"github.com/oscli/oscli/internal/osc"
	"github.com/oscli/oscli/internal/transport"
)

// FlushEvery bounds how long output may wait in the buffer while packets
// keep arriving (a flood), or when a listener said more were queued and
// none came.
const FlushEvery = 5 * time.Millisecond

// outBuffer is the size of the output buffer: a flood is written in large
// pieces.
const outBuffer = 64 * 1024

// Config builds a pipeline.
type Config struct {
	// Clock stamps arrivals, times --schedule and the flush timer.
	Clock clock.Clock
	// Out receives the rendered output, buffered here.
	Out io.Writer
	// Render makes the renderer for Out; nil prints nothing.
	Render func(w io.Writer) format.Renderer
	// Record, when set, also gets every shown packet, one unbuffered
	// Write each (a crash loses at most the packet being written).
	Record format.Renderer
	// Filter chooses the messages shown; nil shows all.
	Filter *filter.Set
	// Schedule holds bundles whose time tag is in the future until due.
	Schedule bool
	// Count ends the run after this many packets were shown (0: no limit).
	Count int
	// Echo sends every well-formed packet back to its sender.
	Echo bool
	// Stop is called (once, from any goroutine) when the pipeline wants
	// the run to end: Count reached, or the output failed.
	Stop func()
}

// Stats are a run's numbers.
type Stats struct {
	Packets   int64 // shown (malformed ones included)
	Bytes     int64 // of the packets shown
	Malformed int64
	Filtered  int64
	Truncated int64
	Held      int // bundles still held when the run ended
}

// Pipeline handles the packets of one run. Handle may be called from
// several goroutines (one per TCP connection); packets are shown one at a
// time, in the order Handle got them.
type Pipeline struct {
	cfg    Config
	mu     sync.Mutex
	out    *bufio.Writer
	r      format.Renderer
	dec    osc.Decoder
	ev     format.Event
	st     Stats
	err    error // the first output error
	done   bool  // Count reached or output failed: nothing more is shown
	stop   sync.Once
	flushT clock.Timer
	armed  bool // flushT is pending
	sched  *scheduler
}

// New returns a pipeline for cfg.
func New(cfg Config) *Pipeline {
	if cfg.Clock == nil {
		cfg.Clock = clock.Real
	}
	p := &Pipeline{cfg: cfg, out: bufio.NewWriterSize(cfg.Out, outBuffer)}
	if cfg.Render != nil {
		p.r = cfg.Render(p.out)
	}
	p.flushT = cfg.Clock.AfterFunc(time.Hour, p.timedFlush)
	p.flushT.Stop()
	if cfg.Schedule {
		p.sched = newScheduler(p)
	}
	return p
}

// Handle decodes a received packet and shows it, or holds it until due.
// It is the callback for transport.Listener.Serve.
func (p *Pipeline) Handle(pk *transport.Packet) {
	now := p.cfg.Clock.Now()
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.done {
		return
	}
	p.ev = format.Event{Time: now, From: pk.Source.String(), Proto: pk.Source.Proto(), Raw: pk.Data}
	ev := &p.ev
	if pk.Truncated {
		p.st.Truncated++
		ev.Err = pk.TruncatedError()
	} else {
		ev.Packet, ev.Err = p.dec.Decode(pk.Data)
	}
	if p.cfg.Echo && ev.Err == nil {
		_ = pk.Source.Reply(pk.Data)
	}
	if p.sched != nil && ev.Err == nil {
		if b, ok := ev.Packet.(*osc.Bundle); ok && !b.Timetag.IsImmediate() && b.Timetag.Time().After(now) && p.cfg.Filter.Pass(b) {
			p.sched.hold(ev, b.Timetag.Time())
			return
		}
	}
	p.emitLocked(ev, !pk.More)
}

// emitLocked filters, renders and counts one event; p.mu is held. It
// flushes when asked, else makes sure a timer will.
func (p *Pipeline) emitLocked(ev *format.Event, flush bool) {
	if p.done {
		return
	}
	if ev.Err == nil && !p.cfg.Filter.Pass(ev.Packet) {
		p.st.Filtered++
	} else {
		if ev.Err != nil {
			p.st.Malformed++
		}
		p.st.Packets++
		p.st.Bytes += int64(len(ev.Raw))
		if p.r != nil {
			if err := p.r.Render(ev); err != nil {
				p.failLocked(err)
				return
			}
		}
		if p.cfg.Record != nil {
			if err := p.cfg.Record.Render(ev); err != nil {
				p.failLocked(fmt.Errorf("record: %w", err))
				return
			}
		}
		if p.cfg.Count > 0 && p.st.Packets >= int64(p.cfg.Count) {
			p.flushLocked()
			p.done = true
			p.end()
			return
		}
	}
	if flush {
		p.flushLocked()
	} else if !p.armed && p.out.Buffered() > 0 {
		p.armed = true
		p.flushT.Reset(FlushEvery)
	}
}

func (p *Pipeline) timedFlush() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.armed = false
	p.flushLocked()
}

func (p *Pipeline) flushLocked() {
	if p.out.Buffered() == 0 || p.err != nil {
		return
	}
	if err := p.out.Flush(); err != nil {
		p.failLocked(err)
	}
}

func (p *Pipeline) failLocked(err error) {
	if p.err == nil {
		p.err = err
	}
	p.done = true
	p.end()
}

func (p *Pipeline) end() {
	if p.cfg.Stop != nil {
		p.stop.Do(p.cfg.Stop)
	}
}

// Close ends the run: held bundles are dropped (and counted in
// Stats.Held), the output is flushed. It returns the numbers and the first
// output error. Call it after the listener's Serve has returned.
func (p *Pipeline) Close() (Stats, error) {
	held := 0
	if p.sched != nil {
		held = p.sched.close()
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.flushT.Stop()
	p.flushLocked()
	p.st.Held = held
	return p.st, p.err
}

// Summary is the closing line of a run: what was shown, and what the
// listener counted (connections for a stream listener).
func Summary(st Stats, ls transport.ListenStats, stream bool) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d packets, %d bytes, %d malformed, %d filtered", st.Packets, st.Bytes, st.Malformed, st.Filtered)
	if stream {
		fmt.Fprintf(&b, ", %d connections, %d dropped", ls.Conns, ls.Dropped)
	}
	if st.Truncated > 0 {
		fmt.Fprintf(&b, ", %d truncated", st.Truncated)
	}
	if ls.KernelDrops > 0 {
		fmt.Fprintf(&b, ", %d dropped by the kernel (receive buffer full)", ls.KernelDrops)
	}
	if st.Held > 0 {
		fmt.Fprintf(&b, ", %d bundles still held", st.Held)
	}
	return b.String()
}
