package transport

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"syscall"

	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"
)

// ErrRefused matches (errors.Is) a send or receive on a connected UDP
// client (DialConfig.Connect) that the system failed because the target's
// host refused an earlier datagram: ICMP port unreachable, nobody
// listening there. The client stays usable.
var ErrRefused error = syscall.ECONNREFUSED

// connectUDP opens a UDP socket connected to to, bound to cfg.Host and
// cfg.Port when given: the system then reports ICMP errors for the
// datagrams it sent (ErrRefused) and delivers only to's datagrams to it.
func connectUDP(ctx context.Context, cfg udpConfig, to netip.AddrPort) (*udpConn, error) {
	network := "udp4"
	if to.Addr().Is6() && !to.Addr().Is4In6() {
		network = "udp6"
	}
	d := net.Dialer{}
	local := ""
	if cfg.Host != "" || cfg.Port != 0 {
		la := &net.UDPAddr{Port: cfg.Port}
		if cfg.Host != "" {
			la.IP = net.ParseIP(cfg.Host)
		}
		d.LocalAddr, local = la, net.JoinHostPort(cfg.Host, strconv.Itoa(cfg.Port))
	}
	conn, err := d.DialContext(ctx, network, to.String())
	if err != nil {
		if local != "" && (errors.Is(err, syscall.EADDRINUSE) || errors.Is(err, syscall.EADDRNOTAVAIL) || errors.Is(err, syscall.EACCES)) {
			return nil, bindError(UDP, local, err)
		}
		return nil, fmt.Errorf("cannot send to udp %s: %w", to, unwrapOp(err))
	}
	c := &udpConn{conn: conn.(*net.UDPConn), oob: make([]byte, 64), connected: true}
	c.Local = c.conn.LocalAddr().(*net.UDPAddr).AddrPort()
	if network == "udp4" {
		c.p4 = ipv4.NewPacketConn(c.conn)
	} else {
		c.p6 = ipv6.NewPacketConn(c.conn)
	}
	if err := c.setup(cfg); err != nil {
		c.conn.Close()
		return nil, err
	}
	return c, nil
}
