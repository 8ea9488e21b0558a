package format

// This file reads back the text lines that text.go writes, so dump's
// output can be piped into send - and bundle -.

import (
	"errors"
	"strings"

	"github.com/oscli/oscli/internal/argparse"
	"github.com/oscli/oscli/internal/osc"
)

// ParseTextLine reads one line of the text syntax with p: a message, with
// the time and sender columns that Text puts before the address skipped.
// It returns nil, nil for a line with nothing to send: a blank line, a '#'
// comment, a dump line whose message part is a '#' line (a bundle header
// or a malformed packet), or a line of the hexdump that dump --hex prints
// under each packet.
func ParseTextLine(line []byte, p *argparse.Parser) (osc.Packet, error) {
	if isHexdumpLine(line) {
		return nil, nil
	}
	words, err := argparse.SplitLine(string(line))
	if err != nil {
		return nil, err
	}
	if len(words) == 0 {
		return nil, nil
	}
	words = skipDumpColumns(words)
	if len(words) == 0 {
		// Only columns were left: a dump line whose message part is a
		// '#' comment (a bundle header or a malformed packet).
		if strings.IndexByte(string(line), '#') >= 0 {
			return nil, nil
		}
		return nil, errors.New("no OSC address on this line")
	}
	return p.ParseMessage(words)
}

// skipDumpColumns drops the time and sender columns that dump's text
// format puts before the address, so its output can be sent again.
func skipDumpColumns(words []string) []string {
	for i := 0; i < 2 && len(words) > 0 && looksLikeColumn(words[0]); i++ {
		words = words[1:]
	}
	return words
}

func looksLikeColumn(w string) bool {
	if w == "" || w[0] == '/' {
		return false
	}
	if strings.HasPrefix(w, "unix:") || w == "-" {
		return true
	}
	if from, to, ok := strings.Cut(w, ReplyArrow); ok {
		// A reply through a tap: "127.0.0.1:9001→127.0.0.1:54321".
		return looksLikeColumn(from) && looksLikeColumn(to)
	}
	if w[0] == '[' && strings.Contains(w, "]:") {
		return true // an IPv6 sender, perhaps with a zone: [fe80::1%eth0]:9000
	}
	for i := 0; i < len(w); i++ {
		c := w[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F' ||
			strings.IndexByte(":.+-[]TZ%", c) >= 0) {
			return false
		}
	}
	return true
}

// isHexdumpLine reports a line of package hexdump's format, as dump --hex
// prints it: a decimal offset of at least 3 digits, a colon and 1 to 4
// bytes in hex, then a blank or the end ("000:2f6d792f 70617474 …"). Its
// text column may hold quotes or '#', so this is decided before the line
// is split into words. No message line starts this way: a time column has
// 2-digit fields or none, a sender column dots or brackets.
func isHexdumpLine(line []byte) bool {
	s := strings.TrimLeft(string(line), " \t")
	i := 0
	for i < len(s) && '0' <= s[i] && s[i] <= '9' {
		i++
	}
	if i < 3 || i >= len(s) || s[i] != ':' {
		return false
	}
	j := i + 1
	for j < len(s) && ('0' <= s[j] && s[j] <= '9' || 'a' <= s[j] && s[j] <= 'f') {
		j++
	}
	n := j - i - 1
	return n >= 2 && n <= 8 && n%2 == 0 && (j == len(s) || s[j] == ' ' || s[j] == '\n' || s[j] == '\r')
}
