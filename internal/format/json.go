package format

import (
	"encoding/base64"
	"errors"
	"io"
	"math"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/oscli/oscli/internal/osc"
	"github.com/oscli/oscli/internal/termsafe"
)

// JSON renders one JSON object per packet, one per line (the schema is in
// README.md):
//
//	{"time":"2026-11-21T18:00:00.123456789Z","from":"127.0.0.1:54321","proto":"udp",
//	 "size":20,"raw":"LzEvZmFkZXIAAAAALGYAAD8AAAA=",
//	 "packet":{"address":"/1/fader","types":"f","args":[0.5]}}
//
// Bundles are {"timetag":"0x…","time":"…" or "immediately","elements":[…]};
// malformed packets carry "error" and "offset" instead of "packet".
// Strings are valid JSON whatever the network sent: invalid UTF-8 becomes
// U+FFFD (the exact bytes stay in "raw"), and control, bidi, zero-width
// and other invisible characters are \u escapes.
type JSON struct {
	w   io.Writer
	aw  appendWriter // w, when it lets us render into its free space
	buf []byte
	c   jsonCache
}

// jsonCache keeps what consecutive packets usually share, formatted.
type jsonCache struct {
	evTime, bundleTime timeCache // arrival and bundle times, per second
	from, proto        string    // of the last packet, and
	source             []byte    // `,"from":…,"proto":…` for them
}

// appendWriter is what *bufio.Writer and *bytes.Buffer offer: an empty
// slice over their free space, to append to and pass to Write at once,
// which then copies nothing.
type appendWriter interface {
	io.Writer
	Available() int
	AvailableBuffer() []byte
}

// NewJSON returns a JSON-lines renderer.
func NewJSON(w io.Writer) *JSON {
	aw, _ := w.(appendWriter)
	return &JSON{w: w, aw: aw}
}

// Render writes one event.
func (j *JSON) Render(ev *Event) error {
	dst := j.buf[:0]
	// Render into the writer's buffer when it has as much room as ours.
	// A line that outgrows it there would have outgrown ours too: the
	// slice append allocates then becomes our buffer, so this allocates
	// no more often than rendering into our buffer always would.
	if j.aw != nil && j.aw.Available() >= cap(j.buf) {
		dst = j.aw.AvailableBuffer()
	}
	b := appendJSON(dst, ev, &j.c)
	b = append(b, '\n')
	if cap(b) != cap(dst) {
		j.buf = b[:0] // append moved it to a new array, which is ours
	}
	return writeAll(j.w, b)
}

// AppendJSON appends the event as one JSON object (no newline).
func AppendJSON(b []byte, ev *Event) []byte {
	return appendJSON(b, ev, nil)
}

// appendJSON is AppendJSON reusing what c keeps (nil: nothing).
func appendJSON(b []byte, ev *Event, c *jsonCache) []byte {
	var evTime, bundleTime *timeCache
	if c != nil {
		evTime, bundleTime = &c.evTime, &c.bundleTime
	}
	b = append(b, `{"time":"`...)
	b = evTime.append(b, ev.Time)
	b = append(b, '"')
	b = c.appendSource(b, ev.From, ev.Proto)
	if ev.Dir != "" {
		b = append(b, `,"dir":`...)
		b = appendJSONString(b, string(ev.Dir))
		if ev.To != "" {
			b = append(b, `,"to":`...)
			b = appendJSONString(b, ev.To)
		}
	}
	b = append(b, `,"size":`...)
	b = strconv.AppendInt(b, int64(len(ev.Raw)), 10)
	b = append(b, `,"raw":"`...)
	b = base64.StdEncoding.AppendEncode(b, ev.Raw)
	b = append(b, '"')
	if ev.Packet != nil {
		b = append(b, `,"packet":`...)
		b = appendJSONPacket(b, ev.Packet, bundleTime)
	} else {
		err := ev.Err
		if err == nil {
			err = errors.New("no packet")
		}
		b = append(b, `,"error":`...)
		b = appendJSONString(b, err.Error())
		var de *osc.DecodeError
		if errors.As(err, &de) {
			b = append(b, `,"offset":`...)
			b = strconv.AppendInt(b, int64(de.Off), 10)
		}
	}
	return append(b, '}')
}

// appendSource appends the "from" and "proto" members, escaped only
// when the source changes: usually once per run or per connection.
func (c *jsonCache) appendSource(b []byte, from, proto string) []byte {
	if c == nil {
		return appendSource(b, from, proto)
	}
	if c.source == nil || from != c.from || proto != c.proto {
		c.source = appendSource(c.source[:0], from, proto)
		c.from, c.proto = from, proto
	}
	return append(b, c.source...)
}

func appendSource(b []byte, from, proto string) []byte {
	b = append(b, `,"from":`...)
	b = appendJSONString(b, from)
	b = append(b, `,"proto":`...)
	return appendJSONString(b, proto)
}

// appendJSONPacket appends a message or bundle object; times caches the
// formatting of bundle times (nil formats each).
func appendJSONPacket(b []byte, p osc.Packet, times *timeCache) []byte {
	switch p := p.(type) {
	case *osc.Message:
		b = append(b, `{"address":`...)
		b = appendJSONString(b, p.Address)
		if p.NoTypeTags {
			return append(b, `,"types":"","args":[],"no_typetags":true}`...)
		}
		b = append(b, `,"types":"`...)
		for _, a := range p.Args {
			b = append(b, byte(a.Tag))
		}
		b = append(b, `","args":`...)
		b = AppendJSONArgs(b, p.Args)
		return append(b, '}')
	case *osc.Bundle:
		b = append(b, `{"timetag":"`...)
		b = p.Timetag.AppendHex(b)
		b = append(b, `","time":"`...)
		if p.Timetag.IsImmediate() {
			b = append(b, "immediately"...)
		} else {
			b = times.append(b, p.Timetag.Time())
		}
		b = append(b, `","elements":[`...)
		for i, e := range p.Elements {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONPacket(b, e, times)
		}
		return append(b, "]}"...)
	}
	return append(b, "null"...)
}

