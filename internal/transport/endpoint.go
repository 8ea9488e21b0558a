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
	// WS is OSC over WebSocket: one packet per binary message, as osc.js's
	// WebSocketPort sends them.
	WS = "ws"
	// WSS is WS over TLS, to send to only: a listener serves plain ws.
	WSS = "wss"
)

// Endpoint says where to listen or send.
type Endpoint struct {
	Proto string // UDP, TCP, Unix, WS or WSS
	Host  string // host name or IP literal (no brackets); "" means any/default
	Port  int
	// Path is the Unix socket's path, or the WebSocket URL's path (and
	// query, to send to): "" or "/osc".
	Path string
}

// String returns the endpoint as a URL: udp://host:port, unix:///path,
// ws://host:port/path.
func (e Endpoint) String() string {
	if e.Proto == Unix {
		return "unix://" + e.Path
	}
	return e.Proto + "://" + e.HostPort() + e.Path
}

// Stream reports a connection-oriented endpoint (TCP, WebSocket): its
// listener counts connections and limits them, and a packet's size is
// bounded by the listener's frame limit rather than a datagram's.
func (e Endpoint) Stream() bool {
	switch e.Proto {
	case TCP, WS, WSS:
		return true
	}
	return false
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
//	ws://host:port/path  wss://host/path (WebSocket; a URL without a port
//	                          has the scheme's, 80 or 443, as in a browser)
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
		case WS, WSS:
			if strings.HasPrefix(strings.ToLower(scheme), "osc.") {
				return bad("unknown scheme " + strconv.Quote(scheme) + " (want ws or wss)")
			}
			return parseWebSocketURL(word, strings.ToLower(scheme), after, e)
		default:
			return bad("unknown scheme " + strconv.Quote(scheme) + " (want udp, tcp, unix, ws, wss, or liblo's osc.udp, osc.tcp, osc.unix)")
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

// parseWebSocketURL reads what follows ws:// or wss://: [host][:port]
// and a path (with a query, to send to). A URL that names a host or a
// path but no port has the scheme's port (80, 443), so that URLs copied
// from web code mean what they mean there; "ws://" alone leaves host and
// port to def. A path of "/" alone is no path.
func parseWebSocketURL(word, scheme, after string, def Endpoint) (Endpoint, error) {
	e := def
	e.Proto, e.Path = scheme, ""
	bad := func(why string) (Endpoint, error) {
		return Endpoint{}, fmt.Errorf("invalid address %q: %s", word, why)
	}
	hostport, path := after, ""
	if i := strings.IndexAny(after, "/?#"); i >= 0 {
		hostport, path = after[:i], after[i:]
	}
	if strings.Contains(path, "#") {
		return bad("a WebSocket URL has no #fragment")
	}
	if path != "" && path[0] != '/' {
		path = "/" + path // ws://host:9000?token=x
	}
	if strings.ContainsFunc(path, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
		return bad("the path has spaces or control characters")
	}
	if path != "/" {
		e.Path = path
	}
	if hostport == "" && path == "" {
		return e, nil
	}
	if scheme == WSS {
		e.Port = 443
	} else {
		e.Port = 80
	}
	if hostport == "" {
		return e, nil
	}
	// An IPv6 address is in brackets, as URLs have it: SplitHostPort
	// takes "[::1]:9000" and refuses "::1:9000".
	host := hostport
	if h, port, err := net.SplitHostPort(hostport); err == nil {
		p, err := parsePort(port)
		if err != nil || port == "" {
			return bad("port must be 0 to 65535")
		}
		e.Port, host = p, h
	} else if strings.HasPrefix(hostport, "[") && strings.HasSuffix(hostport, "]") {
		host = hostport[1 : len(hostport)-1]
	} else if strings.Contains(hostport, ":") {
		return bad("want ws://HOST:PORT/PATH, with IPv6 addresses in brackets ([::1])")
	}
	if host == "" {
		return e, nil
	}
	if strings.ContainsAny(host, "[]@ /") || strings.Contains(host, ":") && !isIP(host) {
		return bad("want ws://HOST:PORT/PATH, with IPv6 addresses in brackets ([::1])")
	}
	e.Host = host
	return e, nil
}

func isIP(s string) bool {
	_, err := netip.ParseAddr(s)
	return err == nil
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
