package argparse_test

import (
	"bytes"
	"errors"
	"math"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/oscli/oscli/internal/argparse"
	"github.com/oscli/oscli/internal/osc"
	"github.com/oscli/oscli/internal/testvec"
)

var now = time.Date(2026, 11, 21, 18, 0, 0, 0, time.UTC)

func parser() *argparse.Parser {
	return &argparse.Parser{
		Now: func() time.Time { return now },
		ReadFile: func(name string) ([]byte, error) {
			if name == "blob.bin" {
				return []byte{1, 2, 3}, nil
			}
			return nil, os.ErrNotExist
		},
	}
}

func TestParseArg(t *testing.T) {
	f32 := func(f float32) osc.Arg { return osc.Float32(f) }
	tests := []struct {
		word string
		want osc.Arg
	}{
		{"i:42", osc.Int32(42)},
		{"i:-2147483648", osc.Int32(math.MinInt32)},
		{"i:010", osc.Int32(10)},
		{"i:0x10", osc.Int32(16)},
		{"i:0xffffffff", osc.Int32(-1)},
		{"h:-1", osc.Int64(-1)},
		{"h:9223372036854775807", osc.Int64(math.MaxInt64)},
		{"f:0.5", f32(0.5)},
		{"f:1e3", f32(1000)},
		{"f:Inf", f32(float32(math.Inf(1)))},
		{"f:-inf", f32(float32(math.Inf(-1)))},
		{"f:NaN", osc.Arg{Tag: osc.TagFloat32, Bits: 0x7fc00000}},
		{"f:NaN:0xffc00001", osc.Arg{Tag: osc.TagFloat32, Bits: 0xffc00001}},
		{"d:3.141592653589793", osc.Float64(math.Pi)},
		{"d:-0", osc.Float64(math.Copysign(0, -1))},
		{"s:text", osc.String("text")},
		{"s:", osc.String("")},
		{"s:42", osc.String("42")},
		{"s:true", osc.String("true")},
		{"s:/path", osc.String("/path")},
		{"S:sym", osc.Symbol("sym")},
		{"c:x", osc.Char('x')},
		{"c:é", osc.Char('é')},
		{"c:0x20", osc.Char(' ')},
		{"c:65", osc.Char('A')},
		{"c:5", osc.Char('5')},
		{"b:deadbeef", osc.Blob([]byte{0xde, 0xad, 0xbe, 0xef})},
		{"b:", osc.Blob([]byte{})},
		{"b:@blob.bin", osc.Blob([]byte{1, 2, 3})},
		{"t:immediately", osc.TimetagArg(osc.Immediately)},
		{"t:0xe000000080000000", osc.TimetagArg(0xe000000080000000)},
		{"t:now", osc.TimetagArg(osc.FromTime(now))},
		{"t:+10s", osc.TimetagArg(osc.FromTime(now.Add(10 * time.Second)))},
		{"r:ff8000ff", osc.RGBA(0xff8000ff)},
		{"m:00903c7f", osc.MIDI(0, 0x90, 0x3c, 0x7f)},
		{"T", osc.Bool(true)},
		{"F", osc.Bool(false)},
		{"N", osc.Nil()},
		{"I", osc.Impulse()},
		{"[", osc.ArrayBegin()},
		{"]", osc.ArrayEnd()},
		// Inference.
		{"42", osc.Int32(42)},
		{"-7", osc.Int32(-7)},
		{"2147483648", osc.Int64(2147483648)},
		{"-9223372036854775808", osc.Int64(math.MinInt64)},
		{"0x10", osc.Int32(16)},
		{"0.5", f32(0.5)},
		{"-.5", f32(-0.5)},
		{"1e3", f32(1000)},
		{"5.", f32(5)},
		{"true", osc.Bool(true)},
		{"false", osc.Bool(false)},
		{"nil", osc.Nil()},
		{"hello", osc.String("hello")},
		{"inf", osc.String("inf")},
		{"1_000", osc.String("1_000")},
		{"x:5", osc.String("x:5")},
		{"/path", osc.String("/path")},
		{"True", osc.String("True")},
		{".", osc.String(".")},
		{"1e", osc.String("1e")},
	}
	p := parser()
	for _, tt := range tests {
		t.Run(tt.word, func(t *testing.T) {
			got, err := p.ParseArg(tt.word)
			if err != nil {
				t.Fatal(err)
			}
			if !got.Equal(tt.want) || (got.Data == nil) != (tt.want.Data == nil) && got.Tag == osc.TagBlob && len(got.Data) > 0 {
				t.Errorf("got %v (%#v), want %v", got, got, tt.want)
			}
		})
	}
}

