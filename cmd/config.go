package cmd

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"github.com/spf13/viper"
)

// Configuration: a flag the user did not give comes from the environment,
// else from the config file, else its default (flag > env > file >
// default). Settings are scoped by command, because one flag name means
// different things in different commands (dump --format is the output
// format, replay --format the recording's; replay --loop counts plays):
//
//   - The shared settings, host, port, proto, color and verbose, mean the
//     same in every command. They may sit at the top level of the file and
//     come from OSCLI_HOST, OSCLI_PORT, OSCLI_PROTO, OSCLI_COLOR and
//     OSCLI_VERBOSE.
//   - Every other flag belongs to one command: its section of the file
//     (dump: time: utc) or OSCLI_<COMMAND>_<FLAG> (OSCLI_DUMP_TIME=utc),
//     dashes as underscores.
//   - A shared setting may be scoped too (dump: port: 9000,
//     OSCLI_DUMP_PORT=9000); within one source the scoped value wins. The
//     environment beats the file whatever the scope.
//
// Every command reads the file, so a mistake in it (an unknown key, a
// command's flag at the top level, a section for an unknown command, a
// wrongly typed value) is one warning line and the key is ignored: it must
// not break commands it was not meant for. An environment variable is set
// for the run at hand, so a bad value there is a usage error naming it.
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

// configure is the root's pre-run: it reads the config file, warns once
// about what in it (or in the environment) cannot be used, and fills the
// flags of c the user did not set.
func configure(c *cobra.Command, env *Env) error {
	v, err := loadConfig(env, env.configPath)
	if err != nil {
		return err
	}
	env.v = v
	root := c.Root()
	cmds := configurable(root)
	s, warns := checkConfig(v, root, cmds)
	warns = append(warns, strayEnv(env.Getenv, cmds)...)
	for _, w := range warns {
		fmt.Fprintf(env.Err, "oscli: warning: %s\n", w)
	}
	return applyConfig(c, env, s, cmds[c.Name()] == c)
}

// isShared reports whether a flag means the same in every command, so that
// it may be set at the top level of the file and by OSCLI_<FLAG>.
func isShared(name string) bool {
	switch name {
	case "host", "port", "proto", "color", "verbose":
		return true
	}
	return false
}

// isSetting reports whether a flag can be configured at all.
func isSetting(f *pflag.Flag) bool {
	return f.Name != "help" && f.Name != "config" && !f.Hidden
}

// configurable returns the commands that have settings of their own, by
// name: each has a section in the file and OSCLI_<COMMAND>_ variables.
func configurable(root *cobra.Command) map[string]*cobra.Command {
	cmds := map[string]*cobra.Command{}
	for _, sub := range root.Commands() {
		sub.Flags().VisitAll(func(f *pflag.Flag) {
			if isSetting(f) && root.PersistentFlags().Lookup(f.Name) == nil {
				cmds[sub.Name()] = sub
			}
		})
	}
	return cmds
}

// settingFlag returns command c's flag for a setting name, or nil.
func settingFlag(c *cobra.Command, name string) *pflag.Flag {
	f := c.Flags().Lookup(name)
	if f == nil {
		f = c.Root().PersistentFlags().Lookup(name)
	}
	if f == nil || !isSetting(f) {
		return nil
	}
	return f
}

// sharedFlag returns the flag for a shared setting (they are alike in
// every command that has them).
func sharedFlag(root *cobra.Command, cmds map[string]*cobra.Command, name string) *pflag.Flag {
	if f := settingFlag(root, name); f != nil {
		return f
	}
	if with := commandsWith(cmds, name); len(with) > 0 {
		return settingFlag(cmds[with[0]], name)
	}
	return nil
}

