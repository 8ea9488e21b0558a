// Package replay plays a recording again: its timeline turns the times
// packets were recorded at into the times they are due (speed, loops,
// rate), and its player waits for each on an injected clock, retimes
// bundles when asked, filters, and hands the packets to a sink. Reading
// recordings is package record's; sockets are package sender's.
package replay

import "time"

// Timing is how recorded times become due times.
type Timing struct {
	// Speed scales the recorded gaps: 2 plays twice as fast. Must be > 0.
	Speed float64
	// Rate spaces records that have no times, per second (0: back to
	// back).
	Rate float64
	// NoTiming sends every record back to back.
	NoTiming bool
}

// Timeline gives each record of a recording, loop after loop, the offset
// from the start of the run at which it is due. It is a pure function of
// the records' times: the player waits, this only computes. Loops follow
// each other without a gap, so a loop's end and the next one's start are
// the same moment.
type Timeline struct {
	t       Timing
	started bool
	timed   bool      // the recording has times and they are honoured
	first   time.Time // the first record's time
	last    time.Time // the latest record time seen in this loop
	base    time.Duration
	i       int // index in this loop
}

// NewTimeline starts a timeline.
func NewTimeline(t Timing) *Timeline {
	if t.Speed <= 0 {
		t.Speed = 1
	}
	return &Timeline{t: t}
}

// Next returns when the next record, recorded at rec (zero when the
// recording has no times), is due, as an offset from the start of the
// run; ok is false when it is not timed at all and goes out as soon as
// possible (back to back, batched).
func (tl *Timeline) Next(rec time.Time) (due time.Duration, ok bool) {
	if !tl.started {
		tl.started = true
		tl.timed = !tl.t.NoTiming && !rec.IsZero()
		tl.first, tl.last = rec, rec
	}
	i := tl.i
	tl.i++
	switch {
	case tl.timed && !rec.IsZero():
		if rec.After(tl.last) {
			tl.last = rec
		}
		return tl.base + tl.scale(rec.Sub(tl.first)), true
	case !tl.t.NoTiming && tl.t.Rate > 0:
		return tl.base + time.Duration(float64(i)/tl.t.Rate*float64(time.Second)), true
	}
	return tl.base, false
}

// EndLoop starts the next loop: it is due where this one ended (the last
// record's time, or one rate interval after the last record).
func (tl *Timeline) EndLoop() {
	switch {
	case tl.timed:
		tl.base += tl.scale(tl.last.Sub(tl.first))
	case !tl.t.NoTiming && tl.t.Rate > 0:
		tl.base += time.Duration(float64(tl.i) / tl.t.Rate * float64(time.Second))
	}
	tl.i = 0
}

// Shift is how far the current loop moves bundle time tags for --retime:
// from the recording's first time to the moment the loop is played, for
// a run that started at start. Zero when the recording has no times.
func (tl *Timeline) Shift(start time.Time) time.Duration {
	if !tl.timed {
		return 0
	}
	return start.Add(tl.base).Sub(tl.first)
}

func (tl *Timeline) scale(d time.Duration) time.Duration {
	return time.Duration(float64(d) / tl.t.Speed)
}
