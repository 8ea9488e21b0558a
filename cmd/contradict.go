package cmd

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/pflag"

	"github.com/oscli/oscli/internal/transport"
)

// contradicts refuses -H, -p or --proto given on the command line with a
// target or listen word that says otherwise (send -p 9999
// 127.0.0.1:9000 /a, --proto tcp udp://…): which of the two was meant
// cannot be told, and sending to either could be wrong. A flag the word
// leaves open (-H with the word 9000), or one saying the same, is fine.
// spec is the word with @name resolved.
func contradicts(word, spec string, n *netFlags, fs *pflag.FlagSet) error {
	given, err := transport.ParseEndpoint(spec, transport.Endpoint{Port: -1})
	if err != nil {
		return nil // the caller reports it
	}
	unix := given.Proto == transport.Unix
	var bad []string
	if flagSet(fs, "proto") && strings.Contains(spec, "://") && given.Proto != n.Proto {
		bad = append(bad, "--proto "+n.Proto)
	}
	if flagSet(fs, "host") && (unix || given.Host != "" && given.Host != bareHost(n.Host)) {
		bad = append(bad, "--host "+n.Host)
	}
	if flagSet(fs, "port") && (unix || given.Port >= 0 && given.Port != n.Port) {
		bad = append(bad, "--port "+strconv.Itoa(n.Port))
	}
	if len(bad) == 0 {
		return nil
	}
	what := "target"
	if spec != word {
		what = fmt.Sprintf("target %s (%s)", word, spec)
	} else {
		what = fmt.Sprintf("target %q", word)
	}
	return &usageError{
		err:  fmt.Errorf("%s contradicts the %s", strings.Join(bad, " and "), what),
		hint: "say it once: in the word (udp://host:port) or with -H, -p and --proto",
	}
}

// bareHost takes the brackets off an IPv6 literal given to -H ([::1]), as
// it is written in a URL.
func bareHost(h string) string {
	if len(h) > 2 && h[0] == '[' && h[len(h)-1] == ']' {
		return h[1 : len(h)-1]
	}
	return h
}

// sendable refuses port 0 as a destination: to a listener it means "any
// free port", but nothing can be sent to it.
func sendable(ep transport.Endpoint, word string) error {
	if ep.Proto == transport.Unix || ep.Port != 0 {
		return nil
	}
	if word != "" {
		if given, err := transport.ParseEndpoint(word, transport.Endpoint{Port: -1}); err == nil && given.Port == 0 {
			return usageErrorf("target %q: port 0 cannot be sent to (want 1 to 65535)", word)
		}
	}
	return portRange(0, true)
}

// portRange is the error for --port p out of range: 0 to 65535 to listen
// on (0: any free port), 1 to 65535 to send to.
func portRange(p int, sending bool) error {
	if sending {
		return usageErrorf("--port %d: want 1 to 65535 to send to", p)
	}
	return usageErrorf("--port %d: want 0 to 65535 (0: any free port)", p)
}
