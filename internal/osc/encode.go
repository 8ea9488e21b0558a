package osc

import (
	"encoding/binary"
	"errors"
	"math"
	"strconv"
)

var zeros [4]byte

// appendString appends s as an OSC-string: the bytes, then 1 to 4 NULs so
// the total is a multiple of 4 (OSC 1.0, "OSC-string").
func appendString[S string | []byte](dst []byte, s S) []byte {
	dst = append(dst, s...)
	return append(dst, zeros[:4-len(s)%4]...)
}

func appendUint32(dst []byte, v uint32) []byte { return binary.BigEndian.AppendUint32(dst, v) }

// AppendMessage appends the encoding of m to dst. It does not allocate when
// dst has enough capacity. It checks what a decoder would reject: the
// address must start with '/', strings must not contain NUL, tags must be
// known, and array brackets must balance within MaxArrayDepth. On error dst
// is returned unchanged.
func AppendMessage(dst []byte, m *Message) ([]byte, error) {
	if err := checkMessage(m); err != nil {
		return dst, err
	}
	dst = appendString(dst, m.Address)
	if m.NoTypeTags {
		return dst, nil
	}
	start := len(dst)
	dst = append(dst, ',')
	for _, a := range m.Args {
		dst = append(dst, byte(a.Tag))
	}
	dst = append(dst, zeros[:4-(len(dst)-start)%4]...)
	for _, a := range m.Args {
		dst = appendArgData(dst, a)
	}
	return dst, nil
}

func checkMessage(m *Message) error {
	if len(m.Address) == 0 || m.Address[0] != '/' {
		return withDetail(ErrBadAddress, strconv.Quote(m.Address))
	}
	if hasNUL(m.Address) {
		return withDetail(ErrNUL, "in address")
	}
	if m.NoTypeTags {
		if len(m.Args) > 0 {
			return ErrArgsNoTypeTag
		}
		return nil
	}
	depth := 0
	for i, a := range m.Args {
		switch a.Tag {
		case TagArrayBegin:
			depth++
			if depth > MaxArrayDepth {
				return argErr(i, ErrTooDeep)
			}
		case TagArrayEnd:
			depth--
			if depth < 0 {
				return argErr(i, ErrUnbalanced)
			}
		case TagString, TagSymbol:
			if hasNUL(a.Data) {
				return argErr(i, ErrNUL)
			}
		case TagBlob:
			if len(a.Data) > math.MaxInt32 {
				return argErr(i, errors.New("blob larger than 2 GiB"))
			}
		default:
			if !a.Tag.Valid() {
				return argErr(i, withDetail(ErrUnknownTag, strconv.QuoteRune(rune(a.Tag))))
			}
		}
	}
	if depth != 0 {
		return ErrUnbalanced
	}
	return nil
}

func hasNUL[S string | []byte](s S) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == 0 {
			return true
		}
	}
	return false
}

// ArgError reports which argument (0-based) of a message could not be encoded.
type ArgError struct {
	Index int
	Err   error
}

func (e *ArgError) Error() string {
	return "argument " + strconv.Itoa(e.Index+1) + ": " + e.Err.Error()
}
func (e *ArgError) Unwrap() error { return e.Err }

func argErr(i int, err error) error { return &ArgError{Index: i, Err: err} }

func appendArgData(dst []byte, a Arg) []byte {
	switch a.Tag {
	case TagInt32, TagFloat32, TagChar, TagRGBA, TagMIDI:
		return appendUint32(dst, uint32(a.Bits))
	case TagInt64, TagFloat64, TagTimetag:
		return binary.BigEndian.AppendUint64(dst, a.Bits)
	case TagString, TagSymbol:
		return appendString(dst, a.Data)
	case TagBlob:
		dst = appendUint32(dst, uint32(len(a.Data)))
		dst = append(dst, a.Data...)
		return append(dst, zeros[:(4-len(a.Data)%4)%4]...)
	}
	return dst
}

// AppendBundle appends the encoding of b to dst: the "#bundle" header, the
// time tag, and each element preceded by its int32 size. Nested bundles are
// limited to MaxBundleDepth. On error dst is returned unchanged.
func AppendBundle(dst []byte, b *Bundle) ([]byte, error) {
	out, err := appendBundle(dst, b, 1)
	if err != nil {
		return dst, err
	}
	return out, nil
}

func appendBundle(dst []byte, b *Bundle, depth int) ([]byte, error) {
	if depth > MaxBundleDepth {
		return dst, ErrTooDeep
	}
	dst = append(dst, bundleHeader...)
	dst = binary.BigEndian.AppendUint64(dst, uint64(b.Timetag))
	for _, e := range b.Elements {
		sizeAt := len(dst)
		dst = append(dst, 0, 0, 0, 0)
		var err error
		switch e := e.(type) {
		case *Message:
			dst, err = AppendMessage(dst, e)
		case *Bundle:
			dst, err = appendBundle(dst, e, depth+1)
		default:
			err = ErrNilElement
		}
		if err != nil {
			return dst, err
		}
		binary.BigEndian.PutUint32(dst[sizeAt:], uint32(len(dst)-sizeAt-4))
	}
	return dst, nil
}

// AppendPacket appends the encoding of a message or bundle to dst.
func AppendPacket(dst []byte, p Packet) ([]byte, error) {
	switch p := p.(type) {
	case *Message:
		return AppendMessage(dst, p)
	case *Bundle:
		return AppendBundle(dst, p)
	}
	return dst, ErrNilElement
}
