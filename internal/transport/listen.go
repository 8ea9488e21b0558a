package transport

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"sync/atomic"
	"time"

	"github.com/oscli/oscli/internal/clock"
)

// DefaultMaxConns is how many TCP connections a listener serves at once
// unless configured.
const DefaultMaxConns = 500

// ListenConfig says how to listen, beyond where.
type ListenConfig struct {
	// Groups are multicast groups to join (UDP).
	Groups []string
	// Iface is the network interface for multicast.
	Iface string
	// IPv6Only keeps a listener on the IPv6 wildcard (::) to IPv6; by
	// default it takes IPv4 too, and names IPv4 senders as plain IPv4.
	IPv6Only bool
	// Framing is the TCP framing: auto (detect per connection, the
	// default), slip or len.
	Framing Framing
	// MaxFrame is the largest TCP frame accepted (DefaultMaxFrame when 0).
	MaxFrame int
	// MaxConns is how many TCP connections are served at once
	// (DefaultMaxConns when 0). When all are taken, a new connection
	// takes the slot of the one idle longest, which is closed.
	MaxConns int
	// FrameTimeout is how long a TCP frame may take from its first byte
	// to its last before the connection is closed (DefaultFrameTimeout
	// when 0; negative: no limit). A connection between frames may stay
	// quiet as long as it likes.
	FrameTimeout time.Duration
	// MaxBuffered caps the frame buffers of all TCP connections together
	// (DefaultMaxBuffered or twice MaxFrame, whichever is more, when
	// 0); past it, the connection whose unfinished frame waits longest
	// is closed.
	MaxBuffered int
	// Clock decides frame deadlines and idleness (clock.Real when nil).
	Clock clock.Clock
	// Batch is how many UDP datagrams one system call may read (64 when
	// 0; 1 reads one at a time).
	Batch int
	// OnConn, when set, is told when a stream connection opens and
	// closes. Calls for one connection come in order.
	OnConn func(ConnEvent)
}

// ConnEvent is a stream connection opening or closing, or telling
// something worth a word while it stays open (Notice).
type ConnEvent struct {
	Source Source
	Opened bool  // false: closed (unless Notice is set)
	Err    error // why it was closed, when that was a problem
	// Notice, when set, is something the connection sent that is not
	// OSC and was ignored; the connection stays open. A WebSocket
	// connection's first text message is one (ErrTextMessage); later
	// ones are only counted (ListenStats.TextMessages).
	Notice error
}

// Listener receives packets on one socket (UDP, Unix) or on the
// connections of one server socket (TCP, WebSocket).
type Listener interface {
	// Addr is where the listener is bound (with the port it got).
	Addr() Endpoint
	// String describes the listener for people: its URL, the multicast
	// groups joined, whether it takes IPv4 and IPv6, the TCP framing.
	String() string
	// Describe is String with the caller's notes added to the
	// listener's own, in one parenthesis.
	Describe(notes ...string) string
	// Serve calls h for every packet received until the listener is
	// closed (or its context done), then returns nil, or the error that
	// stopped it. Calls from one connection come in order from one
	// goroutine; calls for different TCP connections may be concurrent.
	Serve(h func(*Packet)) error
	// Close stops the listener; Serve returns once its callbacks have.
	Close() error
	// Stats returns what the listener counted.
	Stats() ListenStats
}

// ListenStats are a listener's own counts.
type ListenStats struct {
	Conns   int64 // stream connections accepted, silent ones included
	Dropped int64 // stream connections closed for breaking the framing or the limits
	// TextMessages is how many WebSocket text messages arrived: not OSC,
	// so ignored.
	TextMessages int64
	// KernelDrops is how many datagrams the kernel dropped because the
	// receive buffer was full, when KernelDropsKnown (Linux).
	KernelDrops      int64
	KernelDropsKnown bool
	// RecvBuffer is the socket receive buffer the kernel granted.
	RecvBuffer int
}

