package format

import (
	"errors"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/fatih/color"

	"github.com/oscli/oscli/internal/hexdump"
	"github.com/oscli/oscli/internal/osc"
	"github.com/oscli/oscli/internal/termsafe"
)

// Text renders the human format:
//
//	18:00:00.123456 127.0.0.1:54321  /1/fader f:0.5
//	18:00:00.124001 127.0.0.1:54321  #bundle 2026-11-21T18:00:10Z in +9.876s [0xeeac...]
//	                                   /a i:1
//	18:00:00.125000 127.0.0.1:54321  #malformed 12 bytes: offset 5: unknown type tag 'x'
//	000:2f610000 2c780000 00000000              /a.. ,x.. ....
//
// Message lines are in the syntax `oscli send` reads (which skips the time
// and source columns, and treats the '#' lines as comments). The source
// column is padded to the widest source seen so far, so columns line up.
type Text struct {
	w       io.Writer
	o       Options
	first   time.Time
	srcW    int    // width of the sender column
	from    string // the last sender (and, for a reply, its receiver), and
	to      string
	col     []byte // its column, escaped,
	colW    int    // in this many runes
	buf     []byte
	paint   palette
	dumpHex bool
}

type palette struct {
	time, src, addr, header, bad, reset string
}

// sgr returns the escape sequences fatih/color uses for attrs, so that the
// hot path appends constant strings instead of formatting.
func sgr(attrs ...color.Attribute) string {
	c := color.New(attrs...)
	c.EnableColor()
	s := c.Sprint("|")
	return s[:strings.IndexByte(s, '|')]
}

// NewText returns a text renderer writing to w.
func NewText(w io.Writer, o Options) *Text {
	t := &Text{w: w, o: o, dumpHex: o.Hex}
	if t.o.Location == nil {
		t.o.Location = time.Local
	}
	if o.Color {
		t.paint = palette{
			time:   sgr(color.Faint),
			src:    sgr(color.FgCyan),
			addr:   sgr(color.FgGreen, color.Bold),
			header: sgr(color.FgMagenta),
			bad:    sgr(color.FgRed, color.Bold),
			reset:  sgr(color.Reset),
		}
	}
	return t
}

// Render writes one event.
func (t *Text) Render(ev *Event) error {
	b := t.buf[:0]
	start := len(b)
	b = t.appendPrefix(b, ev)
	indent := len(b) - start - t.colorLen()
	switch p := ev.Packet.(type) {
	case *osc.Message:
		b = t.appendMessage(b, p)
	case *osc.Bundle:
		arrival := ev.Time
		if !ev.Arrived.IsZero() {
			arrival = ev.Arrived
		}
		b = t.appendBundle(b, p, arrival, indent, 0)
	default:
		b = t.appendMalformed(b, ev)
	}
	b = append(b, '\n')
	if t.dumpHex || ev.Err != nil {
		b = hexdump.AppendDump(b, ev.Raw)
	}
	t.buf = b
	return writeAll(t.w, b)
}

func (t *Text) colorLen() int {
	if !t.o.Color {
		return 0
	}
	n := 0
	if t.o.Time != TimeNone {
		n += len(t.paint.time) + len(t.paint.reset)
	}
	return n + len(t.paint.src) + len(t.paint.reset)
}

func (t *Text) appendPrefix(b []byte, ev *Event) []byte {
	if t.o.Time != TimeNone {
		b = append(b, t.paint.time...)
		b = t.appendTime(b, ev.Time)
		b = append(b, t.paint.reset...)
		b = append(b, ' ')
	}
	b = append(b, t.paint.src...)
	from := ev.From
	if from == "" {
		from = "-"
	}
	if from != t.from || ev.To != t.to || t.col == nil {
		// Usually once per run, or per connection.
		t.from, t.to = from, ev.To
		t.col = appendColumn(t.col[:0], from)
		if ev.To != "" {
			// A reply through a tap: "127.0.0.1:9001→127.0.0.1:54321".
			t.col = append(t.col, ReplyArrow...)
			t.col = appendColumn(t.col, ev.To)
		}
		t.colW = utf8.RuneCount(t.col)
	}
	b = append(b, t.col...)
	b = append(b, t.paint.reset...)
	if t.colW > t.srcW {
		t.srcW = t.colW
	}
	for i := t.colW; i < t.srcW; i++ {
		b = append(b, ' ')
	}
	return append(b, ' ', ' ')
}

// appendColumn appends the sender's name as one word that ParseTextLine
// skips, so that the line still reads back as its message whatever the
// name holds: as it is when it is one plain word (addresses, ordinary
// paths), else quoted and escaped as a message string is (a Unix path with
// a space, an ESC or U+202E in it; a socket name or IPv6 zone is whatever
// the peer or the system chose).
func appendColumn(b []byte, from string) []byte {
	if from != "" && from[0] != '#' { // '#' would start a comment
		for i := 0; i < len(from); i++ {
			if c := from[i]; !columnPlain[c] {
				if c < utf8.RuneSelf || !bareColumn(from[i:]) {
					return osc.AppendWord(b, from)
				}
				break
			}
		}
		return append(b, from...)
	}
	return osc.AppendWord(b, from)
}

