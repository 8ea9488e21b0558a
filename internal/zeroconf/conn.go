package zeroconf

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"strconv"
	"sync"

	"golang.org/x/net/ipv4"
)

// mdnsPort and mdnsGroup are where multicast DNS lives (RFC 6762 §3).
const mdnsPort = 5353

var mdnsGroup = netip.AddrFrom4([4]byte{224, 0, 0, 251})

// ErrNoInterface says that no network interface can carry multicast DNS.
var ErrNoInterface = errors.New("no network interface that is up carries IPv4 multicast")

// iface is a network interface multicast DNS runs on.
type iface struct {
	net.Interface
	addrs []netip.Addr // its IPv4 addresses
}

// multicastInterfaces picks the interfaces that are up, carry multicast
// and have an IPv4 address. Linux's lo does not carry multicast unless
// told to (ip link set lo multicast on); macOS's lo0 does.
func multicastInterfaces(all []net.Interface) []iface {
	var out []iface
	for _, ifi := range all {
		if ifi.Flags&net.FlagUp == 0 || ifi.Flags&net.FlagMulticast == 0 {
			continue
		}
		addrs, err := ifi.Addrs()
		if err != nil {
			continue
		}
		var v4 []netip.Addr
		for _, a := range addrs {
			if p, err := netip.ParsePrefix(a.String()); err == nil && p.Addr().Is4() {
				v4 = append(v4, p.Addr())
			}
		}
		if len(v4) > 0 {
			out = append(out, iface{Interface: ifi, addrs: v4})
		}
	}
	return out
}

// interfaceAddrs lists the addresses of all interfaces, for telling a
// response of this machine from one of another.
func interfaceAddrs(all []net.Interface) map[netip.Addr]bool {
	m := map[netip.Addr]bool{}
	for _, ifi := range all {
		addrs, err := ifi.Addrs()
		if err != nil {
			continue
		}
		for _, a := range addrs {
			if p, err := netip.ParsePrefix(a.String()); err == nil {
				m[p.Addr().WithZone("")] = true
			}
		}
	}
	return m
}

// conn is a multicast DNS socket. Bound to the wildcard address of port
// 5353, shared with every other responder (SO_REUSEADDR, SO_REUSEPORT),
// and joined to 224.0.0.251 on each interface, it sees queries and
// announcements; bound to another port (legacy), it sends one-shot
// queries and sees only the unicast answers to them (RFC 6762 §5.1).
type conn struct {
	pc     *ipv4.PacketConn
	ifaces []iface
	byIdx  map[int]*iface
	legacy bool

	mu sync.Mutex // SetMulticastInterface and WriteTo go together
}

// openConn opens a socket on port (5353, or 0 for legacy queries) and
// joins the group on each interface that takes it.
func openConn(ifs []iface, port int) (*conn, error) {
	lc := net.ListenConfig{Control: reusePort}
	pc, err := lc.ListenPacket(context.Background(), "udp4", net.JoinHostPort("0.0.0.0", strconv.Itoa(port)))
	if err != nil {
		return nil, err
	}
	c := &conn{pc: ipv4.NewPacketConn(pc), byIdx: map[int]*iface{}, legacy: port != mdnsPort}
	// Where the platform has it, the receiving interface comes with each
	// packet (the zone of a link-local address, the interface to answer on).
	_ = c.pc.SetControlMessage(ipv4.FlagInterface, true)
	_ = c.pc.SetMulticastTTL(255) // RFC 6762 §11
	_ = c.pc.SetMulticastLoopback(true)
	group := &net.UDPAddr{IP: mdnsGroup.AsSlice()}
	for _, ifi := range ifs {
		if !c.legacy {
			if err := c.pc.JoinGroup(&ifi.Interface, group); err != nil {
				continue
			}
		}
		c.ifaces = append(c.ifaces, ifi)
	}
	if len(c.ifaces) == 0 {
		c.pc.Close()
		return nil, ErrNoInterface
	}
	for i := range c.ifaces {
		c.byIdx[c.ifaces[i].Index] = &c.ifaces[i]
	}
	return c, nil
}

func (c *conn) Close() error { return c.pc.Close() }

// send multicasts b on one interface.
func (c *conn) send(b []byte, ifi *iface) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.pc.SetMulticastInterface(&ifi.Interface); err != nil {
		return err
	}
	_, err := c.pc.WriteTo(b, nil, &net.UDPAddr{IP: mdnsGroup.AsSlice(), Port: mdnsPort})
	return err
}

// sendAll multicasts b on every interface; it fails only when it could
// send on none.
func (c *conn) sendAll(b []byte) error {
	var first error
	sent := false
	for i := range c.ifaces {
		if err := c.send(b, &c.ifaces[i]); err != nil {
			first = cmpErr(first, err)
			continue
		}
		sent = true
	}
	if !sent {
		return first
	}
	return nil
}

// sendOn multicasts b on the interface numbered idx, or on every one when
// that is not known.
func (c *conn) sendOn(b []byte, idx int) error {
	if ifi := c.byIdx[idx]; ifi != nil {
		return c.send(b, ifi)
	}
	return c.sendAll(b)
}

func cmpErr(first, err error) error {
	if first == nil {
		return err
	}
	return first
}

// packet is a datagram received on a conn.
type packet struct {
	data    []byte
	from    netip.AddrPort
	ifIndex int // 0 when unknown
}

// readLoop reads datagrams into ch until the socket is closed; when ch is
// full (a flood), datagrams are dropped.
func (c *conn) readLoop(ch chan<- packet, done <-chan struct{}) {
	buf := make([]byte, maxMessage)
	for {
		n, cm, src, err := c.pc.ReadFrom(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		ua, ok := src.(*net.UDPAddr)
		if !ok {
			continue
		}
		p := packet{data: append([]byte(nil), buf[:n]...), from: ua.AddrPort()}
		p.from = netip.AddrPortFrom(p.from.Addr().Unmap(), p.from.Port())
		if cm != nil {
			p.ifIndex = cm.IfIndex
		}
		select {
		case ch <- p:
		case <-done:
			return
		default:
		}
	}
}

// zone is the interface name for a packet, the zone of IPv6 link-local
// addresses it names.
func (c *conn) zone(idx int) string {
	if ifi := c.byIdx[idx]; ifi != nil {
		return ifi.Name
	}
	return ""
}

func (c *conn) names() []string {
	var out []string
	for _, ifi := range c.ifaces {
		out = append(out, ifi.Name)
	}
	return out
}
