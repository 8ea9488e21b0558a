package zeroconf

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"strings"
)

// oscli reads and writes DNS messages itself rather than through
// golang.org/x/net/dns/dnsmessage, which refuses a label holding a dot
// (golang/go#56246): DNS-SD instance names may hold dots ("Mixer 1.2",
// RFC 6763 §4.1.1), and one such name in a response would make the whole
// packet unreadable. Names here are label lists; what leaves the package
// is text with a label's own dots and backslashes escaped (RFC 6763 §4.3).

// Record types and classes (RFC 1035, RFC 2782, RFC 3596).
const (
	typeA    uint16 = 1
	typePTR  uint16 = 12
	typeTXT  uint16 = 16
	typeAAAA uint16 = 28
	typeSRV  uint16 = 33
	typeANY  uint16 = 255

	classIN = 1
	// classFlush is the top bit of a record's class: cache-flush in a
	// response (RFC 6762 §10.2), unicast-response in a question (§5.4).
	classFlush = 0x8000
)

// Header flags.
const (
	flagResponse      = 0x8000
	flagAuthoritative = 0x0400
)

// maxMessage is the largest mDNS message read or written: RFC 6762 §17
// caps a packet at 9000 bytes.
const maxMessage = 9000

// maxNameLen is the longest name in wire form (RFC 1035 §2.3.4).
const maxNameLen = 255

// Decoding errors; a parseError wraps them with the offset.
var (
	errTruncated = errors.New("truncated")
	errBadName   = errors.New("malformed name")
	errBadRecord = errors.New("malformed record")
)

type parseError struct {
	Off int
	Err error
}

func (e *parseError) Error() string { return fmt.Sprintf("offset %d: %v", e.Off, e.Err) }
func (e *parseError) Unwrap() error { return e.Err }

// name is a domain name as its labels, without the empty root label.
type name []string

// key is the name in lower-case presentation form, for maps and
// comparisons: DNS names compare case-insensitively (ASCII only, RFC 4343).
func (n name) key() string {
	var b strings.Builder
	for _, l := range n {
		for i := 0; i < len(l); i++ {
			c := l[i]
			switch {
			case c >= 'A' && c <= 'Z':
				c += 'a' - 'A'
			case c == '.' || c == '\\':
				b.WriteByte('\\')
			}
			b.WriteByte(c)
		}
		b.WriteByte('.')
	}
	return b.String()
}

// String is the name in presentation form: labels joined by dots, a
// label's own dots and backslashes escaped (RFC 6763 §4.3).
func (n name) String() string {
	var b strings.Builder
	for _, l := range n {
		for i := 0; i < len(l); i++ {
			if l[i] == '.' || l[i] == '\\' {
				b.WriteByte('\\')
			}
			b.WriteByte(l[i])
		}
		b.WriteByte('.')
	}
	if b.Len() == 0 {
		return "."
	}
	return b.String()
}

func (n name) equal(m name) bool { return n.key() == m.key() }

// join makes a name of a first label and the labels of a dotted suffix
// ("_osc._udp.local"), which holds no escapes.
func join(first string, suffix string) name {
	return append(name{first}, splitDots(suffix)...)
}

func splitDots(s string) name {
	s = strings.TrimSuffix(s, ".")
	if s == "" {
		return nil
	}
	return strings.Split(s, ".")
}

// question is one entry of a message's question section.
type question struct {
	Name  name
	Type  uint16
	Class uint16 // with classFlush: a unicast response is asked for
}

// record is a resource record with its data decoded for the types DNS-SD
// uses; other types keep only their header.
type record struct {
	Name  name
	Type  uint16
	Class uint16 // with classFlush: cache-flush
	TTL   uint32

	Target   name       // PTR, SRV
	Port     uint16     // SRV
	Priority uint16     // SRV
	Weight   uint16     // SRV
	TXT      []string   // TXT
	Addr     netip.Addr // A, AAAA
}

// message is a DNS message.
type message struct {
	ID          uint16
	Flags       uint16
	Questions   []question
	Answers     []record
	Authorities []record
	Additionals []record
}

func (m *message) isResponse() bool { return m.Flags&flagResponse != 0 }

// records returns the answer, authority and additional records.
func (m *message) records() []record {
	rs := make([]record, 0, len(m.Answers)+len(m.Authorities)+len(m.Additionals))
	rs = append(rs, m.Answers...)
	rs = append(rs, m.Authorities...)
	return append(rs, m.Additionals...)
}

