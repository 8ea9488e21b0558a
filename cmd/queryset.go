package cmd

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/oscli/oscli/internal/argparse"
	"github.com/oscli/oscli/internal/iostreams"
	"github.com/oscli/oscli/internal/osc"
	"github.com/oscli/oscli/internal/oscquery"
	"github.com/oscli/oscli/internal/termsafe"
	"github.com/oscli/oscli/internal/transport"
)

type querySetOptions struct {
	IO *iostreams.IOStreams
	queryTarget
	Parser  *argparse.Parser
	Words   []string
	Force   bool
	Verbose bool
}

func newQuerySetCmd(env *Env, runF func(*querySetOptions) error) *cobra.Command {
	o := &querySetOptions{}
	var timeout time.Duration
	c := &cobra.Command{
		Use:   "set URL PATH [VALUE…]",
		Short: "Check values against an address's TYPE and RANGE, then send them",
		Long: `Send new values to an OSC address of an OSCQuery server, checked first
against what the server says of it: ACCESS must allow writing, the values
must have its TYPE (or one of its OVERLOADS; T and F stand for each
other), each must lie within its RANGE (MIN, MAX) or be one of its VALS.
Anything else is an error naming the value and the rule, and nothing is
sent (exit 2); --force sends anyway.

Values are written as for 'oscli send': typed (f:0.5, s:text, T) or not.
An untyped word takes the type TYPE wants in its place, so 1 is f:1 for a
float address and s:1 for a string one; a typed word must match it.

The message goes where HOST_INFO says the OSC server is (OSC_IP, OSC_PORT,
OSC_TRANSPORT UDP or TCP), and to the HTTP server's host and port where it
says nothing, as the proposal has it. TCP is SLIP-framed (OSC 1.1).`,
		Example: `  oscli query set http://127.0.0.1:5678 /bar 4 51
  oscli query set 5678 /baz/qux full
  oscli query set 5678 /foo f:0.5 --force
  oscli query set 9001 /avatar/parameters/MuteSelf true`,
		Args: needArgs(2, -1, "query set needs a URL, a PATH and the values: oscli query set URL PATH [VALUE…]", ""),
		// After the path, "-0.5" is a value, not a flag (protectNumbers).
		Annotations: map[string]string{messageArgsKey: "yes"},
		RunE: func(c *cobra.Command, args []string) error {
			io, err := env.streams()
			if err != nil {
				return err
			}
			o.IO, o.Verbose = io, env.verbose
			if o.queryTarget, err = resolveQueryTarget(env, args[0], args[1:2], timeout); err != nil {
				return err
			}
			o.Words = args[2:]
			o.Parser = &argparse.Parser{Now: env.Clock.Now}
			env.awaitSignals()
			if runF != nil {
				return runF(o)
			}
			return runQuerySet(c.Context(), o)
		},
	}
	c.Flags().BoolVar(&o.Force, "force", false, "send even when TYPE, RANGE or ACCESS say no")
	addTimeoutFlag(c.Flags(), &timeout)
	return c
}

func runQuerySet(ctx context.Context, o *querySetOptions) error {
	n, _, err := o.Client.Node(ctx, o.Path)
	if err != nil {
		return queryError(err)
	}
	args, err := setArgs(o.Parser, n, o.Words, o.Force)
	if err != nil {
		return err
	}
	m := &osc.Message{Address: o.Path, Args: args}
	pkt, err := osc.AppendMessage(nil, m)
	if err != nil {
		return &usageError{err: err}
	}
	hi, _, herr := o.Client.HostInfo(ctx)
	if herr != nil && !errors.Is(herr, oscquery.ErrNoHostInfo) {
		var be *oscquery.BodyError
		if !errors.As(herr, &be) {
			return queryError(herr)
		}
	}
	proto, host, port := o.Client.OSCAddress(hi)
	to := transport.Endpoint{Proto: proto, Host: host, Port: port}
	cl, err := transport.Dial(ctx, to, transport.DialConfig{})
	if err != nil {
		return fmt.Errorf("send to %s (from HOST_INFO): %w", to, err)
	}
	defer cl.Close()
	if err := cl.Send(pkt); err != nil {
		return fmt.Errorf("send to %s: %w", to, err)
	}
	if o.Verbose {
		fprintSafe(o.IO.ErrOut, "oscli: sent %s to %s\n", m.String(), to)
	}
	return nil
}

// setArgs reads the values for a node, each untyped word taking the type
// the node's TYPE wants in its place, and checks them against the node
// (TYPE, then each of its OVERLOADS); the first signature that takes
// them wins, else the error is TYPE's. With force only the words are
// read.
func setArgs(p *argparse.Parser, n *oscquery.Node, words []string, force bool) ([]osc.Arg, error) {
	if !force && !n.Writable() {
		return nil, setError(n, &oscquery.AccessError{Path: n.FullPath, Access: n.Access})
	}
	var first error
	for i, sig := range append([]*oscquery.Node{n}, n.Overloads...) {
		args, err := coerceWords(p, sig.Type, words)
		if err == nil {
			if force {
				return args, nil
			}
			if _, err = n.Check(args); err == nil {
				return args, nil
			}
		}
		if i == 0 {
			first = err
		}
	}
	if force {
		// Read as send reads them.
		args, err := p.ParseArgs(words)
		if err != nil {
			return nil, &usageError{err: err, hint: argHint(err)}
		}
		return args, nil
	}
	return nil, setError(n, first)
}

