package config

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

// testSchema is a small command tree: dump and replay share --format with
// different words, replay alone has --loop, and port and color are shared.
var testSchema = Schema{
	Shared: []string{"port", "color"},
	Commands: []Command{
		{Name: "replay", Flags: []Flag{
			{Name: "color", Words: []string{"auto", "never"}},
			{Name: "format", Words: []string{"json", "slip"}},
			{Name: "loop", Kind: Int},
			{Name: "port", Kind: Int},
			{Name: "speed", Kind: Float},
		}},
		{Name: "dump", Flags: []Flag{
			{Name: "color", Words: []string{"auto", "never"}},
			{Name: "filter", Kind: List},
			{Name: "format", Words: []string{"text", "json"}},
			{Name: "hex", Kind: Bool},
			{Name: "port", Kind: Int},
			{Name: "record", Kind: String},
			{Name: "timeout", Kind: Duration},
		}},
	},
}

// flagsOf returns a command's flags in the schema, as the running command's
// unset flags.
func flagsOf(command string) []Flag {
	for _, c := range testSchema.Commands {
		if c.Name == command {
			return c.Flags
		}
	}
	return []Flag{{Name: "color", Words: []string{"auto", "never"}}}
}

// Values arrive as YAML, TOML and JSON decoders give them and leave as
// they would be typed on the command line; what does not fit its flag is
// a warning naming the key.
func TestFileValues(t *testing.T) {
	tests := []struct {
		name  string
		file  map[string]any
		want  map[string][]string // flag → values, for dump
		warns []string
	}{
		{
			name: "scalars of every decoder",
			file: map[string]any{
				"port": float64(9000), // JSON
				"dump": map[string]any{
					"timeout": "1m30s",
					"hex":     true,
					"record":  time.Date(2026, 11, 21, 18, 0, 0, 5e8, time.UTC), // YAML timestamp
					"filter":  []any{"/a", int64(2), 0.5},                       // TOML int64
				},
			},
			want: map[string][]string{
				"filter": {"/a", "2", "0.5"}, "hex": {"true"}, "port": {"9000"},
				"record": {"2026-11-21T18:00:00.5Z"}, "timeout": {"1m30s"},
			},
		},
		{
			name: "one value for a list flag, a list for a single one",
			file: map[string]any{"dump": map[string]any{"filter": "/a", "record": []any{"x"}}},
			want: map[string][]string{"filter": {"/a"}},
			warns: []string{
				`config F: "dump.record" is a list, not a single value; ignored`,
			},
		},
		{
			name: "empty and mistyped values",
			file: map[string]any{
				"color":   nil,
				"port":    float64(1.5),
				"replay":  nil,
				"targets": "mixer",
				"dump":    map[string]any{"timeout": 5, "hex": "yes", "format": "slip", "filter": []any{[]any{"/a"}}},
			},
			warns: []string{
				`config F: "color" is empty, not one of auto, never; ignored`,
				`config F: "dump.filter" is a list holding a list, not a value or a list of values; ignored`,
				`config F: "dump.format" is "slip", not one of text, json; ignored`,
				`config F: "dump.hex" is "yes", not true or false; ignored`,
				`config F: "dump.timeout" is "5", a duration without a unit (did you mean 5s?); ignored`,
				`config F: "port" is "1.5", not a whole number; ignored`,
				`config F: "replay" is empty, not a section of replay settings; ignored`,
				`config F: "targets" is "mixer", not a map of names to targets; ignored`,
			},
		},
		{
			name: "keys no command has, and keys another command has",
			file: map[string]any{
				"speed": 2,
				"nope":  1,
				"tap":   map[string]any{},
				"dump":  map[string]any{"speed": 2, "nope": 1, "targets": map[string]any{}},
			},
			warns: []string{
				`config F: "dump.nope": dump has no --nope; ignored`,
				`config F: "dump.speed": dump has no --speed; put it under replay:`,
				`config F: "dump.targets": targets: belongs at the top level; ignored`,
				`config F: "nope" is not a setting of any command; ignored`,
				`config F: "speed" at the top level is not a shared setting; put it under a command (replay:)`,
				`config F: "tap:" is not a command with settings (dump:, replay:); ignored`,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := Resolve(Input{Schema: testSchema, File: tt.file, Path: "F", Command: "dump", Flags: flagsOf("dump")})
			if !reflect.DeepEqual(r.Warnings, tt.warns) {
				t.Errorf("warnings\n%s\nwant\n%s", strings.Join(r.Warnings, "\n"), strings.Join(tt.warns, "\n"))
			}
			got := map[string][]string{}
			for _, s := range r.Settings {
				got[s.Flag] = s.Values
			}
			if tt.want == nil {
				tt.want = map[string][]string{}
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("values %v, want %v", got, tt.want)
			}
		})
	}
}