// bareColumn reports whether s, which has non-ASCII in it, can go bare
// into the sender column: every rune printable (termsafe.IsSafe) and no
// byte that argparse.SplitLine reads as a blank or a quote.
func bareColumn(s string) bool {
	return termsafe.IsSafeString(s) && !strings.ContainsAny(s, " \"'\\$`")
}

// columnPlain marks the ASCII bytes that argparse.SplitLine reads as
// themselves inside a word: printable, not a blank, quote or backslash.
var columnPlain = func() (t [256]bool) {
	for c := '!'; c < 0x7f; c++ {
		t[c] = !strings.ContainsRune("\"'\\$`", c)
	}
	return t
}()

func (t *Text) appendTime(b []byte, at time.Time) []byte {
	switch t.o.Time {
	case TimeUTC:
		return at.UTC().AppendFormat(b, "2006-01-02T15:04:05.000000Z")
	case TimeUnix:
		b = strconv.AppendInt(b, at.Unix(), 10)
		b = append(b, '.')
		return appendPadded(b, int64(at.Nanosecond()/1000), 6)
	case TimeRel:
		if t.first.IsZero() {
			t.first = at
		}
		d := at.Sub(t.first)
		b = append(b, '+')
		b = strconv.AppendInt(b, int64(d/time.Second), 10)
		b = append(b, '.')
		return appendPadded(b, int64(d%time.Second/time.Microsecond), 6)
	}
	return at.In(t.o.Location).AppendFormat(b, "15:04:05.000000")
}

func appendPadded(b []byte, v int64, width int) []byte {
	var tmp [20]byte
	digits := strconv.AppendInt(tmp[:0], v, 10)
	for i := len(digits); i < width; i++ {
		b = append(b, '0')
	}
	return append(b, digits...)
}

func (t *Text) appendMessage(b []byte, m *osc.Message) []byte {
	b = append(b, t.paint.addr...)
	b = osc.AppendWord(b, m.Address)
	b = append(b, t.paint.reset...)
	for _, a := range m.Args {
		b = append(b, ' ')
		b = a.AppendText(b)
	}
	if m.NoTypeTags {
		b = append(b, "  # no type tag string"...)
	}
	return b
}

func (t *Text) appendBundle(b []byte, bd *osc.Bundle, arrival time.Time, indent, depth int) []byte {
	b = append(b, t.paint.header...)
	b = append(b, "#bundle "...)
	if bd.Timetag.IsImmediate() {
		b = append(b, "immediately"...)
	} else {
		at := bd.Timetag.Time()
		if t.o.Time == TimeLocal {
			b = at.In(t.o.Location).AppendFormat(b, "2006-01-02T15:04:05.000000Z07:00")
		} else {
			b = at.UTC().AppendFormat(b, "2006-01-02T15:04:05.000000Z")
		}
		b = appendOffset(b, at.Sub(arrival))
		b = append(b, " ["...)
		b = bd.Timetag.AppendHex(b)
		b = append(b, ']')
	}
	b = append(b, t.paint.reset...)
	for _, e := range bd.Elements {
		b = append(b, '\n')
		for range indent + 2*(depth+1) {
			b = append(b, ' ')
		}
		switch e := e.(type) {
		case *osc.Message:
			b = t.appendMessage(b, e)
		case *osc.Bundle:
			b = t.appendBundle(b, e, arrival, indent, depth+1)
		}
	}
	return b
}

// appendOffset appends " in +9.998s" for a bundle due after its arrival or
// " late 2ms" for one due before.
func appendOffset(b []byte, d time.Duration) []byte {
	if d >= 0 {
		b = append(b, " in +"...)
	} else {
		b = append(b, " late "...)
		d = -d
	}
	return append(b, roundDuration(d).String()...)
}

func roundDuration(d time.Duration) time.Duration {
	switch {
	case d >= time.Second:
		return d.Round(time.Millisecond)
	case d >= time.Millisecond:
		return d.Round(time.Microsecond)
	}
	return d
}

func (t *Text) appendMalformed(b []byte, ev *Event) []byte {
	b = append(b, t.paint.bad...)
	b = append(b, "#malformed "...)
	b = strconv.AppendInt(b, int64(len(ev.Raw)), 10)
	b = append(b, " bytes: "...)
	err := ev.Err
	if err == nil {
		err = errors.New("no packet")
	}
	b = termsafe.Append(b, err.Error())
	return append(b, t.paint.reset...)
}

// Hex renders only the osc4py3 hexdump of each packet, followed by a blank
// line.
type Hex struct {
	w   io.Writer
	buf []byte
}

// NewHex returns a hex-only renderer.
func NewHex(w io.Writer) *Hex { return &Hex{w: w} }

// Render writes one event.
func (h *Hex) Render(ev *Event) error {
	h.buf = append(hexdump.AppendDump(h.buf[:0], ev.Raw), '\n')
	return writeAll(h.w, h.buf)
}