func TestParseArgErrors(t *testing.T) {
	tests := []struct{ word, reason string }{
		{"i:4x", "invalid int32"},
		{"i:", "invalid int32"},
		{"i:2147483648", "out of int32 range"},
		{"i:--1", "invalid int32"},
		{"h:99999999999999999999", "out of int64 range"},
		{"f:abc", "invalid float32"},
		{"f:1e39", "out of float32 range"},
		{"f:NaN:0x00000001", "invalid NaN"},
		{"d:1e309", "out of float64 range"},
		{"c:", "invalid char"},
		{"c:ab", "invalid char"},
		{"b:abc", "invalid blob"},
		{"b:zz", "invalid blob"},
		{"b:@missing", "file does not exist"},
		{"t:soon", "invalid time"},
		{"t:0x123", "16 hex digits"},
		{"r:fff", "8 hex digits"},
		{"m:0090zz7f", "8 hex digits"},
		{"99999999999999999999", "out of int64 range"},
		{"1e39", "out of float32 range"},
		{"s:a\x00b", "NUL"},
	}
	p := parser()
	for _, tt := range tests {
		t.Run(tt.word, func(t *testing.T) {
			_, err := p.ParseArg(tt.word)
			if err == nil || !strings.Contains(err.Error(), tt.reason) {
				t.Fatalf("err = %v, want %q", err, tt.reason)
			}
		})
	}
}

func TestParseArgsPositions(t *testing.T) {
	p := parser()
	_, err := p.ParseArgs([]string{"i:1", "f:2", "i:4x"})
	var ae *argparse.ArgError
	if !errors.As(err, &ae) || err.Error() != `argument 3 "i:4x": invalid int32` {
		t.Fatalf("got %v", err)
	}
	_, err = p.ParseArgs([]string{"i:1", "[", "i:2"})
	if err == nil || err.Error() != `argument 2 "[": '[' without ']'` {
		t.Fatalf("unclosed: %v", err)
	}
	_, err = p.ParseArgs([]string{"]"})
	if err == nil || !strings.Contains(err.Error(), "']' without '['") {
		t.Fatalf("stray close: %v", err)
	}
	_, err = p.ParseMessage([]string{"fader", "f:1"})
	var ad *argparse.AddressError
	if !errors.As(err, &ad) || !strings.Contains(err.Error(), `"fader"`) {
		t.Fatalf("address: %v", err)
	}
}

