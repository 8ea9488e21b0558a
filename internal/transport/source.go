package transport

import (
	"fmt"
	"net/netip"
)

// Packet is one received OSC packet (or datagram) and where it came from.
type Packet struct {
	// Data is the payload. It is valid only until the callback returns;
	// copy it to keep it.
	Data []byte
	// Truncated reports a datagram the kernel cut to fit the buffer.
	Truncated bool
	// Size is a truncated datagram's whole size, where the system tells
	// it (Unix sockets on Linux); 0 when unknown.
	Size int
	// More reports that further packets are already queued behind this
	// one, so a consumer may put off flushing its output.
	More bool
	// Source is the sender; it stays valid after the callback.
	Source Source
}

// TruncatedError describes a truncated datagram for people, with its
// whole size when known: "datagram of 70000 bytes exceeds the 65536-byte
// limit", else "datagram truncated to 65536 bytes".
func (p *Packet) TruncatedError() error {
	if p.Size > len(p.Data) {
		return fmt.Errorf("datagram of %d bytes exceeds the %d-byte limit", p.Size, len(p.Data))
	}
	return fmt.Errorf("datagram truncated to %d bytes", len(p.Data))
}

// Source is the sender of a packet: its name, its protocol, and a way to
// answer it on the socket or connection the packet came in on. The zero
// Source is unnamed and cannot be answered.
type Source struct {
	proto string
	name  string
	addr  netip.AddrPort // UDP
	r     replier
}

// replier answers a source on the socket or connection it wrote from.
type replier interface {
	reply(s *Source, p []byte) error
}

// String names the sender: "127.0.0.1:54321", "[::1]:9000",
// "unix:/tmp/osc.sock" ("unix:-" for an unnamed socket).
func (s Source) String() string { return s.name }

// Proto names how the packet came: "udp", "tcp+slip", "tcp+len", "unix".
func (s Source) Proto() string { return s.proto }

// AddrPort returns the sender's IP address and port, for UDP and TCP.
func (s Source) AddrPort() (netip.AddrPort, bool) { return s.addr, s.addr.IsValid() }

// Reply sends p back to the sender, on the socket or connection it came
// in on, in that connection's framing.
func (s Source) Reply(p []byte) error {
	if s.r == nil {
		return errNoReply
	}
	return s.r.reply(&s, p)
}

// NewSource makes a source that is not a socket's: a recording's sender,
// an in-process peer in a test. reply may be nil (it cannot be answered).
func NewSource(proto, name string, reply func(p []byte) error) Source {
	s := Source{proto: proto, name: name}
	if reply != nil {
		s.r = funcReplier(reply)
	}
	return s
}

type funcReplier func(p []byte) error

func (f funcReplier) reply(_ *Source, p []byte) error { return f(p) }
