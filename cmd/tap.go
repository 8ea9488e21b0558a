package cmd

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/oscli/oscli/internal/filter"
	"github.com/oscli/oscli/internal/format"
	"github.com/oscli/oscli/internal/pipeline"
	"github.com/oscli/oscli/internal/sender"
	"github.com/oscli/oscli/internal/tap"
	"github.com/oscli/oscli/internal/transport"
)

// maxTargets bounds the TARGET words: each has a writer and a queue.
const maxTargets = 32

type tapOptions struct {
	listenOptions
	showOptions

	// Targets are where every packet goes, from the TARGET words.
	Targets []tap.Target
	// Forward chooses what is forwarded (--only, --drop).
	Forward     *filter.Set
	HideReplies bool
	Queue       int
	MaxSenders  int
	SenderIdle  time.Duration

	// Set by the flags, read by setup.
	only, drop []string
	toFraming  string
	broadcast  bool
	ttl        int
}

var tapShowHelp = showHelp{
	filter:  "print only addresses matching `PATTERN` (repeatable); forwarding is --only's and --drop's",
	exclude: "do not print addresses matching `PATTERN` (repeatable); they are still forwarded",
}

func newTapCmd(env *Env, runF func(*tapOptions) error) *cobra.Command {
	o := &tapOptions{}
	c := &cobra.Command{
		Use:   "tap LISTEN TARGET [TARGET…]",
		Short: "Forward every packet to one or more targets while printing it; replies go back",
		Long: `Listen as dump does, forward every packet unchanged to each TARGET, and print
what passes as dump prints it: sit between a controller and what it
controls and watch the traffic without breaking the link.

LISTEN is dump's listen word (9000, host:port, a URL, liblo's
osc.udp://:9000, @name; -H, -p and --proto say the same for LISTEN, and
every listening flag of dump works). Each TARGET is a word send takes
(9001, host:port, [::1]:9001, udp://, tcp://, unix:///path, liblo's
osc.tcp://, @name from the config file). A bare port means 127.0.0.1. A
target that is where tap listens is refused: tap would receive what it
forwards, forever.

Protocols may differ on the two sides, and framing is converted: UDP in,
TCP out (SLIP, or --to-framing len for OSC 1.0 size prefixes), Unix
datagram sockets either way. A packet larger than a target takes (a TCP
frame over 65,507 bytes to UDP) is not sent to it, and counted. A datagram
the system cut short (--max-packet, 64 KiB) is printed but never
forwarded.

Replies: every sender gets a socket (or connection) of its own to each
target, so what a target sends back goes to the sender that asked, from
the port it sent to, and several controllers are kept apart. Replies are
printed too, marked with their direction: the sender column reads
TARGET→SENDER (127.0.0.1:9001→127.0.0.1:54321), which 'oscli send -'
skips as it skips a sender, and JSON lines carry "dir":"reply" and "to"
(forwarded packets: "dir":"forward"). --hide-replies prints and records
none; they still go back. A sender's sockets close after --sender-idle
without a packet from it or a reply to it (2m), or at once when its TCP
connection closes; at most --max-senders senders have sockets (64), and
one more closes those of the sender idle longest.

Printing and forwarding are chosen apart: --filter and --exclude choose
what is printed (and recorded), and nothing else; --only and --drop choose
what is forwarded, and nothing else: 'tap 9000 9001 --drop /ping' still
prints /ping. A bundle goes whole when any of its messages passes; a
packet that does not decode matches no pattern (--only keeps it back,
--drop lets it through). -q prints nothing at all. Printing never holds
up forwarding: when stdout does not keep up (a pager nobody scrolls),
packets are still forwarded, and those not printed are counted.

A target that is down is reported once and never stops tap or the other
targets: a connection refused (TCP, Unix) or that breaks counts the
packets meant for it as "not sent" and is tried again after 100 ms,
doubling to 5 s; a UDP target whose host answers "port unreachable" is
counted as refused and still sent to. A target that does not keep up (a
TCP peer that stops reading) fills its queue of --queue packets (16384);
what does not fit is dropped and counted. When tap stops (Ctrl-C,
SIGTERM, --count, --timeout), the targets get 1 s to take what is queued,
then the summary on stderr gives each target's numbers:

  oscli: to udp://127.0.0.1:9001: 52 sent, 3 replies
  oscli: to tcp://127.0.0.1:9002: 40 sent, 12 not sent

--count counts the packets printed, replies included; with -q it counts
them as if printed. --ttl and --broadcast are for UDP targets, as send's
flags of the same names; multicast targets get loopback (listeners on
this host hear them).`,
		Example: `  oscli tap 8000 192.168.1.20:10023          # TouchOSC → tap → desk; answers come back
  oscli tap 9001 9002 9003 -q                 # share VRChat's 9001 with two apps
  oscli tap 9000 tcp://127.0.0.1:9100         # UDP in, TCP (SLIP) out
  oscli tap 9000 osc.tcp://10.0.0.5:3032 --to-framing len
  oscli tap 9000 9001 --drop '/ping' --filter '/1/*'
  oscli tap 9000 9001 --json --record session.jsonl`,
		Args: needArgs(2, -1, "tap needs where to listen and at least one target: oscli tap LISTEN TARGET [TARGET…]", ""),
		RunE: func(c *cobra.Command, args []string) error {
			if err := o.listenOptions.setup(c, args[:1], env); err != nil {
				return err
			}
			showIdle, err := o.showOptions.setup(c, o.IO)
			if err != nil {
				return err
			}
			if err := o.setupForwarding(c.Flags(), args[1:], env); err != nil {
				return err
			}
			warnIdle(o.IO.ErrOut, c.Flags(), append(append(o.idle(c.Name()), showIdle...), o.targetIdle()...)...)
			env.awaitSignals()
			if runF != nil {
				return runF(o)
			}
			return runTap(c.Context(), o)
		},
	}
	fs := c.Flags()
	o.listenOptions.register(fs, "packets printed (replies included)")
	o.addAdvertise(fs, "tap")
	o.showOptions.register(fs, tapShowHelp, true)
	fs.StringArrayVar(&o.only, "only", nil, "forward only packets with an address matching `PATTERN` (repeatable); printing is --filter's")
	fs.StringArrayVar(&o.drop, "drop", nil, "do not forward packets with an address matching `PATTERN` (repeatable); they are still printed")
	fs.BoolVar(&o.HideReplies, "hide-replies", false, "do not print or record the targets' replies (they still go back to their senders)")
	fs.StringVar(&o.toFraming, "to-framing", "slip", "TCP targets: slip (OSC 1.1) or len (OSC 1.0 size prefix)")
	fs.BoolVar(&o.broadcast, "broadcast", false, "allow a broadcast address as a UDP target")
	fs.IntVar(&o.ttl, "ttl", 0, "multicast targets: TTL, 1 to 255 (not given: the system default, 1)")
	fs.IntVar(&o.Queue, "queue", tap.DefaultQueue, "packets waiting for each target at most; more are dropped and counted")
	fs.IntVar(&o.MaxSenders, "max-senders", tap.DefaultMaxSenders, "senders with sockets of their own at once; one more closes those of the one idle longest")
	fs.DurationVar(&o.SenderIdle, "sender-idle", tap.DefaultIdle, "close a sender's sockets after this long without a packet from it or a reply to it")
	return c
}

