// Package config decides what oscli's settings from the environment and
// the config file do: it checks every key of the file and every OSCLI_
// variable against a schema of the commands and their flags, phrases one
// warning per key that cannot be used, and resolves the values the running
// command's unset flags take, with where each came from.
//
// A flag the user did not give comes from the environment, else from the
// config file, else its default (flag > env > file > default). Settings
// are scoped by command, because one flag name means different things in
// different commands (dump --format is the output format, replay --format
// the recording's; replay --loop counts plays):
//
//   - The shared settings (Schema.Shared: host, port, proto, color and
//     verbose) mean the same in every command. They may sit at the top
//     level of the file and come from OSCLI_<FLAG> (OSCLI_PORT).
//   - Every other flag belongs to one command: its section of the file
//     (dump: time: utc) or OSCLI_<COMMAND>_<FLAG> (OSCLI_DUMP_TIME=utc),
//     dashes as underscores.
//   - A shared setting may be scoped too (dump: port: 9000,
//     OSCLI_DUMP_PORT=9000); within one source the scoped value wins. The
//     environment beats the file whatever the scope.
//   - targets: at the top level names destinations for @name.
//
// Every command reads the file, so a mistake in it (an unknown key, a
// command's flag at the top level, a section for an unknown command, a
// wrongly typed value) is one warning and the key is ignored: it must not
// break commands it was not meant for. An environment variable is set for
// the run at hand, so a bad value there is an error naming it.
//
// The package does not find, read or decode the file (the caller passes
// its top-level keys and values as plain data, as YAML or JSON
// decoders give them), does not print, and knows nothing of cobra or
// pflag: it does not set flags, it returns the strings to set them to.
package config

import (
	"fmt"
	"sort"
	"strings"

	"github.com/oscli/oscli/internal/suggest"
)

// MaxFile is the largest config file oscli reads: 1 MiB, thousands of
// times a real one, so a wrong --config (a log, /dev/zero) fails at once
// instead of filling memory. The reader enforces it.
const MaxFile = 1 << 20

// Kind is the type of value a flag takes, for checking values before they
// reach the flag.
type Kind int

// The kinds of flag values.
const (
	String   Kind = iota // any single value
	Bool                 // true or false, as strconv.ParseBool
	Int                  // a whole number, as strconv.ParseInt with base 0
	Float                // a number, as strconv.ParseFloat
	Duration             // a duration, as time.ParseDuration
	List                 // a value or a list of values (a repeatable flag)
)

// Flag describes one configurable flag of a command.
type Flag struct {
	Name  string
	Kind  Kind
	Words []string // when not nil, the only values the flag takes
}

// Command is a command with settings of its own: it has a section in the
// file and OSCLI_<COMMAND>_ variables.
type Command struct {
	Name string
	// Flags are all the flags the command takes from the environment or
	// the file, the shared ones included.
	Flags []Flag
}

// Schema is what can be configured.
type Schema struct {
	Commands []Command
	// Shared names the settings that mean the same in every command that
	// has them: top-level keys of the file and OSCLI_<FLAG>.
	Shared []string
}

// Input is what Resolve works from.
type Input struct {
	Schema Schema
	// File holds the config file's top-level keys and their values as
	// decoded: nested maps are map[string]any, lists []any, scalars
	// strings, bools, numbers or time.Time. It is nil without a file.
	File map[string]any
	// Path is the file's path, for messages.
	Path string
	// Getenv looks up environment variables ("" for unset).
	Getenv func(string) string
	// Environ names the OSCLI_ variables that are set, so that one naming
	// no setting (OSCLI_DUMP_TIMOUT) gets a warning; nil when unknown.
	Environ []string
	// Command is the name of the command that runs, and Flags its flags
	// the user did not set on the command line, in the order to resolve
	// them. The command need not be in Schema: then it takes only shared
	// settings.
	Command string
	Flags   []Flag
}

// Result is what Resolve decided.
type Result struct {
	// Warnings are one line each (without a "warning:" prefix) about a key
	// of the file or an environment variable that is ignored.
	Warnings []string
	// Settings are the values for the running command's flags, in the
	// order of Input.Flags; a flag without one is absent.
	Settings []Setting
	// Targets are the file's usable named targets, by name.
	Targets map[string]string
}

// Setting is the value one flag takes from the environment or the file.
type Setting struct {
	Flag string
	// Values is the variable's value, or the file's value: one, or the
	// items of a list for a List flag.
	Values []string
	// Env names the variable the value came from; Key names the file's
	// key ("dump.time") when it came from the file.
	Env, Key string
	// Err says why the variable's value does not fit the flag
	// (`OSCLI_DUMP_COUNT is "abc", not a whole number`); the flag then
	// takes no value.
	Err error
}

