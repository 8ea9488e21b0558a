package transport

import (
	"net"
	"net/netip"

	"golang.org/x/net/ipv4"
)

// batch holds buffers for moving many datagrams per system call
// (recvmmsg/sendmmsg on Linux; one at a time elsewhere).
type batch struct {
	msgs []ipv4.Message // the same type as ipv6.Message
}

// newBatch returns a batch of n messages with size-byte buffers (none
// when size is 0: a sending batch points at the caller's packets).
func newBatch(n, size int) *batch {
	b := &batch{msgs: make([]ipv4.Message, n)}
	for i := range b.msgs {
		b.msgs[i].Buffers = make([][]byte, 1)
		if size > 0 {
			b.msgs[i].Buffers[0] = make([]byte, size)
			b.msgs[i].OOB = make([]byte, 64)
		}
	}
	return b
}

// readBatch reads at least one datagram, and as many more as are queued,
// up to len(b.msgs). msgs[i].N is each one's size and addrPort(i) its
// sender; truncated(i) reports a cut datagram.
func (c *udpConn) readBatch(b *batch) (int, error) {
	var n int
	var err error
	if c.p4 != nil {
		n, err = c.p4.ReadBatch(b.msgs, 0)
	} else {
		n, err = c.p6.ReadBatch(b.msgs, 0)
	}
	if n > 0 {
		if drops, ok := parseDrops(b.msgs[n-1].OOB[:b.msgs[n-1].NN]); ok {
			c.drops = drops
		}
	}
	return n, err
}

// addrPort returns the sender of message i, IPv4-mapped addresses unmapped.
func (b *batch) addrPort(i int) netip.AddrPort {
	if ua, ok := b.msgs[i].Addr.(*net.UDPAddr); ok {
		return unmapAddrPort(ua.AddrPort())
	}
	return netip.AddrPort{}
}

// truncated reports whether message i of the last read was cut short.
func (b *batch) truncated(i int) bool { return b.msgs[i].Flags&msgTrunc != 0 }

// kernelDrops returns how many datagrams the kernel dropped because the
// receive buffer was full, where the system reports it (Linux).
func (c *udpConn) kernelDrops() (uint32, bool) { return c.drops, c.dropsKnown }

// writeBatch sends every packet to one destination, many per system call;
// when some went before an error, the error is a *PartialError saying how
// many.
func (c *udpConn) writeBatch(ps [][]byte, to netip.AddrPort, b *batch) error {
	if c.p4 == nil && to.Addr().Is4() {
		to = netip.AddrPortFrom(netip.AddrFrom16(to.Addr().As16()), to.Port())
	}
	var addr net.Addr
	if !c.connected {
		addr = net.UDPAddrFromAddrPort(to)
	}
	sent := 0
	for len(ps) > 0 {
		k := min(len(ps), len(b.msgs))
		for i := range k {
			b.msgs[i].Buffers[0] = ps[i]
			b.msgs[i].Addr = addr
			b.msgs[i].OOB = nil
		}
		var n int
		var err error
		if c.p4 != nil {
			n, err = c.p4.WriteBatch(b.msgs[:k], 0)
		} else {
			n, err = c.p6.WriteBatch(b.msgs[:k], 0)
		}
		if err != nil {
			return partial(sent, wrapSendErr(to.String(), err))
		}
		sent += n
		ps = ps[n:]
	}
	return nil
}
