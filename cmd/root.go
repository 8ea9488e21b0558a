// Package cmd is oscli's command tree: dump, send, bundle, bench, replay
// and version, plus shell completions and the hidden gen-docs. Commands
// are thin: each binds its flags into an options struct and calls a runner
// that does the work through the internal packages (transport, pipeline,
// sender, replay, bench, format) with the streams, environment and clock
// of an injected Env, so tests run every command in-process.
//
// What belongs to the command line is here and only here: cobra and
// viper, the config file and OSCLI_* variables (flag > env > file >
// default), @name targets, the decisions that depend on a terminal, and
// turning errors into "oscli: error: …" lines and exit codes (0, 1, 2,
// 130) in one place (report). It does not encode, decode, render or move
// packets itself, and holds no global state: no package-level commands,
// no init, no global viper.
package cmd

import (
	"context"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// Run executes the command line args in env and returns the exit code.
func Run(ctx context.Context, env *Env, args []string) int {
	if env.ios != nil {
		env.In, env.Out, env.Err = env.ios.In, env.ios.Out, env.ios.ErrOut
	}
	root := newRootCmd(env)
	root.SetArgs(args)
	root.SetIn(env.In)
	root.SetOut(env.Out)
	root.SetErr(env.Err)
	err := root.ExecuteContext(ctx)
	return report(env.Err, err, env.ran)
}

func newRootCmd(env *Env) *cobra.Command {
	root := &cobra.Command{
		Use:   "oscli",
		Short: "Debug Open Sound Control traffic: dump, send, bundle, bench, replay",
		Long: `oscli is a fast, strict command-line tool for Open Sound Control (OSC 1.0
and 1.1): listen and print packets, send typed messages and timed bundles,
load-test a receiver and replay a recorded session.`,
		SilenceErrors: true,
		SilenceUsage:  true,
		// Running a command at all means cobra accepted its flags and
		// arguments; later errors are the command's own.
		PersistentPreRunE: func(c *cobra.Command, _ []string) error {
			env.ran = true
			v, err := loadConfig(env, env.configPath)
			if err != nil {
				return err
			}
			env.v = v
			return applyConfig(c, env, v)
		},
	}
	pf := root.PersistentFlags()
	pf.StringVar(&env.configPath, "config", "", "config file (default $XDG_CONFIG_HOME/oscli/config.yaml)")
	pf.StringVar(&env.colorMode, "color", "auto", "colour output: auto, always or never")
	pf.BoolVarP(&env.verbose, "verbose", "v", false, "say more on stderr (socket buffer sizes, framing, timing)")
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error {
		return &usageError{err: err, hint: "see 'oscli --help'"}
	})
	root.CompletionOptions.HiddenDefaultCmd = false
	cmds := []*cobra.Command{newDumpCmd(env, nil), newSendCmd(env, nil), newBundleCmd(env, nil),
		newBenchCmd(env, nil), newReplayCmd(env, nil)}
	if env.parseOnly {
		cmds = []*cobra.Command{
			newDumpCmd(env, func(*dumpOptions) error { return nil }),
			newSendCmd(env, func(*sendOptions) error { return nil }),
			newBundleCmd(env, func(*bundleOptions) error { return nil }),
			newBenchCmd(env, func(*benchOptions) error { return nil }),
			newReplayCmd(env, func(*replayOptions) error { return nil }),
		}
	}
	for _, c := range cmds {
		addCompletions(env, c, true)
		root.AddCommand(c)
	}
	root.AddCommand(newVersionCmd(env), newGenDocsCmd(env))
	return root
}

// flagSet reports whether the user gave the flag on the command line.
func flagSet(fs *pflag.FlagSet, name string) bool {
	f := fs.Lookup(name)
	return f != nil && f.Changed
}
