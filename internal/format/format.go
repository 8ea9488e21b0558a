// Package format renders received packets for people and programs, and
// reads its own lines back. The renderers are the text format (one line per
// message in the syntax `oscli send` reads, coloured on a terminal), JSON
// lines, osc4py3 hexdumps and SLIP-framed raw bytes; each writes each
// packet with a single Write, so output is flushed per packet. Beside each
// line format's writer sits its reader: ParseTextLine (text.go's lines,
// time and source columns skipped) and ParseJSONLine (json.go's lines, or
// hand-written objects), used by send -, bundle - and replay.
//
// It does not read from the network, read whole streams or files (cmd
// reads stdin, package record reads recordings) or decide about terminals
// itself (package iostreams does).
package format

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/oscli/oscli/internal/osc"
)

// Event is one received packet (or a malformed one) and where it came from.
type Event struct {
	Time time.Time // arrival, or when a held bundle was printed (--schedule)
	// Arrived, when set, is the arrival of a bundle held until its time
	// tag; the bundle header's offset is measured from it.
	Arrived time.Time
	From    string     // "127.0.0.1:54321", "[::1]:9000", "unix:/tmp/osc.sock"
	Proto   string     // "udp", "tcp+slip", "tcp+len", "unix"
	Raw     []byte     // the packet bytes
	Packet  osc.Packet // the decoded packet; nil when Err is set
	Err     error      // why the packet could not be decoded
	// Dir is which way the packet went through a tap: "" for a packet
	// that was only received (dump), DirForward or DirReply.
	Dir Dir
	// To is, for DirReply, the sender the reply was returned to.
	To string
}

// Dir is which way a packet went through oscli tap.
type Dir string

// The directions. A reply's text column is "FROM→TO" (the target, then
// the sender it went back to), which ParseTextLine skips as it skips a
// sender; JSON lines carry "dir" (and, for a reply, "to").
const (
	DirForward Dir = "forward" // from a sender, forwarded to the targets
	DirReply   Dir = "reply"   // from a target, returned to the sender To
)

// ReplyArrow joins a reply's target and sender in the text format's
// sender column.
const ReplyArrow = "→"

// Renderer writes events to a stream.
type Renderer interface {
	Render(ev *Event) error
}

// TimeMode is how the text format prints arrival times (--time).
type TimeMode string

// The --time values.
const (
	TimeLocal TimeMode = "local" // 18:00:00.123456 in the local zone
	TimeUTC   TimeMode = "utc"   // 2026-11-21T18:00:00.123456Z
	TimeUnix  TimeMode = "unix"  // 1763748000.123456
	TimeRel   TimeMode = "rel"   // +1.234567 seconds since the first packet
	TimeNone  TimeMode = "none"  // no time column
)

// ParseTimeMode validates a --time value.
func ParseTimeMode(s string) (TimeMode, error) {
	switch m := TimeMode(s); m {
	case TimeLocal, TimeUTC, TimeUnix, TimeRel, TimeNone:
		return m, nil
	}
	return "", fmt.Errorf("invalid --time %q (want local, utc, unix, rel or none)", s)
}

// Names of the --format values.
var Formats = []string{"text", "json", "hex", "raw"}

// Options configure the text and hex renderers.
type Options struct {
	Time     TimeMode
	Location *time.Location // for TimeLocal; nil means time.Local
	Color    bool
	Hex      bool // text format: add the hexdump under each packet
}

// writeAll writes b with one Write call and reports short writes.
func writeAll(w io.Writer, b []byte) error {
	n, err := w.Write(b)
	if err == nil && n != len(b) {
		err = io.ErrShortWrite
	}
	return err
}

// NewRenderer returns the renderer for a --format name: text (with o),
// json, hex or raw.
func NewRenderer(name string, w io.Writer, o Options) (Renderer, error) {
	switch name {
	case "text":
		return NewText(w, o), nil
	case "json":
		return NewJSON(w), nil
	case "hex":
		return NewHex(w), nil
	case "raw":
		return NewRaw(w), nil
	}
	return nil, fmt.Errorf("invalid --format %q (want %s)", name, FormatNames())
}

// FormatNames lists the --format values for help texts.
func FormatNames() string { return strings.Join(Formats, "|") }
