// Package sender delivers encoded packets to one target over one socket or
// connection for the run (a stable source port, so replies come back): one
// at a time, or queued and sent many per system call; or, for a dry run,
// as hexdumps on a writer. send, bundle, replay and bench all go out
// through it with the same Options. It does not parse or schedule.
package sender

import (
	"context"
	"errors"
	"io"
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

// Sender sends to one target.
type Sender struct {
	o       Options
	c       transport.Client
	buf     []byte
	pending [][]byte
	npend   int
	sent    int64
}

// Open dials the target (nothing, for a dry run).
func Open(ctx context.Context, o Options) (*Sender, error) {
	if o.Batch <= 0 {
		o.Batch = DefaultBatch
	}
	s := &Sender{o: o}
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

		ConnectTimeout: o.ConnectTimeout,
	})
	if err != nil {
		return nil, err
	}
	s.c = c
	return s, nil
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

// Sent is how many packets went out (or were dumped, for a dry run).
func (s *Sender) Sent() int64 { return s.sent }

// Send sends one encoded packet now, after anything queued.
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
	return s.Send(b)
}

// Queue copies an encoded packet into the batch, which goes out when full
// or at Flush.
func (s *Sender) Queue(raw []byte) error {
	if s.o.Batch <= 1 || s.o.DryRun {
		return s.send(raw)
	}
	slot := s.slot()
	s.pending[slot] = append(s.pending[slot][:0], raw...)
	return s.queued()
}

// QueuePacket encodes a packet into the batch.
func (s *Sender) QueuePacket(p osc.Packet) error {
	if s.o.Batch <= 1 || s.o.DryRun {
		return s.SendPacket(p)
	}
	slot := s.slot()
	b, err := osc.AppendPacket(s.pending[slot][:0], p)
	if err != nil {
		return err
	}
	s.pending[slot] = b
	return s.queued()
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
		return s.sendError(err)
	}
	s.sent++
	return nil
}

func (s *Sender) sendError(err error) error {
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
	}
	return err
}