// AppendJSONArgs appends args as the JSON array of a message's "args":
// values read through their types, arrays as nested arrays.
func AppendJSONArgs(b []byte, args []osc.Arg) []byte {
	b = append(b, '[')
	for i, a := range args {
		if i > 0 && a.Tag != osc.TagArrayEnd && b[len(b)-1] != '[' {
			b = append(b, ',')
		}
		b = appendJSONArg(b, a)
	}
	return append(b, ']')
}

// AppendJSONString appends s as a JSON string escaped as in every JSON
// line oscli writes (see appendJSONString).
func AppendJSONString(b []byte, s string) []byte { return appendJSONString(b, s) }

func appendJSONArg(b []byte, a osc.Arg) []byte {
	switch a.Tag {
	case osc.TagInt32:
		return strconv.AppendInt(b, int64(a.Int32()), 10)
	case osc.TagInt64:
		return strconv.AppendInt(b, a.Int64(), 10)
	case osc.TagFloat32, osc.TagFloat64:
		f, size := a.Float64(), 64
		if a.Tag == osc.TagFloat32 {
			f, size = float64(a.Float32()), 32
		}
		if math.IsNaN(f) || math.IsInf(f, 0) {
			// JSON has no NaN or Inf: the text syntax's spelling, as a
			// string ("NaN", "-Inf", "NaN:0xffc00001").
			b = append(b, '"')
			start := len(b)
			b = a.AppendText(b)
			b = append(b[:start], b[start+2:]...) // drop "f:"
			return append(b, '"')
		}
		return strconv.AppendFloat(b, f, 'g', -1, size)
	case osc.TagString, osc.TagSymbol:
		return appendJSONString(b, string(a.Data))
	case osc.TagBlob:
		b = append(b, '"')
		b = appendHex(b, a.Data)
		return append(b, '"')
	case osc.TagTimetag:
		b = append(b, '"')
		b = a.Timetag().AppendHex(b)
		return append(b, '"')
	case osc.TagRGBA, osc.TagMIDI:
		b = append(b, '"')
		b = appendHex(b, []byte{byte(a.Bits >> 24), byte(a.Bits >> 16), byte(a.Bits >> 8), byte(a.Bits)})
		return append(b, '"')
	case osc.TagChar:
		r := rune(a.Uint32())
		if a.Uint32() <= utf8.MaxRune && utf8.ValidRune(r) {
			var tmp [4]byte
			return appendJSONString(b, string(utf8.AppendRune(tmp[:0], r)))
		}
		return strconv.AppendUint(b, uint64(a.Uint32()), 10)
	case osc.TagTrue:
		return append(b, "true"...)
	case osc.TagFalse:
		return append(b, "false"...)
	case osc.TagNil, osc.TagImpulse:
		return append(b, "null"...)
	case osc.TagArrayBegin:
		return append(b, '[')
	case osc.TagArrayEnd:
		return append(b, ']')
	}
	return append(b, "null"...)
}

func appendHex(b, data []byte) []byte {
	const digits = "0123456789abcdef"
	for _, c := range data {
		b = append(b, digits[c>>4], digits[c&0xf])
	}
	return b
}

// appendJSONString appends s as a JSON string. Invalid UTF-8 becomes
// U+FFFD (the exact bytes are in "raw"); every rune that the text format
// escapes (termsafe: C0, DEL, C1, bidi and zero-width characters, other
// invisible ones) is written as a \u escape, a surrogate pair above
// U+FFFF, so JSON on a terminal is as safe as the text format and decodes
// to the same bytes.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	// What needs no escape is appended a run at a time: addresses and
	// sources are usually nothing else.
	run := 0
	for i := 0; i < len(s); {
		c := s[i]
		if jsonPlain[c] {
			i++
			continue
		}
		if c >= utf8.RuneSelf {
			r, n := utf8.DecodeRuneInString(s[i:])
			if n > 1 && termsafe.IsSafe(r) {
				i += n // printable: part of the run
				continue
			}
			b = append(b, s[run:i]...)
			switch {
			case n == 1:
				b = append(b, `\ufffd`...)
			case r > 0xffff:
				hi, lo := utf16.EncodeRune(r)
				b = appendJSONEscape(appendJSONEscape(b, hi), lo)
			default:
				b = appendJSONEscape(b, r)
			}
			i += n
			run = i
			continue
		}
		b = append(b, s[run:i]...)
		switch c {
		case '"', '\\':
			b = append(b, '\\', c)
		case '\n':
			b = append(b, '\\', 'n')
		case '\t':
			b = append(b, '\\', 't')
		case '\r':
			b = append(b, '\\', 'r')
		default:
			b = appendJSONEscape(b, rune(c))
		}
		i++
		run = i
	}
	b = append(b, s[run:]...)
	return append(b, '"')
}

// appendJSONEscape appends \uXXXX for r, at most U+FFFF.
func appendJSONEscape(b []byte, r rune) []byte {
	const hex = "0123456789abcdef"
	return append(b, '\\', 'u', hex[r>>12&0xf], hex[r>>8&0xf], hex[r>>4&0xf], hex[r&0xf])
}

// jsonPlain marks the bytes appendJSONString copies as they are: printable
// ASCII but '"' and '\'.
var jsonPlain = func() (t [256]bool) {
	for c := ' '; c < 0x7f; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()
