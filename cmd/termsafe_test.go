package cmd

import (
	"bytes"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/oscli/oscli/internal/osc"
	"github.com/oscli/oscli/internal/termsafe"
	"github.com/oscli/oscli/internal/transport"
)

// hostile is a file name a hostile peer, or a careless script, might pick:
// ESC starting a colour, a raw 0x9b byte (CSI on a Latin-1 terminal) and a
// right-to-left override.
const hostile = "\x1b[31m\x9b\u202eevil"

// assertTerminalSafe fails when s holds a byte or rune a terminal would
// act on or hide, other than the newlines that end lines.
func assertTerminalSafe(t *testing.T, what, s string) {
	t.Helper()
	for _, line := range strings.Split(s, "\n") {
		if !utf8.ValidString(line) || !termsafe.IsSafeString(line) {
			t.Errorf("%s has a raw control, invisible or invalid character: %q", what, line)
		}
	}
}

// A Unix-socket sender's path is the peer's to choose: dump shows it
// escaped, in the text syntax's quoting, and as \u escapes in JSON.
func TestDumpEscapesUnixSenderPath(t *testing.T) {
	dir := t.TempDir()
	sock := filepath.Join(dir, "osc.sock")
	from := filepath.Join(dir, hostile)
	msg, err := osc.AppendMessage(nil, &osc.Message{Address: "/x", Args: []osc.Arg{osc.Int32(1)}})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"text", nil, `$'unix:` + dir + `/\x1b[31m\x9b\u202eevil'  /x i:1`},
		{"json", []string{"--json"}, `"from":"unix:` + dir + `/\u001b[31m\ufffd\u202eevil"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := start(t, nil, append([]string{"dump", "unix://" + sock, "-n", "1", "--time", "none"}, tt.args...)...)
			c, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: from, Net: "unixgram"})
			if err != nil {
				t.Fatal(err)
			}
			defer os.Remove(from)
			defer c.Close()
			if _, err := c.WriteToUnix(msg, &net.UnixAddr{Name: sock, Net: "unixgram"}); err != nil {
				t.Fatal(err)
			}
			r := d.wait(t)
			if r.code != 0 || !strings.Contains(r.out, tt.want) {
				t.Errorf("exit %d, stdout %q, want it to contain %q (stderr %q)", r.code, r.out, tt.want, r.err)
			}
			assertTerminalSafe(t, "stdout", r.out)
			assertTerminalSafe(t, "stderr", r.err)
		})
	}
}

// An error line quoting a file name shows its controls escaped.
func TestErrorLineEscapesFileName(t *testing.T) {
	dir := filepath.Join(t.TempDir(), hostile)
	r := run(t, "", nil, "dump", "-p", "0", "--record", filepath.Join(dir, "rec.jsonl"))
	want := `oscli: error: --record ` + filepath.Dir(dir) + `/\x1b[31m\x9b\u202eevil/rec.jsonl: no such file or directory` + "\n"
	if r.code != 1 || r.err != want {
		t.Errorf("exit %d, stderr %q, want 1 and %q", r.code, r.err, want)
	}
	assertTerminalSafe(t, "stderr", r.err)
}

// Connection lines name the peer, whose IPv6 zone is an interface name.
func TestConnReporterEscapes(t *testing.T) {
	src := transport.NewSource("tcp+slip", "[fe80::1%e\x1bth0\u200b]:9000", nil)
	var b bytes.Buffer
	report := connReporter(&b, true)
	report(transport.ConnEvent{Source: src, Opened: true})
	report(transport.ConnEvent{Source: src, Err: errors.New("bad frame \x1b[2J")})
	want := `oscli: [fe80::1%e\x1bth0\u200b]:9000 connected (tcp+slip)` + "\n" +
		`oscli: [fe80::1%e\x1bth0\u200b]:9000: bad frame \x1b[2J; connection closed` + "\n"
	if b.String() != want {
		t.Errorf("got %q\nwant %q", b.String(), want)
	}
}

// Every error is one line: controls and newlines inside escaped, cobra's
// suggestions folded into the hint.
func TestReportOneLine(t *testing.T) {
	tests := []struct {
		err  error
		ran  bool
		want string
	}{
		{errors.New("open /tmp/\x1b]0;pwned\x07: denied\nforged line"), true,
			`oscli: error: open /tmp/\x1b]0;pwned\x07: denied\nforged line` + "\n"},
		{errors.New("unknown command \"dmp\" for \"oscli\"\n\nDid you mean this?\n\tdump\n"), false,
			"oscli: error: unknown command \"dmp\" for \"oscli\"\noscli: hint: did you mean dump? see 'oscli --help'\n"},
		{&hintError{errors.New("x"), "path \u202eevil"}, true, "oscli: error: x\n" + `oscli: hint: path \u202eevil` + "\n"},
	}
	for _, tt := range tests {
		var b bytes.Buffer
		report(&b, tt.err, tt.ran)
		if b.String() != tt.want {
			t.Errorf("report(%q):\n got %q\nwant %q", tt.err, b.String(), tt.want)
		}
	}
}
