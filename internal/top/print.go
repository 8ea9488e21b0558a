package top

import (
	"math"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/oscli/oscli/internal/format"
	"github.com/oscli/oscli/internal/osc"
)

// PrintOptions say how AppendText and AppendJSON print a snapshot.
type PrintOptions struct {
	Sort     Sort
	Keep     func(Key) bool // rows to print; nil: all
	Location *time.Location // for the header's time; nil: time.Local
}

// lastWidth is the most of the last value a text snapshot prints.
const lastWidth = 80

// textDigits is the significant digits of a text snapshot's minimum and
// maximum.
const textDigits = 6

// Printer prints snapshots as text tables or JSON objects, reusing its
// memory from one snapshot to the next.
type Printer struct {
	o     PrintOptions
	order []int32
	msg   osc.Message
	table [][ncols]span // the cells of a text snapshot, in buf
	buf   []byte
	cell  []byte // scratch for one cell
}

// span is a cell's bytes in Printer.buf.
type span struct{ start, end int }

const ncols = 10

// NewPrinter returns a printer for o.
func NewPrinter(o PrintOptions) *Printer {
	if o.Location == nil {
		o.Location = time.Local
	}
	if o.Sort == "" {
		o.Sort = ByAddress
	}
	return &Printer{o: o}
}

// Column heads of a text snapshot; FROM only with BySender.
var heads = []string{"ADDRESS", "FROM", "TYPES", "COUNT", "RATE/S", "MIN", "MAX", "AGE", "SENDERS", "LAST"}

// rightAligned marks the numeric columns.
var rightAligned = []bool{false, false, false, true, true, false, false, true, true, false}

// AppendText appends s as a plain-text table: a header line starting with
// '#' that sums it up, a line of column heads, a row per address (then
// the malformed and overflow rows, when they counted anything), and a
// blank line.
//
//	# 2026-11-21T18:00:05Z  2 rows  40 packets (0 bundles)  40 messages  8.0 msgs/s  0 malformed
//	ADDRESS    TYPES  COUNT  RATE/S  MIN  MAX  AGE   SENDERS  LAST
//	/1/fader1  f         20     4.0  0    0.95 0.2s        1  f:0.95
func (p *Printer) AppendText(b []byte, s *Snapshot) []byte {
	b = append(b, "# "...)
	b = s.Time.In(p.o.Location).AppendFormat(b, "2006-01-02T15:04:05.000Z07:00")
	b = append(b, "  "...)
	b = strconv.AppendInt(b, int64(len(s.Rows)), 10)
	b = append(b, plural(len(s.Rows), " row", " rows")...)
	b = append(b, "  "...)
	b = strconv.AppendInt(b, s.Packets, 10)
	b = append(b, plural(s.Packets, " packet (", " packets (")...)
	b = strconv.AppendInt(b, s.Bundles, 10)
	b = append(b, plural(s.Bundles, " bundle)  ", " bundles)  ")...)
	b = strconv.AppendInt(b, s.Messages, 10)
	b = append(b, plural(s.Messages, " message  ", " messages  ")...)
	b = strconv.AppendFloat(b, s.Rate, 'f', 1, 64)
	b = append(b, " msgs/s  "...)
	b = strconv.AppendInt(b, s.Malformed.Count, 10)
	b = append(b, " malformed"...)
	if s.Overflow.Count > 0 {
		b = append(b, "  "...)
		b = strconv.AppendInt(b, s.Overflow.Count, 10)
		b = append(b, " past --max-rows "...)
		b = strconv.AppendInt(b, int64(s.MaxRows), 10)
	}
	b = append(b, '\n')

	p.order = s.Order(p.o.Sort, p.o.Keep, p.order)
	p.table = p.table[:0]
	p.buf = p.buf[:0]
	p.addLine(nil, "", nil)
	for _, i := range p.order {
		p.addLine(&s.Rows[i], "", nil)
	}
	if s.Malformed.Count > 0 {
		p.addLine(nil, "(malformed)", &s.Malformed)
	}
	if s.Overflow.Count > 0 {
		p.addLine(nil, "(overflow)", &s.Overflow)
	}
	var widths [ncols]int
	for _, line := range p.table {
		for c, sp := range line {
			widths[c] = max(widths[c], utf8.RuneCount(p.buf[sp.start:sp.end]))
		}
	}
	for _, line := range p.table {
		first := true
		for c, sp := range line {
			if c == 1 && !s.BySender {
				continue
			}
			if !first {
				b = append(b, "  "...)
			}
			first = false
			cell := p.buf[sp.start:sp.end]
			pad := widths[c] - utf8.RuneCount(cell)
			if rightAligned[c] {
				b = appendSpaces(b, pad)
			}
			b = append(b, cell...)
			if !rightAligned[c] && c != ncols-1 {
				b = appendSpaces(b, pad)
			}
		}
		b = append(b, '\n')
	}
	return append(b, '\n')
}

