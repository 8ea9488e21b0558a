// Package cmd is oscli's command tree: dump, send, bundle, bench, replay
// and version, plus shell completions and the hidden gen-docs. Commands
// are thin: each binds its flags into an options struct and calls a runner
// that does the work through the internal packages (transport, pipeline,
// sender, replay, bench, format) with the streams, environment and clock
// of an injected Env, so tests run every command in-process.
//
// What belongs to the command line is here and only here: cobra, the
// config file (read with a YAML parser) and OSCLI_* variables (flag > env > file >
// default), @name targets, the decisions that depend on a terminal, and
// turning errors into "oscli: error: …" lines and exit codes (0, 1, 2,
// 130) in one place (report). It does not encode, decode, render or move
// packets itself, and holds no global state: no package-level commands,
// no init, no global configuration.
package cmd

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// Run executes the command line args in env and returns the exit code.
func Run(ctx context.Context, env *Env, args []string) int {
	if env.ios != nil {
		env.In, env.Out, env.Err = env.ios.In, env.ios.Out, env.ios.ErrOut
	}
	env.done = ctx
	root := newRootFor(env, args)
	// send /pan -0.5: a value, not a flag; dump --advertise NAME: its value.
	root.SetArgs(protectNumbers(root, joinOptionalValues(root, args)))
	root.SetIn(env.In)
	root.SetOut(env.Out)
	root.SetErr(env.Err)
	c, err := root.ExecuteContextC(ctx)
	if err != nil && c != nil {
		var ue *usageError
		if !env.ran && !errors.As(err, &ue) {
			// cobra's own complaints: an unknown command.
			err = &usageError{err: err, hint: helpHint(c)}
		}
		sourceHint(c.Flags(), err)
		enumHint(c, err)
	}
	var sc *signalCause
	if errors.Is(err, context.Canceled) && errors.As(context.Cause(ctx), &sc) {
		err = sc // "interrupted by SIGTERM"
		// bench clears its progress line, and the ^C on it, itself.
		if c != nil && c.Name() != "bench" && afterCtrlC(ctx, env.stderrStreams()) {
			fmt.Fprintln(env.Err)
		}
	}
	return report(env.Err, err, env.ran)
}

// newRootCmd builds the whole command tree.
func newRootCmd(env *Env) *cobra.Command { return newRoot(env, runCommands) }

// newRoot builds the root command with the commands of runCommands that
// names lists, and the rest of the tree when it lists them all.
func newRoot(env *Env, names []string) *cobra.Command {
	root := &cobra.Command{
		Use:   "oscli",
		Short: "Debug Open Sound Control traffic: dump, send, bundle, bench, replay",
		Long: `oscli is a fast, strict command-line tool for Open Sound Control (OSC 1.0
and 1.1): listen and print packets, send typed messages and timed bundles,
load-test a receiver and replay a recorded session.

A flag not given comes from the environment, else from the config file
(--config FILE, OSCLI_CONFIG, else $XDG_CONFIG_HOME/oscli/config.yaml),
else its default. host, port, proto, color and verbose are shared: keys at
the top level of the file, and OSCLI_HOST, OSCLI_PORT, OSCLI_PROTO,
OSCLI_COLOR, OSCLI_VERBOSE. Every other flag belongs to one command: a key
under the command's section (dump:, send:, bundle:, bench:, replay:, tap:) and
OSCLI_<COMMAND>_<FLAG>, dashes as underscores (OSCLI_DUMP_TIME=utc). A
command's value beats a shared one from the same source; the environment
beats the file. targets: names destinations for @name. A key the file
cannot use gets one warning on stderr and is ignored; a bad environment
value is a usage error.`,
		SilenceErrors: true,
		SilenceUsage:  true,
		// Running a command at all means cobra accepted its flags and
		// arguments; later errors are the command's own.
		PersistentPreRunE: func(c *cobra.Command, _ []string) error {
			env.ran = true
			if !readsConfig(c) {
				return nil
			}
			return configure(c, env)
		},
	}
	var showVersion bool
	root.Flags().BoolVar(&showVersion, "version", false, "print the version, commit and build date, as 'oscli version' does")
	root.RunE = func(c *cobra.Command, _ []string) error {
		if showVersion {
			return printVersion(env)
		}
		return c.Help()
	}
	root.SetHelpCommand(newHelpCmd())
	pf := root.PersistentFlags()
	pf.StringVar(&env.configPath, "config", "", "config `FILE` (default $OSCLI_CONFIG, else $XDG_CONFIG_HOME/oscli/config.yaml; see 'oscli --help')")
	pf.StringVar(&env.colorMode, "color", "auto", "colour output: auto, always or never")
	pf.BoolVarP(&env.verbose, "verbose", "v", false, "say more on stderr (socket buffer sizes, framing, timing)")
	root.SetFlagErrorFunc(flagError)
	root.CompletionOptions.HiddenDefaultCmd = false
	for _, name := range names {
		c := newSubcommand(env, name)
		addCompletions(env, c, true)
		root.AddCommand(c)
	}
	if len(names) < len(runCommands) {
		// Nothing else can run: no help topics, no completion.
		root.CompletionOptions.DisableDefaultCmd = true
		return root
	}
	root.AddCommand(newVersionCmd(env), newGenDocsCmd(env))
	return root
}