// setupForwarding resolves the TARGET words and checks the forwarding
// flags.
func (o *tapOptions) setupForwarding(fs *pflag.FlagSet, words []string, env *Env) error {
	if len(words) > maxTargets {
		return usageErrorf("%d targets: tap forwards to %d at most", len(words), maxTargets)
	}
	framing, err := transport.ParseFraming(o.toFraming, false)
	if err != nil {
		return usageErrorf("--to-framing: %v", err)
	}
	if o.ttl < 0 || o.ttl > 255 || o.ttl == 0 && flagSet(fs, "ttl") {
		return usageErrorf("--ttl %d: want 1 to 255", o.ttl)
	}
	if err := firstErr(inRange("queue", o.Queue, 1, 1<<20), inRange("max-senders", o.MaxSenders, 1, 65536)); err != nil {
		return err
	}
	if o.SenderIdle <= 0 {
		return usageErrorf("--sender-idle %v: want a duration above 0", o.SenderIdle)
	}
	o.Forward = &filter.Set{}
	for _, p := range o.only {
		if err := o.Forward.Include(p); err != nil {
			return usageErrorf("--only: %v", err)
		}
	}
	for _, p := range o.drop {
		if err := o.Forward.Exclude(p); err != nil {
			return usageErrorf("--drop: %v", err)
		}
	}
	// Target words are send's, read without -H, -p and --proto (LISTEN's).
	none := pflag.NewFlagSet("targets", pflag.ContinueOnError)
	local := o.localAddrs()
	seen := map[transport.Endpoint]string{}
	o.Targets = nil
	for _, w := range words {
		if err := checkTargetWord(w, none); err != nil {
			return err
		}
		// @NAME: the config's targets, else an instance announced with
		// DNS-SD, as for send.
		nf := netFlags{Host: "127.0.0.1", Port: 8000, Proto: transport.UDP, sending: true, discover: true}
		ep, err := resolveEndpoint(w, &nf, none, env)
		if err != nil {
			return err
		}
		if err := sendable(ep, w); err != nil {
			return err
		}
		if prev, ok := seen[ep]; ok {
			return usageErrorf("target %q is %s again (as %q): every packet would go there twice", w, ep, prev)
		}
		seen[ep] = w
		if forwardsToItself(o.Listen, o.Groups, ep, local) {
			return &usageError{err: fmt.Errorf("target %q is where tap listens (%s): it would receive what it forwards, forever", w, o.Listen),
				hint: "forward to the port the receiving program listens on, and point the sender at tap's"}
		}
		o.Targets = append(o.Targets, tap.Target{
			Endpoint:  ep,
			Dial:      transport.DialConfig{Framing: framing, Broadcast: o.broadcast, TTL: o.ttl, MulticastLoop: true},
			MaxPacket: sender.MaxPacket(sender.Options{Target: ep}),
		})
	}
	return nil
}

