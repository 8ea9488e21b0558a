package osc

import (
	"bytes"
	"encoding/binary"
	"strconv"
)

// Decoding threads absolute offsets through the whole packet: a bundle
// element is decoded from b[:end] with its start offset, so every error
// offset points into the packet as received.

// DecodeMessage decodes the message packet b into m, reusing m.Args. On
// success m's byte slices alias b; use Clone to keep them past b's reuse.
// It allocates only when m.Address differs from the decoded address or
// m.Args lacks capacity.
func DecodeMessage(b []byte, m *Message) error {
	if err := checkPacketSize(b); err != nil {
		return err
	}
	return decodeMessage(b, 0, m)
}

// DecodeBundle decodes the bundle packet b into bd, reusing bd.Elements and
// the messages and bundles they point to where the kinds line up.
func DecodeBundle(b []byte, bd *Bundle) error {
	if err := checkPacketSize(b); err != nil {
		return err
	}
	return decodeBundle(b, 0, bd, 1)
}

// Decoder decodes packets of either kind into values it keeps and reuses, so
// that a receive loop decodes without allocating. The Packet returned by
// Decode is valid until the next call, and aliases the input.
type Decoder struct {
	msg    Message
	bundle Bundle
}

// Decode decodes one packet.
func (d *Decoder) Decode(b []byte) (Packet, error) {
	if IsBundle(b) {
		if err := DecodeBundle(b, &d.bundle); err != nil {
			return nil, err
		}
		return &d.bundle, nil
	}
	if err := DecodeMessage(b, &d.msg); err != nil {
		return nil, err
	}
	return &d.msg, nil
}

// Decode decodes one packet into new values. They alias b.
func Decode(b []byte) (Packet, error) {
	if IsBundle(b) {
		bd := new(Bundle)
		if err := DecodeBundle(b, bd); err != nil {
			return nil, err
		}
		return bd, nil
	}
	m := new(Message)
	if err := DecodeMessage(b, m); err != nil {
		return nil, err
	}
	return m, nil
}

func checkPacketSize(b []byte) error {
	if len(b) == 0 {
		return decodeErr(0, ErrTruncated)
	}
	if len(b)%4 != 0 {
		return decodeErr(len(b)-len(b)%4, ErrSize)
	}
	return nil
}

// readString reads an OSC-string at off in b and returns its bytes and the
// offset after its padding.
func readString(b []byte, off int) ([]byte, int, error) {
	if off >= len(b) {
		return nil, off, decodeErr(off, ErrTruncated)
	}
	n := bytes.IndexByte(b[off:], 0)
	if n < 0 {
		return nil, off, decodeErr(off, ErrUnterminated)
	}
	end := off + n + 4 - n%4
	if end > len(b) {
		return nil, off, decodeErr(len(b), ErrTruncated)
	}
	for i := off + n + 1; i < end; i++ {
		if b[i] != 0 {
			return nil, off, decodeErr(i, ErrBadPadding)
		}
	}
	return b[off : off+n], end, nil
}

