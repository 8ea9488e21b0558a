package cmd

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"github.com/spf13/viper"
)

// Configuration: every flag can also come from the environment
// (OSCLI_<FLAG>, dashes as underscores: OSCLI_PORT, OSCLI_MAX_PACKET) or the
// config file (a top-level key, or one under the command's name, which
// wins), with precedence flag > env > file > default. The file also holds
// named targets:
//
//	port: 9000
//	dump:
//	  time: utc
//	targets:
//	  mixer: osc.udp://192.168.1.20:10023

// loadConfig reads the config file: --config FILE (which must exist), else
// $XDG_CONFIG_HOME/oscli/config.yaml (or ~/.config/oscli/config.yaml) if
// present. It returns an empty instance when there is none.
func loadConfig(env *Env, explicit string) (*viper.Viper, error) {
	v := viper.New()
	path := explicit
	if path == "" {
		path = env.Getenv("OSCLI_CONFIG")
	}
	if path == "" {
		dir := env.Getenv("XDG_CONFIG_HOME")
		if dir == "" {
			if home := env.Getenv("HOME"); home != "" {
				dir = filepath.Join(home, ".config")
			}
		}
		if dir == "" {
			return v, nil
		}
		path = filepath.Join(dir, "oscli", "config.yaml")
		if _, err := os.Stat(path); err != nil {
			return v, nil
		}
	}
	v.SetConfigFile(path)
	if ext := filepath.Ext(path); ext == "" {
		v.SetConfigType("yaml")
	}
	if err := v.ReadInConfig(); err != nil {
		var nf viper.ConfigFileNotFoundError
		if errors.As(err, &nf) || os.IsNotExist(err) {
			return nil, usageErrorf("config file %s does not exist", path)
		}
		return nil, usageErrorf("config file %s: %v", path, err)
	}
	return v, nil
}

// applyConfig fills the flags the user did not set from the environment,
// then from the config file.
func applyConfig(c *cobra.Command, env *Env, v *viper.Viper) error {
	var errs []error
	c.Flags().VisitAll(func(f *pflag.Flag) {
		if f.Changed || f.Name == "help" || f.Name == "config" {
			return
		}
		envName := "OSCLI_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if val := env.Getenv(envName); val != "" {
			if err := setFlag(f, []string{val}, true); err != nil {
				errs = append(errs, fmt.Errorf("%s=%q: %v", envName, val, err))
			}
			markConfigured(f)
			return
		}
		for _, key := range []string{c.Name() + "." + f.Name, f.Name} {
			if v.IsSet(key) && !isMap(v.Get(key)) {
				if err := setFlag(f, v.GetStringSlice(key), false); err != nil {
					errs = append(errs, fmt.Errorf("config %s: %v", key, err))
				}
				markConfigured(f)
				return
			}
		}
	})
	if len(errs) > 0 {
		return &usageError{err: errors.Join(errs...)}
	}
	return nil
}

func isMap(x any) bool {
	_, ok := x.(map[string]any)
	return ok
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

// lookupTarget resolves @name from the config file's targets map.
func lookupTarget(v *viper.Viper, name string) (string, error) {
	targets := v.GetStringMapString("targets")
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

// markConfigured notes that a flag's value came from the environment or
// the config file.
func markConfigured(f *pflag.Flag) {
	if f.Annotations == nil {
		f.Annotations = map[string][]string{}
	}
	f.Annotations[configuredKey] = []string{"true"}
}

// fromConfig reports whether a flag's value came from the environment or
// the config file (not the command line, not the default).
func fromConfig(fs *pflag.FlagSet, name string) bool {
	f := fs.Lookup(name)
	return f != nil && f.Annotations[configuredKey] != nil
}