// localAddrs lists this machine's addresses, when known.
func (o *tapOptions) localAddrs() []netip.Addr {
	if o.Interfaces == nil {
		return nil
	}
	ifs, err := o.Interfaces()
	if err != nil {
		return nil
	}
	var out []netip.Addr
	for _, i := range ifs {
		out = append(out, i.Addrs...)
	}
	return out
}

// forwardsToItself reports whether the target ep is where tap listens:
// same protocol and port, and an address tap receives on (loopback when
// listening on every address, the listening address itself, a group it
// joined, one of local). Host names other than localhost are not
// resolved for this.
func forwardsToItself(listen transport.Endpoint, groups []string, ep transport.Endpoint, local []netip.Addr) bool {
	if ep.Proto != listen.Proto {
		return false
	}
	if listen.Path != "" || ep.Path != "" {
		return ep.Path == listen.Path
	}
	if listen.Port == 0 || ep.Port != listen.Port {
		return false
	}
	if strings.EqualFold(ep.Host, listen.Host) {
		return true
	}
	to, err := netip.ParseAddr(ep.Host)
	if strings.EqualFold(ep.Host, "localhost") {
		to, err = netip.AddrFrom4([4]byte{127, 0, 0, 1}), nil
	}
	if err != nil {
		return false
	}
	to = to.Unmap()
	at, err := netip.ParseAddr(listen.Host)
	if err != nil {
		return false
	}
	at = at.Unmap()
	switch {
	case to == at:
		return true
	case to.IsMulticast():
		for _, g := range groups {
			if ga, err := netip.ParseAddr(g); err == nil && ga.Unmap() == to {
				return true
			}
		}
		return false
	case !at.IsUnspecified():
		return at.IsLoopback() && to.IsLoopback()
	case to.IsLoopback() || to.IsUnspecified():
		return true
	}
	for _, a := range local {
		if a.WithZone("").Unmap() == to.WithZone("") {
			return true
		}
	}
	return false
}

// targetIdle are the target flags that do nothing for these targets.
func (o *tapOptions) targetIdle() []idle {
	tcp, udp, mcast := false, false, false
	for _, t := range o.Targets {
		switch t.Endpoint.Proto {
		case transport.TCP:
			tcp = true
		case transport.UDP:
			udp = true
			a, err := netip.ParseAddr(t.Endpoint.Host)
			mcast = mcast || err != nil || a.IsMulticast()
		}
	}
	return []idle{
		{"to-framing", !tcp, "without a TCP target"},
		{"broadcast", !udp, "without a UDP target"},
		{"ttl", !mcast, "without a multicast target"},
		{"hide-replies", o.Quiet && o.Record == "", "with -q and no --record: nothing is printed"},
	}
}

func runTap(ctx context.Context, o *tapOptions) error {
	cfg := o.showOptions.pipeline(o.IO)
	cfg.Count, cfg.Dir = o.Count, format.DirForward
	var (
		p       *pipeline.Pipeline
		tp      *tap.Tap
		show    *tap.Show
		once    sync.Once
		st      tap.Stats
		unshown int64
	)
	stop := func() {
		once.Do(func() {
			// Replies that come while the targets take what is queued
			// are still shown: the printer closes last.
			st = tp.Close()
			unshown = show.Close()
		})
	}
	return o.run(ctx, listenRun{
		Pipeline: cfg,
		Record:   o.Record,
		Pipe:     func(pp *pipeline.Pipeline) { p = pp },
		Started: func(ctx context.Context, _ transport.Listener) (func(), error) {
			show = tap.NewShow(0, 0, func(pk *transport.Packet, to string) {
				if to == "" {
					p.Handle(pk)
				} else {
					p.HandleReply(pk, to)
				}
			})
			tc := tap.Config{Targets: o.Targets, Clock: o.Clock, Forward: o.Forward, Queue: o.Queue,
				MaxSenders: o.MaxSenders, Idle: o.SenderIdle, StopGrace: pipeline.StopGrace, Event: o.report}
			if !o.HideReplies {
				tc.Reply = func(pk *transport.Packet, to transport.Source) { show.PushReply(pk, to.String()) }
			}
			// The run's context ends at the stop; the targets still get
			// StopGrace to take what is queued (Close).
			tp = tap.New(context.WithoutCancel(ctx), tc)
			return stop, nil
		},
		Handle: func(func(*transport.Packet)) func(*transport.Packet) {
			return func(pk *transport.Packet) {
				tp.Forward(pk) // first: printing never delays forwarding
				show.Push(pk)
			}
		},
		Conn: func(e transport.ConnEvent) {
			if !e.Opened {
				tp.Gone(e.Source)
			}
		},
		Served: func() []string {
			stop()
			return tapSummary(st, unshown, o.MaxSenders)
		},
	})
}