// addLine adds a line to the table: the row r's, or the special row sp
// named name's, or (both nil) the column heads.
func (p *Printer) addLine(r *Row, name string, sp *Special) {
	var line [ncols]span
	for c := range line {
		start := len(p.buf)
		switch {
		case r != nil:
			p.buf = p.rowCell(p.buf, r, c)
		case sp != nil:
			p.buf = specialCell(p.buf, name, sp, c)
		default:
			p.buf = append(p.buf, heads[c]...)
		}
		line[c] = span{start, len(p.buf)}
	}
	p.table = append(p.table, line)
}

func (p *Printer) rowCell(b []byte, r *Row, c int) []byte {
	switch c {
	case 0:
		return osc.AppendWord(b, r.Key.Address)
	case 1:
		return osc.AppendWord(b, r.Key.From)
	case 2:
		b = r.AppendTypes(b)
		if r.TypesChanged() {
			b = append(b, " (was "...)
			b = r.AppendPrevTypes(b)
			b = append(b, ')')
		}
		return b
	case 3:
		return strconv.AppendInt(b, r.Count, 10)
	case 4:
		return strconv.AppendFloat(b, r.Rate, 'f', 1, 64)
	case 5, 6:
		vals := &r.Min
		if c == 6 {
			vals = &r.Max
		}
		return AppendNumbers(b, vals, r.Seen, r.NumArgs, textDigits)
	case 7:
		return AppendAge(b, r.Age)
	case 8:
		b = strconv.AppendInt(b, int64(r.Senders), 10)
		if r.MoreSenders {
			b = append(b, '+')
		}
		return b
	}
	start := len(b)
	b = r.AppendLast(b, &p.msg)
	if utf8.RuneCount(b[start:]) > lastWidth {
		b = CutRunes(b, start, lastWidth)
	}
	return b
}

func specialCell(b []byte, name string, s *Special, c int) []byte {
	switch c {
	case 0:
		return append(b, name...)
	case 3:
		return strconv.AppendInt(b, s.Count, 10)
	case 4:
		return strconv.AppendFloat(b, s.Rate, 'f', 1, 64)
	case 7:
		return AppendAge(b, s.Age)
	case 9:
		start := len(b)
		switch {
		case s.Err != nil:
			b = osc.AppendWord(b, s.Err.Error())
		case s.Address != "":
			b = append(b, "last "...)
			b = osc.AppendWord(b, s.Address)
		}
		if utf8.RuneCount(b[start:]) > lastWidth {
			b = CutRunes(b, start, lastWidth)
		}
		return b
	}
	return b
}

func appendSpaces(b []byte, n int) []byte {
	for range n {
		b = append(b, ' ')
	}
	return b
}

// CutRunes cuts b[start:] to n runes, the last of them "…".
func CutRunes(b []byte, start, n int) []byte {
	i, count := start, 0
	for i < len(b) && count < n-1 {
		_, size := utf8.DecodeRune(b[i:])
		i += size
		count++
	}
	return append(b[:i], "…"...)
}

