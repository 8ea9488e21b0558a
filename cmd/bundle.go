package cmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/oscli/oscli/internal/argparse"
	"github.com/oscli/oscli/internal/clock"
	"github.com/oscli/oscli/internal/format"
	"github.com/oscli/oscli/internal/iostreams"
	"github.com/oscli/oscli/internal/osc"
	"github.com/oscli/oscli/internal/pipeline"
	"github.com/oscli/oscli/internal/sender"
)

type bundleOptions struct {
	IO       *iostreams.IOStreams
	Clock    clock.Clock
	Parser   *argparse.Parser
	Delivery sender.Options
	At       argparse.When
	AtSet    bool // --at given (command line, environment or config)
	Stdin    bool
	JSON     bool
	Verbose  bool
	Elements []osc.Packet // from the command line; nil when reading stdin
}

func newBundleCmd(env *Env, runF func(*bundleOptions) error) *cobra.Command {
	o := &bundleOptions{}
	var (
		nf netFlags
		df deliveryFlags
		at string
	)
	c := &cobra.Command{
		Use:   "bundle [TARGET] ADDRESS [ARG…] [ADDRESS [ARG…]]… | bundle [TARGET] -",
		Short: "Send a bundle of messages with a time tag",
		Long: `Send one OSC bundle holding several messages, to be executed at --at.

A new message starts at each untyped word beginning with '/' (write s:/x for
a string argument that starts with '/'). Arguments and TARGET are as in
'oscli send' (negative numbers included; liblo's HOST PORT too, its type
strings not). With '-', each line of stdin is one message of the bundle;
with --json -, each line is a message or bundle object as 'oscli dump
--json' writes it (the way to nest bundles). When stdin holds one bundle
object, that bundle is sent as given rather than inside a new one; --at,
when given, sets its time tag. A bundle is all or nothing: if
any line is bad, the lines are reported and nothing is sent (exit 1).

oscli warns when a nested bundle's time tag is earlier than its parent's,
which OSC 1.0 forbids.

WHEN (--at): ` + argparse.WhenHelp + `.`,
		Example: `  oscli bundle /light/1 f:1 /light/2 f:0
  oscli bundle --at +2s 9000 /cue/go i:5 /cue/fade f:3.5
  oscli bundle --at 18:00:00 tcp://show:3032 /show/start
  oscli bundle --dry-run /a i:1 /b s:/not/an/address
  printf '/a i:1\n/b i:2\n' | oscli bundle --at +1s -
  oscli bundle --json - <<< '{"timetag":"+5s","elements":[{"address":"/late"}]}'`,
		Args: needArgs(1, -1, "bundle needs an OSC address: oscli bundle [TARGET] ADDRESS [ARG…]…", ""),
		// After the address, "-0.5" is a value, not a flag (protectNumbers).
		Annotations: map[string]string{messageArgsKey: "yes"},
		RunE: func(c *cobra.Command, args []string) error {
			io, err := env.streams()
			if err != nil {
				return err
			}
			o.IO, o.Clock, o.Verbose = io, env.Clock, env.verbose
			o.Parser = newArgParser(env, &o.Delivery)
			target, args, err := splitSendTarget(args, c.Flags())
			if err != nil {
				return err
			}
			if err := df.resolve(&o.Delivery, target.word, &nf, c.Flags(), env, io); err != nil {
				return err
			}
			if o.At, err = argparse.ParseWhenSpec(at, env.Clock.Now()); err != nil {
				return usageErrorf("--at: %v", err)
			}
			if f := c.Flags().Lookup("at"); f.Changed || f.Annotations[configuredKey] != nil {
				o.AtSet = true
			}
			switch {
			case args[0] == "-":
				if len(args) > 1 {
					return usageErrorf("'-' reads messages from stdin and takes no arguments after it")
				}
				o.Stdin = true
			case o.JSON:
				return usageErrorf("--json reads stdin: use 'oscli bundle --json -'")
			default:
				for _, words := range splitMessages(args) {
					m, err := parseBundleMessage(o.Parser, words, io.ErrOut)
					if err != nil {
						var ue *usageError
						if errors.As(err, &ue) {
							ue.err = fmt.Errorf("message %s: %w", words[0], ue.err)
						}
						return err
					}
					o.Elements = append(o.Elements, m)
				}
			}
			warnIdle(io.ErrOut, c.Flags(), deliveryIdle(o.Delivery)...)
			if o.Stdin {
				env.awaitSignals()
			}
			if runF != nil {
				return runF(o)
			}
			return runBundle(c.Context(), o)
		},
	}
	fs := c.Flags()
	nf.register(fs, "127.0.0.1", "host to send to")
	fs.StringVar(&at, "at", "immediately", "the bundle's time tag, `WHEN`")
	fs.BoolVar(&o.JSON, "json", false, "with '-': read message or bundle objects as JSON lines")
	df.register(fs, &o.Delivery, false, true)
	return c
}

