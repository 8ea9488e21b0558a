package transport

import (
	"net"
	"net/netip"

	"golang.org/x/net/ipv4"
)

// Batch holds buffers for moving many datagrams per system call
// (recvmmsg/sendmmsg on Linux; one at a time elsewhere).
type Batch struct {
	Msgs []ipv4.Message // the same type as ipv6.Message
}

// NewBatch returns a batch of n messages with size-byte buffers.
func NewBatch(n, size int) *Batch {
	b := &Batch{Msgs: make([]ipv4.Message, n)}
	for i := range b.Msgs {
		b.Msgs[i].Buffers = [][]byte{make([]byte, size)}
		b.Msgs[i].OOB = make([]byte, 64)
	}
	return b
}

// ReadBatch reads at least one datagram, and as many more as are queued,
// up to len(b.Msgs). Msgs[i].N is each one's size and Msgs[i].Addr its
// sender; Truncated reports a cut datagram.
func (c *UDPConn) ReadBatch(b *Batch) (int, error) {
	var n int
	var err error
	if c.p4 != nil {
		n, err = c.p4.ReadBatch(b.Msgs, 0)
	} else {
		n, err = c.p6.ReadBatch(b.Msgs, 0)
	}
	if n > 0 {
		if drops, ok := parseDrops(b.Msgs[n-1].OOB[:b.Msgs[n-1].NN]); ok {
			c.kernelDrops = drops
		}
	}
	return n, err
}

// Truncated reports whether message i of the last read was cut short.
func (b *Batch) Truncated(i int) bool { return b.Msgs[i].Flags&msgTrunc != 0 }

// KernelDrops returns how many datagrams the kernel dropped because the
// receive buffer was full, where the system reports it (Linux).
func (c *UDPConn) KernelDrops() (uint32, bool) { return c.kernelDrops, c.dropsKnown }

// WriteBatch sends every packet to one destination, many per system call.
func (c *UDPConn) WriteBatch(ps [][]byte, to netip.AddrPort, b *Batch) error {
	if c.p4 == nil && to.Addr().Is4() {
		to = netip.AddrPortFrom(netip.AddrFrom16(to.Addr().As16()), to.Port())
	}
	addr := net.UDPAddrFromAddrPort(to)
	for len(ps) > 0 {
		k := min(len(ps), len(b.Msgs))
		for i := range k {
			b.Msgs[i].Buffers = b.Msgs[i].Buffers[:1]
			b.Msgs[i].Buffers[0] = ps[i]
			b.Msgs[i].Addr = addr
			b.Msgs[i].OOB = nil
		}
		var n int
		var err error
		if c.p4 != nil {
			n, err = c.p4.WriteBatch(b.Msgs[:k], 0)
		} else {
			n, err = c.p6.WriteBatch(b.Msgs[:k], 0)
		}
		if err != nil {
			return wrapSendErr(to.String(), err)
		}
		ps = ps[n:]
	}
	return nil
}
