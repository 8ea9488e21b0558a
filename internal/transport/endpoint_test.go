package transport

import (
	"context"
	"errors"
	"net"
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

func TestListenUDP(t *testing.T) {
	ctx := context.Background()
	c, err := ListenUDP(ctx, UDPConfig{Host: "127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if c.RecvBuffer() < 1<<20 {
		t.Errorf("receive buffer %d, want at least 1 MiB", c.RecvBuffer())
	}
	_, err = ListenUDP(ctx, UDPConfig{Host: "127.0.0.1", Port: int(c.Local.Port())})
	var inUse *AddrInUseError
	if !errors.As(err, &inUse) {
		t.Errorf("second listener: %v", err)
	}
	// A datagram larger than the read buffer is reported as truncated.
	s, err := net.Dial("udp", c.Local.String())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Write(make([]byte, 2000)); err != nil {
		t.Fatal(err)
	}
	n, from, trunc, err := c.ReadFrom(make([]byte, 1000))
	if err != nil || n != 1000 || !trunc || !from.Addr().Is4() {
		t.Errorf("read %d %v truncated=%v err=%v", n, from, trunc, err)
	}
}
