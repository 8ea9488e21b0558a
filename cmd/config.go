package cmd

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/oscli/oscli/internal/config"
)

// Configuration: a flag the user did not give comes from the environment,
// else from the config file, else its default. internal/config holds the
// rules (shared settings, per-command sections and OSCLI_<COMMAND>_<FLAG>,
// which value wins, what is a warning); this file reads the file,
// describes the command tree to it, prints its warnings and sets the flags
// it resolves.
//
//	port: 9000
//	dump:
//	  time: utc
//	targets:
//	  mixer: osc.udp://192.168.1.20:10023

// oscliVars lists the names of the OSCLI_ variables that are set (not
// empty), or reports false when the environment cannot be listed.
func oscliVars(env *Env) ([]string, bool) {
	if env.Environ == nil {
		return nil, false
	}
	var names []string
	for _, kv := range env.Environ() {
		if name, val, _ := strings.Cut(kv, "="); strings.HasPrefix(name, "OSCLI_") && val != "" {
			names = append(names, name)
		}
	}
	return names, true
}

// configure is the root's pre-run: it reads the config file, warns once
// about what in it (or in the environment) cannot be used, and fills the
// flags of c the user did not set.
func configure(c *cobra.Command, env *Env) error {
	vars, listed := oscliVars(env)
	if listed && len(vars) == 0 && configFile(env, env.configPath) == "" {
		// Nothing but the command line and the defaults: the usual case,
		// and a one-shot send's start-up, decided without the YAML parser
		// or the settings' schema.
		return nil
	}
	file, err := loadConfig(env, env.configPath)
	if err != nil {
		return err
	}
	var unset []config.Flag
	c.Flags().VisitAll(func(f *pflag.Flag) {
		if !f.Changed && isSetting(f) {
			unset = append(unset, flagSpec(c.Name(), f))
		}
	})
	path := file.Path
	root := c.Root()
	if env.partialTree {
		// The file and the environment are checked against every
		// command's flags, not only the running one's.
		root = newRootCmd(&Env{Getenv: env.Getenv, Clock: env.Clock})
	}
	res := config.Resolve(config.Input{
		Schema:  schema(root),
		File:    file.Settings,
		Path:    path,
		Getenv:  env.Getenv,
		Environ: vars,
		Command: c.Name(),
		Flags:   unset,
	})
	env.targets = res.Targets
	for _, w := range res.Warnings {
		fprintSafe(env.Err, "oscli: warning: %s\n", w)
	}
	return applySettings(c.Flags(), res.Settings, path)
}

// isSetting reports whether a flag can be configured at all.
func isSetting(f *pflag.Flag) bool {
	return f.Name != "help" && f.Name != "config" && !f.Hidden
}

// schema describes the command tree to internal/config: every command
// with settings of its own (a flag that is not the root's), with all the
// flags it takes from the environment or the file, the root's included.
func schema(root *cobra.Command) config.Schema {
	s := config.Schema{Shared: []string{"host", "port", "proto", "color", "verbose"}}
	for _, sub := range root.Commands() {
		own := false
		var flags []config.Flag
		sub.Flags().VisitAll(func(f *pflag.Flag) {
			if isSetting(f) {
				flags = append(flags, flagSpec(sub.Name(), f))
				own = own || root.PersistentFlags().Lookup(f.Name) == nil
			}
		})
		root.PersistentFlags().VisitAll(func(f *pflag.Flag) {
			if isSetting(f) && sub.Flags().Lookup(f.Name) == nil {
				flags = append(flags, flagSpec(sub.Name(), f))
			}
		})
		if own {
			s.Commands = append(s.Commands, config.Command{Name: sub.Name(), Flags: flags})
		}
	}
	return s
}

// flagSpec describes a flag of a command: the kind of value its pflag type
// parses and, for flags that take one of a few words, those words.
func flagSpec(command string, f *pflag.Flag) config.Flag {
	kind := config.String
	switch f.Value.Type() {
	case "bool":
		kind = config.Bool
	case "int", "int64":
		kind = config.Int
	case "float64":
		kind = config.Float
	case "duration":
		kind = config.Duration
	default:
		if isSliceFlag(f) {
			kind = config.List
		}
	}
	return config.Flag{Name: f.Name, Kind: kind, Words: enumValues(command, f.Name)}
}

