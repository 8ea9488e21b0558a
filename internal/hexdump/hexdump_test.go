package hexdump_test

import (
	"bytes"
	"math/rand/v2"
	"os"
	"testing"

	"github.com/oscli/oscli/internal/hexdump"
	"github.com/oscli/oscli/internal/testvec"
)

// The reference output osc4py3 prints for its documentation example.
func TestReferenceExample(t *testing.T) {
	in := []byte("/my/pattern\x00,iisf\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00\x03a string\x00\x00\x00\x00\x41\x34\xcc\xcd")
	want := "000:2f6d792f 70617474 65726e00 2c696973     /my/ patt ern. ,iis\n" +
		"016:66000000 00000001 00000003 61207374     f... .... .... a st\n" +
		"032:72696e67 00000000 4134cccd              ring .... A4..\n"
	if got := hexdump.Dump(in); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

// Every vector's dump matches its golden byte for byte. The shared goldens
// come from osc4py3; those of oscli's own vectors were written by -update
// (which only creates missing files) and reviewed by hand.
func TestVectorGoldens(t *testing.T) {
	for _, v := range testvec.Load(t) {
		t.Run(v.Name, func(t *testing.T) {
			want, err := os.ReadFile(v.Path(".hex"))
			if os.IsNotExist(err) && *update {
				if err := os.WriteFile(v.Path(".hex"), []byte(hexdump.Dump(v.Data)), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := hexdump.Dump(v.Data); got != string(want) {
				t.Errorf("got\n%s\nwant\n%s", got, want)
			}
		})
	}
}

func TestEdges(t *testing.T) {
	if got := hexdump.Dump(nil); got != "" {
		t.Errorf("empty input gave %q", got)
	}
	got := hexdump.Dump(bytes.Repeat([]byte{0x7f, 0x20, 0x7e, 0x1f}, 260))
	lines := bytes.Split([]byte(got), []byte("\n"))
	if string(lines[63][:5]) != "1008:" || string(lines[0]) != "000:7f207e1f 7f207e1f 7f207e1f 7f207e1f     . ~. . ~. . ~. . ~." {
		t.Errorf("line 0 %q, line 63 %q", lines[0], lines[63])
	}
}

// A Dumper fed in random pieces writes what Dump does.
func TestDumperPieces(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for range 200 {
		data := make([]byte, r.IntN(300))
		for i := range data {
			data[i] = byte(r.IntN(256))
		}
		var out bytes.Buffer
		d := hexdump.Dumper(&out)
		for rest := data; len(rest) > 0; {
			n := min(len(rest), 1+r.IntN(40))
			if _, err := d.Write(rest[:n]); err != nil {
				t.Fatal(err)
			}
			rest = rest[n:]
		}
		if err := d.Close(); err != nil {
			t.Fatal(err)
		}
		if out.String() != hexdump.Dump(data) {
			t.Fatalf("Dumper differs for %x", data)
		}
	}
}

func BenchmarkAppendDump(b *testing.B) {
	data := bytes.Repeat([]byte("/1/fader\x00\x00\x00\x00,f\x00\x00?\x00\x00\x00"), 4)
	var buf []byte
	b.ReportAllocs()
	for b.Loop() {
		buf = hexdump.AppendDump(buf[:0], data)
	}
}
