package cmd

import (
	"io"
	"net/netip"

	"github.com/spf13/pflag"

	"github.com/oscli/oscli/internal/sender"
	"github.com/oscli/oscli/internal/transport"
)

// A flag given on the command line that does nothing in the combination
// given (--timeout without --reply, --framing over UDP) gets one warning
// line, so nobody waits for an effect that cannot come. Values from the
// environment or the config file are not warned about: they are meant for
// many runs, and most of them do not combine every flag.

// idle is a flag that does nothing when when is true, and why.
type idle struct {
	flag string
	when bool
	why  string
}

// warnIdle prints a warning for each flag of checks the user gave whose
// when holds.
func warnIdle(w io.Writer, fs *pflag.FlagSet, checks ...idle) {
	for _, c := range checks {
		if c.when && flagSet(fs, c.flag) {
			fprintSafe(w, "oscli: warning: --%s does nothing %s\n", c.flag, c.why)
		}
	}
}

// deliveryIdle are the delivery flags (deliveryFlags) that do nothing for
// the target: framing off TCP, the multicast ones off a multicast address,
// broadcast off UDP.
func deliveryIdle(o sender.Options) []idle {
	to := o.Target
	over := "over " + to.Proto
	mcast, notMulticast := false, over
	if to.Proto == transport.UDP {
		// A host name may resolve to a group: only an address is judged.
		a, err := netip.ParseAddr(to.Host)
		mcast = err != nil || a.IsMulticast()
		notMulticast = "to " + to.String() + ", which is not a multicast address"
	}
	return []idle{
		{"framing", to.Proto != transport.TCP, over + ": it frames TCP streams"},
		{"ttl", !mcast, notMulticast},
		{"mcast-loop", !mcast, notMulticast},
		{"iface", !mcast, notMulticast},
		{"broadcast", to.Proto != transport.UDP, over},
		{"bind", to.Proto == transport.Unix, over + ": a Unix socket has no port"},
		{"bind", o.DryRun && to.Proto != transport.Unix, "with --dry-run: nothing is sent"},
	}
}

// isMulticastHost reports whether a listen host is a multicast group.
func isMulticastHost(h string) bool {
	a, err := netip.ParseAddr(h)
	return err == nil && a.IsMulticast()
}

// isIPv6Wildcard reports whether a listen host is ::, where dump takes
// IPv4 too unless --ipv6-only.
func isIPv6Wildcard(h string) bool {
	a, err := netip.ParseAddr(h)
	return err == nil && a.Is6() && a.IsUnspecified()
}
