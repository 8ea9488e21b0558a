package transport

import (
	"context"
	"net"
	"runtime"
	"strings"
	"testing"
)

func TestParseEndpoint(t *testing.T) {
	def := Endpoint{Proto: UDP, Host: "127.0.0.1", Port: 8000}
	tests := []struct {
		word string
		want Endpoint
	}{
		{"9000", Endpoint{UDP, "127.0.0.1", 9000, ""}},
		{"mixer.local:10023", Endpoint{UDP, "mixer.local", 10023, ""}},
		{"mixer.local", Endpoint{UDP, "mixer.local", 8000, ""}},
		{"[::1]:9000", Endpoint{UDP, "::1", 9000, ""}},
		{"[::1]", Endpoint{UDP, "::1", 8000, ""}},
		{"::1", Endpoint{UDP, "::1", 8000, ""}},
		{":9000", Endpoint{UDP, "127.0.0.1", 9000, ""}},
		{"udp://10.0.0.5:9000", Endpoint{UDP, "10.0.0.5", 9000, ""}},
		{"osc.udp://10.0.0.5:9000/", Endpoint{UDP, "10.0.0.5", 9000, ""}},
		{"osc.udp://:9000", Endpoint{UDP, "127.0.0.1", 9000, ""}},
		{"udp://[ff02::1]:7000", Endpoint{UDP, "ff02::1", 7000, ""}},
		{"tcp://host:3032", Endpoint{TCP, "host", 3032, ""}},
		{"OSC.TCP://host:3032/", Endpoint{TCP, "host", 3032, ""}},
		{"unix:///tmp/osc.sock", Endpoint{Unix, "", 0, "/tmp/osc.sock"}},
		{"osc.unix://localhost/tmp/osc.sock", Endpoint{Unix, "", 0, "/tmp/osc.sock"}},
	}
	for _, tt := range tests {
		t.Run(tt.word, func(t *testing.T) {
			got, err := ParseEndpoint(tt.word, def)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
	for _, bad := range []string{"", "70000", "host:99999", "http://x:1", "udp://h:1/path", "unix://relative", "a b", "host:port"} {
		if _, err := ParseEndpoint(bad, def); err == nil || !strings.Contains(err.Error(), "invalid address") {
			t.Errorf("%q: err = %v", bad, err)
		}
	}
	if s := (Endpoint{UDP, "::1", 9000, ""}).String(); s != "udp://[::1]:9000" {
		t.Errorf("String = %q", s)
	}
}

// Batched reads return what is queued, and on Linux the kernel's drop
// counter reports datagrams lost to a full receive buffer.
func TestReadBatchAndKernelDrops(t *testing.T) {
	c, err := listenUDP(context.Background(), udpConfig{Host: "127.0.0.1", RecvBuffer: 4096})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	s, err := net.Dial("udp", c.Local.String())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for range 300 {
		if _, err := s.Write(make([]byte, 200)); err != nil {
			t.Fatal(err)
		}
	}
	b := newBatch(64, MaxDatagram)
	n, err := c.readBatch(b)
	if err != nil || n < 2 {
		t.Fatalf("read %d datagrams in one call: %v", n, err)
	}
	if b.msgs[0].N != 200 || b.truncated(0) {
		t.Errorf("first datagram %d bytes, truncated %v", b.msgs[0].N, b.truncated(0))
	}
	// The kernel tells the count with datagrams queued after the drops:
	// drain what was queued, then one more.
	for n == len(b.msgs) {
		if n, err = c.readBatch(b); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Write([]byte("after")); err != nil {
		t.Fatal(err)
	}
	if _, err := c.readBatch(b); err != nil {
		t.Fatal(err)
	}
	if drops, ok := c.kernelDrops(); ok && drops == 0 {
		t.Errorf("a 4 KiB buffer took 300 datagrams without a drop")
	} else if !ok && runtime.GOOS == "linux" {
		t.Error("no drop counter on Linux")
	}
}
