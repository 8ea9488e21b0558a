package format_test

import (
	"strings"
	"testing"

	"github.com/oscli/oscli/internal/argparse"
	"github.com/oscli/oscli/internal/format"
	"github.com/oscli/oscli/internal/osc"
)

// ParseTextLine skips the columns of every --time mode and every kind of
// source that Text writes, and the '#' lines it writes for bundles and
// malformed packets.
func TestParseTextLine(t *testing.T) {
	tests := []struct {
		name, line, want, err string
	}{
		{"bare", `/a i:1`, "/a i:1", ""},
		{"local time", `18:00:00.123456 127.0.0.1:54321  /1/fader f:0.5`, "/1/fader f:0.5", ""},
		{"utc and ipv6", `2026-11-21T18:00:00.123456Z [::1]:9000  /a s:x`, "/a s:x", ""},
		{"unix time and socket", `1763748000.123456 unix:/tmp/osc.sock  /a`, "/a", ""},
		{"ipv6 zone", `18:00:00.123456 [fe80::1%eth0]:9000  /a`, "/a", ""},
		{"quoted socket", `18:00:00.123456 "unix:/tmp/my sock"  /a`, "/a", ""},
		{"escaped zone", `18:00:00.123456 $'[fe80::1%e\x1b]:9000'  /a`, "/a", ""},
		{"rel and no source", `+1.234567 -  /a T`, "/a T", ""},
		{"tap reply", `18:00:00.123456 127.0.0.1:9001→127.0.0.1:54321  /a i:1`, "/a i:1", ""},
		{"tap reply ipv6 to unix", `18:00:00.123456 [::1]:9001→unix:/tmp/c  /a`, "/a", ""},
		{"tap reply quoted", `18:00:00.123456 "unix:/tmp/my sock"→127.0.0.1:5  /a`, "/a", ""},
		{"not a column before the arrow", `18:00:00.123456 xyz→127.0.0.1:5  /a`, "", "address"},
		{"time none", `127.0.0.1:54321  /a`, "/a", ""},
		{"bundle element", `                                   /a i:1`, "/a i:1", ""},
		{"bundle header", `18:00:00.124001 127.0.0.1:54321  #bundle immediately`, "", ""},
		{"malformed", `18:00:00.125000 127.0.0.1:54321  #malformed 12 bytes: offset 5: x`, "", ""},
		{"comment", `# a comment`, "", ""},
		{"hexdump", `000:2f6d792f 70617474 65726e00 2c696973     /my/ patt ern. ,iis`, "", ""},
		{"hexdump with quotes", `016:66000000 00000001 27220000 69742773     f... .... '".. it's`, "", ""},
		{"hexdump last line", `1024:3f00                                    ?.`, "", ""},
		{"odd hex is not a hexdump", `100:abc`, "", "no OSC address"},
		{"blank", `   `, "", ""},
		{"columns only", `18:00:00.125000 127.0.0.1:54321`, "", "no OSC address on this line"},
		{"bad argument", `/a i:x`, "", `invalid int32`},
		{"bad quoting", `/a 'open`, "", "quote"},
	}
	p := &argparse.Parser{}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := format.ParseTextLine([]byte(tt.line), p)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tt.want == "" {
				if got != nil {
					t.Fatalf("got %v, want nothing to send", got)
				}
				return
			}
			if m, ok := got.(*osc.Message); !ok || m.String() != tt.want {
				t.Errorf("got %v, want %s", got, tt.want)
			}
		})
	}
}