// report tells the user, on stderr, what happens to a target as it
// happens (once per kind; the summary has the counts).
func (o *tapOptions) report(e tap.Event) {
	w, to := o.IO.ErrOut, e.Target.String()
	switch e.Kind {
	case tap.Down:
		fprintSafe(w, "oscli: warning: %s is down: %v; trying again with backoff (packets for it meanwhile are counted as not sent)\n", to, e.Err)
	case tap.Up:
		fprintSafe(w, "oscli: %s is back (%d %s not sent while it was down)\n", to, e.Count, pipeline.Plural(e.Count, "packet", "packets"))
	case tap.Refused:
		fprintSafe(w, "oscli: warning: %s refused a packet (ICMP port unreachable: is anything listening there?); refusals are counted\n", to)
	case tap.Stalled:
		fprintSafe(w, "oscli: warning: %s is not keeping up: its queue of %d packets is full; packets for it are dropped and counted (--queue)\n", to, e.Count)
	case tap.TooBig:
		fprintSafe(w, "oscli: warning: %s: a %d-byte packet is too big for it (%v); such packets are not sent to it, and counted\n", to, e.Count, e.Err)
	case tap.Evicted:
		fprintSafe(w, "oscli: warning: %d senders have sockets (--max-senders): closed those of %s, idle longest\n", e.Count, e.Sender)
	}
}

// tapSummary is what tap adds to the stop summary: what was forwarded,
// then a line per target.
func tapSummary(st tap.Stats, unshown int64, maxSenders int) []string {
	var b strings.Builder
	fmt.Fprintf(&b, "forwarded %d %s from %d %s", st.Forwarded, pipeline.Plural(st.Forwarded, "packet", "packets"),
		st.Senders, pipeline.Plural(st.Senders, "sender", "senders"))
	if st.Filtered > 0 {
		fmt.Fprintf(&b, ", %d kept back (--only, --drop)", st.Filtered)
	}
	if st.Truncated > 0 {
		fmt.Fprintf(&b, ", %d truncated, not forwarded", st.Truncated)
	}
	if st.Evicted > 0 {
		fmt.Fprintf(&b, ", %d %s closed at --max-senders %d", st.Evicted, pipeline.Plural(st.Evicted, "sender's sockets", "senders' sockets"), maxSenders)
	}
	if unshown > 0 {
		fmt.Fprintf(&b, ", %d not printed (output too slow)", unshown)
	}
	lines := []string{b.String()}
	for _, t := range st.Targets {
		b.Reset()
		fmt.Fprintf(&b, "to %s: %d sent", t.Target, t.Sent)
		if t.Dropped > 0 {
			fmt.Fprintf(&b, ", %d dropped (queue full)", t.Dropped)
		}
		if t.NotSent > 0 {
			fmt.Fprintf(&b, ", %d not sent", t.NotSent)
		}
		if t.Refused > 0 {
			fmt.Fprintf(&b, ", refused %d %s", t.Refused, pipeline.Plural(t.Refused, "time", "times"))
		}
		if t.TooBig > 0 {
			fmt.Fprintf(&b, ", %d too big", t.TooBig)
		}
		if t.Replies > 0 {
			fmt.Fprintf(&b, ", %d %s", t.Replies, pipeline.Plural(t.Replies, "reply", "replies"))
			if t.Unreturned > 0 {
				fmt.Fprintf(&b, " (%d not returned)", t.Unreturned)
			}
		}
		if t.Closed > 0 {
			fmt.Fprintf(&b, ", closed the connection %d %s", t.Closed, pipeline.Plural(t.Closed, "time", "times"))
		}
		if t.Err != nil {
			fmt.Fprintf(&b, " (down: %v)", t.Err)
		}
		lines = append(lines, b.String())
	}
	return lines
}
