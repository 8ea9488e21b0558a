package cmd

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"strconv"
	"strings"

	"github.com/spf13/pflag"

	"github.com/oscli/oscli/internal/argparse"
	"github.com/oscli/oscli/internal/osc"
)

// sendTarget is what stood before the address on send's or bundle's
// command line.
type sendTarget struct {
	// word is the target as one oscli word: "" (the default), as typed, or
	// "host:port" made from liblo's two words.
	word string
	// liblo is set when the target was written liblo's way: HOST PORT, or
	// an osc.udp://, osc.tcp:// or osc.unix:// URL.
	liblo bool
}

// splitSendTarget takes the target off the front of send's and bundle's
// arguments: the words before the address (the first word starting with
// '/', or '-' for stdin). None is the default target; one word is oscli's
// target word; two are liblo's HOST PORT (oscsend localhost 9000 /a).
// A single word that is neither a port nor HOST:PORT is refused rather
// than sent to a host of that name: "9000x" is a mistyped port, and a bare
// "localhost" would silently mean port 8000 (unless -p or a configured
// port says otherwise).
func splitSendTarget(args []string, fs *pflag.FlagSet) (sendTarget, []string, error) {
	at := -1
	for i, w := range args {
		if strings.HasPrefix(w, "/") || w == "-" {
			at = i
			break
		}
	}
	var t sendTarget
	switch at {
	case -1:
		// No address anywhere: the word after the target is reported as
		// the address it should have been.
		if len(args) >= 2 && isBareHost(args[0]) && isDigits(args[1]) {
			if len(args) == 2 {
				return t, nil, usageErrorf("no address after target %q: an OSC address must start with '/'", args[0]+" "+args[1])
			}
			return t, nil, &usageError{err: &argparse.AddressError{Word: args[2]}}
		}
		word, rest, err := splitTarget(args)
		if err != nil {
			return t, nil, err
		}
		if checkTargetWord(word, fs) != nil {
			// "send fader f:1": not a target, so a mistyped address.
			return t, nil, &usageError{err: &argparse.AddressError{Word: word}}
		}
		t.word = word
		return t, rest, nil
	case 0:
		return t, args, nil
	case 1:
		t.word = args[0]
		lower := strings.ToLower(t.word)
		t.liblo = strings.HasPrefix(lower, "osc.udp://") || strings.HasPrefix(lower, "osc.tcp://") || strings.HasPrefix(lower, "osc.unix://")
		return t, args[1:], checkTargetWord(t.word, fs)
	case 2:
		host, port := args[0], args[1]
		if isBareHost(host) && isDigits(port) {
			t.word = net.JoinHostPort(strings.TrimSuffix(strings.TrimPrefix(host, "["), "]"), port)
			t.liblo = true
			return t, args[2:], nil
		}
	}
	return t, nil, &usageError{
		err: fmt.Errorf("%s before the address %s: the target is one word", quoteWords(args[:at]), strconv.Quote(args[at])),
		hint: "write a port (9000), HOST:PORT (localhost:9000), a URL (udp://host:9000) or @name, " +
			"or liblo's HOST PORT (localhost 9000)",
	}
}

// checkTargetWord refuses a target word without a port that is not a
// port either: "9000x", or a bare host when no port was given by -p, the
// environment or the config file.
func checkTargetWord(word string, fs *pflag.FlagSet) error {
	if word == "" || strings.HasPrefix(word, "@") || strings.Contains(word, "://") || isDigits(word) {
		return nil
	}
	if _, _, err := net.SplitHostPort(word); err == nil {
		return nil
	}
	host := strings.TrimSuffix(strings.TrimPrefix(word, "["), "]")
	if !isBareHost(word) {
		if host != "" && host[0] >= '0' && host[0] <= '9' {
			return usageErrorf("target %q is not a port (0 to 65535) nor HOST:PORT", word)
		}
		return nil // the endpoint parser says what is wrong with it
	}
	if portGiven(fs) {
		return nil
	}
	return &usageError{
		err:  fmt.Errorf("target %q has no port", word),
		hint: "write " + net.JoinHostPort(host, "8000") + " for oscli's default port, or the port the receiver listens on",
	}
}

// isBareHost reports a host name or IP address without a port: what
// liblo's HOST word holds. A word starting with a digit must be an IP
// address (9000x is a mistyped port, not a host).
func isBareHost(w string) bool {
	if w == "" || strings.HasPrefix(w, "@") || strings.HasPrefix(w, "-") || strings.Contains(w, "://") || isDigits(w) {
		return false
	}
	if _, _, err := net.SplitHostPort(w); err == nil {
		return false
	}
	h := w
	if strings.HasPrefix(h, "[") && strings.HasSuffix(h, "]") {
		h = h[1 : len(h)-1]
		a, err := netip.ParseAddr(h)
		return err == nil && a.Is6()
	}
	if _, err := netip.ParseAddr(h); err == nil {
		return true
	}
	if h[0] >= '0' && h[0] <= '9' || strings.ContainsAny(h, ":/[] ") {
		return false
	}
	return true
}

