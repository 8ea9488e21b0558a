package transport

import (
	"net"
	"net/netip"
)

// Interface is a network interface as Reachable needs it: whether it is
// up, whether it is the loopback, and its unicast addresses.
type Interface struct {
	Name     string
	Up       bool
	Loopback bool
	Addrs    []netip.Addr
}

// Interfaces lists this machine's network interfaces and their unicast
// addresses (net.Interfaces). Link-local IPv6 addresses carry the
// interface's name as their zone.
func Interfaces() ([]Interface, error) {
	ifs, err := net.Interfaces()
	if err != nil {
		return nil, err
	}
	out := make([]Interface, 0, len(ifs))
	for _, ifi := range ifs {
		addrs, err := ifi.Addrs()
		if err != nil {
			continue
		}
		x := Interface{Name: ifi.Name, Up: ifi.Flags&net.FlagUp != 0, Loopback: ifi.Flags&net.FlagLoopback != 0}
		for _, a := range addrs {
			ipn, ok := a.(*net.IPNet)
			if !ok {
				continue
			}
			ip, ok := netip.AddrFromSlice(ipn.IP)
			if !ok {
				continue
			}
			ip = ip.Unmap()
			if ip.Is6() && ip.IsLinkLocalUnicast() {
				ip = ip.WithZone(ifi.Name)
			}
			x.Addrs = append(x.Addrs, ip)
		}
		out = append(out, x)
	}
	return out, nil
}

// Reachable lists the addresses at which other machines can reach l,
// when l listens on a wildcard address (0.0.0.0, or :: for IPv6 and, unless
// it is IPv6 only, IPv4): what to type into a controller app. It is nil
// for a listener bound to one address (that address is the answer) and for
// a Unix socket.
//
// The addresses are those of the interfaces in ifs that are up, IPv4 ones
// first, each family in interface order. Loopback and link-local addresses
// are left out unless nothing else is left: another machine cannot use
// this one's loopback, and a link-local address is the last resort of a
// cable between two machines without a DHCP server.
func Reachable(l Listener, ifs []Interface) []netip.AddrPort {
	var bound netip.AddrPort
	dual := false
	switch l := l.(type) {
	case *udpListener:
		bound, dual = l.c.Local, l.c.Dual
	case *tcpListener:
		bound, dual = l.ln.Addr().(*net.TCPAddr).AddrPort(), l.dual
	case *wsListener:
		bound, dual = l.ln.Addr().(*net.TCPAddr).AddrPort(), l.dual
	default:
		return nil
	}
	return reachable(bound, dual, ifs)
}

// reachable is Reachable for a listener bound to bound, taking IPv4 too
// when dual.
func reachable(bound netip.AddrPort, dual bool, ifs []Interface) []netip.AddrPort {
	a := bound.Addr().Unmap()
	if !a.IsUnspecified() {
		return nil
	}
	v4, v6 := a.Is4() || dual, a.Is6()
	// Three passes, from the best kind of address to the last resort.
	kinds := []func(netip.Addr, Interface) bool{
		func(x netip.Addr, i Interface) bool {
			return !i.Loopback && !x.IsLoopback() && !x.IsLinkLocalUnicast()
		},
		func(x netip.Addr, i Interface) bool { return !i.Loopback && !x.IsLoopback() && x.IsLinkLocalUnicast() },
		func(x netip.Addr, i Interface) bool { return i.Loopback || x.IsLoopback() },
	}
	for _, kind := range kinds {
		var out []netip.AddrPort
		for _, fam := range []bool{true, false} { // IPv4, then IPv6
			if fam && !v4 || !fam && !v6 {
				continue
			}
			for _, i := range ifs {
				if !i.Up {
					continue
				}
				for _, x := range i.Addrs {
					if x.Is4() != fam || x.IsUnspecified() || x.IsMulticast() || !kind(x, i) {
						continue
					}
					out = append(out, netip.AddrPortFrom(x, bound.Port()))
				}
			}
		}
		if len(out) > 0 {
			return out
		}
	}
	return nil
}
