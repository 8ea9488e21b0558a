//go:build unix

package transport

import (
	"context"
	"net"
	"path/filepath"
	"runtime"
	"testing"
)

// A Unix datagram larger than the limit is reported with its size and
// the limit: cut on receipt (with its whole size where Linux tells it),
// refused on sending, and the kernel's own refusal is put in numbers.
func TestUnixDatagramOverLimit(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "osc.sock")
	l, err := Listen(context.Background(), Endpoint{Proto: Unix, Path: path}, ListenConfig{})
	if err != nil {
		t.Fatal(err)
	}
	ch := serve(t, l)
	raw, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if _, err := raw.Write(make([]byte, 70000)); err != nil {
		t.Skipf("this system does not send a 70000-byte Unix datagram: %v", err)
	}
	p := next(t, ch)
	want := "datagram of 70000 bytes exceeds the 65536-byte limit"
	if runtime.GOOS != "linux" {
		want = "datagram truncated to 65536 bytes"
	}
	if !p.Truncated || len(p.Data) != MaxDatagram || p.TruncatedError().Error() != want {
		t.Errorf("truncated %v, %d bytes, %v; want %s", p.Truncated, len(p.Data), p.TruncatedError(), want)
	}

	c, err := Dial(context.Background(), Endpoint{Proto: Unix, Path: path}, DialConfig{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	err = c.Send(make([]byte, MaxDatagram+4))
	if want := "send to unix " + path + ": datagram of 65540 bytes exceeds the 65536-byte limit"; err == nil || err.Error() != want {
		t.Errorf("Send: %v, want %s", err, want)
	}
	if runtime.GOOS != "linux" {
		return
	}
	// Linux doubles the size asked for and refuses a datagram that does
	// not fit the send buffer.
	uc := c.(*unixClient).conn
	if err := uc.SetWriteBuffer(4096); err != nil {
		t.Fatal(err)
	}
	err = c.Send(make([]byte, 20000))
	if want := "send to unix " + path + ": datagram of 20000 bytes exceeds the system's limit (socket send buffer 8192 bytes)"; err == nil || err.Error() != want {
		t.Errorf("Send: %v, want %s", err, want)
	}
}
