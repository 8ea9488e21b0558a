package transport

import (
	"bytes"
	"context"
	"errors"
	"net"
	"testing"
	"time"
)

// A connected UDP client (DialConfig.Connect) sends singly and in
// batches, receives its target's replies and nobody else's, and learns
// that nobody listens at the target (ErrRefused) without being closed.
func TestConnectedUDPClient(t *testing.T) {
	target, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer target.Close()
	port := target.LocalAddr().(*net.UDPAddr).Port
	c, err := Dial(context.Background(), Endpoint{Proto: UDP, Host: "127.0.0.1", Port: port}, DialConfig{Connect: true})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Send([]byte("/one")); err != nil {
		t.Fatal(err)
	}
	if err := c.Send(nil); err != nil { // an empty datagram is one too
		t.Fatal(err)
	}
	if err := c.SendBatch([][]byte{[]byte("/two"), []byte("/three")}); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 64)
	var from net.Addr
	for _, want := range []string{"/one", "", "/two", "/three"} {
		n, a, err := target.ReadFrom(buf)
		if err != nil || string(buf[:n]) != want {
			t.Fatalf("target got %q, %v; want %q", buf[:n], err, want)
		}
		from = a
	}
	stranger, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer stranger.Close()
	if _, err := stranger.WriteTo([]byte("/stranger"), from); err != nil {
		t.Fatal(err)
	}
	if _, err := target.WriteTo([]byte("/reply"), from); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	pk, err := c.Receive()
	if err != nil || string(pk.Data) != "/reply" || pk.Source.String() != target.LocalAddr().String() {
		t.Fatalf("received %q from %s, %v; want the target's /reply", pk.Data, pk.Source, err)
	}

	target.Close() // nobody listens there now
	if err := c.Send([]byte("/refused")); err != nil {
		t.Fatal(err)
	}
	// The refusal arrives as an ICMP message: the next receive reports it.
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.Receive(); !errors.Is(err, ErrRefused) {
		t.Fatalf("receive after a refused datagram: %v, want ErrRefused", err)
	}
	if err := c.Send([]byte("/again")); err != nil && !errors.Is(err, ErrRefused) {
		t.Fatalf("the client should stay usable: %v", err)
	}
}

// A connected client's batches (segmentation offload on Linux, runs of
// equal-size packets) arrive as the same datagrams in the same order:
// equal sizes, a shorter one ending a run, longer ones starting another,
// more than one write's worth, and runs too big for one write.
func TestConnectedUDPBatches(t *testing.T) {
	target, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer target.Close()
	_ = target.(*net.UDPConn).SetReadBuffer(4 << 20)
	port := target.LocalAddr().(*net.UDPAddr).Port
	c, err := Dial(context.Background(), Endpoint{Proto: UDP, Host: "127.0.0.1", Port: port}, DialConfig{Connect: true})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	pkt := func(i, size int) []byte {
		b := make([]byte, size)
		for j := range b {
			b[j] = byte(i + j)
		}
		return b
	}
	var batches [][][]byte
	var equal, mixed, big [][]byte
	for i := range 150 {
		equal = append(equal, pkt(i, 20))
	}
	for i, size := range []int{20, 20, 8, 20, 32, 32, 4, 4, 4, 64, 20} {
		mixed = append(mixed, pkt(i, size))
	}
	for i := range 5 {
		big = append(big, pkt(i, 30000))
	}
	batches = append(batches, equal, mixed, big, [][]byte{pkt(9, 12)}, [][]byte{{}, {}, pkt(1, 4), {}})
	buf := make([]byte, 70000)
	u := c.(*udpClient)
	// Once as the system allows (offload on Linux), once by sendmmsg.
	for _, noGSO := range []bool{false, true} {
		u.noGSO = noGSO
		for bi, ps := range batches {
			if err := c.SendBatch(ps); err != nil {
				t.Fatalf("noGSO %v, batch %d: %v", noGSO, bi, err)
			}
			for i, want := range ps {
				_ = target.SetReadDeadline(time.Now().Add(10 * time.Second))
				n, _, err := target.ReadFrom(buf)
				if err != nil || !bytes.Equal(buf[:n], want) {
					t.Fatalf("noGSO %v, batch %d datagram %d: %d bytes %v, want %d bytes", noGSO, bi, i, n, err, len(want))
				}
			}
		}
		if !noGSO {
			t.Logf("segmentation offload used: %v", gsoSupported && !u.noGSO)
		}
	}
}
