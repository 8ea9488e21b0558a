// Package sender delivers encoded packets to one target over one socket or
// connection for the run (a stable source port, so replies come back): one
// at a time, or queued and sent many per system call; or, for a dry run,
// as hexdumps on a writer. send, bundle, replay and bench all go out
// through it with the same Options. It does not parse or schedule.
package sender

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"syscall"
	"time"

	"github.com/oscli/oscli/internal/hexdump"
	"github.com/oscli/oscli/internal/osc"
	"github.com/oscli/oscli/internal/transport"
)

// DefaultBatch is how many queued packets go out per system call.
const DefaultBatch = 64

// Options say where and how packets go: the delivery flags every sending
// command shares.
type Options struct {
	Target  transport.Endpoint
	Framing transport.Framing // TCP: slip (default) or len
	// ConnectTimeout is how long to wait for a TCP receiver to accept
	// (transport.DefaultConnectTimeout when 0).
	ConnectTimeout time.Duration
	// UDP
	Broadcast     bool
	TTL           int
	MulticastLoop bool
	Iface         string
	// RecvBuffer is the receive buffer to ask for when many replies are
	// expected (bench's echoes); 0 keeps the system's.
	RecvBuffer int
	// BindAddr and BindPort fix the source address and port (--bind):
	// the zero Addr and 0 leave them to the system.
	BindAddr netip.Addr
	BindPort int
	// Batch is how many queued packets go out per system call (1: one at
	// a time; 0: DefaultBatch).
	Batch int
	// DryRun writes each packet's hexdump to DryRunOut instead of sending.
	DryRun    bool
	DryRunOut io.Writer
}

// ErrBroadcast matches (errors.Is) a send the kernel refused, most
// likely because the target is a broadcast address and Broadcast is off.
var ErrBroadcast = errors.New("broadcast not allowed")

type broadcastError struct{ error }

func (e broadcastError) Unwrap() error        { return e.error }
func (e broadcastError) Is(target error) bool { return target == ErrBroadcast }

// The largest UDP payloads: 65,535 bytes less the IP and UDP headers.
const (
	maxUDP4 = 65535 - 20 - 8
	maxUDP6 = 65535 - 8
)

// MaxPacket is the largest packet that can go to o's target: what a UDP
// datagram carries (65,507 bytes over IPv4, 65,527 over an IPv6 literal);
// over a Unix datagram socket what oscli's receivers read
// (transport.MaxDatagram; a system may allow less, which a single send
// learns as EMSGSIZE); over TCP osc.MaxPacket.
func MaxPacket(o Options) int {
	switch o.Target.Proto {
	case transport.UDP:
		if a, err := netip.ParseAddr(o.Target.Host); err == nil && a.Is6() && !a.Is4In6() {
			return maxUDP6
		}
		return maxUDP4
	case transport.Unix:
		return transport.MaxDatagram
	}
	return osc.MaxPacket
}

// TooBigError reports a packet larger than its target can take. The
// sender has sent nothing of it, and goes on with the next.
type TooBigError struct {
	Size  int
	Max   int    // 0: the system refused it without saying its limit
	Proto string // transport.UDP, TCP or Unix
}

func (e *TooBigError) Error() string {
	switch {
	case e.Max == 0:
		return fmt.Sprintf("packet is %d bytes, too long for a %s datagram here (the system refused it)", e.Size, e.Proto)
	case e.Proto == transport.UDP:
		return fmt.Sprintf("packet is %d bytes; a UDP datagram carries at most %d", e.Size, e.Max)
	case e.Proto == transport.Unix:
		return fmt.Sprintf("packet is %d bytes; oscli sends at most %d in a Unix datagram", e.Size, e.Max)
	}
	return fmt.Sprintf("packet is %d bytes; oscli sends at most %d", e.Size, e.Max)
}

// Sender sends to one target.
type Sender struct {
	o       Options
	c       transport.Client
	ctx     context.Context
	stop    func() bool // context.AfterFunc's: the unblocking on ctx's end
	buf     []byte
	pending [][]byte
	npend   int
	sent    int64
	max     int
}

// Open dials the target (nothing, for a dry run).
func Open(ctx context.Context, o Options) (*Sender, error) {
	if o.Batch <= 0 {
		o.Batch = DefaultBatch
	}
	s := &Sender{o: o, max: MaxPacket(o)}
	if o.DryRun {
		return s, nil
	}
	c, err := transport.Dial(ctx, o.Target, transport.DialConfig{
		Framing:       o.Framing,
		Broadcast:     o.Broadcast,
		TTL:           o.TTL,
		MulticastLoop: o.MulticastLoop,
		Iface:         o.Iface,
		RecvBuffer:    o.RecvBuffer,
		LocalAddr:     o.BindAddr,
		LocalPort:     o.BindPort,

		ConnectTimeout: o.ConnectTimeout,
	})
	if err != nil {
		return nil, err
	}
	return newSender(ctx, o, c), nil
}

