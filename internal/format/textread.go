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
// comment, or a dump line whose message part is a '#' line (a bundle
// header or a malformed packet).
func ParseTextLine(line []byte, p *argparse.Parser) (osc.Packet, error) {
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