// portGiven reports whether -p/--port came from the command line, the
// environment or the config file rather than its default.
func portGiven(fs *pflag.FlagSet) bool {
	f := fs.Lookup("port")
	return f != nil && (f.Changed || len(f.Annotations[configuredKey]) > 0)
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func quoteWords(ws []string) string {
	q := make([]string, len(ws))
	for i, w := range ws {
		q[i] = strconv.Quote(w)
	}
	return strings.Join(q, " ")
}

// parseSendMessage reads send's message words in oscli's syntax, or in
// liblo's oscsend syntax (a type string, then one value per letter) when
// the target was written liblo's way and the word after the address is a
// type string. Whatever it reads, it never sends something else quietly:
//
//   - liblo target, type string, values that fit: read as liblo does, with
//     a note giving the oscli spelling (unless both readings agree);
//   - liblo target, type string, values that do not fit: a usage error,
//     unless the type string is T, F, N or I alone, which oscli reads as
//     that tag too (the note's own spelling, /n N I F, reads back);
//   - oscli target: oscli's syntax, with a warning when the words would
//     also read as liblo's types and mean something else ("if" sent as a
//     string), and a hint with liblo's reading when oscli's fails.
func parseSendMessage(p *argparse.Parser, t sendTarget, words []string, errOut io.Writer) (*osc.Message, error) {
	return parseMessageWords(p, t.liblo, words, errOut, func(m *osc.Message) string { return oscliSpelling(t, m) })
}

// parseBundleMessage reads one of bundle's messages: always oscli's
// syntax (liblo has no bundle command whose habits to follow), with
// send's warning when a word that liblo would read as types is sent as a
// string.
func parseBundleMessage(p *argparse.Parser, words []string, errOut io.Writer) (*osc.Message, error) {
	return parseMessageWords(p, false, words, errOut, func(m *osc.Message) string { return m.String() })
}

// parseMessageWords is parseSendMessage's logic; libloReads says whether
// a type string is read as liblo's, spell writes a message in oscli's
// syntax for a note or a warning.
func parseMessageWords(p *argparse.Parser, libloReads bool, words []string, errOut io.Writer, spell func(*osc.Message) string) (*osc.Message, error) {
	var (
		lib    *osc.Message
		libErr error
		types  string
	)
	if len(words) > 1 {
		if _, ok := argparse.LibloTypes(words[1]); ok {
			types = words[1]
			var args []osc.Arg
			if args, libErr = argparse.ParseLiblo(types, words[2:]); libErr == nil {
				lib = &osc.Message{Address: words[0], Args: args}
			}
		}
	}
	m, err := p.ParseMessage(words)
	var ae *argparse.AddressError
	if errors.As(err, &ae) {
		return nil, &usageError{err: err}
	}
	if libloReads && types != "" && (lib != nil || !isBareTag(types)) {
		if lib == nil {
			return nil, &usageError{err: libErr, hint: fmt.Sprintf(
				"after a liblo-style target, %q reads as liblo's type string: one value per letter of ihfdsScm, none for TFNI; "+
					"write s:%s to send the string", types, types)}
		}
		if err != nil || !samePacket(m, lib) {
			fprintSafe(errOut, "oscli: note: read as liblo's oscsend syntax; in oscli: %s\n", spell(lib))
		}
		return lib, nil
	}
	if err != nil {
		hint := argHint(err)
		if lib != nil {
			hint = "for liblo's oscsend syntax, write: " + spell(lib)
		}
		return nil, &usageError{err: err, hint: hint}
	}
	if lib != nil && !samePacket(m, lib) {
		fprintSafe(errOut, "oscli: warning: sending %s as a string (write s:%s to say so); for liblo's types, write: %s\n",
			strconv.Quote(types), types, spell(lib))
	}
	return m, nil
}

// isBareTag reports T, F, N or I alone: oscli's reading of such a word is
// that tag too, never a string, so when the words after it do not fit
// liblo's reading (/n N I F) oscli's applies without doubt.
func isBareTag(w string) bool { return len(w) == 1 && strings.IndexByte("TFNI", w[0]) >= 0 }

// argHint is the advice an argument error carries, if any.
func argHint(err error) string {
	var ae *argparse.ArgError
	if errors.As(err, &ae) {
		return ae.Hint
	}
	return ""
}

func samePacket(a, b *osc.Message) bool {
	x, errx := osc.AppendMessage(nil, a)
	y, erry := osc.AppendMessage(nil, b)
	return errx == nil && erry == nil && bytes.Equal(x, y)
}

// oscliSpelling is the send command line, in oscli's syntax, for m.
func oscliSpelling(t sendTarget, m *osc.Message) string {
	b := []byte("oscli send ")
	if t.word != "" {
		b = osc.AppendWord(b, t.word)
		b = append(b, ' ')
	}
	return string(m.AppendText(b))
}
