package transport

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
)

// The protocols an Endpoint can name.
const (
	UDP  = "udp"
	TCP  = "tcp"
	Unix = "unix"
)

// Endpoint says where to listen or send.
type Endpoint struct {
	Proto string // UDP, TCP or Unix
	Host  string // host name or IP literal (no brackets); "" means any/default
	Port  int
	Path  string // Unix socket path
}

// String returns the endpoint as a URL: udp://host:port, unix:///path.
func (e Endpoint) String() string {
	if e.Proto == Unix {
		return "unix://" + e.Path
	}
	return e.Proto + "://" + e.HostPort()
}

// HostPort returns "host:port", bracketing IPv6 literals.
func (e Endpoint) HostPort() string { return net.JoinHostPort(e.Host, strconv.Itoa(e.Port)) }

// ParseEndpoint reads one word naming an endpoint; what it leaves out comes
// from def. Accepted forms:
//
//	9000                      a port
//	host:port  [::1]:9000     host and port
//	host                      a host name without a port (no '/', not numeric)
//	udp://host:port  tcp://host:port  unix:///path
//	osc.udp://host:port/  osc.tcp://host:port/  osc.unix:///path (liblo)
func ParseEndpoint(word string, def Endpoint) (Endpoint, error) {
	e := def
	bad := func(why string) (Endpoint, error) {
		return Endpoint{}, fmt.Errorf("invalid address %q: %s", word, why)
	}
	if word == "" {
		return bad("empty")
	}
	rest := word
	if scheme, after, ok := strings.Cut(word, "://"); ok {
		switch strings.TrimPrefix(strings.ToLower(scheme), "osc.") {
		case UDP:
			e.Proto = UDP
		case TCP:
			e.Proto = TCP
		case Unix:
			e.Proto = Unix
			// liblo writes osc.unix://localhost/tmp/sock or osc.unix:///tmp/sock.
			path := strings.TrimPrefix(after, "localhost")
			if !strings.HasPrefix(path, "/") {
				return bad("a unix socket URL needs an absolute path, unix:///tmp/osc.sock")
			}
			e.Path, e.Host, e.Port = path, "", 0
			return e, nil
		default:
			return bad("unknown scheme " + strconv.Quote(scheme) + " (want udp, tcp, unix, or liblo's osc.udp, osc.tcp, osc.unix)")
		}
		rest = strings.TrimSuffix(after, "/")
		if strings.Contains(rest, "/") {
			return bad("unexpected path in URL")
		}
		if rest == "" {
			return e, nil
		}
	}
	if e.Proto == "" {
		e.Proto = UDP
	}
	if isDigits(rest) {
		p, err := parsePort(rest)
		if err != nil {
			return bad(err.Error())
		}
		e.Port = p
		return e, nil
	}
	if host, port, err := net.SplitHostPort(rest); err == nil {
		if port != "" {
			p, err := parsePort(port)
			if err != nil {
				return bad(err.Error())
			}
			e.Port = p
		}
		if host != "" {
			e.Host = host
		}
		return e, nil
	}
	if strings.HasPrefix(rest, "[") && strings.HasSuffix(rest, "]") {
		rest = rest[1 : len(rest)-1]
	}
	if strings.ContainsAny(rest, "/[] ") || rest == "" {
		return bad("want PORT, HOST:PORT, [IPV6]:PORT or a URL such as udp://HOST:PORT")
	}
	if strings.Count(rest, ":") > 0 {
		if _, err := netip.ParseAddr(rest); err != nil {
			return bad("want PORT, HOST:PORT, [IPV6]:PORT or a URL such as udp://HOST:PORT")
		}
	}
	e.Host = rest
	return e, nil
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func parsePort(s string) (int, error) {
	p, err := strconv.Atoi(s)
	if err != nil || p < 0 || p > 65535 {
		return 0, errors.New("port must be 0 to 65535")
	}
	return p, nil
}

// ValidPort checks a port given as a number (flags, config).
func ValidPort(p int) error {
	if p < 0 || p > 65535 {
		return fmt.Errorf("invalid port %d: must be 0 to 65535", p)
	}
	return nil
}
