package tap

import (
	"context"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/oscli/oscli/internal/transport"
)

// drainUDP is a UDP target that reads and discards everything.
func drainUDP(tb testing.TB) transport.Endpoint {
	tb.Helper()
	pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	uc := pc.(*net.UDPConn)
	_ = uc.SetReadBuffer(8 << 20)
	go func() {
		buf := make([]byte, 65536)
		for {
			if _, _, err := uc.ReadFromUDPAddrPort(buf); err != nil {
				return
			}
		}
	}()
	tb.Cleanup(func() { pc.Close() })
	return transport.Endpoint{Proto: transport.UDP, Host: "127.0.0.1", Port: pc.LocalAddr().(*net.UDPAddr).Port}
}

// The forward path, a 20-byte message to two UDP targets: Forward's copy
// into each queue, and the writers' sendmmsg batches. A full queue drops
// (counted), so the figure is the listener's cost, not the kernel's.
func BenchmarkForward(b *testing.B) {
	for _, n := range []int{1, 2} {
		b.Run(fmt.Sprintf("targets=%d", n), func(b *testing.B) {
			var targets []Target
			for range n {
				targets = append(targets, Target{Endpoint: drainUDP(b)})
			}
			tp := New(context.Background(), Config{Targets: targets})
			pk := &transport.Packet{Data: []byte("/1/fader\x00\x00\x00\x00,f\x00\x00?\x00\x00\x00"), Source: transport.NewSource(transport.UDP, "127.0.0.1:5000", nil)}
			tp.Forward(pk)
			b.ReportAllocs()
			for b.Loop() {
				tp.Forward(pk)
			}
			st := tp.Close()
			b.ReportMetric(float64(st.Targets[0].Dropped)/float64(st.Forwarded), "dropped/op")
		})
	}
}

// Forwarding allocates nothing per packet once a sender's sockets are
// open: not in Forward, not in the writers' batches to UDP targets.
func TestForwardAllocs(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("alloc counts are checked in full runs without the race detector")
	}
	tp := New(context.Background(), Config{Targets: []Target{{Endpoint: drainUDP(t)}, {Endpoint: drainUDP(t)}}})
	defer tp.Close()
	pk := &transport.Packet{Data: []byte("/1/fader\x00\x00\x00\x00,f\x00\x00?\x00\x00\x00"), Source: transport.NewSource(transport.UDP, "127.0.0.1:5000", nil)}
	for range 1000 {
		tp.Forward(pk)
	}
	waitDrained(t, tp)
	// Each run waits for the writers, so their sends are counted too.
	if n := testing.AllocsPerRun(200, func() {
		for range 32 {
			tp.Forward(pk)
		}
		waitDrained(t, tp)
	}); n != 0 {
		t.Errorf("%v allocs per 32 packets forwarded to 2 targets, want 0", n)
	}
}

// discardClient is a target socket that takes every packet at once.
type discardClient struct{ done chan struct{} }

func (d *discardClient) Send([]byte) error                { return nil }
func (d *discardClient) SendBatch([][]byte) error         { return nil }
func (d *discardClient) SetReadDeadline(time.Time) error  { return nil }
func (d *discardClient) SetWriteDeadline(time.Time) error { return nil }
func (d *discardClient) String() string                   { return "discard" }
func (d *discardClient) Close() error                     { close(d.done); return nil }
func (d *discardClient) Receive() (transport.Packet, error) {
	<-d.done
	return transport.Packet{}, net.ErrClosed
}

// The forward path alone, into targets that take packets as fast as they
// come: what the listener's goroutine and the writers spend per packet.
func BenchmarkForwardNoSockets(b *testing.B) {
	dial := func(context.Context, transport.Endpoint, transport.DialConfig) (transport.Client, error) {
		return &discardClient{done: make(chan struct{})}, nil
	}
	tp := New(context.Background(), Config{Dial: dial, Targets: []Target{{Endpoint: transport.Endpoint{Proto: "x"}}, {Endpoint: transport.Endpoint{Proto: "y"}}}})
	pk := &transport.Packet{Data: []byte("/1/fader\x00\x00\x00\x00,f\x00\x00?\x00\x00\x00"), Source: transport.NewSource(transport.UDP, "127.0.0.1:5000", nil)}
	tp.Forward(pk)
	b.ReportAllocs()
	for b.Loop() {
		tp.Forward(pk)
	}
	st := tp.Close()
	b.ReportMetric(float64(st.Targets[0].Dropped)/float64(st.Forwarded), "dropped/op")
}
