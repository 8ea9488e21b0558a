package cmd

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/oscli/oscli/internal/clock"
	"github.com/oscli/oscli/internal/format"
	"github.com/oscli/oscli/internal/iostreams"
	"github.com/oscli/oscli/internal/match"
	"github.com/oscli/oscli/internal/osc"
	"github.com/oscli/oscli/internal/oscquery"
	"github.com/oscli/oscli/internal/pipeline"
)

type queryWatchOptions struct {
	IO    *iostreams.IOStreams
	Clock clock.Clock
	queryTarget
	Patterns []*match.Pattern // nil: every address
	Scope    string           // the container the patterns are all under
	JSON     bool
	Time     format.TimeMode
	Interval time.Duration
	Poll     bool // poll even when the server has LISTEN
	Count    int
}

func newQueryWatchCmd(env *Env, runF func(*queryWatchOptions) error) *cobra.Command {
	o := &queryWatchOptions{}
	var timeout time.Duration
	var timeStr string
	c := &cobra.Command{
		Use:   "watch URL [PATTERN…]",
		Short: "Print every value change of an application's addresses",
		Long: `Follow the values of an OSCQuery server's addresses and print each change
as 'oscli dump' prints a message (the sender column is the server, the
protocol ws or http), in text or --json lines; a line reads back through
'oscli send -'. PATTERN (OSC address patterns, repeatable) chooses the
addresses; without one, every address that has a value is watched.

When the server supports LISTEN (its HOST_INFO says so), watch asks over
the WebSocket for every matching address and prints what the server
streams; it follows PATH_ADDED, PATH_REMOVED, PATH_CHANGED and
PATH_RENAMED, listening to new addresses that match and saying on stderr
what came and went. A server without LISTEN (VRChat) is polled: the tree
is fetched every --interval and each VALUE that changed is printed (the
first fetch is the baseline, not printed); stderr says so once, and names
addresses that appear or disappear. --poll polls any server.

-n N stops after N changes. Ctrl-C, SIGTERM or SIGHUP stop watch with a
summary on stderr (exit 0). A WebSocket the server closes is exit 1; a
poll that fails is reported and tried again at the next interval.`,
		Example: `  oscli query watch http://127.0.0.1:5678
  oscli query watch 5678 '/avatar/parameters/*' --interval 250ms
  oscli query watch 5678 /foo /bar --json | jq .packet.args
  oscli query watch 5678 -n 1`,
		Args: needArgs(1, -1, "query watch needs a URL: oscli query watch URL [PATTERN…]", ""),
		RunE: func(c *cobra.Command, args []string) error {
			io, err := env.streams()
			if err != nil {
				return err
			}
			o.IO, o.Clock = io, env.Clock
			if o.queryTarget, err = resolveQueryTarget(env, args[0], nil, timeout); err != nil {
				return err
			}
			if o.Path != "/" {
				return usageErrorf("query watch: give the addresses as PATTERN words after the URL, not in it")
			}
			for _, s := range args[1:] {
				p, err := match.Compile(s)
				if err != nil {
					return usageErrorf("PATTERN %q: %v", s, err)
				}
				o.Patterns = append(o.Patterns, p)
			}
			o.Scope = patternScope(args[1:])
			if o.Time, err = format.ParseTimeMode(timeStr); err != nil {
				return &usageError{err: err}
			}
			if o.Interval <= 0 {
				return usageErrorf("--interval %v: want more than 0", o.Interval)
			}
			if err := inRange("count", o.Count, 0, -1); err != nil {
				return err
			}
			warnIdle(io.ErrOut, c.Flags(), idle{"time", o.JSON, "with --json"})
			env.awaitSignals()
			if runF != nil {
				return runF(o)
			}
			return runQueryWatch(c.Context(), o)
		},
	}
	fs := c.Flags()
	fs.BoolVar(&o.JSON, "json", false, "print JSON lines, as dump --json does")
	fs.StringVar(&timeStr, "time", "local", "time column: local, utc, unix, rel or none")
	fs.DurationVar(&o.Interval, "interval", 500*time.Millisecond, "how often to poll a server without LISTEN")
	fs.BoolVar(&o.Poll, "poll", false, "poll VALUE even when the server has LISTEN")
	fs.IntVarP(&o.Count, "count", "n", 0, "exit after `N` changes (0: no limit)")
	addTimeoutFlag(fs, &timeout)
	return c
}