// parseMessage decodes a DNS message. Every length and offset is checked
// before it is used; a compression pointer must point backwards, so a
// packet cannot loop. Records of types DNS-SD does not use are kept with
// their header only.
func parseMessage(b []byte) (*message, error) {
	if len(b) < 12 {
		return nil, &parseError{0, errTruncated}
	}
	m := &message{ID: binary.BigEndian.Uint16(b), Flags: binary.BigEndian.Uint16(b[2:])}
	counts := [4]int{}
	for i := range counts {
		counts[i] = int(binary.BigEndian.Uint16(b[4+2*i:]))
	}
	// Each question takes at least 5 bytes and each record 11: counts
	// beyond what the packet can hold are a lie, not a reason to allocate.
	if 12+5*counts[0]+11*(counts[1]+counts[2]+counts[3]) > len(b) {
		return nil, &parseError{4, errTruncated}
	}
	off := 12
	m.Questions = make([]question, 0, counts[0])
	for range counts[0] {
		n, next, err := parseName(b, off)
		if err != nil {
			return nil, err
		}
		if next+4 > len(b) {
			return nil, &parseError{next, errTruncated}
		}
		m.Questions = append(m.Questions, question{Name: n, Type: binary.BigEndian.Uint16(b[next:]), Class: binary.BigEndian.Uint16(b[next+2:])})
		off = next + 4
	}
	for i, dst := range []*[]record{&m.Answers, &m.Authorities, &m.Additionals} {
		*dst = make([]record, 0, counts[i+1])
		for range counts[i+1] {
			r, next, err := parseRecord(b, off)
			if err != nil {
				return nil, err
			}
			*dst = append(*dst, r)
			off = next
		}
	}
	return m, nil
}

func parseRecord(b []byte, off int) (record, int, error) {
	var r record
	n, off, err := parseName(b, off)
	if err != nil {
		return r, 0, err
	}
	if off+10 > len(b) {
		return r, 0, &parseError{off, errTruncated}
	}
	r.Name = n
	r.Type = binary.BigEndian.Uint16(b[off:])
	r.Class = binary.BigEndian.Uint16(b[off+2:])
	r.TTL = binary.BigEndian.Uint32(b[off+4:])
	size := int(binary.BigEndian.Uint16(b[off+8:]))
	start := off + 10
	end := start + size
	if end > len(b) {
		return r, 0, &parseError{off + 8, errTruncated}
	}
	data := b[start:end]
	switch r.Type {
	case typeA:
		if size != 4 {
			return r, 0, &parseError{start, errBadRecord}
		}
		r.Addr = netip.AddrFrom4([4]byte(data))
	case typeAAAA:
		if size != 16 {
			return r, 0, &parseError{start, errBadRecord}
		}
		r.Addr = netip.AddrFrom16([16]byte(data))
	case typePTR:
		t, next, err := parseName(b[:end], start)
		if err != nil {
			return r, 0, err
		}
		if next != end {
			return r, 0, &parseError{next, errBadRecord}
		}
		r.Target = t
	case typeSRV:
		if size < 7 {
			return r, 0, &parseError{start, errBadRecord}
		}
		r.Priority = binary.BigEndian.Uint16(data)
		r.Weight = binary.BigEndian.Uint16(data[2:])
		r.Port = binary.BigEndian.Uint16(data[4:])
		t, next, err := parseName(b[:end], start+6)
		if err != nil {
			return r, 0, err
		}
		if next != end {
			return r, 0, &parseError{next, errBadRecord}
		}
		r.Target = t
	case typeTXT:
		for i := 0; i < len(data); {
			l := int(data[i])
			if i+1+l > len(data) {
				return r, 0, &parseError{start + i, errBadRecord}
			}
			r.TXT = append(r.TXT, string(data[i+1:i+1+l]))
			i += 1 + l
		}
	}
	return r, end, nil
}

// parseName reads the name at off and returns it with the offset after
// it. A compression pointer must point before the label it replaces, so
// every hop goes backwards and a name cannot loop; the whole name may
// take at most 255 bytes in wire form.
func parseName(b []byte, off int) (name, int, error) {
	var n name
	end := -1 // the offset after the name where it started
	wire := 0
	for lo := off; ; {
		if off >= len(b) {
			return nil, 0, &parseError{off, errTruncated}
		}
		c := int(b[off])
		switch c & 0xC0 {
		case 0x00:
			if c == 0 {
				if end < 0 {
					end = off + 1
				}
				return n, end, nil
			}
			if off+1+c > len(b) {
				return nil, 0, &parseError{off, errTruncated}
			}
			if wire += 1 + c; wire+1 > maxNameLen {
				return nil, 0, &parseError{off, errBadName}
			}
			n = append(n, string(b[off+1:off+1+c]))
			off += 1 + c
		case 0xC0:
			if off+2 > len(b) {
				return nil, 0, &parseError{off, errTruncated}
			}
			ptr := int(binary.BigEndian.Uint16(b[off:]) & 0x3FFF)
			if ptr >= lo {
				return nil, 0, &parseError{off, errBadName}
			}
			if end < 0 {
				end = off + 2
			}
			off, lo = ptr, ptr
		default:
			return nil, 0, &parseError{off, errBadName}
		}
	}
}

