package cmd

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/oscli/oscli/internal/format"
	"github.com/oscli/oscli/internal/osc"
)

// parse runs a command line through the real command tree with runners
// that only keep their options (env.parseOnly): the options, the exit
// code and stderr.
func parse(t *testing.T, getenv map[string]string, args ...string) (opts any, code int, stderr string) {
	t.Helper()
	env, _, errb := testEnv("")
	env.parseOnly = true
	env.parsed = func(o any) { opts = o }
	env.Getenv = func(k string) string { return getenv[k] }
	code = Run(t.Context(), env, args)
	return opts, code, errb.String()
}

// writeConfig writes a config file and returns its path.
func writeConfig(t *testing.T, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// A getter takes one field out of a command's options.
type getter func(opts any) any

// Settings are scoped by command: the file's top level and OSCLI_<FLAG>
// hold only the shared ones; everything else is under a command's section
// or in OSCLI_<COMMAND>_<FLAG>. What cannot be used is one warning each,
// in every run, and never a failed command.
func TestConfigScoping(t *testing.T) {
	var (
		dumpFormat getter = func(o any) any { return o.(*dumpOptions).Format }
		dumpTime   getter = func(o any) any { return o.(*dumpOptions).Time }
		dumpCount  getter = func(o any) any { return o.(*dumpOptions).Count }
		dumpPort   getter = func(o any) any { return o.(*dumpOptions).Listen.Port }
		dumpPasses getter = func(o any) any { // which of /a /b /c pass --filter
			f := o.(*dumpOptions).Filters
			return fmt.Sprint(f.PassAddress("/a"), f.PassAddress("/b"), f.PassAddress("/c"))
		}
		sendPort     getter = func(o any) any { return o.(*sendOptions).Delivery.Target.Port }
		sendHost     getter = func(o any) any { return o.(*sendOptions).Delivery.Target.Host }
		sendRepeat   getter = func(o any) any { return o.(*sendOptions).Repeat }
		bundleAt     getter = func(o any) any { return o.(*bundleOptions).At.At(time.Time{}) }
		benchCount   getter = func(o any) any { return o.(*benchOptions).Count }
		replayFormat getter = func(o any) any { return o.(*replayOptions).Format }
		replayLoops  getter = func(o any) any { return o.(*replayOptions).Play.Loops }
	)
	type check struct {
		args []string
		get  getter
		want any
	}
	tests := []struct {
		name   string
		config string // no file when empty
		env    map[string]string
		checks []check
		warns  []string // every line of stderr, in every run; FILE is the config
	}{
		{
			name:   "a command's flags at the top level are ignored",
			config: "loop: 3\nformat: json\n",
			checks: []check{
				{[]string{"send", "--dry-run", "/x"}, sendRepeat, 1},
				{[]string{"replay", "oscdump.log"}, replayFormat, ""},
				{[]string{"replay", "oscdump.log"}, replayLoops, 1},
				{[]string{"dump"}, dumpFormat, "text"},
			},
			warns: []string{
				`config FILE: "format" at the top level is not a shared setting; put it under a command (dump:, replay:, tap:)`,
				`config FILE: "loop" at the top level is not a shared setting; put it under a command (replay:)`,
			},
		},
		{
			name:   "a section applies to its command only",
			config: "dump:\n  time: utc\n  count: 5\n  format: json\n  filter: [/a, /b]\nreplay:\n  loop: 3\nbundle:\n  at: 2026-11-21T18:00:00Z\n",
			checks: []check{
				{[]string{"dump"}, dumpTime, format.TimeUTC},
				{[]string{"dump"}, dumpCount, 5},
				{[]string{"dump"}, dumpFormat, "json"},
				{[]string{"dump"}, dumpPasses, "true true false"},
				{[]string{"bench"}, benchCount, int64(0)},
				{[]string{"replay", "x.jsonl"}, replayLoops, 3},
				{[]string{"replay", "x.jsonl"}, replayFormat, ""},
				// YAML reads the time as a timestamp; it arrives as typed.
				{[]string{"bundle", "/x"}, bundleAt, osc.FromTime(time.Date(2026, 11, 21, 18, 0, 0, 0, time.UTC))},
			},
		},
		{
			name:   "a shared setting at the top level, overridden in a section",
			config: "port: 7000\nhost: 10.0.0.1\ndump:\n  port: 9000\n  host: 0.0.0.0\n",
			checks: []check{
				{[]string{"dump"}, dumpPort, 9000},
				{[]string{"send", "/x"}, sendPort, 7000},
				{[]string{"send", "/x"}, sendHost, "10.0.0.1"},
			},
		},
		{
			name: "OSCLI_<COMMAND>_<FLAG> beats OSCLI_<FLAG>, which reaches every command",
			env:  map[string]string{"OSCLI_PORT": "7000", "OSCLI_DUMP_PORT": "9000"},
			checks: []check{
				{[]string{"dump"}, dumpPort, 9000},
				{[]string{"send", "/x"}, sendPort, 7000},
			},
		},
		{
			name:   "the environment beats the file whatever the scope",
			config: "dump:\n  port: 9000\n  time: unix\n",
			env:    map[string]string{"OSCLI_PORT": "7000", "OSCLI_DUMP_TIME": "utc"},
			checks: []check{
				{[]string{"dump"}, dumpPort, 7000},
				{[]string{"dump"}, dumpTime, format.TimeUTC},
				{[]string{"dump", "--time", "rel"}, dumpTime, format.TimeRel}, // the flag beats both
			},
		},
		{
			name: "OSCLI_<FLAG> of a command's flag is ignored with a warning",
			env:  map[string]string{"OSCLI_TIME": "utc", "OSCLI_LOOP": "0", "OSCLI_FORMAT": "json"},
			checks: []check{
				{[]string{"dump"}, dumpTime, format.TimeLocal},
				{[]string{"dump"}, dumpFormat, "text"},
				{[]string{"replay", "x.jsonl"}, replayLoops, 1},
				{[]string{"send", "/x"}, sendRepeat, 1},
			},
			warns: []string{
				`OSCLI_FORMAT is not a shared setting and is ignored; use OSCLI_DUMP_FORMAT or OSCLI_REPLAY_FORMAT or OSCLI_TAP_FORMAT`,
				`OSCLI_LOOP is not a shared setting and is ignored; use OSCLI_REPLAY_LOOP`,
				`OSCLI_TIME is not a shared setting and is ignored; use OSCLI_DUMP_TIME or OSCLI_SERVE_TIME or OSCLI_TAP_TIME`,
			},
		},
		{
			name: "unusable keys: one warning each, and ignored",
			config: `bogus: 1
color: sometimes
verbose: maybe
monitor:
  rows: 5
dump:
  count: abc
  time: gmt
  loop: 2
  colour: never
  filter: [/a, {x: 1}]
  targets: {a: 1}
send: 3
targets:
  mixer: osc.udp://192.168.1.20:10023
  broken: {host: x}
port: [1, 2]
`,
			checks: []check{
				{[]string{"dump"}, dumpCount, 0},
				{[]string{"dump"}, dumpTime, format.TimeLocal},
				{[]string{"dump"}, dumpPort, 8000},
				{[]string{"dump"}, dumpPasses, "true true true"},
				{[]string{"send", "@mixer", "/x"}, sendPort, 10023},
			},
			warns: []string{
				`config FILE: "bogus" is not a setting of any command; ignored`,
				`config FILE: "color" is "sometimes", not one of auto, always, never; ignored`,
				`config FILE: "dump.colour": dump has no --colour; ignored`,
				`config FILE: "dump.count" is "abc", not a whole number; ignored`,
				`config FILE: "dump.filter" is a list holding a section, not a value or a list of values; ignored`,
				`config FILE: "dump.loop": dump has no --loop; put it under replay:`,
				`config FILE: "dump.targets": targets: belongs at the top level; ignored`,
				`config FILE: "dump.time" is "gmt", not one of local, utc, unix, rel, none; ignored`,
				`config FILE: "monitor:" is not a command with settings (bench:, browse:, bundle:, dump:, query:, replay:, send:, serve:, tap:, top:); ignored`,
				`config FILE: "port" is a list, not a whole number; ignored`,
				`config FILE: "send" is "3", not a section of send settings; ignored`,
				`config FILE: "targets.broken" is a section, not a target (udp://host:port); ignored`,
				`config FILE: "verbose" is "maybe", not true or false; ignored`,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := map[string]string{}
			for k, v := range tt.env {
				env[k] = v
			}
			var want strings.Builder
			if tt.config != "" {
				env["OSCLI_CONFIG"] = writeConfig(t, tt.config)
			}
			for _, w := range tt.warns {
				want.WriteString("oscli: warning: " + strings.ReplaceAll(w, "FILE", env["OSCLI_CONFIG"]) + "\n")
			}
			for _, c := range tt.checks {
				opts, code, stderr := parse(t, env, c.args...)
				if code != 0 {
					t.Fatalf("%v: exit %d: %s", c.args, code, stderr)
				}
				if stderr != want.String() {
					t.Errorf("%v: stderr\n%s\nwant\n%s", c.args, stderr, want.String())
				}
				if got := c.get(opts); got != c.want {
					t.Errorf("%v: got %v, want %v", c.args, got, c.want)
				}
			}
		})
	}
}

// A wrongly typed environment variable is a usage error naming it: it was
// set for this run. A value of the right type that the command refuses is
// a usage error whose hint says where the value came from.
func TestConfigErrors(t *testing.T) {
	cfg := writeConfig(t, "bench:\n  rate: -1\n")
	tests := []struct {
		name   string
		env    map[string]string
		args   []string
		stderr string
	}{
		{"bad env", map[string]string{"OSCLI_DUMP_COUNT": "abc"}, []string{"dump"},
			"oscli: error: OSCLI_DUMP_COUNT is \"abc\", not a whole number\n"},
		{"bad env word", map[string]string{"OSCLI_COLOR": "sometimes"}, []string{"send", "/x"},
			"oscli: error: OSCLI_COLOR is \"sometimes\", not one of auto, always, never\n"},
		{"refused env", map[string]string{"OSCLI_REPLAY_SPEED": "0"}, []string{"replay", "x.jsonl"},
			"oscli: error: --speed 0: want a finite number above 0\noscli: hint: --speed is set by OSCLI_REPLAY_SPEED\n"},
		{"refused file", map[string]string{"OSCLI_CONFIG": cfg}, []string{"bench"},
			"oscli: error: --rate -1: want a finite number above 0\noscli: hint: --rate is set by bench.rate in config " + cfg + "\n"},
		{"refused flag", nil, []string{"bench", "--rate", "-1"},
			"oscli: error: --rate -1: want a finite number above 0\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, code, stderr := parse(t, tt.env, tt.args...)
			if code != 2 || stderr != tt.stderr {
				t.Errorf("exit %d, stderr\n%s\nwant exit 2 and\n%s", code, stderr, tt.stderr)
			}
		})
	}
}