// patternScope is the deepest container every pattern lies under: the
// parts before the first one with a wildcard ("/avatar/parameters/*" is
// under /avatar/parameters); "/" for none or many unrelated.
func patternScope(patterns []string) string {
	if len(patterns) == 0 {
		return "/"
	}
	var common []string
	for i, p := range patterns {
		var lit []string
		parts := strings.Split(strings.TrimPrefix(p, "/"), "/")
		for j, part := range parts {
			if j == len(parts)-1 || part == "" || strings.ContainsAny(part, "*?[]{}") {
				break // the last part may be a method itself, not a container
			}
			lit = append(lit, part)
		}
		if i == 0 {
			common = lit
			continue
		}
		n := 0
		for n < len(common) && n < len(lit) && common[n] == lit[n] {
			n++
		}
		common = common[:n]
	}
	return "/" + strings.Join(common, "/")
}

// watcher prints value changes.
type watcher struct {
	o       *queryWatchOptions
	render  format.Renderer
	from    string
	updates int
	watched map[string]bool
	stop    context.CancelCauseFunc
	dec     osc.Decoder
}

var errWatchCount = errors.New("--count")

func runQueryWatch(ctx context.Context, o *queryWatchOptions) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	hi, _, herr := o.Client.HostInfo(ctx)
	if herr != nil && !errors.Is(herr, oscquery.ErrNoHostInfo) {
		var be *oscquery.BodyError
		if !errors.As(herr, &be) {
			return queryError(herr)
		}
	}
	root, _, err := o.Client.Node(ctx, o.Scope)
	if err != nil {
		return queryError(err)
	}
	w := &watcher{o: o, from: o.Client.Base.Host, watched: map[string]bool{}, stop: cancel}
	w.render, _ = format.NewRenderer(map[bool]string{true: "json", false: "text"}[o.JSON], o.IO.Out,
		format.Options{Time: o.Time, Color: o.IO.ColorOut()})
	var how string
	if hi.Has("LISTEN") && !o.Poll {
		how, err = w.stream(ctx, hi, root)
	} else {
		why := "has no LISTEN"
		if o.Poll {
			why = "is polled (--poll)"
		} else if hi == nil {
			why = "has no HOST_INFO, so no LISTEN"
		}
		fprintSafe(o.IO.ErrOut, "oscli: note: %s %s: polling VALUE every %v\n", o.Client.Base, why, o.Interval)
		how, err = w.poll(ctx, root)
	}
	cause := context.Cause(ctx)
	var sc *signalCause
	reason := "interrupt"
	switch {
	case errors.As(cause, &sc):
		reason = sc.Error()
	case cause == errWatchCount:
		reason = fmt.Sprintf("--count %d", o.Count)
	case err != nil:
		reason = "an error"
	case cause != nil && !errors.Is(cause, context.Canceled):
		reason, err = "an output error", cause
	}
	if afterCtrlC(ctx, o.IO) {
		fmt.Fprintln(o.IO.ErrOut)
	}
	fprintSafe(o.IO.ErrOut, "oscli: stopped by %s: %d %s of %d %s (%s)\n", reason, w.updates,
		pipeline.Plural(w.updates, "change", "changes"), len(w.watched), pipeline.Plural(len(w.watched), "address", "addresses"), how)
	return err
}

// wanted reports whether a node's value is to be watched.
func (w *watcher) wanted(n *oscquery.Node) bool {
	if n.Type == "" || !n.Readable() {
		return false
	}
	return len(w.o.Patterns) == 0 || matchesAny(w.o.Patterns, n.FullPath)
}

// emit prints one change and counts it; it reports false once --count
// is reached.
func (w *watcher) emit(ev *format.Event) bool {
	if err := w.render.Render(ev); err != nil {
		w.stop(fmt.Errorf("write output: %w", err))
		return false
	}
	w.updates++
	if w.o.Count > 0 && w.updates >= w.o.Count {
		w.stop(errWatchCount)
		return false
	}
	return true
}

