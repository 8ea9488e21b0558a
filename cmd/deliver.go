package cmd

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"

	"github.com/spf13/pflag"

	"github.com/oscli/oscli/internal/iostreams"
	"github.com/oscli/oscli/internal/sender"
	"github.com/oscli/oscli/internal/transport"
)

// deliveryFlags are the flags every sending command (send, bundle, replay,
// bench) shares about how packets travel; they fill a sender.Options.
type deliveryFlags struct {
	framing string
	bind    string
}

// register adds the delivery flags; batch says whether the command queues
// packets (bundle sends one), dryRun whether it can print instead of
// sending (bench cannot).
func (d *deliveryFlags) register(fs *pflag.FlagSet, o *sender.Options, batch, dryRun bool) {
	if dryRun {
		fs.BoolVar(&o.DryRun, "dry-run", false, "print the hexdump instead of sending")
	}
	fs.BoolVar(&o.Broadcast, "broadcast", false, "allow sending to a broadcast address")
	fs.IntVar(&o.TTL, "ttl", 0, "multicast TTL, 1 to 255 (not given: the system default, 1)")
	fs.BoolVar(&o.MulticastLoop, "mcast-loop", true, "multicast loopback: deliver to listeners on this host too (--mcast-loop=false to stop)")
	fs.StringVar(&o.Iface, "iface", "", "network interface for multicast")
	fs.StringVar(&d.framing, "framing", "slip", "TCP framing: slip (OSC 1.1) or len (OSC 1.0 size prefix)")
	fs.StringVar(&d.bind, "bind", "", "send from `[HOST:]PORT`, for devices that answer a fixed port (HOST: an address of this machine)")
	if batch {
		fs.IntVar(&o.Batch, "batch", sender.DefaultBatch, "packets per system call when several are ready (1: one at a time)")
	}
}

// resolve fills the target and checks the delivery flags.
func (d *deliveryFlags) resolve(o *sender.Options, word string, nf *netFlags, fs *pflag.FlagSet, env *Env, io *iostreams.IOStreams) error {
	var err error
	nf.sending, nf.discover = true, !o.DryRun
	if o.Target, err = resolveEndpoint(word, nf, fs, env); err != nil {
		return err
	}
	if err := sendable(o.Target, word); err != nil {
		return err
	}
	if o.Framing, err = transport.ParseFraming(d.framing, false); err != nil {
		return &usageError{err: err}
	}
	if d.bind != "" {
		if o.BindAddr, o.BindPort, err = parseBind(d.bind); err != nil {
			return err
		}
		// A name may resolve to either family: only an address is judged.
		if to, err := netip.ParseAddr(o.Target.Host); err == nil && o.BindAddr.IsValid() && !o.BindAddr.IsUnspecified() &&
			o.BindAddr.Unmap().Is4() != to.Unmap().Is4() && o.Target.Proto != transport.Unix {
			return usageErrorf("--bind %s and the target %s: one is IPv4, the other IPv6", d.bind, o.Target)
		}
	}
	if o.TTL < 0 || o.TTL > 255 || o.TTL == 0 && flagSet(fs, "ttl") {
		// 0 is the system default only when --ttl is not given.
		return usageErrorf("--ttl %d: want 1 to 255", o.TTL)
	}
	if fs.Lookup("batch") != nil { // bundle has none
		if err := inRange("batch", o.Batch, 1, maxBatch); err != nil {
			return err
		}
	}
	// A command's --timeout, when given, also bounds the wait for a TCP
	// receiver to accept; else the transport's default does.
	if flagSet(fs, "timeout") {
		if d, err := fs.GetDuration("timeout"); err == nil && d > 0 {
			o.ConnectTimeout = d
		}
	}
	o.DryRunOut = io.Out
	return nil
}

// parseBind reads --bind's [HOST:]PORT: a port alone (9001, :9001), or
// an IP address of this machine and a port (192.168.1.5:9001,
// [fe80::1%eth0]:9001; port 0 picks the address alone).
func parseBind(s string) (netip.Addr, int, error) {
	bad := func(why string) (netip.Addr, int, error) {
		return netip.Addr{}, 0, &usageError{err: fmt.Errorf("--bind %q: %s", s, why),
			hint: "--bind 9001 sends from port 9001; --bind 192.168.1.5:9001 from that address too"}
	}
	host, port := "", s
	if !isDigits(s) {
		var err error
		if host, port, err = net.SplitHostPort(s); err != nil {
			if _, aerr := netip.ParseAddr(strings.Trim(s, "[]")); aerr == nil {
				return bad("no port (HOST:0 for any port)")
			}
			return bad("want [HOST:]PORT")
		}
	}
	p, err := strconv.Atoi(port)
	if err != nil || !isDigits(port) || p > 65535 {
		return bad("the port must be 0 to 65535")
	}
	var a netip.Addr
	if host != "" {
		if a, err = netip.ParseAddr(host); err != nil {
			return bad("the host must be an IP address of this machine")
		}
	}
	return a, p, nil
}

// bindString is --bind as given, for messages.
func bindString(o sender.Options) string {
	if !o.BindAddr.IsValid() {
		return strconv.Itoa(o.BindPort)
	}
	return net.JoinHostPort(o.BindAddr.String(), strconv.Itoa(o.BindPort))
}

// openError names --bind in a failure to bind it, with a hint.
func openError(o sender.Options, err error) error {
	if !o.BindAddr.IsValid() && o.BindPort == 0 {
		return err
	}
	var inUse *transport.AddrInUseError
	if errors.As(err, &inUse) {
		return &hintError{err: fmt.Errorf("--bind %s: %w", bindString(o), err),
			hint: "pick another port for --bind, or leave it out (--reply prints what comes back to the port sent from)"}
	}
	var be *transport.BindError
	if errors.As(err, &be) {
		return fmt.Errorf("--bind %s: %s", bindString(o), be.Why)
	}
	return err
}

// openSender opens the run's one socket and says where it goes with -v.
func openSender(ctx context.Context, o sender.Options, io *iostreams.IOStreams, verbose bool) (*sender.Sender, error) {
	s, err := sender.Open(ctx, o)
	if err != nil {
		return nil, openError(o, err)
	}
	switch {
	case !verbose:
	case o.DryRun:
		fprintSafe(io.ErrOut, "oscli: dry run: would send to %s\n", o.Target)
	default:
		fprintSafe(io.ErrOut, "oscli: sending over %s\n", s)
	}
	return s, nil
}