// Listen opens a listener at ep. When ctx is done the listener closes. A
// port already in use is reported as *AddrInUseError.
func Listen(ctx context.Context, ep Endpoint, cfg ListenConfig) (Listener, error) {
	if len(cfg.Groups) > 0 && ep.Proto != UDP {
		return nil, errors.New("multicast groups work with UDP only")
	}
	if a, err := netip.ParseAddr(ep.Host); err == nil && a.IsMulticast() && ep.Proto != UDP {
		return nil, fmt.Errorf("cannot listen on %s: %s is a multicast group, and multicast works with UDP only", ep, a)
	}
	var l Listener
	var err error
	switch ep.Proto {
	case UDP:
		l, err = listenUDPPackets(ctx, ep, cfg)
	case TCP:
		l, err = listenTCP(ctx, ep, cfg)
	case Unix:
		l, err = listenUnix(ep.Path)
	case WS:
		l, err = listenWS(ctx, ep, cfg)
	case WSS:
		return nil, fmt.Errorf("cannot listen on %s: oscli serves plain ws://, not TLS", ep)
	default:
		return nil, fmt.Errorf("cannot listen on %q: unknown protocol", ep.Proto)
	}
	if err != nil {
		return nil, err
	}
	context.AfterFunc(ctx, func() { l.Close() })
	return l, nil
}

// udpListener serves one UDP socket.
type udpListener struct {
	c     *udpConn
	batch int
	drops atomic.Int64
}

func listenUDPPackets(ctx context.Context, ep Endpoint, cfg ListenConfig) (*udpListener, error) {
	c, err := listenUDP(ctx, udpConfig{Host: ep.Host, Port: ep.Port, Groups: cfg.Groups, Iface: cfg.Iface, Loop: true, V6Only: cfg.IPv6Only})
	if err != nil {
		return nil, err
	}
	b := cfg.Batch
	if b <= 0 {
		b = 64
	}
	return &udpListener{c: c, batch: b}, nil
}

func (l *udpListener) Addr() Endpoint {
	return Endpoint{Proto: UDP, Host: l.c.Local.Addr().String(), Port: int(l.c.Local.Port())}
}

func (l *udpListener) String() string { return l.Describe() }

func (l *udpListener) Describe(notes ...string) string {
	var own []string
	if l.c.Dual {
		own = append(own, "IPv4 and IPv6")
	}
	return describe(l.Addr(), l.c.Groups, append(own, notes...))
}

func (l *udpListener) Close() error { return l.c.Close() }

func (l *udpListener) Stats() ListenStats {
	return ListenStats{KernelDrops: l.drops.Load(), KernelDropsKnown: l.c.dropsKnown, RecvBuffer: l.c.rcvbuf}
}

func (l *udpListener) reply(s *Source, p []byte) error { return l.c.WriteTo(p, s.addr) }

// Serve reads up to Batch datagrams per system call. The sender's name is
// made once per run of datagrams from the same sender, so the loop does
// not allocate.
func (l *udpListener) Serve(h func(*Packet)) error {
	b := newBatch(l.batch, MaxDatagram)
	var pk Packet
	pk.Source = Source{proto: UDP, r: l}
	for {
		n, err := l.c.readBatch(b)
		if err != nil {
			if l.c.closed.Load() {
				return nil
			}
			return fmt.Errorf("receive: %w", err)
		}
		if d, ok := l.c.kernelDrops(); ok {
			l.drops.Store(int64(d))
		}
		for i := range n {
			m := &b.msgs[i]
			ap := b.addrPort(i)
			if ap != pk.Source.addr || pk.Source.name == "" {
				pk.Source.addr, pk.Source.name = ap, ap.String()
			}
			pk.Data = m.Buffers[0][:m.N]
			pk.Truncated = b.truncated(i)
			// A full batch most likely left more queued; a consumer that
			// waits for more flushes on a timer anyway.
			pk.More = i < n-1 || n == len(b.msgs) && n > 1
			h(&pk)
		}
	}
}

// describe says where a listener listens, for people:
// "udp://0.0.0.0:7000, joined multicast group 239.0.0.1 (note; note)".
func describe(at Endpoint, groups []netip.Addr, notes []string) string {
	var b strings.Builder
	b.WriteString(at.String())
	for i, g := range groups {
		switch {
		case i > 0:
			b.WriteString(", ")
		case len(groups) == 1:
			b.WriteString(", joined multicast group ")
		default:
			b.WriteString(", joined multicast groups ")
		}
		b.WriteString(g.String())
	}
	if len(notes) > 0 {
		b.WriteString(" (" + strings.Join(notes, "; ") + ")")
	}
	return b.String()
}