// notePaths says on stderr which addresses came or went: up to ten by
// name, then how many more.
func (w *watcher) notePaths(what string, paths []string) {
	for i, p := range paths {
		if i == 10 {
			fprintSafe(w.o.IO.ErrOut, "oscli: … and %d more %s\n", len(paths)-10, what)
			return
		}
		fprintSafe(w.o.IO.ErrOut, "oscli: %s %s\n", what, p)
	}
}

// stream follows the server's WebSocket.
func (w *watcher) stream(ctx context.Context, hi *oscquery.HostInfo, root *oscquery.Node) (string, error) {
	s, err := w.o.Client.OpenStream(ctx, hi)
	if err != nil {
		if ctx.Err() != nil {
			return "LISTEN", nil
		}
		fprintSafe(w.o.IO.ErrOut, "oscli: warning: %v; polling VALUE every %v instead\n", err, w.o.Interval)
		return w.poll(ctx, root)
	}
	defer s.Close()
	listen := func(n *oscquery.Node) []string {
		var added []string
		n.Walk(func(m *oscquery.Node, _ int) bool {
			if w.wanted(m) && !w.watched[m.FullPath] {
				if s.Listen(ctx, m.FullPath) == nil {
					w.watched[m.FullPath] = true
					added = append(added, m.FullPath)
				}
			}
			return true
		})
		return added
	}
	listen(root)
	fprintSafe(w.o.IO.ErrOut, "oscli: listening to %d %s on %s\n", len(w.watched), pipeline.Plural(len(w.watched), "address", "addresses"), s.URL())
	forget := func(prefix string) []string {
		var gone []string
		for p := range w.watched {
			if p == prefix || strings.HasPrefix(p, strings.TrimSuffix(prefix, "/")+"/") {
				delete(w.watched, p)
				gone = append(gone, p)
			}
		}
		sortNatural(gone)
		return gone
	}
	how := "LISTEN on " + s.URL()
	for {
		msg, err := s.Next(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return how, nil
			}
			return how, err
		}
		switch {
		case msg.Packet != nil:
			p, derr := w.dec.Decode(msg.Packet)
			if derr != nil {
				fprintSafe(w.o.IO.ErrOut, "oscli: warning: %s sent a malformed packet (%d bytes): %v\n", s.URL(), len(msg.Packet), derr)
				continue
			}
			if !w.passes(p) {
				continue
			}
			if !w.emit(&format.Event{Time: w.o.Clock.Now(), From: w.from, Proto: "ws", Raw: msg.Packet, Packet: p}) {
				return how, nil
			}
		case msg.Command == "PATH_ADDED" || msg.Command == "PATH_CHANGED":
			path, _ := msg.Data.(string)
			if path == "" {
				continue
			}
			n, _, err := w.o.Client.Node(ctx, path)
			if err != nil {
				if ctx.Err() != nil {
					return how, nil // the stop ended the fetch
				}
				fprintSafe(w.o.IO.ErrOut, "oscli: warning: %s %s: %v\n", msg.Command, path, err)
				continue
			}
			if msg.Command == "PATH_CHANGED" {
				// What is no longer there is forgotten; the rest is listened to again.
				for p := range w.watched {
					if (p == path || strings.HasPrefix(p, strings.TrimSuffix(path, "/")+"/")) && n.Find(strings.TrimPrefix(p, strings.TrimSuffix(path, "/"))) == nil {
						delete(w.watched, p)
					}
				}
			}
			w.notePaths("added", listen(n))
		case msg.Command == "PATH_REMOVED":
			path, _ := msg.Data.(string)
			w.notePaths("removed", forget(path))
		case msg.Command == "PATH_RENAMED":
			d, _ := msg.Data.(map[string]any)
			oldp, _ := d["OLD"].(string)
			newp, _ := d["NEW"].(string)
			if oldp == "" || newp == "" {
				continue
			}
			gone := forget(oldp)
			// Renames add to every address below, each time: the names
			// kept stay within what a tree may hold (MaxBody), however
			// long the server makes them.
			total := 0
			for p := range w.watched {
				total += len(p)
			}
			dropped := 0
			for _, p := range gone {
				np := newp + strings.TrimPrefix(p, oldp)
				if total += len(np); total > maxWatchedNames {
					dropped++
					continue
				}
				w.watched[np] = true // the server carries the LISTEN over
			}
			fprintSafe(w.o.IO.ErrOut, "oscli: renamed %s to %s\n", clipName(oldp), clipName(newp))
			if dropped > 0 {
				fprintSafe(w.o.IO.ErrOut, "oscli: warning: %d renamed %s no longer followed: the names watched would pass %d bytes\n",
					dropped, pipeline.Plural(dropped, "address", "addresses"), maxWatchedNames)
			}
		}
	}
}

