package transport

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"sync/atomic"
	"syscall"

	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"
)

// MaxDatagram is the receive buffer size: no UDP datagram is larger, so a
// read never silently loses a tail (and truncation is still checked).
const MaxDatagram = 64 * 1024

// DefaultRecvBuffer is the socket receive buffer oscli asks for, so bursts
// are queued by the kernel rather than dropped.
const DefaultRecvBuffer = 8 << 20

// udpConfig configures a UDP socket.
type udpConfig struct {
	Host       string   // local address to bind; "" for all
	Port       int      // local port; 0 for any
	Groups     []string // multicast groups to join (listening)
	Iface      string   // interface for multicast (join and send)
	TTL        int      // multicast TTL / hop limit when sending; 0 leaves the default (1)
	Loop       bool     // multicast loopback when sending
	Broadcast  bool     // allow sending to broadcast addresses
	RecvBuffer int      // SO_RCVBUF to ask for; 0 means DefaultRecvBuffer, < 0 the system's
	IPv6       bool     // bind an IPv6 socket when Host is empty
	// V6Only keeps a socket bound to :: to IPv6; without it, it takes
	// IPv4 too (IPV6_V6ONLY off).
	V6Only bool
	// Sending says the socket is a sender's (errors say "send from").
	Sending bool
}

// udpConn is one UDP socket, used for listening, sending, or both (send
// uses one socket per run, so a receiver's reply to the source port comes
// back to it).
type udpConn struct {
	conn   *net.UDPConn
	p4     *ipv4.PacketConn
	p6     *ipv6.PacketConn
	rcvbuf int
	oob    []byte
	Local  netip.AddrPort
	Groups []netip.Addr
	Dual   bool // an IPv6 socket that takes IPv4 too
	// connected: the socket is connected to its one destination
	// (connectUDP); writes name no address.
	connected bool
	closed    atomic.Bool

	drops      uint32
	dropsKnown bool
}

// listenUDP opens a UDP socket bound to cfg.Host:cfg.Port and joins the
// multicast groups. A port already in use is reported as *AddrInUseError.
func listenUDP(ctx context.Context, cfg udpConfig) (*udpConn, error) {
	var groups []netip.Addr
	for _, g := range cfg.Groups {
		a, err := netip.ParseAddr(g)
		if err != nil || !a.IsMulticast() {
			return nil, fmt.Errorf("invalid multicast group %q: want an address in 224.0.0.0/4 or ff00::/8", g)
		}
		groups = append(groups, a)
	}
	host := cfg.Host
	if a, err := netip.ParseAddr(host); err == nil && a.IsMulticast() {
		// A group as the address to listen on (liblo's
		// osc.udp://239.0.0.1:7000): join it, and bind the port on the
		// wildcard as liblo does, so that the other groups and unicast
		// to the port arrive too.
		if !slices.Contains(groups, a) {
			groups = slices.Insert(groups, 0, a)
		}
		host = "0.0.0.0"
		if a.Is6() {
			host = "::"
		}
	}
	network, host := udpNetwork(host, cfg, groups)
	lc := net.ListenConfig{Control: func(_, _ string, c syscall.RawConn) error {
		if len(groups) == 0 {
			return nil
		}
		// Several listeners on one multicast group and port is normal.
		return setReuseAddr(c)
	}}
	addr := net.JoinHostPort(host, fmt.Sprint(cfg.Port))
	pc, err := lc.ListenPacket(ctx, network, addr)
	if err != nil {
		if errors.Is(err, syscall.EADDRINUSE) {
			return nil, &AddrInUseError{Proto: UDP, Addr: addr}
		}
		if cfg.Sending {
			return nil, bindError(UDP, addr, err)
		}
		if errors.Is(err, syscall.EADDRNOTAVAIL) {
			return nil, fmt.Errorf("cannot listen on %s: no such local address", addr)
		}
		return nil, fmt.Errorf("cannot listen on udp %s: %w", addr, unwrapOp(err))
	}
	c := &udpConn{conn: pc.(*net.UDPConn), Groups: groups, oob: make([]byte, 64)}
	c.Local = c.conn.LocalAddr().(*net.UDPAddr).AddrPort()
	if network == "udp4" {
		c.p4 = ipv4.NewPacketConn(c.conn)
	} else {
		c.p6 = ipv6.NewPacketConn(c.conn)
		c.Dual = network == "udp"
	}
	if err := c.setup(cfg); err != nil {
		c.conn.Close()
		return nil, err
	}
	return c, nil
}

