package cmd

import (
	"context"

	"github.com/spf13/pflag"

	"github.com/oscli/oscli/internal/iostreams"
	"github.com/oscli/oscli/internal/sender"
	"github.com/oscli/oscli/internal/transport"
)

// deliveryFlags are the flags every sending command (send, bundle, replay,
// bench) shares about how packets travel; they fill a sender.Options.
type deliveryFlags struct {
	framing string
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
	if batch {
		fs.IntVar(&o.Batch, "batch", sender.DefaultBatch, "packets per system call when several are ready (1: one at a time)")
	}
}

// resolve fills the target and checks the delivery flags.
func (d *deliveryFlags) resolve(o *sender.Options, word string, nf *netFlags, fs *pflag.FlagSet, env *Env, io *iostreams.IOStreams) error {
	var err error
	nf.sending = true
	if o.Target, err = resolveEndpoint(word, nf, fs, env.targets); err != nil {
		return err
	}
	if err := sendable(o.Target, word); err != nil {
		return err
	}
	if o.Framing, err = transport.ParseFraming(d.framing, false); err != nil {
		return &usageError{err: err}
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

// openSender opens the run's one socket and says where it goes with -v.
func openSender(ctx context.Context, o sender.Options, io *iostreams.IOStreams, verbose bool) (*sender.Sender, error) {
	s, err := sender.Open(ctx, o)
	if err != nil {
		return nil, err
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
