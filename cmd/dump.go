package cmd

import (
	"context"

	"github.com/spf13/cobra"
)

type dumpOptions struct {
	listenOptions
	showOptions

	Echo bool
}

func newDumpCmd(env *Env, runF func(*dumpOptions) error) *cobra.Command {
	o := &dumpOptions{}
	c := &cobra.Command{
		Use:   "dump [LISTEN]",
		Short: "Listen and print every OSC packet",
		Long: `Listen for OSC packets and print each one as it arrives.

LISTEN is a port (9000), host:port, [::1]:9000, a URL (udp://0.0.0.0:9000,
liblo's osc.udp://:9000) or @name from the config file; -H/-p say the same
with flags. The default is 0.0.0.0:8000 over UDP. A multicast group as the
host (osc.udp://239.0.0.1:7000, -H 239.0.0.1) joins that group, as liblo
does, and listens on the port of every address; --group joins more. On ::
dump takes IPv6 and IPv4 (an IPv4 sender shows as plain IPv4);
--ipv6-only takes IPv6 alone. Listening on every address (0.0.0.0 or ::),
the "listening on" line names the addresses other machines reach it at,
the ones to type into a controller app: "reachable at 192.168.1.23:8000".

ws://host:port/path listens for OSC over WebSocket (or --proto ws): one
packet per binary message, as osc.js's WebSocketPort sends them, from
browser pages and apps. With a path only that path is upgraded (others
get 404); without one, any path is. Requests from any Origin are accepted,
since pages come from elsewhere (a file, a dev server). A plain HTTP
request gets a short 426 answer. Text messages are not OSC: the first of
each connection is reported, and the summary counts them. wss:// is not
served: put a TLS proxy in front of ws://.

Text output prints each message in the syntax 'oscli send' reads, after the
arrival time and the sender: paste a line after 'oscli send', or pipe dump's
output into 'oscli send -', and the same bytes go out. Bundles print a header
with their time tag and how far in the future (or late) it is, and their
elements indented below; they print on arrival. Strings are quoted and
escaped so nothing a sender puts in them reaches your terminal raw.

A malformed packet prints one '#malformed' line with the byte offset and the
reason, then its hexdump; dump keeps listening. However dump stops (Ctrl-C,
SIGTERM, SIGHUP, --count, --timeout, an error), every packet it counted is
written to stdout, then a summary goes to stderr saying why: "oscli: stopped
by SIGTERM: 12 packets, 480 bytes, 0 malformed, 0 filtered". Once stopping,
stdout gets 1 s to take what is left (a pipe nobody reads): what it did not
take is counted as "not written" and the exit code is 1; --record to a
FIFO or pipe nobody reads is given up the same way ("not recorded"). A
second signal ends dump at once. With --schedule, bundles still held at
the stop are shown then; at --count they are only counted ("held, not
shown").

--count counts the packets shown (malformed ones included); --timeout is the
longest dump listens in all. With both, fewer than --count packets by
--timeout is exit status 1 and an error after the summary, so
'oscli dump -n 1 --timeout 5s' tells a script whether anything came. --filter and --exclude take OSC address
patterns (* ? [a-z] [!a-z] {a,b} and OSC 1.1's //); a bundle is shown whole
when any of its messages passes.

Over TCP each connection's framing (SLIP or size prefix) is detected from its
first byte. A frame begun must end within --frame-timeout; with --max-conns
connections open, a new one closes the one idle longest. A quiet connection
is otherwise kept however long it is quiet. WebSocket connections get the
same limits, a message for a frame: --max-packet is the largest message
(a bigger one closes its connection with status 1009), and --echo answers
on the connection, a peer that does not read its echoes being closed.

--advertise [NAME] announces the listener on the local network with DNS-SD
(_osc._udp or _osc._tcp, with OSC 1.1's TXT keys), so that 'oscli browse',
'oscli send @NAME', TouchOSC, Vezér or VRChat find it; alone it is "oscli
dump on HOSTNAME". The word after it is its NAME unless that word is a
port, a URL or an @name (the LISTEN word); --advertise=NAME is always
clear. A name another responder already uses becomes "NAME (2)". However
dump stops, it says goodbye first, so the service disappears at once.`,
		Example: `  oscli dump                        # UDP 0.0.0.0:8000
  oscli dump 9000 --json | jq .packet.args
  oscli dump -p 9000 --filter '/1/*' --exclude '/1/ping'
  oscli dump udp://[::]:9000 --time utc --hex   # IPv6 and IPv4
  oscli dump -p 7000 --group 239.0.0.1 --iface eth0
  oscli dump osc.udp://239.0.0.1:7000    # liblo's multicast URL: joins 239.0.0.1
  oscli dump -n 1 --timeout 5s      # wait up to 5 s for one packet; exit 1 if none
  oscli dump ws://0.0.0.0:8080/osc  # OSC over WebSocket, from osc.js pages
  oscli dump --format raw > session.slip
  oscli dump 9000 --advertise "Studio monitor"   # found by browse, TouchOSC, VRChat`,
		Args: needArgs(0, 1, "", "dump takes one LISTEN word at most (a port, host:port or URL)"),
		RunE: func(c *cobra.Command, args []string) error {
			if err := o.listenOptions.setup(c, args, env); err != nil {
				return err
			}
			showIdle, err := o.showOptions.setup(c, o.IO)
			if err != nil {
				return err
			}
			warnIdle(o.IO.ErrOut, c.Flags(), append(o.idle(c.Name()), showIdle...)...)
			env.awaitSignals()
			if runF != nil {
				return runF(o)
			}
			return runDump(c.Context(), o)
		},
	}
	fs := c.Flags()
	o.listenOptions.register(fs, "packets")
	o.showOptions.register(fs, dumpShowHelp, false)
	fs.BoolVar(&o.Echo, "echo", false, "send every packet back to its sender (for round trips with bench)")
	o.addAdvertise(fs, "dump")
	return c
}

func runDump(ctx context.Context, o *dumpOptions) error {
	cfg := o.showOptions.pipeline(o.IO)
	cfg.Count, cfg.Echo = o.Count, o.Echo
	return o.run(ctx, listenRun{Pipeline: cfg, Record: o.Record})
}
