package cmd

import (
	"bytes"
	"encoding/hex"
	"os/exec"
	"strings"
	"testing"

	"github.com/oscli/oscli/internal/argparse"
)

// liblo's oscsend lines, given to oscli unchanged, send the bytes liblo
// sends: 'oscsend - ADDRESS TYPES VALUES…' writes its packet to stdout, and
// 'oscli send --dry-run HOST PORT ADDRESS TYPES VALUES…' (and the
// osc.udp:// spelling) prints it as a hexdump. The typed spelling oscli's
// note gives is the same packet too.
func TestInteropOscsendBytes(t *testing.T) {
	oscsend := needPeer(t, "oscsend")
	tests := [][]string{
		{"/sample/address", "iTfs", "1", "3.14", "hello"},
		{"/x", "hdSc", "5000000000", "2.5", "sym", "x"},
		{"/neg", "if", "-1", "-0.5"},
		{"/n", "NIF"},
		{"/t", "TFNI"},
		{"/s", "s", "two words"},
		{"/s", "sS", "", "-1"},
		{"/s", "s", "i:1"},
		{"/m", "mm", "00903c7f", "0x903c7f"},
		{"/i", "iii", "-2147483648", "2147483647", "+010"},
		{"/h", "h", "-9223372036854775808"},
		{"/f", "ffff", "inf", "-Infinity", "nan", "-nan"},
		{"/f", "ffff", "1e40", "1e-50", "0x10", "0x1.8p1"},
		{"/f", "ff", ".5", "-3.4028235e38"},
		{"/d", "ddd", "3.141592653589793", "-nan", "1e-320"},
		{"/c", "cc", " ", "~"},
		{"/empty"},
	}
	for _, words := range tests {
		t.Run(strings.Join(words, " "), func(t *testing.T) {
			want, err := exec.Command(oscsend, append([]string{"-"}, words...)...).Output()
			if err != nil || len(want) == 0 {
				t.Fatalf("oscsend - %q: %v", words, err)
			}
			for _, target := range [][]string{{"localhost", "7777"}, {"osc.udp://localhost:7777"}} {
				args := append(append([]string{"send", "--dry-run"}, target...), words...)
				r := run(t, "", nil, args...)
				if got := unhexdump(t, r.out); r.code != 0 || !bytes.Equal(got, want) {
					t.Fatalf("oscli %q: exit %d %s\ngot  %x\nwant %x", args, r.code, r.err, got, want)
				}
				typed := "oscli send localhost:7777 " + words[0]
				if len(words) > 1 {
					// A note only where the readings differ ("T" is T either way).
					_, spelling, ok := strings.Cut(r.err, "; in oscli: ")
					if !ok {
						if words[1] == "TFNI" || words[1] == "NIF" {
							continue
						}
						t.Fatalf("oscli %q: no note: %q", args, r.err)
					}
					typed = strings.TrimSuffix(spelling, "\n")
				}
				line, err := argparse.SplitLine(typed)
				if err != nil {
					t.Fatalf("note %q: %v", typed, err)
				}
				r = run(t, "", nil, append([]string{"send", "--dry-run"}, line[2:]...)...)
				if got := unhexdump(t, r.out); r.code != 0 || r.err != "" || !bytes.Equal(got, want) {
					t.Errorf("the note's spelling %q: exit %d %s\ngot  %x\nwant %x", typed, r.code, r.err, got, want)
				}
			}
		})
	}
}

// What oscsend reads otherwise than it looks, oscli refuses (exit 2,
// nothing sent): oscsend sends these without a word.
func TestInteropOscsendRefused(t *testing.T) {
	oscsend := needPeer(t, "oscsend")
	tests := [][]string{
		{"/a", "i", "1", "2"},       // oscsend drops the 2
		{"/a", "c", "xyz"},          // oscsend sends 'x'
		{"/a", "m", "00903c7fzz"},   // oscsend ignores the zz
		{"/a", "ii", "1", "2", "3"}, // oscsend drops the 3
	}
	for _, words := range tests {
		if out, err := exec.Command(oscsend, append([]string{"-"}, words...)...).Output(); err != nil || len(out) == 0 {
			t.Fatalf("oscsend - %q failed (%v): the premise of this test changed", words, err)
		}
		r := run(t, "", nil, append([]string{"send", "--dry-run", "localhost", "7777"}, words...)...)
		if r.code != 2 || r.out != "" || !strings.HasPrefix(r.err, "oscli: error: argument ") {
			t.Errorf("oscli send localhost 7777 %q: exit %d, out %q, err %q", words, r.code, r.out, r.err)
		}
	}
}

// unhexdump reads back the bytes of a hexdump (package hexdump's format:
// "000:2f6d792f 70617474 …" then the text column at column 44).
func unhexdump(t *testing.T, dump string) []byte {
	t.Helper()
	var b []byte
	for _, line := range strings.Split(dump, "\n") {
		_, rest, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		if len(rest) > 40 {
			rest = rest[:40]
		}
		data, err := hex.DecodeString(strings.ReplaceAll(strings.TrimSpace(rest), " ", ""))
		if err != nil {
			t.Fatalf("hexdump line %q: %v", line, err)
		}
		b = append(b, data...)
	}
	return b
}