// bench load-tests a host or port from the environment or the config file,
// as one from the command line; without any it runs its own receiver.
func TestBenchTargetFromConfig(t *testing.T) {
	tests := []struct {
		name   string
		config string
		env    map[string]string
		target bool
		port   int
	}{
		{"none", "", nil, false, 8000},
		{"OSCLI_PORT", "", map[string]string{"OSCLI_PORT": "9100"}, true, 9100},
		{"OSCLI_BENCH_PORT", "", map[string]string{"OSCLI_BENCH_PORT": "9101"}, true, 9101},
		{"OSCLI_HOST", "", map[string]string{"OSCLI_HOST": "127.0.0.2"}, true, 8000},
		{"port in the file", "port: 9102\n", nil, true, 9102},
		{"port in bench's section", "bench:\n  port: 9103\n", nil, true, 9103},
		{"port in another section", "dump:\n  port: 9104\n", nil, false, 8000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := map[string]string{}
			for k, v := range tt.env {
				env[k] = v
			}
			if tt.config != "" {
				env["OSCLI_CONFIG"] = writeConfig(t, tt.config)
			}
			opts, code, stderr := parse(t, env, "bench", "--count", "100", "--rate", "1000")
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			o := opts.(*benchOptions)
			if o.HasTarget != tt.target || o.Delivery.Target.Port != tt.port {
				t.Errorf("HasTarget %v, port %d; want %v, %d", o.HasTarget, o.Delivery.Target.Port, tt.target, tt.port)
			}
		})
	}
}

// Rates and speeds are finite; bench --rate 0 means as fast as possible.
func TestRateAndSpeedChecks(t *testing.T) {
	tests := []struct {
		args []string
		code int
	}{
		{[]string{"bench", "--rate", "0"}, 0},
		{[]string{"bench", "--rate", "1000"}, 0},
		{[]string{"bench", "--rate", "inf"}, 2},
		{[]string{"bench", "--rate", "NaN"}, 2},
		{[]string{"bench", "--rate", "-1"}, 2},
		{[]string{"replay", "x.jsonl", "--speed", "0.5"}, 0},
		{[]string{"replay", "x.jsonl", "--speed", "inf"}, 2},
		{[]string{"replay", "x.jsonl", "--speed", "0"}, 2},
		{[]string{"replay", "x.jsonl", "--speed", "NaN"}, 2},
		{[]string{"replay", "x.jsonl", "--speed", "-2"}, 2},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			if _, code, stderr := parse(t, nil, tt.args...); code != tt.code {
				t.Errorf("exit %d, want %d: %s", code, tt.code, stderr)
			}
		})
	}
}