// Each flag takes the first of OSCLI_<COMMAND>_<FLAG>, OSCLI_<FLAG>
// (shared only), the command's section and the top level (shared only),
// and says which it was.
func TestResolvePrecedence(t *testing.T) {
	file := map[string]any{
		"port":   7000,
		"color":  "never",
		"dump":   map[string]any{"port": 9000, "format": "json"},
		"replay": map[string]any{"loop": 3},
	}
	tests := []struct {
		name    string
		command string
		env     map[string]string
		want    []Setting
	}{
		{"file only", "dump", nil, []Setting{
			{Flag: "color", Values: []string{"never"}, Key: "color"},
			{Flag: "format", Values: []string{"json"}, Key: "dump.format"},
			{Flag: "port", Values: []string{"9000"}, Key: "dump.port"},
		}},
		{"shared env beats the section", "dump", map[string]string{"OSCLI_PORT": "1"}, []Setting{
			{Flag: "color", Values: []string{"never"}, Key: "color"},
			{Flag: "format", Values: []string{"json"}, Key: "dump.format"},
			{Flag: "port", Values: []string{"1"}, Env: "OSCLI_PORT"},
		}},
		{"scoped env beats shared env", "replay", map[string]string{"OSCLI_PORT": "1", "OSCLI_REPLAY_PORT": "2", "OSCLI_REPLAY_FORMAT": "slip"}, []Setting{
			{Flag: "color", Values: []string{"never"}, Key: "color"},
			{Flag: "format", Values: []string{"slip"}, Env: "OSCLI_REPLAY_FORMAT"},
			{Flag: "loop", Values: []string{"3"}, Key: "replay.loop"},
			{Flag: "port", Values: []string{"2"}, Env: "OSCLI_REPLAY_PORT"},
		}},
		{"a command without settings takes shared ones only", "version", map[string]string{"OSCLI_VERSION_COLOR": "auto"}, []Setting{
			{Flag: "color", Values: []string{"never"}, Key: "color"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := Resolve(Input{Schema: testSchema, File: file, Path: "F", Getenv: func(k string) string { return tt.env[k] },
				Command: tt.command, Flags: flagsOf(tt.command)})
			if !reflect.DeepEqual(r.Settings, tt.want) {
				t.Errorf("got  %+v\nwant %+v", r.Settings, tt.want)
			}
			if len(r.Warnings) != 0 {
				t.Errorf("warnings: %q", r.Warnings)
			}
		})
	}
}

// A variable that does not fit its flag is an error naming it, and the
// file is not consulted for that flag; OSCLI_<FLAG> of a command's flag is
// a warning naming the variables to use.
func TestEnvErrors(t *testing.T) {
	env := map[string]string{"OSCLI_DUMP_TIMEOUT": "soon", "OSCLI_COLOR": "always", "OSCLI_FORMAT": "json", "OSCLI_SPEED": "2"}
	file := map[string]any{"dump": map[string]any{"timeout": "1s"}}
	r := Resolve(Input{Schema: testSchema, File: file, Path: "F", Getenv: func(k string) string { return env[k] },
		Command: "dump", Flags: flagsOf("dump")})
	var errs []string
	for _, s := range r.Settings {
		if s.Err != nil {
			errs = append(errs, s.Flag+": "+s.Err.Error())
		}
	}
	wantErrs := []string{
		`color: OSCLI_COLOR is "always", not one of auto, never`,
		`timeout: OSCLI_DUMP_TIMEOUT is "soon", not a duration (500ms, 2s)`,
	}
	if !reflect.DeepEqual(errs, wantErrs) {
		t.Errorf("errors %q, want %q", errs, wantErrs)
	}
	wantWarns := []string{
		`OSCLI_FORMAT is not a shared setting and is ignored; use OSCLI_DUMP_FORMAT or OSCLI_REPLAY_FORMAT`,
		`OSCLI_SPEED is not a shared setting and is ignored; use OSCLI_REPLAY_SPEED`,
	}
	if !reflect.DeepEqual(r.Warnings, wantWarns) {
		t.Errorf("warnings %q, want %q", r.Warnings, wantWarns)
	}
}

// A set OSCLI_ variable that names no setting but looks meant as one is
// a warning, with the variable it may have meant; the known ones, and ones
// far from any setting (another tool's), are not.
func TestUnknownEnv(t *testing.T) {
	names := []string{"OSCLI_DUMP_TIMOUT", "OSCLI_PROT", "OSCLI_CONFIG", "OSCLI_PORT", "OSCLI_DUMP_HEX", "OSCLI_BOGUS_THING",
		"OSCLI_REPLAY_LOOPS", "OSCLI_FORMAT"}
	r := Resolve(Input{Schema: testSchema, Environ: names, Command: "dump", Flags: flagsOf("dump")})
	want := []string{
		`OSCLI_DUMP_TIMOUT: dump has no --timout; ignored (did you mean OSCLI_DUMP_TIMEOUT?)`,
		`OSCLI_PROT is not a setting of oscli; ignored (did you mean OSCLI_PORT?)`,
		`OSCLI_REPLAY_LOOPS: replay has no --loops; ignored (did you mean OSCLI_REPLAY_LOOP?)`,
	}
	if !reflect.DeepEqual(r.Warnings, want) {
		t.Errorf("warnings\n%q\nwant\n%q", r.Warnings, want)
	}
}

// Targets keeps the named targets that are strings (or scalars).
func TestTargets(t *testing.T) {
	tests := []struct {
		name string
		file map[string]any
		want map[string]string
	}{
		{"no file", nil, map[string]string{}},
		{"not a map", map[string]any{"targets": "x"}, map[string]string{}},
		{"mixed", map[string]any{"targets": map[string]any{
			"mixer": "osc.udp://192.168.1.20:10023", "port": 9000, "empty": "", "nested": map[string]any{"host": "x"}, "none": nil,
		}}, map[string]string{"mixer": "osc.udp://192.168.1.20:10023", "port": "9000"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Targets(tt.file); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}
