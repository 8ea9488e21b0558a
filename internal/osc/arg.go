package osc

import "math"

// Tag is an OSC type tag character (OSC 1.0, "OSC Type Tag String").
type Tag byte

// The type tags of OSC 1.0 (i f s b) and the 1.0 "nonstandard" tags that
// OSC 1.1 and every common implementation support.
const (
	TagInt32      Tag = 'i' // 32-bit two's complement integer
	TagFloat32    Tag = 'f' // 32-bit IEEE 754 float
	TagString     Tag = 's' // OSC-string
	TagBlob       Tag = 'b' // OSC-blob: int32 size, bytes, padding
	TagInt64      Tag = 'h' // 64-bit two's complement integer
	TagTimetag    Tag = 't' // OSC time tag
	TagFloat64    Tag = 'd' // 64-bit IEEE 754 double
	TagSymbol     Tag = 'S' // alternate string type ("symbol")
	TagChar       Tag = 'c' // ASCII character, sent as 32 bits
	TagRGBA       Tag = 'r' // 32-bit RGBA colour
	TagMIDI       Tag = 'm' // 4-byte MIDI message: port, status, data1, data2
	TagTrue       Tag = 'T' // True; no argument data
	TagFalse      Tag = 'F' // False; no argument data
	TagNil        Tag = 'N' // Nil; no argument data
	TagImpulse    Tag = 'I' // Impulse ("Infinitum" in OSC 1.0); no argument data
	TagArrayBegin Tag = '[' // beginning of an array
	TagArrayEnd   Tag = ']' // end of an array
)

// Valid reports whether t is one of the type tags this package knows.
func (t Tag) Valid() bool { return t.size() != sizeUnknown }

// String returns the tag as its one-character string.
func (t Tag) String() string { return string(rune(t)) }

const (
	sizeUnknown  = -1
	sizeVariable = -2
)

// size returns the number of payload bytes of a fixed-size tag, or one of
// sizeUnknown and sizeVariable.
func (t Tag) size() int {
	switch t {
	case TagInt32, TagFloat32, TagChar, TagRGBA, TagMIDI:
		return 4
	case TagInt64, TagFloat64, TagTimetag:
		return 8
	case TagString, TagSymbol, TagBlob:
		return sizeVariable
	case TagTrue, TagFalse, TagNil, TagImpulse, TagArrayBegin, TagArrayEnd:
		return 0
	}
	return sizeUnknown
}

// Arg is one OSC argument: its type tag and its value. Array brackets are
// arguments too (tags '[' and ']'), so a message's Args read exactly like its
// type tag string. The zero Arg is invalid (tag 0).
//
// Numeric values live in Bits: integers as two's complement, floats as their
// IEEE 754 bits (so NaN payloads survive a round trip), t as the raw time tag,
// r and c as the 32-bit value, m as the four bytes big-endian. Strings,
// symbols and blobs live in Data, without terminator or padding; a decoded
// Arg's Data aliases the packet buffer.
type Arg struct {
	Tag  Tag
	Bits uint64
	Data []byte
}

// Int32 returns an 'i' argument.
func Int32(v int32) Arg { return Arg{Tag: TagInt32, Bits: uint64(uint32(v))} }

// Int64 returns an 'h' argument.
func Int64(v int64) Arg { return Arg{Tag: TagInt64, Bits: uint64(v)} }

// Float32 returns an 'f' argument.
func Float32(v float32) Arg { return Arg{Tag: TagFloat32, Bits: uint64(math.Float32bits(v))} }

// Float64 returns a 'd' argument.
func Float64(v float64) Arg { return Arg{Tag: TagFloat64, Bits: math.Float64bits(v)} }

// String returns an 's' argument. The string must not contain NUL.
func String(s string) Arg { return Arg{Tag: TagString, Data: []byte(s)} }

// Symbol returns an 'S' argument. The symbol must not contain NUL.
func Symbol(s string) Arg { return Arg{Tag: TagSymbol, Data: []byte(s)} }

// Blob returns a 'b' argument holding b (not copied).
func Blob(b []byte) Arg { return Arg{Tag: TagBlob, Data: b} }

// TimetagArg returns a 't' argument.
func TimetagArg(t Timetag) Arg { return Arg{Tag: TagTimetag, Bits: uint64(t)} }

// Char returns a 'c' argument: the character's code sent as 32 bits.
func Char(c rune) Arg { return Arg{Tag: TagChar, Bits: uint64(uint32(c))} }

// RGBA returns an 'r' argument; v is 0xRRGGBBAA.
func RGBA(v uint32) Arg { return Arg{Tag: TagRGBA, Bits: uint64(v)} }

// MIDI returns an 'm' argument from its four bytes.
func MIDI(port, status, data1, data2 byte) Arg {
	return Arg{Tag: TagMIDI, Bits: uint64(port)<<24 | uint64(status)<<16 | uint64(data1)<<8 | uint64(data2)}
}

// Bool returns a 'T' or 'F' argument.
func Bool(v bool) Arg {
	if v {
		return Arg{Tag: TagTrue}
	}
	return Arg{Tag: TagFalse}
}

// Nil returns an 'N' argument.
func Nil() Arg { return Arg{Tag: TagNil} }

// Impulse returns an 'I' argument.
func Impulse() Arg { return Arg{Tag: TagImpulse} }

// ArrayBegin returns the '[' marker that opens an array.
func ArrayBegin() Arg { return Arg{Tag: TagArrayBegin} }

// ArrayEnd returns the ']' marker that closes an array.
func ArrayEnd() Arg { return Arg{Tag: TagArrayEnd} }

// Int32 returns the value of an 'i' argument.
func (a Arg) Int32() int32 { return int32(uint32(a.Bits)) }

// Int64 returns the value of an 'h' argument.
func (a Arg) Int64() int64 { return int64(a.Bits) }

// Float32 returns the value of an 'f' argument.
func (a Arg) Float32() float32 { return math.Float32frombits(uint32(a.Bits)) }

// Float64 returns the value of a 'd' argument.
func (a Arg) Float64() float64 { return math.Float64frombits(a.Bits) }

// Timetag returns the value of a 't' argument.
func (a Arg) Timetag() Timetag { return Timetag(a.Bits) }

// Uint32 returns the 32-bit value of a 'c', 'r' or 'm' argument.
func (a Arg) Uint32() uint32 { return uint32(a.Bits) }

// Str returns the text of an 's' or 'S' argument (allocating a string).
func (a Arg) Str() string { return string(a.Data) }

// Bool reports whether the argument is 'T'.
func (a Arg) Bool() bool { return a.Tag == TagTrue }

// Equal reports whether a and b have the same tag and the same value, bit
// for bit (so two NaNs with the same payload are equal).
func (a Arg) Equal(b Arg) bool {
	return a.Tag == b.Tag && a.Bits == b.Bits && string(a.Data) == string(b.Data)
}

// String returns the argument in oscli's typed text syntax, e.g. "f:0.5".
func (a Arg) String() string { return string(a.AppendText(nil)) }