func TestParseWhen(t *testing.T) {
	local := time.FixedZone("CET", 3600)
	nowLocal := now.In(local)
	tests := []struct {
		s    string
		want time.Time
	}{
		{"now", now},
		{"+10s", now.Add(10 * time.Second)},
		{"10s", now.Add(10 * time.Second)},
		{"+250ms", now.Add(250 * time.Millisecond)},
		{"-1s", now.Add(-time.Second)},
		{"1m30s", now.Add(90 * time.Second)},
		{"2026-11-21T18:00:00Z", now},
		{"2026-11-21T19:00:00.5+01:00", now.Add(500 * time.Millisecond)},
		{"20:30:00", time.Date(2026, 11, 21, 20, 30, 0, 0, local)},
		{"20:30:00.125", time.Date(2026, 11, 21, 20, 30, 0, 125e6, local)},
		{"@1700000000", time.Unix(1700000000, 0)},
		{"@1700000000.5", time.Unix(1700000000, 5e8)},
		{"@1700000000.000000001", time.Unix(1700000000, 1)},
	}
	for _, tt := range tests {
		t.Run(tt.s, func(t *testing.T) {
			got, err := argparse.ParseWhen(tt.s, nowLocal)
			if err != nil {
				t.Fatal(err)
			}
			if want := osc.FromTime(tt.want); got != want {
				t.Errorf("got %v, want %v", got, want)
			}
		})
	}
	for _, s := range []string{"immediately", "imm"} {
		if got, _ := argparse.ParseWhen(s, now); got != osc.Immediately {
			t.Errorf("%s = %v", s, got)
		}
	}
	if got, _ := argparse.ParseWhen("0xeeac000080000000", now); got != 0xeeac000080000000 {
		t.Errorf("raw = %#x", uint64(got))
	}
	for _, bad := range []string{"", "soon", "@", "@1.", "@1.1234567890", "@x", "0xabc", "25:00:00", "@+5"} {
		if _, err := argparse.ParseWhen(bad, now); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// A WHEN outside the time tags' range (RFC 4330: 1968-01-20T03:14:08Z to
// 2104-02-26T09:42:23.999999999Z) is an error naming it and the range, not
// a date that wrapped; the ends themselves are exact.
func TestParseWhenRange(t *testing.T) {
	const rng = " is outside the range of OSC time tags, 1968-01-20T03:14:08Z to 2104-02-26T09:42:23Z (NTP, RFC 4330)"
	for _, s := range []string{
		"@99999999999999999", "@-99999999999999999999", "@4233462144", "@-61505153",
		"+1000000h", "-1000000h", "3000000h", "+9999999999999h",
		"1899-12-31T23:59:59Z", "1968-01-20T03:14:07.999999999Z", "2104-02-26T09:42:24Z", "9999-01-01T00:00:00Z",
	} {
		_, err := argparse.ParseWhen(s, now)
		var re *argparse.RangeError
		if !errors.As(err, &re) || err.Error() != "time "+strconv.Quote(s)+rng {
			t.Errorf("%s: %v", s, err)
		}
		if _, err := argparse.ParseWhenSpec(s, now); !errors.As(err, &re) {
			t.Errorf("spec %s: %v", s, err)
		}
	}
	for s, want := range map[string]osc.Timetag{
		"1968-01-20T03:14:08Z":           osc.NewTimetag(1<<31, 0),
		"@-61505152":                     osc.NewTimetag(1<<31, 0),
		"2104-02-26T09:42:23.999999999Z": osc.NewTimetag(1<<31-1, 0xfffffffc),
		"2036-02-07T06:28:16Z":           osc.NewTimetag(0, 0),
		"+675000h":                       osc.FromTime(now.Add(675000 * time.Hour)),
	} {
		if got, err := argparse.ParseWhen(s, now); err != nil || got != want {
			t.Errorf("%s = %#x, %v; want %#x", s, uint64(got), err, uint64(want))
		}
	}
}

func TestSplitLine(t *testing.T) {
	tests := []struct {
		line string
		want []string
	}{
		{"/1/fader f:0.5", []string{"/1/fader", "f:0.5"}},
		{"  /a   i:1\t", []string{"/a", "i:1"}},
		{`/a s:"two words"`, []string{"/a", "s:two words"}},
		{`/a s:'it"s' s:"it's"`, []string{"/a", `s:it"s`, "s:it's"}},
		{`/a s:"a\"b\\c\$d\x"`, []string{"/a", `s:a"b\c$d\x`}},
		{`/a s:$'\x1b[2Jhi\nthere'`, []string{"/a", "s:\x1b[2Jhi\nthere"}},
		{`/a s:$'\u202e\U0001F600\101\e\'\\'`, []string{"/a", "s:\u202e\U0001F600A\x1b'\\"}},
		{`/a s:two\ words`, []string{"/a", "s:two words"}},
		{`/a i:1 # comment`, []string{"/a", "i:1"}},
		{`# whole line`, nil},
		{`/a s:#not-a-comment`, []string{"/a", "s:#not-a-comment"}},
		{`/a s:`, []string{"/a", "s:"}},
		{`/a ''`, []string{"/a", ""}},
		{`/a $x`, []string{"/a", "$x"}},
	}
	for _, tt := range tests {
		t.Run(tt.line, func(t *testing.T) {
			got, err := argparse.SplitLine(tt.line)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Join(got, "\x00") != strings.Join(tt.want, "\x00") || len(got) != len(tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
	for _, bad := range []string{`/a s:"open`, `/a s:'open`, `/a s:$'open`} {
		if _, err := argparse.SplitLine(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// Every vector with a typed command line encodes to its bytes, and the text
// oscli prints for it splits and parses back to the same bytes.
func TestVectorsRoundTrip(t *testing.T) {
	p := parser()
	for _, v := range testvec.Load(t) {
		if v.Kind == "malformed" {
			continue
		}
		t.Run(v.Name, func(t *testing.T) {
			if v.CLI != nil {
				m, err := p.ParseMessage(append([]string{v.Address}, v.CLI...))
				if err != nil {
					t.Fatal(err)
				}
				got, err := osc.AppendMessage(nil, m)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(got, v.Data) {
					t.Errorf("cli %q encodes to\n%x\nwant\n%x", v.CLI, got, v.Data)
				}
			}
			pkt, err := osc.Decode(v.Data)
			if err != nil {
				t.Fatal(err)
			}
			checkTextRoundTrip(t, p, pkt)
		})
	}
}

// checkTextRoundTrip: each message of pkt, printed and parsed back,
// encodes to the same bytes as the original message.
func checkTextRoundTrip(t *testing.T, p *argparse.Parser, pkt osc.Packet) {
	t.Helper()
	switch pkt := pkt.(type) {
	case *osc.Bundle:
		for _, e := range pkt.Elements {
			checkTextRoundTrip(t, p, e)
		}
	case *osc.Message:
		if pkt.NoTypeTags {
			return // not expressible in the text syntax
		}
		want, err := osc.AppendMessage(nil, pkt)
		if err != nil {
			t.Fatal(err)
		}
		line := pkt.String()
		words, err := argparse.SplitLine(line)
		if err != nil {
			t.Fatalf("split %q: %v", line, err)
		}
		m, err := p.ParseMessage(words)
		if err != nil {
			t.Fatalf("parse %q: %v", line, err)
		}
		got, err := osc.AppendMessage(nil, m)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("line %q re-encodes to\n%x\nwant\n%x", line, got, want)
		}
	}
}

// TestShellAgrees: bash reads the printed words exactly as SplitLine does,
// so a line pasted after `oscli send` gives the same argv.
func TestShellAgrees(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("no bash")
	}
	var script strings.Builder
	var want []string
	for _, s := range []string{"plain", "two words", "it's", `say "$x"`, "tab\there", "\x1b[31mred", "bidi\u202eevil",
		"naïve ✓", "\xff\xfe bytes", "back\\slash", "bang!", "glob*?[x]", "~home", "#hash", "a'b\"c$d`e", "\u00a0nbsp"} {
		w := string(osc.AppendWord([]byte("s:"), s))
		script.WriteString("printf '%s\\0' " + w + "\n")
		want = append(want, "s:"+s)
	}
	out, err := exec.Command(bash, "-c", script.String()).Output()
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Split(strings.TrimSuffix(string(out), "\x00"), "\x00")
	if len(got) != len(want) {
		t.Fatalf("bash gave %q", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("bash read %q, want %q", got[i], want[i])
		}
		words, err := argparse.SplitLine(string(osc.AppendWord(nil, want[i])))
		if err != nil || len(words) != 1 || words[0] != want[i] {
			t.Errorf("SplitLine read %q (%v), want %q", words, err, want[i])
		}
	}
}