// runCommands are the commands that do oscli's work, in the order help
// lists them.
var runCommands = []string{"dump", "send", "bundle", "bench", "replay", "top", "tap", "query", "serve", "browse"}

// newRootFor builds the command tree for a command line. When its first
// word names a command of runCommands, the tree holds that command alone:
// building the other four, version, help and completion costs a one-shot
// send a tenth of its start-up. Anything else (help, a flag first, a
// typo, completion) gets the whole tree.
func newRootFor(env *Env, args []string) *cobra.Command {
	if len(args) > 0 && slices.Contains(runCommands, args[0]) {
		env.partialTree = true
		return newRoot(env, args[:1])
	}
	return newRootCmd(env)
}

// newSubcommand builds one command of runCommands; with env.parseOnly
// (tests) it checks its flags and arguments and passes its options to
// env.parsed instead of running.
func newSubcommand(env *Env, name string) *cobra.Command {
	switch name {
	case "dump":
		return newDumpCmd(env, parseOnly[dumpOptions](env))
	case "send":
		return newSendCmd(env, parseOnly[sendOptions](env))
	case "bundle":
		return newBundleCmd(env, parseOnly[bundleOptions](env))
	case "bench":
		return newBenchCmd(env, parseOnly[benchOptions](env))
	case "replay":
		return newReplayCmd(env, parseOnly[replayOptions](env))
	case "query":
		return newQueryCmd(env, parseOnly[queryOptions](env))
	case "serve":
		return newServeCmd(env, parseOnly[serveOptions](env))
	case "browse":
		return newBrowseCmd(env, parseOnly[browseOptions](env))
	case "tap":
		return newTapCmd(env, parseOnly[tapOptions](env))
	case "top":
		return newTopCmd(env, parseOnly[topOptions](env))
	}
	panic("oscli: no command " + name)
}

// parseOnly returns the runner of a command built for env.parseOnly, else
// nil (the command's own).
func parseOnly[T any](env *Env) func(*T) error {
	if !env.parseOnly {
		return nil
	}
	return func(o *T) error {
		if env.parsed != nil {
			env.parsed(o)
		}
		return nil
	}
}

// readsConfig reports whether c takes settings from the config file and
// the environment: the commands that do oscli's work do; version, help,
// completion and the root itself (--version, help) do not, so that a
// broken config file cannot break them.
func readsConfig(c *cobra.Command) bool {
	return c.HasParent() && !c.Parent().HasParent() && slices.Contains(runCommands, c.Name())
}

// newHelpCmd is 'oscli help [COMMAND]': cobra's, except that a topic it
// does not know is a usage error (exit 2) with what may have been meant,
// where cobra's prints the root's usage and exits 0.
func newHelpCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "help [COMMAND]",
		Short: "Help about any command",
		Long:  "Help prints the help of a command: 'oscli help send' is 'oscli send --help'.",
		ValidArgsFunction: func(c *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
			cmd, _, err := c.Root().Find(args)
			if err != nil {
				return nil, cobra.ShellCompDirectiveNoFileComp
			}
			var names []string
			for _, sub := range cmd.Commands() {
				if sub.IsAvailableCommand() && strings.HasPrefix(sub.Name(), toComplete) {
					names = append(names, sub.Name()+"\t"+sub.Short)
				}
			}
			return names, cobra.ShellCompDirectiveNoFileComp
		},
		RunE: func(c *cobra.Command, args []string) error {
			cmd, rest, err := c.Root().Find(args)
			if err != nil || len(rest) > 0 || cmd == nil {
				topic := strings.Join(args, " ")
				hint := "see 'oscli --help'"
				if near := c.Root().SuggestionsFor(args[len(args)-1]); len(near) > 0 && len(args) == 1 {
					hint = "did you mean " + strings.Join(near, " or ") + "? " + hint
				}
				return &usageError{err: fmt.Errorf("unknown help topic %q", topic), hint: hint}
			}
			cmd.InitDefaultHelpFlag()
			return cmd.Help()
		},
	}
}

// movedFlags are flags an earlier release had, by "command --flag", with
// what to use now.
var movedFlags = map[string]string{
	"send --loop":    "multicast loopback is --mcast-loop now (replay's --loop counts plays)",
	"bundle --loop":  "multicast loopback is --mcast-loop now (replay's --loop counts plays)",
	"bundle --batch": "bundle sends one packet, so it has no --batch",
}

// flagSet reports whether the user gave the flag on the command line.
func flagSet(fs *pflag.FlagSet, name string) bool {
	f := fs.Lookup(name)
	return f != nil && f.Changed
}
