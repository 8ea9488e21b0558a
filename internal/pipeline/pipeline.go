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
	// RecordOut, when set, also gets every shown packet, rendered by
	// RecordRender, one unbuffered Write each (a crash loses at most the
	// packet being written). Like Out it is written by a goroutine of its
	// own: once the run is stopping, a record write (a FIFO nobody reads)
	// is given up after StopGrace, and the packets shown but not recorded
	// are counted in Stats.Unrecorded. When both Out and RecordOut are
	// blocked, each gets StopGrace.
	RecordOut    io.Writer
	RecordRender func(w io.Writer) format.Renderer
	// Filter chooses the messages shown; nil shows all.
	Filter *filter.Set
	// Schedule holds bundles whose time tag is in the future until due.
	Schedule bool
	// ScheduleMax and ScheduleBytes bound what Schedule holds: bundles,
	// and their packet bytes in all (DefaultScheduleMax and
	// DefaultScheduleBytes when 0). A bundle that does not fit is shown
	// on arrival and counted in Stats.Unheld.
	ScheduleMax, ScheduleBytes int
	// Notice, when set, is told once when the schedule first overflows.
	Notice func(msg string)
	// Count ends the run after this many packets were shown (0: no limit).
	Count int
	// Echo sends every well-formed packet back to its sender.
	Echo bool
	// Dir marks the packets Handle shows (format.DirForward in a tap);
	// HandleReply's are format.DirReply.
	Dir format.Dir
	// Stop is called (once, from any goroutine) when the pipeline wants
	// the run to end: Count reached, or the output or the record failed.
	Stop func()
}

// Stats are a run's numbers.
type Stats struct {
	Packets   int64 // shown (malformed ones included)
	Bytes     int64 // of the packets shown
	Malformed int64
	Filtered  int64
	Truncated int64
	Held      int // bundles still held at the stop, shown then (counted in Packets too)
	// Dropped counts the bundles still held when the run had already
	// ended (--count reached, the output or record failed): not shown,
	// not recorded, counted here only.
	Dropped int
	// Unrecorded counts the packets shown that did not reach the record
	// because it failed or stayed blocked past StopGrace (the one whose
	// write was given up may have been passed on in part).
	Unrecorded int64
	// Unwritten counts the packets shown (rendered and counted in
	// Packets) that did not reach the output because it failed or stayed
	// blocked past StopGrace. A write given up may still have passed part
	// of its buffer on (into a pipe), so for ErrBlocked it is an upper
	// bound; a packet cut off mid-line counts.
	Unwritten int64
	// Unheld counts future bundles shown on arrival because the
	// schedule was full (Config.ScheduleMax, ScheduleBytes).
	Unheld int64
}

// RecordError is the error of a run whose record failed (a full disk):
// the output was still flushed.
type RecordError struct{ Err error }

func (e *RecordError) Error() string { return "record: " + e.Err.Error() }
func (e *RecordError) Unwrap() error { return e.Err }

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
	err    error // the first output or record error
	done   bool  // Count reached, output or record failed: nothing more is shown
	stop   sync.Once
	flushT clock.Timer
	armed  bool // flushT is pending
	sched  *scheduler

	ow      *outWriter // under out
	rw      *outWriter // under rec, when recording
	rec     format.Renderer
	outErr  bool  // the output failed: nothing more is written to it
	pending int64 // packets rendered into out since it last reached the output
}

