package sender

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/oscli/oscli/internal/format"
	"github.com/oscli/oscli/internal/osc"
)

// LineStats count what SendLines did with its input.
type LineStats struct {
	Packets int // lines that were packets, sent
	Bad     int // lines that could not be read or parsed, skipped
}

// SendLines sends one packet per line of lr. parse turns a line into a
// packet (nil for a line with nothing to send, such as a comment); a line
// that is too long, does not parse or makes a packet too big for the
// target is handed to bad with its number and skipped, and every other
// line still goes out, whether batched or not. Packets are queued while
// more input is already waiting and sent as soon as none is, so a slow
// producer's lines go out at once and a fast one's in batches. lr's limit
// should be format.LineLimit(s.MaxPacket()): no longer line can make a
// packet the target takes.
func (s *Sender) SendLines(ctx context.Context, lr *format.LineReader, parse func([]byte) (osc.Packet, error), bad func(line int, err error)) (LineStats, error) {
	var st LineStats
	for {
		if err := ctx.Err(); err != nil {
			return st, err
		}
		line, err := lr.Next()
		if err == io.EOF {
			break
		}
		var tl *format.LineTooLongError
		switch {
		case errors.As(err, &tl):
			st.Bad++
			bad(tl.Line, tl.ForPacket(s.max))
		case err != nil:
			// What was read so far still goes out.
			if ferr := s.Flush(); ferr != nil {
				return st, ferr
			}
			return st, fmt.Errorf("read: %w", err)
		default:
			p, perr := parse(line)
			switch {
			case perr != nil:
				st.Bad++
				bad(lr.Line(), perr)
			case p != nil:
				err := s.QueuePacket(p)
				var big *TooBigError
				switch {
				case errors.As(err, &big):
					st.Bad++
					bad(lr.Line(), err)
				case err != nil:
					return st, err // the socket failed: later lines would fail too
				default:
					st.Packets++
				}
			}
		}
		if !lr.Buffered() {
			if err := s.Flush(); err != nil {
				return st, err
			}
		}
	}
	return st, s.Flush()
}