// Resolve checks the whole file and the environment against the schema,
// whichever command runs, and resolves the running command's flags: from
// OSCLI_<COMMAND>_<FLAG> (when the command has settings of its own),
// OSCLI_<FLAG> (shared settings only), the file's section for the command,
// then the file's top level (shared settings only).
func Resolve(in Input) Result {
	getenv := in.Getenv
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	s := newSchema(in.Schema)
	values, warns := s.checkFile(in.File, in.Path)
	warns = append(warns, s.strayEnv(getenv)...)
	warns = append(warns, s.unknownEnv(in.Environ)...)
	return Result{
		Warnings: warns,
		Settings: s.resolve(in.Command, in.Flags, values, getenv),
		Targets:  Targets(in.File),
	}
}

// schema is a Schema indexed for look-ups.
type schema struct {
	names  []string // commands, sorted
	flags  map[string]map[string]Flag
	shared map[string]bool
}

func newSchema(in Schema) *schema {
	s := &schema{flags: map[string]map[string]Flag{}, shared: map[string]bool{}}
	for _, c := range in.Commands {
		if s.flags[c.Name] == nil {
			s.names = append(s.names, c.Name)
			s.flags[c.Name] = map[string]Flag{}
		}
		for _, f := range c.Flags {
			s.flags[c.Name][f.Name] = f
		}
	}
	sort.Strings(s.names)
	for _, name := range in.Shared {
		s.shared[name] = true
	}
	return s
}

// flag returns a command's flag.
func (s *schema) flag(command, name string) (Flag, bool) {
	f, ok := s.flags[command][name]
	return f, ok
}

// sharedFlag returns the flag for a shared setting at the top level (it is
// alike in every command that has it).
func (s *schema) sharedFlag(name string) (Flag, bool) {
	if !s.shared[name] {
		return Flag{}, false
	}
	if with := s.commandsWith(name); len(with) > 0 {
		return s.flag(with[0], name)
	}
	return Flag{}, false
}

// commandsWith lists, sorted, the commands that have a flag name.
func (s *schema) commandsWith(name string) []string {
	var out []string
	for _, c := range s.names {
		if _, ok := s.flags[c][name]; ok {
			out = append(out, c)
		}
	}
	return out
}

// values are the file's values that passed the checks: by section ("" for
// the top level), then flag name.
type values map[string]map[string][]string

func (v values) set(section, name string, vals []string) {
	if v[section] == nil {
		v[section] = map[string][]string{}
	}
	v[section][name] = vals
}

// checkFile checks every key of the file and returns what can be used and
// one warning per key that cannot.
func (s *schema) checkFile(file map[string]any, path string) (values, []string) {
	vals := values{}
	var warns []string
	warn := func(format string, a ...any) {
		warns = append(warns, fmt.Sprintf("config %s: ", path)+fmt.Sprintf(format, a...))
	}
	check := func(section string, f Flag, raw any) {
		v, err := fileValues(f, raw)
		if err != nil {
			warn("%q is %v; ignored", key(section, f.Name), err)
			return
		}
		vals.set(section, f.Name, v)
	}
	for _, top := range sortedKeys(file) {
		raw := file[top]
		sec, isMap := raw.(map[string]any)
		_, isCommand := s.flags[top]
		shared, isShared := s.sharedFlag(top)
		switch {
		case top == "targets":
			if !isMap {
				warn("%q is %s, not a map of names to targets; ignored", top, describe(raw))
				break
			}
			for _, name := range sortedKeys(sec) {
				if t, ok := scalarString(sec[name]); !ok || t == "" {
					warn("%q is %s, not a target (udp://host:port); ignored", key(top, name), describe(sec[name]))
				}
			}
		case isShared:
			check("", shared, raw)
		case isCommand:
			if !isMap {
				warn("%q is %s, not a section of %s settings; ignored", top, describe(raw), top)
				break
			}
			for _, name := range sortedKeys(sec) {
				f, ok := s.flag(top, name)
				switch others := s.commandsWith(name); {
				case ok:
					check(top, f, sec[name])
				case name == "targets":
					warn("%q: targets: belongs at the top level; ignored", key(top, name))
				case len(others) > 0:
					warn("%q: %s has no --%s; put it under %s", key(top, name), top, name, sectionList(others))
				default:
					warn("%q: %s has no --%s; ignored", key(top, name), top, name)
				}
			}
		default:
			switch others := s.commandsWith(top); {
			case len(others) > 0:
				warn("%q at the top level is not a shared setting; put it under a command (%s)", top, sectionList(others))
			case isMap:
				warn("%q is not a command with settings (%s); ignored", top+":", sectionList(s.names))
			default:
				warn("%q is not a setting of any command; ignored", top)
			}
		}
	}
	return vals, warns
}

