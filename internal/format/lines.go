package format

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"time"

	"github.com/oscli/oscli/internal/argparse"
	"github.com/oscli/oscli/internal/osc"
	"github.com/oscli/oscli/internal/slip"
)

// MaxLine bounds one line of text or JSON that oscli reads (stdin, a
// recording). It follows from the largest packet dump accepts
// (slip.DefaultMaxFrame, 1 MiB): as a JSON line, a string of control
// bytes takes 6 bytes per byte (\u001b) and "raw" another 4 per 3, so
// every recording dump writes of such a packet fits, with room for the
// other fields.
const MaxLine = 8*slip.DefaultMaxFrame + 64<<10

// LineTooLongError reports a line over the limit; the reader has skipped
// it and goes on with the next.
type LineTooLongError struct {
	Line int
	Max  int
}

func (e *LineTooLongError) Error() string {
	return fmt.Sprintf("line %d is longer than %d bytes: skipped", e.Line, e.Max)
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

// Next returns the next line without its newline, valid until the next
// call; a last line without a newline counts. At the end it returns
// io.EOF; for a line over the limit, a *LineTooLongError (the line is
// skipped and Next may be called again).
func (l *LineReader) Next() ([]byte, error) {
	line, err := l.br.ReadSlice('\n')
	if err == bufio.ErrBufferFull {
		l.long = append(l.long[:0], line...)
		for err == bufio.ErrBufferFull {
			line, err = l.br.ReadSlice('\n')
			if len(l.long)+len(line) > l.max+1 {
				l.line++
				for err == bufio.ErrBufferFull {
					_, err = l.br.ReadSlice('\n')
				}
				l.long = l.long[:0]
				if err != nil && err != io.EOF {
					return nil, err
				}
				return nil, &LineTooLongError{Line: l.line, Max: l.max}
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
		return nil, &LineTooLongError{Line: l.line, Max: l.max}
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