// udpNetwork picks the socket for a host to bind: "udp4" for IPv4, "udp"
// for the IPv6 wildcard, which Go binds with IPV6_V6ONLY off so that IPv4
// senders arrive too (as IPv4-mapped addresses, unmapped where a sender
// is named), and "udp6" for other IPv6 addresses and for the wildcard
// with V6Only. No host (a sending socket) is the IPv4 wildcard, or the
// IPv6 one when IPv6 is asked for or the first group is IPv6.
func udpNetwork(host string, cfg udpConfig, groups []netip.Addr) (network, bind string) {
	if host == "" {
		if !cfg.IPv6 && (len(groups) == 0 || groups[0].Is4()) {
			return "udp4", "0.0.0.0"
		}
		return "udp6", "::"
	}
	a, err := netip.ParseAddr(host)
	switch {
	case err != nil || a.Is4() || a.Is4In6():
		return "udp4", host
	case a.IsUnspecified() && !cfg.V6Only:
		return "udp", host
	}
	return "udp6", host
}

func (c *udpConn) setup(cfg udpConfig) error {
	var ifi *net.Interface
	if cfg.Iface != "" {
		var err error
		ifi, err = net.InterfaceByName(cfg.Iface)
		if err != nil {
			return fmt.Errorf("interface %q: %w", cfg.Iface, unwrapOp(err))
		}
	}
	for _, g := range c.Groups {
		ga := &net.UDPAddr{IP: g.AsSlice()}
		var err error
		switch {
		case c.p4 != nil && !g.Is4():
			return fmt.Errorf("group %s is IPv6 but the socket is IPv4 (listen on -H ::)", g)
		case c.p4 != nil:
			err = c.p4.JoinGroup(ifi, ga)
		case g.Is4() && !c.Dual:
			return fmt.Errorf("group %s is IPv4 but the socket is IPv6 only", g)
		case g.Is4():
			// An IPv6 socket that takes IPv4 joins IPv4 groups with
			// the IPv4 option (Linux, macOS and Windows allow it).
			err = ipv4.NewPacketConn(c.conn).JoinGroup(ifi, ga)
		default:
			err = c.p6.JoinGroup(ifi, ga)
		}
		if err != nil {
			return fmt.Errorf("cannot join multicast group %s: %w", g, unwrapOp(err))
		}
	}
	if ifi != nil {
		if c.p4 != nil {
			_ = c.p4.SetMulticastInterface(ifi)
		} else {
			_ = c.p6.SetMulticastInterface(ifi)
		}
	}
	ttl := cfg.TTL
	if ttl > 0 {
		var err error
		if c.p4 != nil {
			err = c.p4.SetMulticastTTL(ttl)
		} else {
			err = c.p6.SetMulticastHopLimit(ttl)
		}
		if err != nil {
			return fmt.Errorf("cannot set multicast TTL %d: %w", ttl, unwrapOp(err))
		}
	}
	if c.p4 != nil {
		_ = c.p4.SetMulticastLoopback(cfg.Loop)
	} else {
		_ = c.p6.SetMulticastLoopback(cfg.Loop)
	}
	// Go enables SO_BROADCAST on every UDP socket; oscli makes it opt-in,
	// so a mistyped .255 address does not flood a network.
	if c.p4 != nil {
		if err := setBroadcast(c.conn, cfg.Broadcast); err != nil {
			return fmt.Errorf("cannot set broadcast: %w", err)
		}
	}
	// A sender keeps the system's buffer (RecvBuffer < 0): raising it costs
	// system calls on every start and replies are few.
	if want := cfg.RecvBuffer; want >= 0 {
		if want == 0 {
			want = DefaultRecvBuffer
		}
		c.rcvbuf = raiseRecvBuffer(c.conn, want)
		c.dropsKnown = enableDropCount(c.conn)
	}
	return nil
}

