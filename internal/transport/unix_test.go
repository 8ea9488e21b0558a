//go:build unix

package transport

import (
	"context"
	"net"
	"path/filepath"
	"runtime"
	"testing"
)

// A Unix datagram larger than the limit is cut on receipt and reported
// with its whole size, where Linux tells it, and the limit.
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
}
