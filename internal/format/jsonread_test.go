package format_test

import (
	"bytes"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/oscli/oscli/internal/format"
	"github.com/oscli/oscli/internal/osc"
	"github.com/oscli/oscli/internal/testvec"
)

var parseNow = time.Date(2026, 11, 21, 18, 0, 0, 0, time.UTC)

var rawField = regexp.MustCompile(`"raw":"[^"]*",`)

// Every vector survives dump's JSON both ways: through "raw", and with
// "raw" deleted (as after `jq 'del(.raw)'`) through "packet".
func TestJSONRoundTrip(t *testing.T) {
	for _, v := range testvec.Load(t) {
		if v.Kind == "malformed" {
			continue
		}
		t.Run(v.Name, func(t *testing.T) {
			checkJSONRoundTrip(t, v.Data)
		})
	}
}

func checkJSONRoundTrip(t *testing.T, data []byte) {
	t.Helper()
	p, err := osc.Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	line := format.AppendJSON(nil, &format.Event{Time: parseNow, From: "127.0.0.1:1", Proto: "udp", Raw: data, Packet: p})
	l, err := format.ParseJSONLine(line, parseNow)
	if err != nil {
		t.Fatalf("%s: %v", line, err)
	}
	if !bytes.Equal(l.Raw, data) || !l.Time.Equal(parseNow) {
		t.Fatalf("raw path: %x at %v", l.Raw, l.Time)
	}
	if !validStrings(p) {
		return // invalid UTF-8 cannot travel in JSON strings; raw carries it
	}
	noRaw := rawField.ReplaceAll(line, nil)
	l, err = format.ParseJSONLine(noRaw, parseNow)
	if err != nil {
		t.Fatalf("%s: %v", noRaw, err)
	}
	if !bytes.Equal(l.Raw, data) {
		t.Fatalf("packet path:\n%s\nencodes to %x\nwant       %x", noRaw, l.Raw, data)
	}
}

func validStrings(p osc.Packet) bool {
	switch p := p.(type) {
	case *osc.Message:
		if !utf8.ValidString(p.Address) {
			return false
		}
		for _, a := range p.Args {
			if (a.Tag == osc.TagString || a.Tag == osc.TagSymbol) && !utf8.Valid(a.Data) {
				return false
			}
			if a.Tag == osc.TagChar && !utf8.ValidRune(rune(a.Uint32())) && a.Uint32() <= utf8.MaxRune {
				return false
			}
		}
	case *osc.Bundle:
		for _, e := range p.Elements {
			if !validStrings(e) {
				return false
			}
		}
	}
	return true
}

func TestHandWrittenJSON(t *testing.T) {
	tests := []struct {
		name, line, want string
	}{
		{"bare message", `{"address":"/a","types":"ifs","args":[1,0.5,"x"]}`, "/a i:1 f:0.5 s:x"},
		{"array", `{"address":"/a","types":"i[i[]]","args":[1,[2,[]]]}`, "/a i:1 [ i:2 [ ] ]"},
		{"no args", `{"address":"/a"}`, "/a"},
		{"specials", `{"address":"/a","types":"fdTFNIcbrmt","args":["-Inf","NaN",null,null,null,null,"x","0102","ff0000ff","00903c7f","0x0000000000000001"]}`,
			"/a f:-Inf d:NaN T F N I c:x b:0102 r:ff0000ff m:00903c7f t:0x0000000000000001"},
		{"char code", `{"address":"/a","types":"c","args":[65]}`, "/a c:A"},
		{"wrapped", `{"time":"2026-11-21T18:00:00Z","packet":{"address":"/w","types":"h","args":[9007199254740993]}}`, "/w h:9007199254740993"},
		{"bundle", `{"timetag":"+1s","elements":[{"address":"/a"},{"timetag":"immediately","elements":[]}]}`,
			"#bundle 0xeeac58d1000000000\n  /a\n  #bundle 0x0000000000000001"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, err := format.ParseJSONLine([]byte(tt.line), parseNow)
			if err != nil {
				t.Fatal(err)
			}
			got := l.Packet.(interface{ String() string }).String()
			if tt.name == "bundle" {
				want := "#bundle " + string(osc.FromTime(parseNow.Add(time.Second)).AppendHex(nil)) + "\n  /a\n  #bundle 0x0000000000000001"
				if got != want {
					t.Errorf("got %q, want %q", got, want)
				}
				return
			}
			if got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestJSONErrors(t *testing.T) {
	tests := []struct{ line, want string }{
		{`not json`, "invalid JSON"},
		{`{}`, `no "raw" or "packet"`},
		{`{"raw":"!!"}`, "not base64"},
		{`{"raw":"AAAA"}`, "not a valid OSC packet"},
		{`{"error":"offset 5","size":12}`, "malformed packet"},
		{`{"address":"/a","types":"i","args":["x"]}`, "want an integer"},
		{`{"address":"/a","types":"i","args":[2147483648]}`, "want an int32"},
		{`{"address":"/a","types":"ii","args":[1]}`, "need more args"},
		{`{"address":"/a","types":"i","args":[1,2]}`, "2 args for types that take 1"},
		{`{"address":"/a","types":"","args":[1]}`, "1 arg for types that take 0"},
		{`{"address":"/a","types":"[i","args":[[1]]}`, "'[' without ']'"},
		{`{"address":"/a","types":"i]","args":[1]}`, "']' without '['"},
		{`{"address":"/a","types":"x","args":[1]}`, "unknown type tag"},
		{`{"address":"a"}`, "address must start with '/'"},
		{`{"timetag":"soon"}`, "invalid time"},
		{`{"address":"/a","types":"s","args":["a\u0000b"]}`, "NUL"},
	}
	for _, tt := range tests {
		t.Run(tt.line, func(t *testing.T) {
			_, err := format.ParseJSONLine([]byte(tt.line), parseNow)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want %q", err, tt.want)
			}
		})
	}
}

// FuzzJSONRoundTrip: any decodable packet survives dump's JSON.
func FuzzJSONRoundTrip(f *testing.F) {
	for _, v := range testvec.Load(f) {
		f.Add(v.Data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if _, err := osc.Decode(data); err != nil {
			return
		}
		checkJSONRoundTrip(t, data)
	})
}
