package transport

import (
	"context"
	"io"
	"net"
	"testing"
)

// What a TCP client writes, byte for byte: a connection's first SLIP frame
// has no leading END (liblo takes "\xc0#bundle" for a length prefix), every
// later one has it (double END), batched or not; a size prefix is the same
// for every frame.
func TestTCPClientWire(t *testing.T) {
	bundle := "#bundle\x00\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00\x08/a\x00\x00,\x00\x00\x00"
	msg := "/b\x00\x00,\x00\x00\x00"
	one := func(c Client) error {
		if err := c.Send([]byte(bundle)); err != nil {
			return err
		}
		if err := c.Send([]byte(msg)); err != nil {
			return err
		}
		return c.SendBatch([][]byte{[]byte(bundle), []byte(msg)})
	}
	batch := func(c Client) error { return c.SendBatch([][]byte{[]byte(bundle), []byte(msg)}) }
	tests := []struct {
		name    string
		framing Framing
		send    func(Client) error
		want    string
	}{
		{"slip", FramingSLIP, one, bundle + "\xc0" + "\xc0" + msg + "\xc0" + "\xc0" + bundle + "\xc0" + "\xc0" + msg + "\xc0"},
		{"slip, a batch first", FramingSLIP, batch, bundle + "\xc0" + "\xc0" + msg + "\xc0"},
		{"len", FramingLen, one, "\x00\x00\x00\x1c" + bundle + "\x00\x00\x00\x08" + msg + "\x00\x00\x00\x1c" + bundle + "\x00\x00\x00\x08" + msg},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ln, err := net.Listen("tcp4", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			defer ln.Close()
			got := make(chan string, 1)
			go func() {
				c, err := ln.Accept()
				if err != nil {
					got <- err.Error()
					return
				}
				b, _ := io.ReadAll(c)
				got <- string(b)
			}()
			port := int(ln.Addr().(*net.TCPAddr).AddrPort().Port())
			c, err := Dial(context.Background(), Endpoint{Proto: TCP, Host: "127.0.0.1", Port: port}, DialConfig{Framing: tt.framing})
			if err != nil {
				t.Fatal(err)
			}
			if err := tt.send(c); err != nil {
				t.Fatal(err)
			}
			c.Close()
			if g := <-got; g != tt.want {
				t.Errorf("wire %q\nwant %q", g, tt.want)
			}
		})
	}
}
