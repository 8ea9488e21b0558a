package format_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/oscli/oscli/internal/argparse"
	"github.com/oscli/oscli/internal/format"
	"github.com/oscli/oscli/internal/osc"
	"github.com/oscli/oscli/internal/termsafe"
)

// Hostile text in a message string and in the sender's name: the text
// format shows it escaped and still reads back as the same packet; JSON
// writes \u escapes that decode to the same bytes.
func TestHostileText(t *testing.T) {
	tests := []struct {
		name, s  string
		text     string // the string argument as text shows it
		jsonForm string // the string as JSON shows it
	}{
		{"RLO", "abc\u202etxt.exe", `s:$'abc\u202etxt.exe'`, `"abc\u202etxt.exe"`},
		{"raw 0x9b", "\x9b2J", `s:$'\x9b2J'`, `"\ufffd2J"`},
		{"C1 CSI", "\u009b2J", `s:$'\u009b2J'`, `"\u009b2J"`},
		{"ESC", "\x1b[2Jgone", `s:$'\x1b[2Jgone'`, `"\u001b[2Jgone"`},
		{"zero-width", "pass\u200bword\ufeff", `s:$'pass\u200bword\ufeff'`, `"pass\u200bword\ufeff"`},
		{"bidi isolate and mark", "\u2067x\u2069\u200f\u061c", `s:$'\u2067x\u2069\u200f\u061c'`, `"\u2067x\u2069\u200f\u061c"`},
		{"tag character", "\U000e0041", `s:$'\U000e0041'`, `"\udb40\udc41"`},
		{"quote and backslash", "it's \\x1b", `s:$'it\'s \\x1b'`, `"it's \\x1b"`},
	}
	senders := []struct{ from, col string }{
		{"unix:/tmp/\x1b[2J\u202e\x9b.sock", `$'unix:/tmp/\x1b[2J\u202e\x9b.sock'`},
		{"[fe80::1%e\x1bth0\u200b]:9000", `$'[fe80::1%e\x1bth0\u200b]:9000'`},
		{"unix:@\x00abstract", `$'unix:@\x00abstract'`},
		{"unix:/tmp/my sock", `"unix:/tmp/my sock"`},
		{"unix:/tmp/café", `unix:/tmp/café`},
		{"[fe80::1%eth0]:9000", `[fe80::1%eth0]:9000`},
	}
	p := &argparse.Parser{}
	for _, tt := range tests {
		for _, sd := range senders {
			t.Run(tt.name+" from "+sd.from, func(t *testing.T) {
				m := &osc.Message{Address: "/a", Args: []osc.Arg{osc.String(tt.s)}}
				raw, err := osc.AppendMessage(nil, m)
				if err != nil {
					t.Fatal(err)
				}
				ev := format.Event{Time: arrival, From: sd.from, Proto: "unix", Raw: raw, Packet: m}

				var text bytes.Buffer
				render(t, format.NewText(&text, format.Options{Time: format.TimeUTC}), []format.Event{ev})
				want := "2026-11-21T11:33:18.250000Z " + sd.col + "  /a " + tt.text + "\n"
				if text.String() != want {
					t.Errorf("text:\n got %q\nwant %q", text.String(), want)
				}
				assertSafe(t, "text", text.String())
				back, err := format.ParseTextLine(text.Bytes(), p)
				if err != nil {
					t.Fatalf("text line does not read back: %v", err)
				}
				if again, _ := osc.AppendPacket(nil, back); !bytes.Equal(again, raw) {
					t.Errorf("text line reads back as %v, not the packet sent", back)
				}

				var js bytes.Buffer
				render(t, format.NewJSON(&js), []format.Event{ev})
				if !strings.Contains(js.String(), `"args":[`+tt.jsonForm+`]`) {
					t.Errorf("json: %s lacks %s", js.String(), tt.jsonForm)
				}
				assertSafe(t, "json", js.String())
				var obj struct {
					From   string
					Packet struct{ Args []string }
				}
				if err := json.Unmarshal(js.Bytes(), &obj); err != nil {
					t.Fatalf("not JSON: %v\n%s", err, js.String())
				}
				if utf8.ValidString(sd.from) && obj.From != sd.from {
					t.Errorf("json from decodes to %q, want %q", obj.From, sd.from)
				}
				if utf8.ValidString(tt.s) && (len(obj.Packet.Args) != 1 || obj.Packet.Args[0] != tt.s) {
					t.Errorf("json args decode to %q, want %q", obj.Packet.Args, tt.s)
				}
			})
		}
	}
}

// assertSafe fails when out has a rune termsafe would escape, other than
// the newline that ends a line, or bytes that are not UTF-8.
func assertSafe(t *testing.T, name, out string) {
	t.Helper()
	for i, r := range strings.TrimSuffix(out, "\n") {
		if r == utf8.RuneError || !termsafe.IsSafe(r) {
			t.Errorf("%s: unsafe %U at %d in %q", name, r, i, out)
			return
		}
	}
}

// FuzzTextLine: whatever a peer puts in an address, a string and its own
// name (a Unix socket path or abstract name, an IPv6 zone), dump's text and
// JSON lines carry nothing a terminal would act on or hide, and the text
// line reads back (send -) as the same packet.
func FuzzTextLine(f *testing.F) {
	f.Add("/a", "\x1b[2J\u202e\x9b\u200b", "/tmp/\x1b\u202e\x9b")
	f.Add("/x y", "it's \"q\" $HOME `cmd` \\", "eth0")
	f.Add("/\u009b", "\U000e0041\ufeff\u00ad\u2028", "@#x ]:1")
	p := &argparse.Parser{}
	f.Fuzz(func(t *testing.T, addr, s, name string) {
		m := &osc.Message{Address: addr, Args: []osc.Arg{osc.String(s), osc.Symbol(s + addr)}}
		raw, err := osc.AppendMessage(nil, m)
		if err != nil {
			return // not a message a peer can send (a NUL in a string)
		}
		for _, from := range []string{"unix:" + name, "[fe80::1%" + name + "]:9000"} {
			ev := format.Event{Time: arrival, From: from, Proto: "udp", Raw: raw, Packet: m}
			var text, js bytes.Buffer
			render(t, format.NewText(&text, format.Options{Time: format.TimeLocal}), []format.Event{ev})
			render(t, format.NewJSON(&js), []format.Event{ev})
			assertSafe(t, "text", text.String())
			assertSafe(t, "json", js.String())
			if !json.Valid(js.Bytes()) {
				t.Fatalf("not JSON: %s", js.String())
			}
			if !strings.HasPrefix(addr, "/") {
				continue // nothing send - would send
			}
			back, err := format.ParseTextLine(text.Bytes(), p)
			if err != nil {
				t.Fatalf("%q does not read back: %v", text.String(), err)
			}
			if again, _ := osc.AppendPacket(nil, back); !bytes.Equal(again, raw) {
				t.Fatalf("%q reads back as %v", text.String(), back)
			}
		}
	})
}
