package format

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"time"

	"github.com/oscli/oscli/internal/argparse"
	"github.com/oscli/oscli/internal/osc"
)

// MaxLine bounds one line of text or JSON that oscli reads (stdin, a
// recording): the longest line a packet of osc.MaxPacket bytes can need,
// so every recording dump can write, replay can read.
const MaxLine = 8*osc.MaxPacket + 64<<10

// LineLimit is the longest line of text or JSON a packet of at most
// maxPacket bytes can need. As a JSON line a string of control bytes takes
// 6 bytes per byte (\u001b) and "raw" another 4 per 3 (the text syntax
// needs at most 4 per byte, $'\x1b'), so 8 per byte leaves room for the
// other fields; 64 KiB more is for a short packet's long time, source and
// comment.
func LineLimit(maxPacket int) int { return 8*maxPacket + 64<<10 }

// LineTooLongError reports a line over the limit; the reader has skipped
// it and goes on with the next.
type LineTooLongError struct {
	Line int
	Len  int // the line's length, without its newline
	Max  int
}

func (e *LineTooLongError) Error() string {
	return fmt.Sprintf("line %d is %d bytes, longer than %d: skipped", e.Line, e.Len, e.Max)
}

// ForPacket says why the line was skipped when the limit came from
// LineLimit(maxPacket).
func (e *LineTooLongError) ForPacket(maxPacket int) error {
	return fmt.Errorf("%d bytes, longer than the %d a line for one packet of at most %d bytes can need", e.Len, e.Max, maxPacket)
}

// LineReader reads lines of at most a given size, so a file or stdin
// without newlines cannot make it hold more than that.
type LineReader struct {
	br   *bufio.Reader
	max  int
	line int
	long []byte
}

// NewLineReader reads lines of at most max bytes (MaxLine when max <= 0).
func NewLineReader(r io.Reader, max int) *LineReader {
	if max <= 0 {
		max = MaxLine
	}
	br, ok := r.(*bufio.Reader)
	if !ok {
		br = bufio.NewReaderSize(r, 64<<10)
	}
	return &LineReader{br: br, max: max}
}

// keepLong is the most a LineReader keeps allocated for long lines
// between calls: one long line must not pin its size for the whole run.
const keepLong = 1 << 20

// Next returns the next line without its newline, valid until the next
// call; a last line without a newline counts. At the end it returns
// io.EOF; for a line over the limit, a *LineTooLongError (the line is
// read to its end but not kept, and Next may be called again).
func (l *LineReader) Next() ([]byte, error) {
	if cap(l.long) > keepLong {
		l.long = nil
	}
	line, err := l.br.ReadSlice('\n')
	if err == bufio.ErrBufferFull {
		l.long = append(l.long[:0], line...)
		for err == bufio.ErrBufferFull {
			line, err = l.br.ReadSlice('\n')
			if len(l.long)+len(line) > l.max+1 {
				l.line++
				n := len(l.long) + len(line)
				for err == bufio.ErrBufferFull {
					line, err = l.br.ReadSlice('\n')
					n += len(line)
				}
				l.long = l.long[:0]
				if err != nil && err != io.EOF {
					return nil, err
				}
				if err == nil {
					n-- // the newline
				}
				return nil, &LineTooLongError{Line: l.line, Len: n, Max: l.max}
			}
			l.long = append(l.long, line...)
		}
		line = l.long
	}
	if err != nil && err != io.EOF {
		return nil, err
	}
	if len(line) == 0 && err == io.EOF {
		return nil, io.EOF
	}
	l.line++
	line = bytes.TrimSuffix(line, []byte{'\n'})
	if len(line) > l.max {
		return nil, &LineTooLongError{Line: l.line, Len: len(line), Max: l.max}
	}
	return line, nil
}

// Line is the number of the line Next last returned (or skipped).
func (l *LineReader) Line() int { return l.line }

// Buffered reports whether more input is already waiting, so a caller can
// batch while it is and act at once when it is not.
func (l *LineReader) Buffered() bool { return l.br.Buffered() > 0 }

// Reader is the buffered reader underneath, for a caller that looks ahead
// before reading lines (format detection).
func (l *LineReader) Reader() *bufio.Reader { return l.br }

// ParsePacketLine reads one line of input as send and bundle take it: a
// JSON line (as dump --json writes, or a bare message or bundle object)
// when asJSON, else the text syntax. It returns nil, nil for a line with
// nothing to send (blank, a comment, a dump header).
func ParsePacketLine(line []byte, asJSON bool, p *argparse.Parser, now time.Time) (osc.Packet, error) {
	if !asJSON {
		return ParseTextLine(line, p)
	}
	if len(bytes.TrimSpace(line)) == 0 {
		return nil, nil
	}
	l, err := ParseJSONLine(line, now)
	if err != nil {
		return nil, err
	}
	return l.Packet, nil
}