// splitMessages cuts words into messages at each untyped word starting
// with '/'. The first word is an address (checked by the caller).
func splitMessages(words []string) [][]string {
	var msgs [][]string
	for _, w := range words {
		if strings.HasPrefix(w, "/") || len(msgs) == 0 {
			msgs = append(msgs, nil)
		}
		msgs[len(msgs)-1] = append(msgs[len(msgs)-1], w)
	}
	return msgs
}

func runBundle(ctx context.Context, o *bundleOptions) error {
	elems := o.Elements
	if o.Stdin {
		var err error
		if elems, err = readElements(o); err != nil {
			return err
		}
	}
	b := &osc.Bundle{Timetag: o.At.At(o.Clock.Now()), Elements: elems}
	if nb, ok := elems[0].(*osc.Bundle); ok && len(elems) == 1 {
		// One bundle read from stdin is the bundle to send, as given (the
		// way to resend one that dump --json recorded), not an element of
		// a new one; --at, when given, sets its time tag.
		b = nb
		if o.AtSet {
			b.Timetag = o.At.At(o.Clock.Now())
		}
	}
	for _, w := range nestingWarnings(b, "") {
		fprintSafe(o.IO.ErrOut, "oscli: warning: %s\n", w)
	}
	data, err := osc.AppendBundle(nil, b)
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		// Stopped while reading (Ctrl-C as stdin ended): all or nothing.
		return err
	}
	s, err := openSender(ctx, o.Delivery, o.IO, o.Verbose)
	if err != nil {
		return err
	}
	if err := s.Send(data); err != nil {
		s.Close()
		return err
	}
	return s.Close()
}

// readElements reads a bundle's elements from stdin, all or nothing.
func readElements(o *bundleOptions) ([]osc.Packet, error) {
	max := sender.MaxPacket(o.Delivery)
	lr := format.NewLineReader(o.IO.In, format.LineLimit(max))
	var elems []osc.Packet
	bad := 0
	size := 16 // "#bundle\0" and the time tag
	var buf []byte
	for {
		line, err := lr.Next()
		if err == io.EOF {
			break
		}
		var tl *format.LineTooLongError
		var p osc.Packet
		switch {
		case errors.As(err, &tl):
			err = tl.ForPacket(max)
		case err != nil:
			return nil, fmt.Errorf("read stdin: %w", err)
		default:
			p, err = format.ParsePacketLine(line, o.JSON, o.Parser, o.Clock.Now())
		}
		if err != nil {
			bad++
			reportLine(o.IO.ErrOut, lr.Line(), err)
			continue
		}
		if p != nil {
			// Stop reading once the bundle could not go out anyway.
			if buf, err = osc.AppendPacket(buf[:0], p); err == nil {
				size += 4 + len(buf)
			}
			if size > max {
				return nil, usageErrorf("line %d: the bundle reaches %d bytes, more than the largest packet to %s (%d): nothing sent",
					lr.Line(), size, o.Delivery.Target, max)
			}
			elems = append(elems, p)
		}
	}
	if bad > 0 {
		return nil, &exitCodeError{code: exitFailure, err: fmt.Errorf("%d bad %s: nothing sent", bad, pipeline.Plural(bad, "line", "lines"))}
	}
	if len(elems) == 0 {
		return nil, errors.New("stdin held no messages: nothing sent")
	}
	return elems, nil
}

// nestingWarnings lists nested bundles whose time tag is earlier than
// their parent's (OSC 1.0: "the time tag of the enclosed bundle must be
// greater than or equal to" the enclosing one's). "Immediately" inside a
// timed bundle means "with the parent" and is not warned about.
func nestingWarnings(b *osc.Bundle, path string) []string {
	var out []string
	for i, e := range b.Elements {
		nb, ok := e.(*osc.Bundle)
		if !ok {
			continue
		}
		p := fmt.Sprintf("%s%d", path, i+1)
		if !b.Timetag.IsImmediate() && !nb.Timetag.IsImmediate() && nb.Timetag.Sub(b.Timetag) < 0 {
			out = append(out, fmt.Sprintf("nested bundle at element %s is due %v before its parent (OSC 1.0 forbids it)",
				p, b.Timetag.Sub(nb.Timetag)))
		}
		out = append(out, nestingWarnings(nb, p+".")...)
	}
	return out
}