// ReadFrom reads one datagram into buf (which should be MaxDatagram bytes)
// and reports whether the kernel truncated it.
func (c *udpConn) ReadFrom(buf []byte) (n int, from netip.AddrPort, truncated bool, err error) {
	n, _, flags, from, err := c.conn.ReadMsgUDPAddrPort(buf, c.oob)
	if err != nil {
		return 0, from, false, err
	}
	return n, unmapAddrPort(from), flags&msgTrunc != 0, nil
}

// WriteTo sends one datagram.
func (c *udpConn) WriteTo(b []byte, to netip.AddrPort) error {
	if c.connected {
		// Not Write: it sends nothing for an empty datagram.
		if _, _, err := c.conn.WriteMsgUDP(b, nil, nil); err != nil {
			return wrapSendErr(to.String(), err)
		}
		return nil
	}
	if c.p4 == nil && to.Addr().Is4() {
		to = netip.AddrPortFrom(netip.AddrFrom16(to.Addr().As16()), to.Port())
	}
	_, err := c.conn.WriteToUDPAddrPort(b, to)
	if err != nil {
		return wrapSendErr(to.String(), err)
	}
	return nil
}

func wrapSendErr(to string, err error) error {
	return fmt.Errorf("send to %s: %w", to, unwrapOp(err))
}

// Close closes the socket.
func (c *udpConn) Close() error {
	c.closed.Store(true)
	return c.conn.Close()
}

// ResolveUDP resolves a host and port for sending, preferring IPv4 for
// names that have both (what "localhost" users expect).
func ResolveUDP(ctx context.Context, host string, port int) (netip.AddrPort, error) {
	if host == "" {
		host = "127.0.0.1"
	}
	if a, err := netip.ParseAddr(host); err == nil {
		return netip.AddrPortFrom(a.Unmap(), uint16(port)), nil
	}
	addrs, err := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
	if err != nil || len(addrs) == 0 {
		return netip.AddrPort{}, fmt.Errorf("cannot resolve host %q", host)
	}
	best := addrs[0]
	for _, a := range addrs {
		if a.Unmap().Is4() {
			best = a
			break
		}
	}
	return netip.AddrPortFrom(best.Unmap(), uint16(port)), nil
}

func unmapAddrPort(a netip.AddrPort) netip.AddrPort {
	return netip.AddrPortFrom(a.Addr().Unmap(), a.Port())
}

// BindError reports a source address a sender could not bind
// (DialConfig.LocalAddr, LocalPort), other than one in use
// (*AddrInUseError).
type BindError struct {
	Proto, Addr string
	Why         string // "not an address of this machine"
	Err         error
}

func (e *BindError) Error() string {
	return fmt.Sprintf("cannot send from %s %s: %s", e.Proto, e.Addr, e.Why)
}
func (e *BindError) Unwrap() error { return e.Err }

// bindError says why a sender could not bind its local address.
func bindError(proto, addr string, err error) error {
	err = unwrapOp(err)
	why := err.Error()
	switch {
	case errors.Is(err, syscall.EADDRINUSE):
		return &AddrInUseError{Proto: proto, Addr: addr}
	case errors.Is(err, syscall.EADDRNOTAVAIL):
		why = "not an address of this machine"
	case errors.Is(err, syscall.EACCES):
		why = "permission denied (ports below 1024 need privileges)"
	}
	return &BindError{Proto: proto, Addr: addr, Why: why, Err: err}
}

// AddrInUseError reports a port another program already listens on.
type AddrInUseError struct {
	Proto string
	Addr  string
}

func (e *AddrInUseError) Error() string {
	return fmt.Sprintf("%s %s is already in use by another program", e.Proto, e.Addr)
}

// unwrapOp strips net.OpError's "listen udp …:" prefix where the message
// already says what was attempted.
func unwrapOp(err error) error {
	var op *net.OpError
	if errors.As(err, &op) && op.Err != nil {
		return op.Err
	}
	return err
}