// commandsWith lists, sorted, the commands that have a flag name.
func commandsWith(cmds map[string]*cobra.Command, name string) []string {
	var out []string
	for n, c := range cmds {
		if settingFlag(c, name) != nil {
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out
}

// sectionList formats command names as the file's sections: "dump:, replay:".
func sectionList(names []string) string {
	return strings.Join(names, ":, ") + ":"
}

// envName is the variable for a flag: OSCLI_<FLAG>, or
// OSCLI_<COMMAND>_<FLAG> when scoped to a command.
func envName(command, flag string) string {
	name := flag
	if command != "" {
		name = command + "_" + flag
	}
	return "OSCLI_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
}

// settings are the config file's values that passed the checks: by section
// ("" for the top level), then flag name.
type settings struct {
	file   string
	values map[string]map[string][]string
}

func (s *settings) set(section, name string, vals []string) {
	if s.values[section] == nil {
		s.values[section] = map[string][]string{}
	}
	s.values[section][name] = vals
}

// settingKey names a setting the way the warnings do: "port", "dump.time".
func settingKey(section, name string) string {
	if section == "" {
		return name
	}
	return section + "." + name
}

// checkConfig checks the whole file against the command tree, whichever
// command runs, and returns what can be used and one warning per key that
// cannot.
func checkConfig(v *viper.Viper, root *cobra.Command, cmds map[string]*cobra.Command) (*settings, []string) {
	s := &settings{file: v.ConfigFileUsed(), values: map[string]map[string][]string{}}
	var warns []string
	warn := func(format string, a ...any) {
		warns = append(warns, fmt.Sprintf("config %s: ", s.file)+fmt.Sprintf(format, a...))
	}
	names := make([]string, 0, len(cmds))
	for n := range cmds {
		names = append(names, n)
	}
	sort.Strings(names)
	check := func(section string, f *pflag.Flag, raw any) {
		vals, err := configValues(f, section, raw)
		if err != nil {
			warn("%q is %v; ignored", settingKey(section, f.Name), err)
			return
		}
		s.set(section, f.Name, vals)
	}
	for _, top := range topKeys(v) {
		raw := v.Get(top)
		sec, isMap := raw.(map[string]any)
		switch {
		case top == "targets":
			if !isMap {
				warn("%q is %s, not a map of names to targets; ignored", top, describeValue(raw))
				break
			}
			for _, name := range sortedKeys(sec) {
				if t, ok := scalarString(sec[name]); !ok || t == "" {
					warn("%q is %s, not a target (udp://host:port); ignored", settingKey(top, name), describeValue(sec[name]))
				}
			}
		case isShared(top) && sharedFlag(root, cmds, top) != nil:
			check("", sharedFlag(root, cmds, top), raw)
		case cmds[top] != nil:
			if !isMap {
				warn("%q is %s, not a section of %s settings; ignored", top, describeValue(raw), top)
				break
			}
			for _, name := range sortedKeys(sec) {
				switch others := commandsWith(cmds, name); {
				case settingFlag(cmds[top], name) != nil:
					check(top, settingFlag(cmds[top], name), sec[name])
				case name == "targets":
					warn("%q: targets: belongs at the top level; ignored", settingKey(top, name))
				case len(others) > 0:
					warn("%q: %s has no --%s; put it under %s", settingKey(top, name), top, name, sectionList(others))
				default:
					warn("%q: %s has no --%s; ignored", settingKey(top, name), top, name)
				}
			}
		default:
			switch others := commandsWith(cmds, top); {
			case len(others) > 0:
				warn("%q at the top level is not a shared setting; put it under a command (%s)", top, sectionList(others))
			case isMap:
				warn("%q is not a command with settings (%s); ignored", top+":", sectionList(names))
			default:
				warn("%q is not a setting of any command; ignored", top)
			}
		}
	}
	return s, warns
}

// topKeys lists the file's top-level keys, sorted (viper flattens nested
// maps into dotted keys).
func topKeys(v *viper.Viper) []string {
	seen := map[string]bool{}
	var keys []string
	for _, k := range v.AllKeys() {
		top, _, _ := strings.Cut(k, ".")
		if !seen[top] {
			seen[top] = true
			keys = append(keys, top)
		}
	}
	sort.Strings(keys)
	return keys
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// strayEnv warns about OSCLI_<FLAG> for a flag that is not shared: it is
// ignored, and the user most likely meant OSCLI_<COMMAND>_<FLAG>.
func strayEnv(getenv func(string) string, cmds map[string]*cobra.Command) []string {
	owners := map[string][]string{}
	for name, c := range cmds {
		c.Flags().VisitAll(func(f *pflag.Flag) {
			if isSetting(f) && !isShared(f.Name) {
				owners[f.Name] = append(owners[f.Name], name)
			}
		})
	}
	flags := make([]string, 0, len(owners))
	for f := range owners {
		flags = append(flags, f)
	}
	sort.Strings(flags)
	var warns []string
	for _, f := range flags {
		name := envName("", f)
		if getenv(name) == "" {
			continue
		}
		sort.Strings(owners[f])
		scoped := make([]string, len(owners[f]))
		for i, c := range owners[f] {
			scoped[i] = envName(c, f)
		}
		warns = append(warns, fmt.Sprintf("%s is not a shared setting and is ignored; use %s", name, strings.Join(scoped, " or ")))
	}
	return warns
}

// applyConfig fills the flags of c the user did not set: from
// OSCLI_<COMMAND>_<FLAG> (when c has settings), OSCLI_<FLAG> (shared flags
// only), the file's section for c, then the file's top level (shared flags
// only).
func applyConfig(c *cobra.Command, env *Env, s *settings, scoped bool) error {
	var errs []error
	c.Flags().VisitAll(func(f *pflag.Flag) {
		if f.Changed || !isSetting(f) {
			return
		}
		var vars, sections []string
		if scoped {
			vars, sections = append(vars, envName(c.Name(), f.Name)), append(sections, c.Name())
		}
		if isShared(f.Name) {
			vars, sections = append(vars, envName("", f.Name)), append(sections, "")
		}
		for _, name := range vars {
			val := env.Getenv(name)
			if val == "" {
				continue
			}
			if err := checkValue(f, c.Name(), val); err != nil {
				errs = append(errs, fmt.Errorf("%s is %w", name, err))
				return
			}
			if err := setFlag(f, []string{val}, true); err != nil {
				errs = append(errs, fmt.Errorf("%s=%q: %w", name, val, err))
				return
			}
			markConfigured(f, name)
			return
		}
		for _, sec := range sections {
			if vals, ok := s.values[sec][f.Name]; ok {
				if err := setFlag(f, vals, false); err != nil {
					errs = append(errs, fmt.Errorf("config %s: %s: %w", s.file, settingKey(sec, f.Name), err))
					return
				}
				markConfigured(f, fmt.Sprintf("%s in config %s", settingKey(sec, f.Name), s.file))
				return
			}
		}
	})
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

// configValues turns a value from the file into the flag's values, or says
// why it does not fit: `"abc", not a whole number`.
func configValues(f *pflag.Flag, command string, raw any) ([]string, error) {
	if list, ok := raw.([]any); ok && isSliceFlag(f) {
		vals := make([]string, 0, len(list))
		for _, x := range list {
			s, ok := scalarString(x)
			if !ok {
				return nil, fmt.Errorf("a list holding %s, not %s", describeValue(x), flagWants(f, command))
			}
			if err := checkValue(f, command, s); err != nil {
				return nil, err
			}
			vals = append(vals, s)
		}
		return vals, nil
	}
	s, ok := scalarString(raw)
	if !ok {
		return nil, fmt.Errorf("%s, not %s", describeValue(raw), flagWants(f, command))
	}
	return []string{s}, checkValue(f, command, s)
}

// checkValue checks a value against the flag's type and, for flags that
// take one of a few words, those words. It parses as pflag does; it exists
// because a failed pflag Set may still change the flag.
func checkValue(f *pflag.Flag, command, s string) error {
	var err error
	switch f.Value.Type() {
	case "bool":
		_, err = strconv.ParseBool(s)
	case "int", "int64":
		_, err = strconv.ParseInt(s, 0, 64)
	case "float64":
		_, err = strconv.ParseFloat(s, 64)
	case "duration":
		_, err = time.ParseDuration(s)
	}
	vals := enumValues(command, f.Name)
	if err != nil || vals != nil && !slices.Contains(vals, s) {
		return fmt.Errorf("%q, not %s", s, flagWants(f, command))
	}
	return nil
}

// flagWants says what a flag takes, for messages.
func flagWants(f *pflag.Flag, command string) string {
	if vals := enumValues(command, f.Name); vals != nil {
		return "one of " + strings.Join(vals, ", ")
	}
	switch f.Value.Type() {
	case "bool":
		return "true or false"
	case "int", "int64":
		return "a whole number"
	case "float64":
		return "a number"
	case "duration":
		return "a duration (500ms, 2s)"
	}
	if isSliceFlag(f) {
		return "a value or a list of values"
	}
	return "a single value"
}

// describeValue names a value from the file for messages.
func describeValue(raw any) string {
	switch raw.(type) {
	case nil:
		return "empty"
	case map[string]any:
		return "a section"
	case []any:
		return "a list"
	}
	s, _ := scalarString(raw)
	return strconv.Quote(s)
}

// scalarString writes a YAML, TOML or JSON scalar as it would be typed on
// the command line.
func scalarString(x any) (string, bool) {
	switch x := x.(type) {
	case string:
		return x, true
	case bool:
		return strconv.FormatBool(x), true
	case int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64:
		return fmt.Sprint(x), true
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < 1<<53 {
			return strconv.FormatInt(int64(x), 10), true // JSON numbers are float64
		}
		return strconv.FormatFloat(x, 'g', -1, 64), true
	case float32:
		return scalarString(float64(x))
	case time.Time:
		return x.Format(time.RFC3339Nano), true // YAML reads a bare RFC 3339 time as a timestamp
	}
	return "", false
}

// targetMap returns the file's usable named targets (checkConfig warned
// about the others).
func targetMap(v *viper.Viper) map[string]string {
	m, _ := v.Get("targets").(map[string]any)
	out := make(map[string]string, len(m))
	for name, x := range m {
		if s, ok := scalarString(x); ok && s != "" {
			out[name] = s
		}
	}
	return out
}

// lookupTarget resolves @name from the config file's targets map.
func lookupTarget(v *viper.Viper, name string) (string, error) {
	targets := targetMap(v)
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