// AppendNumbers appends the values of the first n numeric arguments that
// seen marks, comma-separated ("0,0.5"), "-" for one without a value, and
// "…" when there were more than MaxNumeric; each in at most digits
// significant digits.
func AppendNumbers(b []byte, vals *[MaxNumeric]float64, seen uint8, n, digits int) []byte {
	if n == 0 {
		return append(b, '-')
	}
	for k := 0; k < min(n, MaxNumeric); k++ {
		if k > 0 {
			b = append(b, ',')
		}
		if seen&(1<<k) == 0 {
			b = append(b, '-')
			continue
		}
		b = AppendNumber(b, vals[k], digits)
	}
	if n > MaxNumeric {
		b = append(b, ",…"...)
	}
	return b
}

// AppendNumber appends v in at most digits significant digits: whole
// numbers as integers (up to 1e15), others in the shortest of %g's forms.
func AppendNumber(b []byte, v float64, digits int) []byte {
	switch {
	case math.IsInf(v, 1):
		return append(b, "Inf"...)
	case math.IsInf(v, -1):
		return append(b, "-Inf"...)
	case v == math.Trunc(v) && math.Abs(v) < 1e15:
		return strconv.AppendInt(b, int64(v), 10)
	}
	return strconv.AppendFloat(b, v, 'g', digits, 64)
}

// AppendAge appends a time since last seen: "0.3s" below 10 s, "12s",
// "3m05s", "2h03m".
func AppendAge(b []byte, d time.Duration) []byte {
	switch {
	case d < 10*time.Second:
		b = strconv.AppendFloat(b, d.Seconds(), 'f', 1, 64)
		return append(b, 's')
	case d < time.Minute:
		b = strconv.AppendInt(b, int64(d/time.Second), 10)
		return append(b, 's')
	case d < time.Hour:
		b = strconv.AppendInt(b, int64(d/time.Minute), 10)
		b = append(b, 'm')
		return append2(b, int64(d%time.Minute/time.Second), 's')
	}
	b = strconv.AppendInt(b, int64(d/time.Hour), 10)
	b = append(b, 'h')
	return append2(b, int64(d%time.Hour/time.Minute), 'm')
}

func append2(b []byte, v int64, unit byte) []byte {
	if v < 10 {
		b = append(b, '0')
	}
	b = strconv.AppendInt(b, v, 10)
	return append(b, unit)
}

