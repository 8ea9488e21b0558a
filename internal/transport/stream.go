package transport

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"

	"github.com/oscli/oscli/internal/slip"
)

// readBufferSize is what a stream reads per system call. It is also the
// memory every connection keeps while idle, so it is small: 500 idle
// connections hold 4 MiB of read buffers.
const readBufferSize = 8 * 1024

// keepFrameBuffer is the largest frame buffer a connection keeps between
// frames; a bigger one, grown for a large frame, is let go once that
// frame is done, so an idle connection does not sit on a megabyte.
const keepFrameBuffer = 8 * 1024

// charge is what a frame buffer of capacity c counts against a cap on
// all connections' buffers.
func charge(c int) int { return max(0, c-keepFrameBuffer) }

// frameObserver is told what a frameReader does, for a server's deadlines
// and memory accounting. A client's reader has none.
type frameObserver interface {
	// reading is called before each read that may block; partial says
	// whether a frame has begun and is not finished, have how many bytes
	// of it came.
	reading(partial bool, have int)
	// received is called after a read that returned bytes.
	received()
	// hold asks to keep delta more bytes of frame buffer (fewer when
	// negative, which never fails); an error refuses it. Only bytes past
	// keepFrameBuffer count (charge): a connection's small buffer is part
	// of what every connection costs, like its read buffer.
	hold(delta int) error
}

// frameReader reads packets from a stream in one framing, or in the
// framing its first byte shows (auto). It reads into a small buffer of
// its own and assembles frames that span reads in a second buffer that
// grows up to the maximum frame size, and shrinks back once the frame is
// done. It is not safe for concurrent use.
type frameReader struct {
	r       io.Reader
	framing Framing
	max     int
	obs     frameObserver

	buf      []byte // read buffer: the unread bytes are buf[pos:end]
	pos, end int
	off      int64 // stream offset of buf[pos]
	rerr     error // the read error, once there was one

	frame []byte // the frame being assembled
	done  bool   // the last call returned a frame: start a new one

	esc bool // SLIP: the previous byte was ESC

	hdr    [4]byte // len: the size prefix, hdrN bytes of it read
	hdrN   int
	size   int  // len: the payload size, once the prefix is read
	inBody bool // len: reading the payload
}

func newFrameReader(r io.Reader, f Framing, max int, obs frameObserver) *frameReader {
	if max <= 0 {
		max = DefaultMaxFrame
	}
	if f == "" {
		f = FramingAuto
	}
	return &frameReader{r: r, framing: f, max: max, obs: obs, buf: make([]byte, readBufferSize)}
}

// Buffered reports whether bytes are read and waiting: more packets may
// follow at once.
func (f *frameReader) Buffered() bool { return f.pos < f.end }

// partial reports whether a frame has begun and is not finished.
func (f *frameReader) partial() bool {
	return len(f.frame) > 0 && !f.done || f.esc || f.hdrN > 0 || f.inBody
}

// received reports how many bytes of the unfinished frame have arrived.
func (f *frameReader) received() int {
	if f.done {
		return f.hdrN
	}
	return len(f.frame) + f.hdrN
}

// Next returns the next packet, valid until the following call. At the
// end of the stream it returns io.EOF, or an error wrapping
// io.ErrUnexpectedEOF when the stream ended inside a frame; a read error
// comes back as it is when no frame had begun, else wrapped.
func (f *frameReader) Next() ([]byte, error) {
	if f.done {
		f.done = false
		f.frame = f.frame[:0]
	}
	for {
		if f.pos < f.end {
			if f.framing == FramingAuto {
				if err := f.detect(); err != nil {
					return nil, err
				}
			}
			var p []byte
			var err error
			if f.framing == FramingLen {
				p, err = f.nextLen()
			} else {
				p, err = f.nextSLIP()
			}
			if p != nil || err != nil {
				return p, err
			}
			continue
		}
		if f.rerr != nil {
			// Like an io.Reader, report the error once: a client may
			// read on after a deadline.
			err := f.endError()
			f.rerr = nil
			return nil, err
		}
		f.fill()
	}
}

// detectFraming waits for the first byte of a stream in auto framing and
// decides the framing from it.
func (f *frameReader) detectFraming() error {
	for f.pos >= f.end {
		if f.rerr != nil {
			err := f.rerr
			f.rerr = nil
			return err
		}
		f.fill()
	}
	if f.framing != FramingAuto {
		return nil
	}
	return f.detect()
}

// detect looks at the first byte of the stream: SLIP starts with END (or,
// from single-END senders, with a packet's '/' or '#'); a length prefix of
// any sane size starts with a zero byte.
func (f *frameReader) detect() error {
	switch c := f.buf[f.pos]; c {
	case slip.End, '/', '#':
		f.framing = FramingSLIP
	case 0:
		f.framing = FramingLen
	default:
		return fmt.Errorf("cannot tell the framing: the stream starts with byte 0x%02x, which neither SLIP (0xc0) nor a length prefix (0x00) does", c)
	}
	return nil
}

// fill reads once into the empty read buffer; a frame buffer grown for a
// large frame is let go first when no frame is under way.
func (f *frameReader) fill() {
	f.pos, f.end = 0, 0
	partial := f.partial()
	if !partial && cap(f.frame) > keepFrameBuffer {
		if f.obs != nil {
			_ = f.obs.hold(-charge(cap(f.frame)))
		}
		f.frame = nil
	}
	if f.obs != nil {
		f.obs.reading(partial, f.received())
	}
	n, err := f.r.Read(f.buf)
	f.end, f.rerr = n, err
	if n > 0 && f.obs != nil {
		f.obs.received()
	}
}

