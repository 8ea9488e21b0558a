package osc

// Packet is an OSC packet: a *Message or a *Bundle.
type Packet interface {
	isPacket()
}

// Message is an OSC message: an address (pattern) and its arguments.
type Message struct {
	Address string
	Args    []Arg
	// NoTypeTags is set by the decoder for a message that had no type tag
	// string at all (OSC 1.0 asks receivers to be robust to this; Behringer
	// X32-Edit sends such messages). Encoding honours it: the message is
	// written without a type tag string, so it must have no arguments.
	NoTypeTags bool
}

// Bundle is an OSC bundle: a time tag and elements, each a message or a
// bundle, in order.
type Bundle struct {
	Timetag  Timetag
	Elements []Packet
}

func (*Message) isPacket() {}
func (*Bundle) isPacket()  {}

// Clone returns a deep copy of m that shares no memory with it (in
// particular, not with the buffer m was decoded from).
func (m *Message) Clone() *Message {
	c := &Message{Address: m.Address, NoTypeTags: m.NoTypeTags}
	if len(m.Args) > 0 {
		c.Args = make([]Arg, len(m.Args))
		size := 0
		for _, a := range m.Args {
			size += len(a.Data)
		}
		data := make([]byte, 0, size)
		for i, a := range m.Args {
			c.Args[i] = a
			if a.Data != nil {
				start := len(data)
				data = append(data, a.Data...)
				c.Args[i].Data = data[start:len(data):len(data)]
			}
		}
	}
	return c
}

// Clone returns a deep copy of b and all its elements.
func (b *Bundle) Clone() *Bundle {
	c := &Bundle{Timetag: b.Timetag}
	if len(b.Elements) > 0 {
		c.Elements = make([]Packet, len(b.Elements))
		for i, e := range b.Elements {
			c.Elements[i] = ClonePacket(e)
		}
	}
	return c
}

// ClonePacket returns a deep copy of p.
func ClonePacket(p Packet) Packet {
	switch p := p.(type) {
	case *Message:
		return p.Clone()
	case *Bundle:
		return p.Clone()
	}
	return nil
}

// IsBundle reports whether b starts with the bundle header "#bundle\0".
func IsBundle(b []byte) bool {
	return len(b) >= 8 && string(b[:8]) == bundleHeader
}

const bundleHeader = "#bundle\x00"
