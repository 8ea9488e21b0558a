package transport

import (
	"fmt"
	"net/netip"
	"testing"
)

// Where other machines reach a listener on a wildcard address: the
// interfaces' addresses of the listener's families, IPv4 first, without
// loopback or link-local ones unless nothing else is left; nothing for a
// listener bound to one address.
func TestReachable(t *testing.T) {
	addrs := func(ss ...string) []netip.Addr {
		var out []netip.Addr
		for _, s := range ss {
			out = append(out, netip.MustParseAddr(s))
		}
		return out
	}
	lo := Interface{Name: "lo", Up: true, Loopback: true, Addrs: addrs("127.0.0.1", "::1")}
	eth := Interface{Name: "eth0", Up: true, Addrs: addrs("192.168.1.23", "fe80::1%eth0", "2001:db8::23")}
	wlan := Interface{Name: "wlan0", Up: true, Addrs: addrs("10.0.0.5", "169.254.7.7")}
	down := Interface{Name: "eth1", Addrs: addrs("172.16.0.1")}
	cable := Interface{Name: "eth2", Up: true, Addrs: addrs("169.254.7.8", "fe80::2%eth2")}
	all := []Interface{lo, eth, down, wlan}
	tests := []struct {
		bound string
		dual  bool
		ifs   []Interface
		want  string
	}{
		{"0.0.0.0:8000", false, all, "[192.168.1.23:8000 10.0.0.5:8000]"},
		{"[::]:8000", true, all, "[192.168.1.23:8000 10.0.0.5:8000 [2001:db8::23]:8000]"},
		{"[::]:8000", false, all, "[[2001:db8::23]:8000]"},
		{"127.0.0.1:8000", false, all, "[]"},
		{"192.168.1.23:8000", false, all, "[]"},
		{"[::1]:8000", false, all, "[]"},
		// A cable between two machines: link-local is all there is.
		{"0.0.0.0:9000", false, []Interface{lo, cable}, "[169.254.7.8:9000]"},
		{"[::]:9000", true, []Interface{lo, cable}, "[169.254.7.8:9000 [fe80::2%eth2]:9000]"},
		// No network at all: this machine's own loopback.
		{"0.0.0.0:9000", false, []Interface{lo, down}, "[127.0.0.1:9000]"},
		{"0.0.0.0:9000", false, nil, "[]"},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s dual=%v", tt.bound, tt.dual), func(t *testing.T) {
			got := fmt.Sprint(reachable(netip.MustParseAddrPort(tt.bound), tt.dual, tt.ifs))
			if got != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
		})
	}
}

// Which socket a host gets: IPv4 for IPv4 addresses, both families for the
// IPv6 wildcard unless V6Only, IPv6 alone for other IPv6 addresses.
func TestUDPNetwork(t *testing.T) {
	tests := []struct {
		host   string
		cfg    udpConfig
		groups []netip.Addr
		want   string
	}{
		{"0.0.0.0", udpConfig{}, nil, "udp4 0.0.0.0"},
		{"127.0.0.1", udpConfig{}, nil, "udp4 127.0.0.1"},
		{"::", udpConfig{}, nil, "udp ::"},
		{"::", udpConfig{V6Only: true}, nil, "udp6 ::"},
		{"::1", udpConfig{}, nil, "udp6 ::1"},
		{"localhost", udpConfig{}, nil, "udp4 localhost"},
		{"", udpConfig{}, nil, "udp4 0.0.0.0"},
		{"", udpConfig{IPv6: true}, nil, "udp6 ::"},
		{"", udpConfig{}, []netip.Addr{netip.MustParseAddr("ff02::1")}, "udp6 ::"},
	}
	for _, tt := range tests {
		network, host := udpNetwork(tt.host, tt.cfg, tt.groups)
		if got := network + " " + host; got != tt.want {
			t.Errorf("udpNetwork(%q, %+v, %v) = %s, want %s", tt.host, tt.cfg, tt.groups, got, tt.want)
		}
	}
}