// applySettings sets the flags internal/config resolved and notes where
// each value came from.
func applySettings(fs *pflag.FlagSet, settings []config.Setting, path string) error {
	var errs []error
	for _, s := range settings {
		f := fs.Lookup(s.Flag)
		switch {
		case s.Err != nil:
			errs = append(errs, s.Err)
		case s.Env != "":
			if err := setFlag(f, s.Values, true); err != nil {
				errs = append(errs, fmt.Errorf("%s=%q: %w", s.Env, s.Values[0], err))
				continue
			}
			markConfigured(f, s.Env)
		default:
			if err := setFlag(f, s.Values, false); err != nil {
				errs = append(errs, fmt.Errorf("config %s: %s: %w", path, s.Key, err))
				continue
			}
			markConfigured(f, fmt.Sprintf("%s in config %s", s.Key, path))
		}
	}
	if len(errs) > 0 {
		return &usageError{err: errors.Join(errs...)}
	}
	return nil
}

// setFlag sets a flag from outside the command line. Slice flags take each
// value (a comma-separated env value is split by the flag itself).
func setFlag(f *pflag.Flag, vals []string, fromEnv bool) error {
	if sv, ok := f.Value.(pflag.SliceValue); ok {
		if fromEnv {
			return f.Value.Set(vals[0])
		}
		return sv.Replace(vals)
	}
	if len(vals) != 1 {
		return fmt.Errorf("want one value, got %d", len(vals))
	}
	return f.Value.Set(vals[0])
}

func isSliceFlag(f *pflag.Flag) bool {
	_, ok := f.Value.(pflag.SliceValue)
	return ok
}

// lookupTarget resolves @name from the config file's targets.
func lookupTarget(targets map[string]string, name string) (string, error) {
	if s, ok := targets[strings.ToLower(name)]; ok {
		return s, nil
	}
	names := make([]string, 0, len(targets))
	for n := range targets {
		names = append(names, "@"+n)
	}
	sort.Strings(names)
	hint := "define it under targets: in the config file"
	if len(names) > 0 {
		hint = "known targets: " + strings.Join(names, ", ")
	}
	return "", &usageError{err: fmt.Errorf("unknown target @%s", name), hint: hint}
}

const configuredKey = "oscli_configured"

// markConfigured notes where a flag's value came from: the environment
// variable, or the key in the config file.
func markConfigured(f *pflag.Flag, source string) {
	if f.Annotations == nil {
		f.Annotations = map[string][]string{}
	}
	f.Annotations[configuredKey] = []string{source}
}

// sourceHint gives a usage error that names a flag whose value came from
// the environment or the config file (--rate -1 from bench.rate, say) a
// hint saying where: the user did not type it.
func sourceHint(fs *pflag.FlagSet, err error) {
	var ue *usageError
	if !errors.As(err, &ue) || ue.hint != "" {
		return
	}
	var hints []string
	fs.VisitAll(func(f *pflag.Flag) {
		if src := f.Annotations[configuredKey]; src != nil && mentionsFlag(ue.Error(), f.Name) {
			hints = append(hints, fmt.Sprintf("--%s is set by %s", f.Name, src[0]))
		}
	})
	ue.hint = strings.Join(hints, "; ")
}

// mentionsFlag reports whether msg names --flag (not --flag-more).
func mentionsFlag(msg, flag string) bool {
	for rest := msg; ; {
		i := strings.Index(rest, "--"+flag)
		if i < 0 {
			return false
		}
		rest = rest[i+2+len(flag):]
		if rest == "" || !(rest[0] == '-' || rest[0] >= 'a' && rest[0] <= 'z' || rest[0] >= '0' && rest[0] <= '9') {
			return true
		}
	}
}

// fromConfig reports whether a flag's value came from the environment or
// the config file (not the command line, not the default).
func fromConfig(fs *pflag.FlagSet, name string) bool {
	f := fs.Lookup(name)
	return f != nil && f.Annotations[configuredKey] != nil
}
