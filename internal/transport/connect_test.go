package transport

import (
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
	if err := c.SendBatch([][]byte{[]byte("/two"), []byte("/three")}); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 64)
	var from net.Addr
	for _, want := range []string{"/one", "/two", "/three"} {
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
