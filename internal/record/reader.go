// Package record reads recordings for replay, one record at a time: JSON
// lines (dump --json and --record, each line parsed by
// format.ParseJSONLine), liblo oscdump text logs and SLIP-framed raw files
// (dump --format raw), detecting which from the first bytes. It does not
// write recordings (package format's renderers do), and does not time or
// send what it reads (packages replay and sender do).
package record

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/oscli/oscli/internal/format"
	"github.com/oscli/oscli/internal/osc"
	"github.com/oscli/oscli/internal/slip"
)

// The recording formats Reader understands.
const (
	FormatJSON    = "json"    // oscli dump --json / --record
	FormatOscdump = "oscdump" // liblo oscdump's text log, what oscsendfile reads
	FormatSLIP    = "slip"    // SLIP-framed packets, dump --format raw
)

// Record is one packet of a recording.
type Record struct {
	Line   int       // line number (frame number for SLIP)
	Time   time.Time // when it was recorded; zero when the format has no times
	Raw    []byte    // the packet bytes
	Packet osc.Packet
}

// BadRecordError reports a record that could not be read; the reader
// skips it and can go on.
type BadRecordError struct {
	Line int
	Err  error
}

func (e *BadRecordError) Error() string { return fmt.Sprintf("line %d: %v", e.Line, e.Err) }
func (e *BadRecordError) Unwrap() error { return e.Err }

// Reader reads records one by one. Next returns io.EOF at the end and a
// *BadRecordError for a record it skipped.
type Reader struct {
	Format string
	lr     *format.LineReader
	line   int
	sd     *slip.Decoder
	now    time.Time
}

// NewReader reads a recording in the format name, or detects the format
// from the first bytes when name is "": '{' is JSON, an END byte (0xc0) SLIP,
// "XXXXXXXX.XXXXXXXX /" an oscdump log.
func NewReader(r io.Reader, name string, now time.Time) (*Reader, error) {
	br := bufio.NewReaderSize(r, 64*1024)
	if name == "" {
		var err error
		if name, err = detect(br); err != nil {
			return nil, err
		}
	}
	rd := &Reader{Format: name, lr: format.NewLineReader(br, format.MaxLine), now: now}
	switch name {
	case FormatJSON, FormatOscdump:
	case FormatSLIP:
		rd.sd = slip.NewDecoder(br, osc.MaxPacket) // what dump --max-packet allows
	default:
		return nil, fmt.Errorf("unknown recording format %q (want json, oscdump or slip)", name)
	}
	return rd, nil
}

func detect(br *bufio.Reader) (string, error) {
	head, err := br.Peek(64)
	if err != nil && err != io.EOF && err != bufio.ErrBufferFull {
		return "", err
	}
	trimmed := bytes.TrimLeft(head, " \t\r\n")
	switch {
	case len(head) == 0:
		return "", errors.New("the recording is empty")
	case len(trimmed) > 0 && trimmed[0] == '{':
		return FormatJSON, nil
	case head[0] == slip.End || head[0] == '/' || head[0] == '#':
		return FormatSLIP, nil
	case len(trimmed) >= 18 && trimmed[8] == '.' && isHexBytes(trimmed[:8]) && isHexBytes(trimmed[9:17]):
		return FormatOscdump, nil
	}
	return "", errors.New("cannot tell the recording's format (JSON lines, oscdump log or SLIP): give --format")
}

func isHexBytes(b []byte) bool {
	for _, c := range b {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

// Next returns the next record.
func (r *Reader) Next() (*Record, error) {
	if r.sd != nil {
		frame, err := r.sd.Next()
		if err != nil {
			if err == io.EOF {
				return nil, io.EOF
			}
			r.line++
			if err == io.ErrUnexpectedEOF {
				return nil, &BadRecordError{r.line, errors.New("truncated last frame")}
			}
			return nil, &BadRecordError{r.line, err}
		}
		r.line++
		raw := bytes.Clone(frame)
		p, err := osc.Decode(raw)
		if err != nil {
			return nil, &BadRecordError{r.line, fmt.Errorf("malformed packet: %w", err)}
		}
		return &Record{Line: r.line, Raw: raw, Packet: p}, nil
	}
	for {
		line, err := r.lr.Next()
		r.line = r.lr.Line()
		var tl *format.LineTooLongError
		if errors.As(err, &tl) {
			return nil, &BadRecordError{r.line, fmt.Errorf("longer than %d bytes", tl.Max)}
		}
		if err != nil {
			return nil, err
		}
		text := bytes.TrimSpace(line)
		if len(text) == 0 || text[0] == '#' {
			continue
		}
		var rec *Record
		if r.Format == FormatJSON {
			l, perr := format.ParseJSONLine(text, r.now)
			if perr == nil {
				rec = &Record{Line: r.line, Time: l.Time, Raw: l.Raw, Packet: l.Packet}
			}
			err = perr
		} else {
			rec, err = parseOscdumpLine(string(line))
			if rec != nil {
				rec.Line = r.line
			}
		}
		if err != nil {
			return nil, &BadRecordError{r.line, err}
		}
		return rec, nil
	}
}
