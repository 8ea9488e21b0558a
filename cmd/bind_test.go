package cmd

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// --bind fixes the source port (and address) of what send, bundle and
// replay send, over UDP and TCP: dump names the sender by it. A port that
// is taken is one error line naming --bind, with a hint, and exit 1.
func TestBindSourcePort(t *testing.T) {
	rec := filepath.Join(t.TempDir(), "rec.jsonl")
	if err := os.WriteFile(rec, []byte(`{"packet":{"address":"/replayed"}}`+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		proto string
		args  func(target, port string) []string
		from  func(port string) string
	}{
		{"send", "udp", func(target, port string) []string { return []string{"send", "--bind", port, target, "/a"} },
			func(port string) string { return "127.0.0.1:" + port }},
		{"send HOST:PORT", "udp", func(target, port string) []string {
			return []string{"send", "--bind", "127.0.0.1:" + port, target, "/a"}
		}, func(port string) string { return "127.0.0.1:" + port }},
		{"send over TCP", "tcp", func(target, port string) []string {
			return []string{"send", "--bind", port, "tcp://" + target, "/a"}
		}, func(port string) string { return "127.0.0.1:" + port }},
		{"bundle", "udp", func(target, port string) []string { return []string{"bundle", "--bind", port, target, "/a", "/b"} },
			func(port string) string { return "127.0.0.1:" + port }},
		{"replay", "udp", func(target, port string) []string {
			return []string{"replay", "--no-timing", "--bind", port, rec, target}
		}, func(port string) string { return "127.0.0.1:" + port }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := start(t, nil, "dump", "--proto", tt.proto, "-H", "127.0.0.1", "-p", "0", "-n", "1", "--json")
			target := strings.TrimPrefix(d.addr, "tcp://")
			port := freeUDPPort(t)
			if tt.proto == "tcp" {
				port = freeTCPPort(t)
			}
			if r := run(t, "", nil, tt.args(target, port)...); r.code != 0 {
				t.Fatalf("%v: %d %s", tt.args(target, port), r.code, r.err)
			}
			r := d.wait(t)
			var line struct{ From string }
			if err := json.Unmarshal([]byte(r.out), &line); err != nil || line.From != tt.from(port) {
				t.Errorf("dump saw %q (%v), want from %s", r.out, err, tt.from(port))
			}
		})
	}
	t.Run("port in use", func(t *testing.T) {
		for _, proto := range []string{"udp", "tcp"} {
			d := start(t, nil, "dump", "--proto", proto, "-H", "127.0.0.1", "-p", "0")
			port := portOf(d.addr)
			r := run(t, "", nil, "send", "--bind", port, proto+"://127.0.0.1:"+port, "/a")
			want := "oscli: error: --bind " + port + ": " + proto + " 0.0.0.0:" + port + " is already in use by another program\n" +
				"oscli: hint: pick another port for --bind, or leave it out (--reply prints what comes back to the port sent from)\n"
			if r.code != 1 || r.err != want {
				t.Errorf("%s: exit %d, stderr %q, want 1 and %q", proto, r.code, r.err, want)
			}
			d.stop(t)
		}
	})
	t.Run("not an address of this machine", func(t *testing.T) {
		// TEST-NET-3 (RFC 5737) is never a local address; nothing is sent.
		r := run(t, "", nil, "send", "--bind", "203.0.113.9:0", "127.0.0.1:9", "/a")
		if want := "oscli: error: --bind 203.0.113.9:0: not an address of this machine\n"; r.code != 1 || r.err != want {
			t.Errorf("exit %d, stderr %q, want 1 and %q", r.code, r.err, want)
		}
	})
}

// portOf is the port of a listener's address ("udp://127.0.0.1:5000").
func portOf(addr string) string {
	for i := len(addr) - 1; i >= 0; i-- {
		if addr[i] == ':' {
			return addr[i+1:]
		}
	}
	return addr
}