// New returns a pipeline for cfg.
func New(cfg Config) *Pipeline {
	if cfg.Clock == nil {
		cfg.Clock = clock.Real
	}
	p := &Pipeline{cfg: cfg, ow: newOutWriter(cfg.Out, cfg.Clock)}
	p.out = bufio.NewWriterSize(p.ow, outBuffer)
	if cfg.Render != nil {
		p.r = cfg.Render(p.out)
	}
	if cfg.RecordOut != nil && cfg.RecordRender != nil {
		p.rw = newOutWriter(cfg.RecordOut, cfg.Clock)
		p.rec = cfg.RecordRender(p.rw)
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
func (p *Pipeline) Handle(pk *transport.Packet) { p.handle(pk, p.cfg.Dir, "") }

// HandleReply shows a packet that a tap's target sent back (pk.Source)
// and that was returned to the sender named to, as Handle shows a
// received one; Echo does not apply.
func (p *Pipeline) HandleReply(pk *transport.Packet, to string) { p.handle(pk, format.DirReply, to) }

func (p *Pipeline) handle(pk *transport.Packet, dir format.Dir, to string) {
	now := p.cfg.Clock.Now()
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.done {
		return
	}
	p.ev = format.Event{Time: now, From: pk.Source.String(), Proto: pk.Source.Proto(), Raw: pk.Data, Dir: dir, To: to}
	ev := &p.ev
	if pk.Truncated {
		p.st.Truncated++
		ev.Err = pk.TruncatedError()
	} else {
		ev.Packet, ev.Err = p.dec.Decode(pk.Data)
	}
	if p.cfg.Echo && ev.Err == nil && dir != format.DirReply {
		_ = pk.Source.Reply(pk.Data)
	}
	if p.sched != nil && ev.Err == nil {
		if b, ok := ev.Packet.(*osc.Bundle); ok && !b.Timetag.IsImmediate() && b.Timetag.Time().After(now) && p.cfg.Filter.Pass(b) {
			if p.sched.hold(ev, b.Timetag.Time()) {
				return
			}
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
			w := p.ow.writes
			err := p.r.Render(ev)
			if p.ow.writes != w {
				// The buffer filled up and what it held went out: at
				// most this packet is still in it.
				p.pending = 0
			}
			p.pending++
			if err != nil {
				p.outFailLocked(err)
				return
			}
		}
		if p.rec != nil {
			if err := p.rec.Render(ev); err != nil {
				p.st.Unrecorded++
				// What was shown still goes out: stop, then flush.
				p.failLocked(&RecordError{Err: err})
				p.flushLocked()
				return
			}
		}
		if p.cfg.Count > 0 && p.st.Packets >= int64(p.cfg.Count) {
			p.done = true
			p.end() // first, so the flush gets StopGrace if stdout is blocked
			p.flushLocked()
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
	if p.out.Buffered() == 0 || p.outErr {
		return
	}
	if err := p.out.Flush(); err != nil {
		p.outFailLocked(err)
		return
	}
	p.pending = 0
}

// outFailLocked ends the run on an output error: what is still buffered
// is lost, and counted.
func (p *Pipeline) outFailLocked(err error) {
	p.outErr = true
	p.st.Unwritten += p.pending
	p.pending = 0
	p.failLocked(err)
}

func (p *Pipeline) failLocked(err error) {
	if p.err == nil {
		p.err = err
	}
	p.done = true
	p.end()
}

// end stops the run: the output gets StopGrace from now, and the caller
// is asked to stop.
func (p *Pipeline) end() {
	p.Stopping()
	if p.cfg.Stop != nil {
		p.stop.Do(p.cfg.Stop)
	}
}

// Stopping tells the pipeline that the run is ending (Ctrl-C, a signal,
// a timeout): from now on a write to the output that takes longer than
// StopGrace is given up, so that a blocked output cannot keep the run
// from ending. It does not wait and may be called from any goroutine, any
// number of times; Close implies it.
func (p *Pipeline) Stopping() {
	p.ow.stop()
	if p.rw != nil {
		p.rw.stop()
	}
}

// Close ends the run: bundles still held are shown at once (and counted
// in Stats.Held) unless the run had ended (--count reached, an output or
// record error: then they are only counted, in Stats.Dropped), and the
// output is flushed, within StopGrace when it is blocked. It returns the numbers and the first error: the output's
// (ErrBlocked when it stayed blocked), or a *RecordError. Call it after
// the listener's Serve has returned.
func (p *Pipeline) Close() (Stats, error) {
	p.Stopping()
	held, dropped := 0, 0
	if p.sched != nil {
		held, dropped = p.sched.close()
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.flushT.Stop()
	p.flushLocked()
	p.ow.close()
	if p.rw != nil {
		p.rw.close()
	}
	p.st.Held, p.st.Dropped = held, dropped
	return p.st, p.err
}

// Summary is the closing line of a run: what was shown, and what the
// listener counted (connections for a stream listener).
func Summary(st Stats, ls transport.ListenStats, stream bool) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d %s, %d %s, %d malformed, %d filtered", st.Packets, Plural(st.Packets, "packet", "packets"),
		st.Bytes, Plural(st.Bytes, "byte", "bytes"), st.Malformed, st.Filtered)
	if stream {
		fmt.Fprintf(&b, ", %d %s, %d dropped", ls.Conns, Plural(ls.Conns, "connection", "connections"), ls.Dropped)
	}
	if ls.TextMessages > 0 {
		fmt.Fprintf(&b, ", %d WebSocket text %s ignored", ls.TextMessages, Plural(ls.TextMessages, "message", "messages"))
	}
	if st.Truncated > 0 {
		fmt.Fprintf(&b, ", %d truncated", st.Truncated)
	}
	if ls.KernelDrops > 0 {
		fmt.Fprintf(&b, ", %d dropped by the kernel (receive buffer full)", ls.KernelDrops)
	}
	if st.Unheld > 0 {
		fmt.Fprintf(&b, ", %d %s printed on arrival (--schedule full)", st.Unheld, Plural(st.Unheld, "bundle", "bundles"))
	}
	if st.Held > 0 {
		fmt.Fprintf(&b, ", %d %s shown before due (held at the stop)", st.Held, Plural(st.Held, "bundle", "bundles"))
	}
	if st.Dropped > 0 {
		fmt.Fprintf(&b, ", %d %s held, not shown", st.Dropped, Plural(st.Dropped, "bundle", "bundles"))
	}
	if st.Unwritten > 0 {
		fmt.Fprintf(&b, ", %d not written", st.Unwritten)
	}
	if st.Unrecorded > 0 {
		fmt.Fprintf(&b, ", %d not recorded", st.Unrecorded)
	}
	return b.String()
}

// Plural picks the word for n of something: "1 packet", "2 packets".
func Plural[N int | int64](n N, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