// setError turns a refusal into a usage error with advice.
func setError(n *oscquery.Node, err error) error {
	var (
		ae *argparse.ArgError
		ac *oscquery.AccessError
	)
	hint := "--force sends anyway"
	switch {
	case errors.As(err, &ac):
		return &usageError{err: err, hint: hint}
	case errors.As(err, &ae):
		if ae.Hint != "" {
			hint = ae.Hint
		}
	}
	if n.Type != "" {
		hint = describeSignature(n) + "; " + hint
	}
	return &usageError{err: err, hint: hint}
}

// describeSignature says what an address takes: "/bar takes ii (0..50
// 51..100)".
func describeSignature(n *oscquery.Node) string {
	r := oscquery.Describe(n, 0)
	s := fmt.Sprintf("%s takes %s", r.Address, r.Types)
	if r.Range != "" {
		s += " (" + r.Range + ")"
	}
	for _, o := range n.Overloads {
		s += " or " + termsafe.String(o.Type)
	}
	return s
}

// coerceWords reads value words for a TYPE: a typed word (f:0.5, T, [)
// as it is, an untyped one as the type TYPE wants at its place, when it
// wants one (1 to a float is f:1, to a string s:1).
func coerceWords(p *argparse.Parser, typ string, words []string) ([]osc.Arg, error) {
	slots, err := oscquery.ParseType(typ)
	if err != nil {
		slots = nil
	}
	args := make([]osc.Arg, 0, len(words))
	k := 0
	for i, w := range words {
		if isTypedWord(w) {
			a, err := p.ParseArg(w)
			if err != nil {
				return nil, wordErr(i, w, err)
			}
			args = append(args, a)
			if a.Tag != osc.TagArrayBegin && a.Tag != osc.TagArrayEnd {
				k++
			}
			continue
		}
		var a osc.Arg
		switch {
		case k < len(slots) && hasTypedForm(slots[k].Tag):
			a, err = p.ParseArg(string(rune(slots[k].Tag)) + ":" + w)
			if err != nil {
				return nil, wordErr(i, w, fmt.Errorf("TYPE %s wants %s here: %w", termsafe.String(typ), oscquery.TagName(slots[k].Tag), err))
			}
		default:
			a, err = p.ParseArg(w)
			if err != nil {
				return nil, wordErr(i, w, err)
			}
		}
		args = append(args, a)
		k++
	}
	// A bang (TYPE I or N) needs no word: its tags are its value.
	for ; k < len(slots) && len(slots[k].Path) == 1 && (slots[k].Tag == osc.TagImpulse || slots[k].Tag == osc.TagNil); k++ {
		args = append(args, osc.Arg{Tag: slots[k].Tag})
	}
	return args, nil
}

func wordErr(i int, w string, err error) error {
	ae := &argparse.ArgError{Pos: i + 1, Word: w, Reason: err.Error()}
	var inner *argparse.ArgError
	if errors.As(err, &inner) {
		ae.Hint = inner.Hint
	}
	return ae
}

// hasTypedForm reports a tag whose typed word takes a value (f:0.5);
// T F N I are written bare, so an untyped word for them is inferred
// (true, false, nil).
func hasTypedForm(t osc.Tag) bool {
	return strings.IndexByte("ihfdsScbtrm", byte(t)) >= 0
}

// isTypedWord reports a word that says its type: TAG:VALUE, or T F N I
// [ ] alone.
func isTypedWord(w string) bool {
	if len(w) == 1 && strings.IndexByte("TFNI[]", w[0]) >= 0 {
		return true
	}
	return len(w) >= 2 && w[1] == ':' && ('a' <= w[0]|0x20 && w[0]|0x20 <= 'z')
}

// --- info

type queryInfoOptions struct {
	IO *iostreams.IOStreams
	queryTarget
	JSON bool
}

func newQueryInfoCmd(env *Env, runF func(*queryInfoOptions) error) *cobra.Command {
	o := &queryInfoOptions{}
	var timeout time.Duration
	c := &cobra.Command{
		Use:   "info URL",
		Short: "Print a server's HOST_INFO",
		Long: `Print an OSCQuery server's HOST_INFO: its name, where its OSC server and
WebSocket are, and the extensions it supports. --json prints the server's
JSON as it came. A server without HOST_INFO is an error.`,
		Example: `  oscli query info http://127.0.0.1:5678
  oscli query info 5678 --json`,
		Args: needArgs(1, 1, "query info needs a URL: oscli query info URL", "query info takes a URL"),
		RunE: func(c *cobra.Command, args []string) error {
			io, err := env.streams()
			if err != nil {
				return err
			}
			o.IO = io
			if o.queryTarget, err = resolveQueryTarget(env, args[0], nil, timeout); err != nil {
				return err
			}
			env.awaitSignals()
			if runF != nil {
				return runF(o)
			}
			return runQueryInfo(c.Context(), o)
		},
	}
	c.Flags().BoolVar(&o.JSON, "json", false, "print the server's JSON as it came")
	addTimeoutFlag(c.Flags(), &timeout)
	return c
}

func runQueryInfo(ctx context.Context, o *queryInfoOptions) error {
	hi, body, err := o.Client.HostInfo(ctx)
	if err != nil {
		return queryError(err)
	}
	if o.JSON {
		return writeBody(o.IO, body)
	}
	writeHostHeader(o.IO.Out, o.Client, hi, nil)
	return nil
}