func plural[N int | int64](n N, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// jsonTime is RFC 3339 with nanoseconds, as in dump's JSON lines.
const jsonTime = "2006-01-02T15:04:05.000000000Z07:00"

// AppendJSON appends s as one JSON object and a newline:
//
//	{"time":"…","start":"…","packets":40,"bundles":0,"messages":40,"rate":8,
//	 "rows":[{"address":"/1/fader1","types":"f","count":20,"rate":4,
//	   "last":"f:0.95","args":[0.95],"min":[0],"max":[0.95],
//	   "last_seen":"…","age":0.2,"senders":1}],
//	 "malformed":{"count":0,"rate":0},"overflow":{"count":0,"rate":0}}
//
// A row has "from" with BySender, "types_changed" (how often) and
// "previous_types" once its types changed, and "args" only when its last
// message was kept whole ("last" is then cut text).
func (p *Printer) AppendJSON(b []byte, s *Snapshot) []byte {
	b = append(b, `{"time":"`...)
	b = s.Time.AppendFormat(b, jsonTime)
	b = append(b, `","start":"`...)
	b = s.Start.AppendFormat(b, jsonTime)
	b = append(b, `","packets":`...)
	b = strconv.AppendInt(b, s.Packets, 10)
	b = append(b, `,"bundles":`...)
	b = strconv.AppendInt(b, s.Bundles, 10)
	b = append(b, `,"messages":`...)
	b = strconv.AppendInt(b, s.Messages, 10)
	b = append(b, `,"rate":`...)
	b = appendJSONFloat(b, s.Rate)
	b = append(b, `,"rows":[`...)
	p.order = s.Order(p.o.Sort, p.o.Keep, p.order)
	for n, i := range p.order {
		r := &s.Rows[i]
		if n > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"address":`...)
		b = format.AppendJSONString(b, r.Key.Address)
		if s.BySender {
			b = append(b, `,"from":`...)
			b = format.AppendJSONString(b, r.Key.From)
		}
		b = append(b, `,"types":`...)
		b = p.jsonText(b, r.AppendTypes)
		if r.Changes > 0 {
			b = append(b, `,"types_changed":`...)
			b = strconv.AppendInt(b, r.Changes, 10)
			b = append(b, `,"previous_types":`...)
			b = p.jsonText(b, r.AppendPrevTypes)
		}
		b = append(b, `,"count":`...)
		b = strconv.AppendInt(b, r.Count, 10)
		b = append(b, `,"rate":`...)
		b = appendJSONFloat(b, r.Rate)
		b = append(b, `,"last":`...)
		b = p.jsonText(b, func(b []byte) []byte { return r.AppendLast(b, &p.msg) })
		if r.Message(&p.msg) {
			b = append(b, `,"args":`...)
			b = format.AppendJSONArgs(b, p.msg.Args)
		}
		b = append(b, `,"min":`...)
		b = appendJSONNumbers(b, &r.Min, r.Seen, r.NumArgs)
		b = append(b, `,"max":`...)
		b = appendJSONNumbers(b, &r.Max, r.Seen, r.NumArgs)
		b = append(b, `,"last_seen":"`...)
		b = r.LastSeen.AppendFormat(b, jsonTime)
		b = append(b, `","age":`...)
		b = appendJSONFloat(b, r.Age.Seconds())
		b = append(b, `,"senders":`...)
		b = strconv.AppendInt(b, int64(r.Senders), 10)
		b = append(b, '}')
	}
	b = append(b, `],"malformed":`...)
	b = appendJSONSpecial(b, &s.Malformed)
	b = append(b, `,"overflow":`...)
	b = appendJSONSpecial(b, &s.Overflow)
	return append(b, "}\n"...)
}

// jsonText appends what text appends as a JSON string.
func (p *Printer) jsonText(b []byte, text func([]byte) []byte) []byte {
	p.cell = text(p.cell[:0])
	return format.AppendJSONString(b, string(p.cell))
}

func appendJSONSpecial(b []byte, s *Special) []byte {
	b = append(b, `{"count":`...)
	b = strconv.AppendInt(b, s.Count, 10)
	b = append(b, `,"rate":`...)
	b = appendJSONFloat(b, s.Rate)
	if s.Count > 0 {
		b = append(b, `,"last_seen":"`...)
		b = s.LastSeen.AppendFormat(b, jsonTime)
		b = append(b, `","from":`...)
		b = format.AppendJSONString(b, s.From)
	}
	if s.Err != nil {
		b = append(b, `,"error":`...)
		b = format.AppendJSONString(b, s.Err.Error())
	}
	if s.Address != "" {
		b = append(b, `,"last_address":`...)
		b = format.AppendJSONString(b, s.Address)
	}
	return append(b, '}')
}

// appendJSONNumbers appends the numbers AppendNumbers prints as a JSON
// array, null for a value not seen, "Inf" and "-Inf" as strings.
func appendJSONNumbers(b []byte, vals *[MaxNumeric]float64, seen uint8, n int) []byte {
	b = append(b, '[')
	for k := 0; k < min(n, MaxNumeric); k++ {
		if k > 0 {
			b = append(b, ',')
		}
		if seen&(1<<k) == 0 {
			b = append(b, "null"...)
			continue
		}
		b = appendJSONFloat(b, vals[k])
	}
	return append(b, ']')
}

func appendJSONFloat(b []byte, v float64) []byte {
	switch {
	case math.IsInf(v, 1):
		return append(b, `"Inf"`...)
	case math.IsInf(v, -1):
		return append(b, `"-Inf"`...)
	case math.IsNaN(v):
		return append(b, `"NaN"`...)
	}
	return strconv.AppendFloat(b, v, 'g', -1, 64)
}
