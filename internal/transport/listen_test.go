package transport

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"path/filepath"
	"testing"
	"time"
)

// serve runs l.Serve in the background and delivers copies of what it
// receives.
func serve(t *testing.T, l Listener) <-chan Packet {
	t.Helper()
	ch := make(chan Packet, 64)
	done := make(chan error, 1)
	go func() {
		done <- l.Serve(func(p *Packet) {
			c := *p
			c.Data = bytes.Clone(p.Data)
			ch <- c
		})
	}()
	t.Cleanup(func() {
		l.Close()
		if err := <-done; err != nil {
			t.Errorf("Serve after Close: %v", err)
		}
	})
	return ch
}

func next(t *testing.T, ch <-chan Packet) Packet {
	t.Helper()
	select {
	case p := <-ch:
		return p
	case <-time.After(10 * time.Second):
		t.Fatal("nothing received in 10s")
	}
	return Packet{}
}

// One Listen for every protocol: each packet carries its payload, whether
// it was cut, and a source that names the sender and answers it on the
// socket it came in on.
func TestListenUDP(t *testing.T) {
	l, err := Listen(context.Background(), Endpoint{Proto: UDP, Host: "127.0.0.1"}, ListenConfig{})
	if err != nil {
		t.Fatal(err)
	}
	if st := l.Stats(); st.RecvBuffer < 1<<20 {
		t.Errorf("receive buffer %d, want at least 1 MiB", st.RecvBuffer)
	}
	addr := l.Addr()
	if addr.Proto != UDP || addr.Port == 0 || l.String() != addr.String() {
		t.Errorf("Addr %v, String %q", addr, l)
	}
	_, err = Listen(context.Background(), addr, ListenConfig{})
	var inUse *AddrInUseError
	if !errors.As(err, &inUse) {
		t.Errorf("second listener: %v", err)
	}
	ch := serve(t, l)
	c, err := net.Dial("udp", addr.HostPort())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write([]byte("/ping\x00\x00\x00,\x00\x00\x00")); err != nil {
		t.Fatal(err)
	}
	p := next(t, ch)
	if string(p.Data) != "/ping\x00\x00\x00,\x00\x00\x00" || p.Truncated || p.Source.Proto() != UDP ||
		p.Source.String() != c.LocalAddr().String() {
		t.Fatalf("got %q truncated=%v from %s %s", p.Data, p.Truncated, p.Source.Proto(), p.Source)
	}
	if ap, ok := p.Source.AddrPort(); !ok || ap.String() != c.LocalAddr().String() {
		t.Errorf("AddrPort %v %v", ap, ok)
	}
	if err := p.Source.Reply([]byte("pong")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 100)
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	if n, err := c.Read(buf); err != nil || string(buf[:n]) != "pong" {
		t.Fatalf("reply: %q %v", buf[:n], err)
	}
	// A datagram larger than the read buffer is reported as truncated.
	if _, err := c.Write(make([]byte, MaxDatagram+100)); err == nil {
		t.Log("the kernel took an oversized datagram")
	}
}

func TestListenTCP(t *testing.T) {
	events := make(chan ConnEvent, 8)
	l, err := Listen(context.Background(), Endpoint{Proto: TCP, Host: "127.0.0.1"},
		ListenConfig{OnConn: func(e ConnEvent) { events <- e }})
	if err != nil {
		t.Fatal(err)
	}
	if l.String() != l.Addr().String()+" (framing auto)" {
		t.Errorf("String %q", l)
	}
	ch := serve(t, l)
	for _, f := range []Framing{FramingSLIP, FramingLen} {
		c, err := net.Dial("tcp", l.Addr().HostPort())
		if err != nil {
			t.Fatal(err)
		}
		msg := []byte("/a\x00\x00,\x00\x00\x00")
		if _, err := c.Write(AppendFrame(AppendFrame(nil, msg, f), msg, f)); err != nil {
			t.Fatal(err)
		}
		if e := <-events; !e.Opened || e.Source.Proto() != "tcp+"+string(f) {
			t.Errorf("event %+v", e)
		}
		p := next(t, ch)
		if !bytes.Equal(p.Data, msg) || p.Source.Proto() != "tcp+"+string(f) || p.Source.String() != c.LocalAddr().String() {
			t.Fatalf("%s: got %q from %s %s", f, p.Data, p.Source.Proto(), p.Source)
		}
		next(t, ch)
		// Replies go back on the connection, in its framing; the first
		// SLIP frame without a leading END (liblo's detection needs it).
		for range 2 {
			if err := p.Source.Reply(msg); err != nil {
				t.Fatal(err)
			}
		}
		want := "\x00\x00\x00\x08" + string(msg) + "\x00\x00\x00\x08" + string(msg)
		if f == FramingSLIP {
			want = string(msg) + "\xc0" + "\xc0" + string(msg) + "\xc0"
		}
		got := make([]byte, len(want))
		_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
		if _, err := io.ReadFull(c, got); err != nil || string(got) != want {
			t.Fatalf("%s replies %q, want %q (%v)", f, got, want, err)
		}
		c.Close()
		if e := <-events; e.Opened || e.Err != nil {
			t.Errorf("close event %+v", e)
		}
	}
	if st := l.Stats(); st.Conns != 2 || st.Dropped != 0 {
		t.Errorf("stats %+v", st)
	}
}

func TestListenUnix(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "osc.sock")
	l, err := Listen(context.Background(), Endpoint{Proto: Unix, Path: path}, ListenConfig{})
	if err != nil {
		t.Fatal(err)
	}
	ch := serve(t, l)
	me := filepath.Join(dir, "me.sock")
	c, err := net.DialUnix("unixgram", &net.UnixAddr{Name: me, Net: "unixgram"}, &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write([]byte("hi")); err != nil {
		t.Fatal(err)
	}
	p := next(t, ch)
	if string(p.Data) != "hi" || p.Source.String() != "unix:"+me || p.Source.Proto() != Unix {
		t.Fatalf("got %q from %s", p.Data, p.Source)
	}
	if err := p.Source.Reply([]byte("back")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 10)
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	if n, err := c.Read(buf); err != nil || string(buf[:n]) != "back" {
		t.Fatalf("reply %q %v", buf[:n], err)
	}
}

// A cancelled context closes the listener and ends Serve cleanly.
func TestListenContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	l, err := Listen(ctx, Endpoint{Proto: UDP, Host: "127.0.0.1"}, ListenConfig{})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error)
	go func() { done <- l.Serve(func(*Packet) {}) }()
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return after the context ended")
	}
}