func decodeMessage(b []byte, off int, m *Message) error {
	if off >= len(b) {
		return decodeErr(off, ErrTruncated)
	}
	if b[off] != '/' {
		return decodeErr(off, ErrBadAddress)
	}
	addr, off, err := readString(b, off)
	if err != nil {
		return err
	}
	// Comparing first keeps a receive loop for one address allocation-free.
	if string(addr) != m.Address {
		m.Address = string(addr)
	}
	m.Args = m.Args[:0]
	m.NoTypeTags = off == len(b)
	if m.NoTypeTags {
		return nil
	}
	if b[off] != ',' {
		return decodeErr(off, ErrBadTypeTags)
	}
	tags, dataOff, err := readString(b, off)
	if err != nil {
		return err
	}
	tagOff := off + 1 // offset of the first tag, for error reports
	tags = tags[1:]
	depth, openAt := 0, 0
	off = dataOff
	for i, c := range tags {
		t := Tag(c)
		a := Arg{Tag: t}
		switch t {
		case TagInt32, TagFloat32, TagChar, TagRGBA, TagMIDI:
			if len(b)-off < 4 {
				return decodeErr(off, ErrTruncated)
			}
			a.Bits = uint64(binary.BigEndian.Uint32(b[off:]))
			off += 4
		case TagInt64, TagFloat64, TagTimetag:
			if len(b)-off < 8 {
				return decodeErr(off, ErrTruncated)
			}
			a.Bits = binary.BigEndian.Uint64(b[off:])
			off += 8
		case TagString, TagSymbol:
			a.Data, off, err = readString(b, off)
			if err != nil {
				return err
			}
		case TagBlob:
			a.Data, off, err = readBlob(b, off)
			if err != nil {
				return err
			}
		case TagTrue, TagFalse, TagNil, TagImpulse:
		case TagArrayBegin:
			if depth == 0 {
				openAt = tagOff + i
			}
			depth++
			if depth > MaxArrayDepth {
				return decodeErr(tagOff+i, ErrTooDeep)
			}
		case TagArrayEnd:
			depth--
			if depth < 0 {
				return decodeErr(tagOff+i, withDetail(ErrUnbalanced, "(']' without '[')"))
			}
		default:
			return decodeErr(tagOff+i, withDetail(ErrUnknownTag, strconv.QuoteRune(rune(c))))
		}
		m.Args = append(m.Args, a)
	}
	if depth != 0 {
		return decodeErr(openAt, withDetail(ErrUnbalanced, "('[' without ']')"))
	}
	if off != len(b) {
		return decodeErr(off, ErrTrailing)
	}
	return nil
}

func readBlob(b []byte, off int) ([]byte, int, error) {
	if len(b)-off < 4 {
		return nil, off, decodeErr(off, ErrTruncated)
	}
	n := int64(int32(binary.BigEndian.Uint32(b[off:])))
	if n < 0 {
		return nil, off, decodeErr(off, ErrBlobSize)
	}
	pad := (4 - n%4) % 4
	if int64(len(b)-off-4) < n+pad {
		return nil, off, decodeErr(off, withDetail(ErrTruncated, "(blob of "+strconv.FormatInt(n, 10)+" bytes)"))
	}
	start := off + 4
	end := start + int(n)
	for i := end; i < end+int(pad); i++ {
		if b[i] != 0 {
			return nil, off, decodeErr(i, ErrBadPadding)
		}
	}
	return b[start:end], end + int(pad), nil
}

func decodeBundle(b []byte, off int, bd *Bundle, depth int) error {
	if depth > MaxBundleDepth {
		return decodeErr(off, ErrTooDeep)
	}
	if len(b)-off < 8 || string(b[off:off+8]) != bundleHeader {
		return decodeErr(off, ErrNotBundle)
	}
	off += 8
	if len(b)-off < 8 {
		return decodeErr(off, ErrTruncated)
	}
	bd.Timetag = Timetag(binary.BigEndian.Uint64(b[off:]))
	off += 8
	// Look at the whole capacity: values left there by earlier decodes are
	// reused when the element at the same index has the same kind.
	els := bd.Elements[:cap(bd.Elements)]
	n := 0
	for off < len(b) {
		if len(b)-off < 4 {
			bd.Elements = els[:n]
			return decodeErr(off, ErrTruncated)
		}
		size := int64(int32(binary.BigEndian.Uint32(b[off:])))
		if size <= 0 || size%4 != 0 {
			bd.Elements = els[:n]
			return decodeErr(off, ErrElementSize)
		}
		if size > int64(len(b)-off-4) {
			bd.Elements = els[:n]
			return decodeErr(off, withDetail(ErrTruncated, "(element of "+strconv.FormatInt(size, 10)+" bytes)"))
		}
		start, end := off+4, off+4+int(size)
		var old Packet
		if n < len(els) {
			old = els[n]
		}
		var p Packet
		var err error
		if IsBundle(b[start:end]) {
			nb, _ := old.(*Bundle)
			if nb == nil {
				nb = new(Bundle)
			}
			p, err = nb, decodeBundle(b[:end], start, nb, depth+1)
		} else {
			nm, _ := old.(*Message)
			if nm == nil {
				nm = new(Message)
			}
			p, err = nm, decodeMessage(b[:end], start, nm)
		}
		if n < len(els) {
			els[n] = p
		} else {
			els = append(els, p)
		}
		n++
		if err != nil {
			bd.Elements = els[:n]
			return err
		}
		off = end
	}
	bd.Elements = els[:n]
	return nil
}
