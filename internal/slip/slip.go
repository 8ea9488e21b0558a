// Package slip frames packets on a byte stream with SLIP (RFC 1055) as
// OSC 1.1 uses it over TCP and in files: each packet is sent between two
// END bytes ("double END"), with END and ESC inside it escaped; the first
// frame of a connection may go without its leading END (AppendFirst). The
// decoder accepts both single- and double-END streams, since empty frames
// between ENDs are skipped. The package does no I/O beyond the reader it
// is given.
package slip

import (
	"errors"
	"io"
	"strconv"
)

// The SLIP special bytes (RFC 1055).
const (
	End    = 0xC0
	Esc    = 0xDB
	EscEnd = 0xDC
	EscEsc = 0xDD
)

// Errors returned by Decoder.Next. After ErrFrameTooLarge or ErrBadEscape
// the decoder skips to the next END, so the caller may carry on reading.
var (
	ErrFrameTooLarge = errors.New("frame larger than the maximum")
	ErrBadEscape     = errors.New("SLIP ESC not followed by ESC_END or ESC_ESC")
)

// Append appends p to dst as one frame: END, p escaped, END.
func Append(dst, p []byte) []byte {
	return AppendFirst(append(dst, End), p)
}

// AppendFirst appends p to dst as the first frame of a connection: p
// escaped, then END. RFC 1055's leading END only flushes line noise that
// came before the frame, and at the start of a connection there is none.
// Leaving it out matters to liblo (0.31 to 0.35 at least), which takes a
// stream for SLIP only when it starts with '/', "#bun" or END '/': after
// a leading END, a bundle's "#bundle" reads to it as a length prefix, and
// the packet is dropped.
func AppendFirst(dst, p []byte) []byte {
	for _, c := range p {
		switch c {
		case End:
			dst = append(dst, Esc, EscEnd)
		case Esc:
			dst = append(dst, Esc, EscEsc)
		default:
			dst = append(dst, c)
		}
	}
	return append(dst, End)
}

// DefaultMaxFrame is the largest frame a Decoder accepts unless told
// otherwise: 1 MiB.
const DefaultMaxFrame = 1 << 20

// Decoder reads frames from a stream. It copes with frames and escape
// sequences split across reads however the bytes arrive.
type Decoder struct {
	r     io.Reader
	max   int
	buf   []byte // bytes read but not yet consumed: buf[pos:end]
	pos   int
	end   int
	frame []byte
	esc   bool // the previous byte was ESC
	skip  bool // discarding until the next END after an error
	err   error
	// Offset is the number of stream bytes consumed so far, for reporting
	// where a framing error happened.
	Offset int64
}

// NewDecoder returns a decoder reading from r that rejects frames larger
// than max bytes (after unescaping); max <= 0 means DefaultMaxFrame.
func NewDecoder(r io.Reader, max int) *Decoder {
	if max <= 0 {
		max = DefaultMaxFrame
	}
	return &Decoder{r: r, max: max, buf: make([]byte, 32*1024)}
}

// Next returns the next non-empty frame. The slice is valid until the next
// call. At the end of the stream it returns io.EOF, or io.ErrUnexpectedEOF
// if a frame was begun but not finished.
func (d *Decoder) Next() ([]byte, error) {
	d.frame = d.frame[:0]
	for {
		for d.pos < d.end {
			c := d.buf[d.pos]
			d.pos++
			d.Offset++
			if d.skip {
				if c == End {
					d.skip, d.esc = false, false
					d.frame = d.frame[:0]
				}
				continue
			}
			if d.esc {
				d.esc = false
				switch c {
				case EscEnd:
					c = End
				case EscEsc:
					c = Esc
				default:
					d.skip = c != End
					d.frame = d.frame[:0]
					return nil, &FrameError{Off: d.Offset - 1, Err: ErrBadEscape}
				}
			} else if c == End {
				if len(d.frame) > 0 {
					return d.frame, nil
				}
				continue
			} else if c == Esc {
				d.esc = true
				continue
			}
			if len(d.frame) >= d.max {
				d.skip = true
				d.frame = d.frame[:0]
				return nil, &FrameError{Off: d.Offset - 1, Err: ErrFrameTooLarge}
			}
			d.frame = append(d.frame, c)
		}
		if d.err != nil {
			if d.err == io.EOF && (len(d.frame) > 0 || d.esc) {
				return nil, io.ErrUnexpectedEOF
			}
			return nil, d.err
		}
		n, err := d.r.Read(d.buf)
		d.pos, d.end, d.err = 0, n, err
	}
}

// FrameError reports a framing error at a stream offset.
type FrameError struct {
	Off int64
	Err error
}

func (e *FrameError) Error() string {
	return e.Err.Error() + " at stream offset " + strconv.FormatInt(e.Off, 10)
}

func (e *FrameError) Unwrap() error { return e.Err }