// strayEnv warns about OSCLI_<FLAG> for a flag that is not shared: it is
// ignored, and the user most likely meant OSCLI_<COMMAND>_<FLAG>.
func (s *schema) strayEnv(getenv func(string) string) []string {
	owners := map[string][]string{}
	for _, c := range s.names {
		for name := range s.flags[c] {
			if !s.shared[name] {
				owners[name] = append(owners[name], c)
			}
		}
	}
	var warns []string
	for _, f := range sortedKeys(owners) {
		name := envName("", f)
		if getenv(name) == "" {
			continue
		}
		scoped := make([]string, len(owners[f]))
		for i, c := range owners[f] {
			scoped[i] = envName(c, f)
		}
		warns = append(warns, fmt.Sprintf("%s is not a shared setting and is ignored; use %s", name, strings.Join(scoped, " or ")))
	}
	return warns
}

// unknownEnv warns about each variable of names that is no setting but
// looks meant as one: a command's with a misspelt flag (OSCLI_DUMP_TIMOUT)
// or one close to a setting (OSCLI_PROT), with the variables it may have
// meant. Others (OSCLI_REQUIRE_PEERS) may be another tool's and pass. OSCLI_<FLAG> of a command's flag is strayEnv's.
func (s *schema) unknownEnv(names []string) []string {
	known := map[string]bool{"OSCLI_CONFIG": true}
	var all []string
	add := func(name string, suggestable bool) {
		if !known[name] {
			known[name] = true
			if suggestable {
				all = append(all, name)
			}
		}
	}
	for _, name := range sortedKeys(s.shared) {
		add(envName("", name), true)
	}
	for _, c := range s.names {
		for _, f := range sortedKeys(s.flags[c]) {
			add(envName(c, f), true)
			add(envName("", f), false)
		}
	}
	var warns []string
	for _, name := range sortedKeys(setOf(names)) {
		if known[name] {
			continue
		}
		msg := ""
		for _, c := range s.names {
			if flag, ok := strings.CutPrefix(name, envName(c, "")); ok && flag != "" {
				msg = fmt.Sprintf("%s: %s has no --%s; ignored", name, c, strings.ReplaceAll(strings.ToLower(flag), "_", "-"))
				break
			}
		}
		near := suggest.Closest(name, all)
		if msg == "" && len(near) == 0 {
			// Neither a command's nor close to a setting: some other
			// tool's (a test suite's OSCLI_REQUIRE_PEERS), not a typo.
			continue
		}
		if msg == "" {
			msg = name + " is not a setting of oscli; ignored"
		}
		if len(near) > 0 {
			msg += " (did you mean " + strings.Join(near, " or ") + "?)"
		}
		warns = append(warns, msg)
	}
	return warns
}

func setOf(names []string) map[string]bool {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[n] = true
	}
	return m
}

// resolve finds each flag's value: the first variable set, else the first
// section of the file that has it.
func (s *schema) resolve(command string, flags []Flag, vals values, getenv func(string) string) []Setting {
	_, scoped := s.flags[command]
	var out []Setting
	for _, f := range flags {
		var vars, sections []string
		if scoped {
			vars, sections = append(vars, envName(command, f.Name)), append(sections, command)
		}
		if s.shared[f.Name] {
			vars, sections = append(vars, envName("", f.Name)), append(sections, "")
		}
		if st, ok := fromEnv(f, vars, getenv); ok {
			out = append(out, st)
			continue
		}
		for _, sec := range sections {
			if v, ok := vals[sec][f.Name]; ok {
				out = append(out, Setting{Flag: f.Name, Values: v, Key: key(sec, f.Name)})
				break
			}
		}
	}
	return out
}

// fromEnv takes a flag's value from the first of vars that is set.
func fromEnv(f Flag, vars []string, getenv func(string) string) (Setting, bool) {
	for _, name := range vars {
		val := getenv(name)
		if val == "" {
			continue
		}
		st := Setting{Flag: f.Name, Values: []string{val}, Env: name}
		if err := checkValue(f, val); err != nil {
			st.Values, st.Err = nil, fmt.Errorf("%s is %w", name, err)
		}
		return st, true
	}
	return Setting{}, false
}

// Targets returns the file's usable named targets: the string values of
// its targets: map (Resolve warns about the others).
func Targets(file map[string]any) map[string]string {
	m, _ := file["targets"].(map[string]any)
	out := make(map[string]string, len(m))
	for name, x := range m {
		if s, ok := scalarString(x); ok && s != "" {
			out[name] = s
		}
	}
	return out
}

// EnvName is the variable for a flag: OSCLI_<FLAG> when command is "",
// else OSCLI_<COMMAND>_<FLAG>, dashes as underscores (the man pages list
// them with it).
func EnvName(command, flag string) string { return envName(command, flag) }

func envName(command, flag string) string {
	name := flag
	if command != "" {
		name = command + "_" + flag
	}
	return "OSCLI_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
}

// key names a setting the way the messages do: "port", "dump.time".
func key(section, name string) string {
	if section == "" {
		return name
	}
	return section + "." + name
}

// sectionList formats command names as the file's sections: "dump:, replay:".
func sectionList(names []string) string {
	return strings.Join(names, ":, ") + ":"
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
