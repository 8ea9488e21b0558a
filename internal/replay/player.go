package replay

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/oscli/oscli/internal/clock"
	"github.com/oscli/oscli/internal/filter"
	"github.com/oscli/oscli/internal/osc"
	"github.com/oscli/oscli/internal/record"
	"github.com/oscli/oscli/internal/sender"
)

// Recording is a recording that can be read from the start again, once
// per loop.
type Recording interface {
	Open() (Records, error)
}

// Records yields records; Next returns io.EOF at the end and a
// *record.BadRecordError for a record it skipped.
type Records interface {
	Next() (*record.Record, error)
}

// Sink takes the packets: each timed one once it is due (at says when it
// was due), the others queued back to back, with Flush before a wait.
type Sink interface {
	Send(raw []byte, at time.Time) error
	Queue(raw []byte, at time.Time) error
	Flush() error
}

// Options configure a run.
type Options struct {
	Timing
	// Loops is how many times to play (0: until ctx is done).
	Loops int
	// Retime shifts bundle time tags by the time between recording and
	// playing, so bundles meant for the future stay in the future.
	Retime bool
	// Filter chooses the packets sent; nil sends all.
	Filter *filter.Set
	// Clock waits; nil is the real clock.
	Clock clock.Clock
	// NoWait hands every packet to the sink at once, with the time it
	// would have been due (a dry run).
	NoWait bool
	// OnBad is told about each record that could not be read.
	OnBad func(err *record.BadRecordError)
}

// Stats are what a run did.
type Stats struct {
	Sent  int64
	Bad   int64         // records skipped, unreadable or too big (counted in the first pass only)
	Worst time.Duration // the latest a timed packet went out
	Took  time.Duration
}

// ErrEmpty reports a recording with nothing to replay (after filtering).
var ErrEmpty = errors.New("nothing to replay")

// Play plays the recording into sink.
func Play(ctx context.Context, rec Recording, sink Sink, o Options) (Stats, error) {
	clk := o.Clock
	if clk == nil {
		clk = clock.Real
	}
	var st Stats
	start := clk.Now()
	tl := NewTimeline(o.Timing)
	var buf []byte
	for loop := 0; o.Loops == 0 || loop < o.Loops; loop++ {
		rs, err := rec.Open()
		if err != nil {
			return st, err
		}
		played := 0
		for {
			r, err := rs.Next()
			if err == io.EOF {
				break
			}
			var bad *record.BadRecordError
			if errors.As(err, &bad) {
				// A File shows its bad records again on every pass, a
				// Stream only on the first: count them once for both.
				if loop == 0 {
					st.Bad++
					if o.OnBad != nil {
						o.OnBad(bad)
					}
				}
				continue
			}
			if err != nil {
				return st, err
			}
			if !o.Filter.Pass(r.Packet) {
				continue
			}
			played++
			due, timed := tl.Next(r.Time)
			at := start.Add(due)
			raw := r.Raw
			if b, ok := r.Packet.(*osc.Bundle); ok && o.Retime {
				if shift := tl.Shift(start); shift != 0 {
					shifted := osc.ClonePacket(b).(*osc.Bundle)
					if err := retime(shifted, shift); err != nil {
						// Reported and counted like a bad record, once.
						if loop == 0 {
							st.Bad++
							if o.OnBad != nil {
								o.OnBad(&record.BadRecordError{Line: r.Line, Err: err})
							}
						}
						played--
						continue
					}
					if buf, err = osc.AppendBundle(buf[:0], shifted); err != nil {
						return st, err
					}
					raw = buf
				}
			}
			if err := ctx.Err(); err != nil {
				return st, err
			}
			if !timed {
				if err := sink.Queue(raw, at); err != nil {
					if skipTooBig(err, r.Line, loop, &st, o.OnBad) {
						continue
					}
					return st, err
				}
				st.Sent++
				continue
			}
			if !o.NoWait {
				if err := sink.Flush(); err != nil {
					return st, err
				}
				if err := clk.Sleep(ctx, at.Sub(clk.Now())); err != nil {
					return st, err
				}
				if late := clk.Now().Sub(at); late > st.Worst {
					st.Worst = late
				}
			}
			if err := sink.Send(raw, at); err != nil {
				if skipTooBig(err, r.Line, loop, &st, o.OnBad) {
					continue
				}
				return st, err
			}
			st.Sent++
		}
		if err := sink.Flush(); err != nil {
			return st, err
		}
		if played == 0 {
			return st, ErrEmpty
		}
		tl.EndLoop()
		if err := ctx.Err(); err != nil {
			return st, err
		}
	}
	st.Took = clk.Now().Sub(start)
	return st, nil
}

// skipTooBig reports whether err is a packet too big for the target,
// which is skipped like a bad record (reported and counted in the first
// pass only) while the others still go out.
func skipTooBig(err error, line, loop int, st *Stats, onBad func(*record.BadRecordError)) bool {
	var big *sender.TooBigError
	if !errors.As(err, &big) {
		return false
	}
	if loop == 0 {
		st.Bad++
		if onBad != nil {
			onBad(&record.BadRecordError{Line: line, Err: err})
		}
	}
	return true
}

// retime shifts every timed bundle by d (immediate ones stay immediate).
// A time tag the shift would take outside what NTP time tags can say
// (1968-01-20 to 2104-02-26) is an error rather than a silent wrap.
func retime(b *osc.Bundle, d time.Duration) error {
	if !b.Timetag.IsImmediate() {
		t := b.Timetag.Time().Add(d)
		if t.Before(minTag) || t.After(maxTag) {
			return fmt.Errorf("--retime would move time tag %s to %s, outside the range of OSC time tags (%s to %s)",
				b.Timetag.Time().UTC().Format(time.RFC3339), t.UTC().Format(time.RFC3339),
				minTag.Format(time.DateOnly), maxTag.Format(time.DateOnly))
		}
		b.Timetag = b.Timetag.Add(d)
	}
	for _, e := range b.Elements {
		if nb, ok := e.(*osc.Bundle); ok {
			if err := retime(nb, d); err != nil {
				return err
			}
		}
	}
	return nil
}

// The range of NTP time tags as oscli reads them (RFC 4330).
var (
	minTag = osc.NewTimetag(1<<31, 0).Time().UTC()
	maxTag = osc.NewTimetag(1<<31-1, 0).Time().Add(time.Second - 1).UTC()
)

// SenderSink sends through a sender.Sender.
type SenderSink struct{ S *sender.Sender }

func (s SenderSink) Send(raw []byte, _ time.Time) error  { return s.S.Send(raw) }
func (s SenderSink) Queue(raw []byte, _ time.Time) error { return s.S.Queue(raw) }
func (s SenderSink) Flush() error                        { return s.S.Flush() }