// builder appends a message with name compression (RFC 1035 §4.1.4).
type builder struct {
	b     []byte
	names map[string]int // name key → offset of its first label
}

// appendMessage encodes m. Names are compressed; a label longer than 63
// bytes, a name over 255 or a TXT string over 255 is an error.
func appendMessage(dst []byte, m *message) ([]byte, error) {
	bl := builder{b: dst, names: map[string]int{}}
	base := len(dst)
	bl.b = binary.BigEndian.AppendUint16(bl.b, m.ID)
	bl.b = binary.BigEndian.AppendUint16(bl.b, m.Flags)
	for _, n := range []int{len(m.Questions), len(m.Answers), len(m.Authorities), len(m.Additionals)} {
		bl.b = binary.BigEndian.AppendUint16(bl.b, uint16(n))
	}
	for _, q := range m.Questions {
		if err := bl.name(q.Name, base); err != nil {
			return dst, err
		}
		bl.b = binary.BigEndian.AppendUint16(bl.b, q.Type)
		bl.b = binary.BigEndian.AppendUint16(bl.b, q.Class)
	}
	for _, sec := range [][]record{m.Answers, m.Authorities, m.Additionals} {
		for i := range sec {
			if err := bl.record(&sec[i], base); err != nil {
				return dst, err
			}
		}
	}
	return bl.b, nil
}

func (bl *builder) record(r *record, base int) error {
	if err := bl.name(r.Name, base); err != nil {
		return err
	}
	bl.b = binary.BigEndian.AppendUint16(bl.b, r.Type)
	bl.b = binary.BigEndian.AppendUint16(bl.b, r.Class)
	bl.b = binary.BigEndian.AppendUint32(bl.b, r.TTL)
	at := len(bl.b)
	bl.b = append(bl.b, 0, 0) // the data's size, set below
	switch r.Type {
	case typeA:
		if !r.Addr.Is4() {
			return fmt.Errorf("A record %s: %v is not IPv4", r.Name, r.Addr)
		}
		a := r.Addr.As4()
		bl.b = append(bl.b, a[:]...)
	case typeAAAA:
		if !r.Addr.Is6() {
			return fmt.Errorf("AAAA record %s: %v is not IPv6", r.Name, r.Addr)
		}
		a := r.Addr.As16()
		bl.b = append(bl.b, a[:]...)
	case typePTR:
		if err := bl.name(r.Target, base); err != nil {
			return err
		}
	case typeSRV:
		bl.b = binary.BigEndian.AppendUint16(bl.b, r.Priority)
		bl.b = binary.BigEndian.AppendUint16(bl.b, r.Weight)
		bl.b = binary.BigEndian.AppendUint16(bl.b, r.Port)
		// RFC 2782 forbids compressing the target; mDNS allows it, but
		// old readers do not expect it.
		if err := bl.plainName(r.Target); err != nil {
			return err
		}
	case typeTXT:
		if len(r.TXT) == 0 {
			bl.b = append(bl.b, 0) // RFC 6763 §6.1: never empty
		}
		for _, s := range r.TXT {
			if len(s) > 255 {
				return fmt.Errorf("TXT string %.20q…: %d bytes, at most 255", s, len(s))
			}
			bl.b = append(bl.b, byte(len(s)))
			bl.b = append(bl.b, s...)
		}
	default:
		return fmt.Errorf("cannot write a record of type %d", r.Type)
	}
	size := len(bl.b) - at - 2
	if size > 0xFFFF {
		return errors.New("record data over 65535 bytes")
	}
	binary.BigEndian.PutUint16(bl.b[at:], uint16(size))
	return nil
}

// name appends n, pointing to an earlier copy of its longest known suffix.
func (bl *builder) name(n name, base int) error {
	if err := checkName(n); err != nil {
		return err
	}
	for i := range n {
		k := n[i:].key()
		if off, ok := bl.names[k]; ok {
			bl.b = binary.BigEndian.AppendUint16(bl.b, uint16(0xC000|off))
			return nil
		}
		if off := len(bl.b) - base; off < 0x3FFF {
			bl.names[k] = off
		}
		bl.b = append(bl.b, byte(len(n[i])))
		bl.b = append(bl.b, n[i]...)
	}
	bl.b = append(bl.b, 0)
	return nil
}

func (bl *builder) plainName(n name) error {
	if err := checkName(n); err != nil {
		return err
	}
	for _, l := range n {
		bl.b = append(bl.b, byte(len(l)))
		bl.b = append(bl.b, l...)
	}
	bl.b = append(bl.b, 0)
	return nil
}

func checkName(n name) error {
	wire := 1
	for _, l := range n {
		if l == "" || len(l) > 63 {
			return fmt.Errorf("name %s: a label must have 1 to 63 bytes", n)
		}
		wire += 1 + len(l)
	}
	if wire > maxNameLen {
		return fmt.Errorf("name %s: over 255 bytes", n)
	}
	return nil
}