// maxWatchedNames bounds the bytes of the addresses watch keeps: what a
// tree may hold.
var maxWatchedNames = int(oscquery.DefaultLimits().MaxBody)

// clipName shortens an address from the server for a line on stderr.
func clipName(s string) string {
	if len(s) <= 200 {
		return s
	}
	return s[:200] + "…"
}

// passes reports whether a streamed packet is about a watched address.
func (w *watcher) passes(p osc.Packet) bool {
	switch p := p.(type) {
	case *osc.Message:
		return len(w.o.Patterns) == 0 || matchesAny(w.o.Patterns, p.Address)
	case *osc.Bundle:
		for _, e := range p.Elements {
			if w.passes(e) {
				return true
			}
		}
	}
	return false
}

// poll fetches the tree every interval and prints what changed.
func (w *watcher) poll(ctx context.Context, root *oscquery.Node) (string, error) {
	how := fmt.Sprintf("polled every %v", w.o.Interval)
	last := w.snapshot(root)
	failing := false
	for {
		if err := w.o.Clock.Sleep(ctx, w.o.Interval); err != nil {
			return how, nil
		}
		n, _, err := w.o.Client.Node(ctx, w.o.Scope)
		if err != nil {
			if ctx.Err() != nil {
				return how, nil
			}
			if !failing {
				fprintSafe(w.o.IO.ErrOut, "oscli: warning: poll: %v; trying again every %v\n", err, w.o.Interval)
				failing = true
			}
			continue
		}
		if failing {
			fprintSafe(w.o.IO.ErrOut, "oscli: %s answers again\n", w.o.Client.Base)
			failing = false
		}
		now := w.o.Clock.Now()
		cur := w.snapshot(n)
		var added, removed []string
		for _, p := range sortedKeys(cur) {
			prev, had := last[p]
			if !had {
				added = append(added, p)
				continue
			}
			v := cur[p]
			if v.raw == nil || string(v.raw) == string(prev.raw) {
				continue
			}
			if !w.emit(&format.Event{Time: now, From: w.from, Proto: "http", Raw: v.raw, Packet: v.msg}) {
				return how, nil
			}
		}
		for p := range last {
			if _, ok := cur[p]; !ok {
				removed = append(removed, p)
			}
		}
		sortNatural(removed)
		w.notePaths("added", added)
		w.notePaths("removed", removed)
		last = cur
	}
}

// polled is one address's value at a poll: the message that sets it, and
// its bytes (nil when a value is not known).
type polled struct {
	msg *osc.Message
	raw []byte
}

// snapshot takes the values of the watched addresses of a tree.
func (w *watcher) snapshot(root *oscquery.Node) map[string]polled {
	m := map[string]polled{}
	root.Walk(func(n *oscquery.Node, _ int) bool {
		if !w.wanted(n) {
			return true
		}
		w.watched[n.FullPath] = true
		var v polled
		if args, known, err := n.ValueArgs(); err == nil && n.HasValue && allKnown(known) {
			v.msg = &osc.Message{Address: n.FullPath, Args: args}
			v.raw, _ = osc.AppendMessage(nil, v.msg)
		}
		m[n.FullPath] = v
		return true
	})
	for p := range w.watched {
		if _, ok := m[p]; !ok {
			delete(w.watched, p)
		}
	}
	return m
}

func allKnown(known []bool) bool {
	for _, k := range known {
		if !k {
			return false
		}
	}
	return true
}

func sortedKeys(m map[string]polled) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sortNatural(keys)
	return keys
}

func sortNatural(s []string) {
	oscquery.SortNatural(s)
}
