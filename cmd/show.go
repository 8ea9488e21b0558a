package cmd

import (
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/oscli/oscli/internal/filter"
	"github.com/oscli/oscli/internal/format"
	"github.com/oscli/oscli/internal/iostreams"
	"github.com/oscli/oscli/internal/pipeline"
)

// showOptions are how a listening command prints and records what it
// shows (dump, tap): --filter and --exclude, the output format and its
// options, --schedule and --record; with quiet (tap's -q) nothing is
// printed. A command embeds them in its options.
type showOptions struct {
	Filters  *filter.Set
	Format   string // "" with Quiet
	Hex      bool
	Time     format.TimeMode
	Schedule bool
	Record   string
	// Quiet prints nothing (tap -q); packets are still counted, and
	// --record still written.
	Quiet bool

	// --schedule-max, --schedule-bytes: what --schedule may hold.
	ScheduleMax, ScheduleBytes int

	// Set by register, read by setup.
	filters, excludes   []string
	asJSON              bool
	formatName, timeStr string
}

// showHelp words the filter flags' help for a command: dump's filters
// choose what is shown and nothing else; tap's must say they do not
// choose what is forwarded.
type showHelp struct {
	filter, exclude string
}

var dumpShowHelp = showHelp{
	filter:  "show only addresses matching `PATTERN` (repeatable)",
	exclude: "hide addresses matching `PATTERN` (repeatable)",
}

// register adds the output flags; quiet adds -q/--quiet.
func (s *showOptions) register(fs *pflag.FlagSet, h showHelp, quiet bool) {
	fs.StringArrayVar(&s.filters, "filter", nil, h.filter)
	fs.StringArrayVar(&s.excludes, "exclude", nil, h.exclude)
	fs.BoolVar(&s.asJSON, "json", false, "print JSON lines (same as --format json)")
	fs.BoolVar(&s.Hex, "hex", false, "print the osc4py3-style hexdump under each packet")
	fs.StringVar(&s.formatName, "format", "text", "output format: "+format.FormatNames())
	fs.StringVar(&s.timeStr, "time", "local", "time column: local, utc, unix, rel or none")
	fs.BoolVar(&s.Schedule, "schedule", false, "hold future bundles and print them when their time tag is due")
	fs.IntVar(&s.ScheduleMax, "schedule-max", pipeline.DefaultScheduleMax, "with --schedule: hold at most `N` bundles; more print on arrival")
	fs.IntVar(&s.ScheduleBytes, "schedule-bytes", pipeline.DefaultScheduleBytes, "with --schedule: hold at most `BYTES` of bundles; more print on arrival")
	fs.StringVar(&s.Record, "record", "", "also write every packet to `FILE` as JSON lines (for replay)")
	if quiet {
		fs.BoolVarP(&s.Quiet, "quiet", "q", false, "print nothing on stdout (the summary still goes to stderr; --record still records)")
	}
}

// setup checks the output flags and returns those that do nothing with
// the others, for warnIdle.
func (s *showOptions) setup(c *cobra.Command, ios *iostreams.IOStreams) ([]idle, error) {
	var err error
	if s.Filters, err = newFilter(s.filters, s.excludes); err != nil {
		return nil, err
	}
	if s.Time, err = format.ParseTimeMode(s.timeStr); err != nil {
		return nil, &usageError{err: err}
	}
	s.Format = s.formatName
	if s.asJSON {
		if flagSet(c.Flags(), "format") && s.formatName != "json" {
			return nil, usageErrorf("--json and --format %s contradict each other", s.formatName)
		}
		s.Format = "json"
	}
	switch s.Format {
	case "text", "json", "hex":
	case "raw":
		if ios.IsStdoutTTY() && !s.Quiet {
			return nil, &usageError{err: errors.New("--format raw writes binary; redirect stdout to a file or pipe"),
				hint: fmt.Sprintf("oscli %s --format raw > session.slip", c.Name())}
		}
	default:
		return nil, usageErrorf("invalid --format %q (want %s)", s.Format, format.FormatNames())
	}
	if err := firstErr(inRange("schedule-max", s.ScheduleMax, 1, -1), inRange("schedule-bytes", s.ScheduleBytes, 1, -1)); err != nil {
		return nil, err
	}
	other := "with --format " + s.Format
	if s.asJSON {
		other = "with --json"
	}
	checks := []idle{
		{"schedule-max", !s.Schedule, "without --schedule"},
		{"schedule-bytes", !s.Schedule, "without --schedule"},
		{"hex", s.Format != "text", other},
		{"time", s.Format != "text", other},
	}
	if s.Quiet {
		for _, f := range []string{"json", "format", "hex", "time"} {
			checks = append(checks, idle{f, true, "with -q: nothing is printed"})
		}
		s.Format = ""
	}
	return checks, nil
}

// pipeline is the pipeline's configuration for what s shows: the output
// and its renderer (none with Quiet), the filter, --schedule and the
// record's renderer. The command adds Count, Echo and the like.
func (s *showOptions) pipeline(ios *iostreams.IOStreams) pipeline.Config {
	cfg := pipeline.Config{
		Out:           ios.Out,
		Filter:        s.Filters,
		Schedule:      s.Schedule,
		ScheduleMax:   s.ScheduleMax,
		ScheduleBytes: s.ScheduleBytes,
		Notice:        func(msg string) { fmt.Fprintf(ios.ErrOut, "oscli: warning: %s\n", msg) },
	}
	if s.Format != "" {
		name, opts := s.Format, format.Options{Time: s.Time, Color: ios.ColorOut(), Hex: s.Hex}
		cfg.Render = func(w io.Writer) format.Renderer {
			r, _ := format.NewRenderer(name, w, opts)
			return r
		}
	}
	if s.Record != "" {
		cfg.RecordRender = func(w io.Writer) format.Renderer { return format.NewJSON(w) }
	}
	return cfg
}