// endError says why the stream ended, and where in a frame.
func (f *frameReader) endError() error {
	err := f.rerr
	if !f.partial() {
		return err
	}
	if err == io.EOF {
		msg := fmt.Sprintf("connection closed mid-frame (%d bytes received)", f.received())
		switch {
		case f.hdrN > 0:
			msg = fmt.Sprintf("connection closed inside a length prefix (%d of 4 bytes)", f.hdrN)
		case f.inBody:
			msg = fmt.Sprintf("connection closed mid-frame (%d of %d bytes)", len(f.frame), f.size)
		}
		return &closeError{kind: io.ErrUnexpectedEOF, msg: msg}
	}
	return fmt.Errorf("%w mid-frame (%d bytes received)", unwrapOp(err), f.received())
}

// reserve makes room in the frame buffer for n more bytes, growing it by
// doubling up to limit (the frame's size, or the maximum), with the
// observer's consent.
func (f *frameReader) reserve(n, limit int) error {
	want := len(f.frame) + n
	if want <= cap(f.frame) {
		return nil
	}
	c := max(want, 2*cap(f.frame), 512)
	c = min(c, limit)
	if f.obs != nil {
		if err := f.obs.hold(charge(c) - charge(cap(f.frame))); err != nil {
			return err
		}
	}
	nb := make([]byte, len(f.frame), c)
	copy(nb, f.frame)
	f.frame = nb
	return nil
}

// nextSLIP consumes buffered bytes until a frame is complete (returned)
// or the buffer is empty (nil, nil). END bytes delimit frames; empty
// frames between them are skipped, so single- and double-END streams
// both work.
func (f *frameReader) nextSLIP() ([]byte, error) {
	for f.pos < f.end {
		if f.esc {
			f.esc = false
			var c byte
			switch f.buf[f.pos] {
			case slip.EscEnd:
				c = slip.End
			case slip.EscEsc:
				c = slip.Esc
			default:
				return nil, &slip.FrameError{Off: f.off, Err: slip.ErrBadEscape}
			}
			if len(f.frame) >= f.max {
				return nil, fmt.Errorf("%w of %d bytes at stream offset %d", ErrFrameTooLarge, f.max, f.off)
			}
			if err := f.reserve(1, f.max); err != nil {
				return nil, err
			}
			f.frame = append(f.frame, c)
			f.pos++
			f.off++
			continue
		}
		// Copy the run up to the next special byte at once.
		run := f.buf[f.pos:f.end]
		if k := bytes.IndexByte(run, slip.End); k >= 0 {
			run = run[:k]
		}
		if k := bytes.IndexByte(run, slip.Esc); k >= 0 {
			run = run[:k]
		}
		i := f.pos + len(run)
		if i > f.pos {
			if err := f.appendSLIP(f.buf[f.pos:i]); err != nil {
				return nil, err
			}
			f.off += int64(i - f.pos)
			f.pos = i
		}
		if i == f.end {
			break
		}
		c := f.buf[i]
		f.pos++
		f.off++
		if c == slip.Esc {
			f.esc = true
			continue
		}
		if len(f.frame) > 0 {
			f.done = true
			return f.frame, nil
		}
	}
	return nil, nil
}

// appendSLIP adds unescaped bytes to the frame, refusing to pass the
// maximum; the error names the offset of the first byte too many.
func (f *frameReader) appendSLIP(b []byte) error {
	if len(f.frame)+len(b) > f.max {
		return fmt.Errorf("%w of %d bytes at stream offset %d", ErrFrameTooLarge, f.max, f.off+int64(f.max-len(f.frame)))
	}
	if err := f.reserve(len(b), f.max); err != nil {
		return err
	}
	f.frame = append(f.frame, b...)
	return nil
}

// nextLen consumes buffered bytes of int32-size-prefixed frames. A frame
// that lies whole in the read buffer is returned in place, without a
// copy.
func (f *frameReader) nextLen() ([]byte, error) {
	for f.pos < f.end {
		if !f.inBody {
			n := copy(f.hdr[f.hdrN:], f.buf[f.pos:f.end])
			f.pos += n
			f.off += int64(n)
			f.hdrN += n
			if f.hdrN < 4 {
				return nil, nil
			}
			f.hdrN = 0
			size := int32(binary.BigEndian.Uint32(f.hdr[:]))
			switch {
			case size < 0:
				return nil, fmt.Errorf("negative frame size %d: not length-prefixed OSC", size)
			case int64(size) > int64(f.max):
				return nil, fmt.Errorf("%w of %d bytes: the prefix says %d", ErrFrameTooLarge, f.max, size)
			case size == 0:
				continue // an empty frame carries nothing
			}
			f.size, f.inBody = int(size), true
		}
		avail := f.end - f.pos
		if len(f.frame) == 0 && avail >= f.size {
			p := f.buf[f.pos : f.pos+f.size]
			f.pos += f.size
			f.off += int64(f.size)
			f.inBody = false
			return p, nil
		}
		take := min(f.size-len(f.frame), avail)
		if err := f.reserve(take, f.size); err != nil {
			return nil, err
		}
		f.frame = append(f.frame, f.buf[f.pos:f.pos+take]...)
		f.pos += take
		f.off += int64(take)
		if len(f.frame) == f.size {
			f.inBody, f.done = false, true
			return f.frame, nil
		}
	}
	return nil, nil
}