// longAgo, as a write deadline, ends a write at once.
var longAgo = time.Unix(1, 0)

// newSender sends over c until ctx ends: then a write blocked on a
// receiver that does not read (TCP, WebSocket, a full Unix socket) ends
// at once, and every send is ctx's error.
func newSender(ctx context.Context, o Options, c transport.Client) *Sender {
	if o.Batch <= 0 {
		o.Batch = DefaultBatch
	}
	s := &Sender{o: o, max: MaxPacket(o), c: c, ctx: ctx}
	s.stop = context.AfterFunc(ctx, func() { _ = c.SetWriteDeadline(longAgo) })
	return s
}

// String describes where packets go: "udp 127.0.0.1:5000 → 127.0.0.1:8000".
func (s *Sender) String() string {
	if s.c == nil {
		return "dry run (" + s.o.Target.String() + ")"
	}
	return s.c.String()
}

// Client is the socket or connection, for reading replies; nil for a dry
// run.
func (s *Sender) Client() transport.Client { return s.c }

// MaxPacket is the largest packet the target can take (see MaxPacket).
func (s *Sender) MaxPacket() int { return s.max }

// Sent is how many packets went out (or were dumped, for a dry run).
func (s *Sender) Sent() int64 { return s.sent }

// Send sends one encoded packet now, after anything queued. A packet too
// big for the target is a *TooBigError, and nothing is sent.
func (s *Sender) Send(raw []byte) error {
	if err := s.Flush(); err != nil {
		return err
	}
	return s.send(raw)
}

// SendPacket encodes and sends one packet now.
func (s *Sender) SendPacket(p osc.Packet) error {
	b, err := osc.AppendPacket(s.buf[:0], p)
	if err != nil {
		return err
	}
	s.buf = b
	if len(b) > s.max {
		s.buf = nil // do not keep a buffer that large
	}
	return s.Send(b)
}

// unbatched reports whether queued packets go out one by one.
func (s *Sender) unbatched() bool { return s.o.Batch <= 1 || s.o.DryRun }

// Queue copies an encoded packet into the batch, which goes out when full
// or at Flush. A packet too big for the target is a *TooBigError and is
// not queued; the batch is unharmed.
func (s *Sender) Queue(raw []byte) error {
	if s.unbatched() {
		return s.send(raw)
	}
	if len(raw) > s.max {
		return s.tooBig(len(raw))
	}
	slot := s.slot()
	s.pending[slot] = append(s.pending[slot][:0], raw...)
	return s.queued()
}

// QueuePacket encodes a packet into the batch, as Queue.
func (s *Sender) QueuePacket(p osc.Packet) error {
	if s.unbatched() {
		return s.SendPacket(p)
	}
	slot := s.slot()
	b, err := osc.AppendPacket(s.pending[slot][:0], p)
	if err != nil {
		return err
	}
	if len(b) > s.max {
		s.pending[slot] = nil // do not keep a buffer that large
		return s.tooBig(len(b))
	}
	s.pending[slot] = b
	return s.queued()
}

func (s *Sender) tooBig(n int) error {
	return &TooBigError{Size: n, Max: s.max, Proto: s.o.Target.Proto}
}

func (s *Sender) slot() int {
	if s.npend == len(s.pending) {
		s.pending = append(s.pending, nil)
	}
	return s.npend
}

func (s *Sender) queued() error {
	s.npend++
	if s.npend >= s.o.Batch {
		return s.Flush()
	}
	return nil
}

// Flush sends what is queued.
func (s *Sender) Flush() error {
	if s.npend == 0 {
		return nil
	}
	n := s.npend
	s.npend = 0
	if err := s.c.SendBatch(s.pending[:n]); err != nil {
		return s.sendError(err)
	}
	s.sent += int64(n)
	return nil
}

func (s *Sender) send(raw []byte) error {
	if len(raw) > s.max {
		return s.tooBig(len(raw))
	}
	if s.o.DryRun {
		var out []byte
		if s.sent > 0 {
			out = append(out, '\n') // a blank line between packets
		}
		s.sent++
		_, err := s.o.DryRunOut.Write(hexdump.AppendDump(out, raw))
		return err
	}
	if err := s.c.Send(raw); err != nil {
		if errors.Is(err, syscall.EMSGSIZE) {
			return &TooBigError{Size: len(raw), Proto: s.o.Target.Proto}
		}
		return s.sendError(err)
	}
	s.sent++
	return nil
}

func (s *Sender) sendError(err error) error {
	if s.ctx != nil && s.ctx.Err() != nil {
		return s.ctx.Err() // stopped, not failed
	}
	if errors.Is(err, syscall.EACCES) && !s.o.Broadcast {
		return broadcastError{err}
	}
	return err
}

// Close sends what is queued and closes the socket.
func (s *Sender) Close() error {
	err := s.Flush()
	if s.c != nil {
		if cerr := s.c.Close(); err == nil {
			err = cerr
		}
		s.stop()
	}
	return err
}
