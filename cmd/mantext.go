package cmd

import "github.com/oscli/oscli/internal/roff"

// What the man pages say beyond each command's --help: oscli(1)'s
// targets, text syntax, exit status, environment and files, each
// command's exit status, and oscli-json(5). README.md says the same for
// readers of the repository; a change of behaviour changes both.

// sharedCodes ends each command's EXIT STATUS.
const sharedCodes = `The codes are the same for every command (see oscli(1)): 0 success, 1
runtime failure, 2 usage error, 130 interrupted.`

// usageExit is exit code 2 as every command has it.
const usageExit = `usage error: a bad flag, argument, address or pattern, a wrongly typed
OSCLI_ variable, or a config file that is missing or cannot be parsed`

// manExtras returns the additions to each command's page, by command
// path. It is a function so that building them is left to gen-docs: a
// package variable would be built at every start-up.
func manExtras() map[string]manExtra {
	return map[string]manExtra{
		"oscli": {
			sections: []roff.Section{
				{Title: "TARGETS", Blocks: targetsText()},
				{Title: "TEXT SYNTAX", Blocks: textSyntax()},
			},
			exit: []roff.Block{
				roff.DL(
					"0", "success; dump and tap ended by Ctrl-C, SIGTERM, SIGHUP, --count, or --timeout without --count included",
					"1", "runtime failure: network, I/O, a port in use; send - when some lines could not be sent; bundle when a line of its input is bad; or an outcome asked for did not happen: dump -n N --timeout D saw fewer than N packets, send --reply got no reply (or fewer than -n N) within --timeout",
					"2", "usage error: a bad flag, argument, address or pattern; a wrongly typed OSCLI_ variable; a config file that is missing or cannot be parsed",
					"130", "interrupted (Ctrl-C, SIGTERM or SIGHUP) during send, bundle, bench or replay, or while an @NAME is looked for",
				),
				roff.Para(`Errors are one line on stderr, "oscli: error: ...", sometimes followed by
"oscli: hint: ..."; warnings are "oscli: warning: ..." lines.`),
			},
			env: []roff.Block{
				roff.Para(`A flag not given on the command line comes from the environment, else from
the config file, else its default: flag > environment > file > default. An
empty variable counts as unset.`),
				roff.DL(
					"OSCLI_CONFIG", "the config file to read when --config is not given; it must exist",
					"OSCLI_HOST, OSCLI_PORT, OSCLI_PROTO, OSCLI_COLOR, OSCLI_VERBOSE", "the shared settings: --host, --port, --proto, --color and --verbose, for every command that has the flag",
					"OSCLI_<COMMAND>_<FLAG>", `any flag of dump, send, bundle, bench, replay or tap: the command and the flag's
name in capitals, dashes as underscores (OSCLI_DUMP_TIME=utc,
OSCLI_REPLAY_LOOP=3, OSCLI_DUMP_MAX_PACKET=65536). Each command's page
lists its variables. A shared setting may be scoped too
(OSCLI_DUMP_PORT=9000) and then wins over OSCLI_PORT.

OSCLI_<FLAG> for a flag that is not shared (OSCLI_TIME) is ignored, with a
warning naming the variable to use (OSCLI_DUMP_TIME). Any other OSCLI_
variable that names no setting (OSCLI_SEND_TIMOUT) is ignored with a
warning naming the one it may have meant.`,
					"NO_COLOR", "any non-empty value turns colour off when --color is auto",
					"CLICOLOR_FORCE", "a non-empty value other than 0 turns colour on when --color is auto, even when the output is not a terminal (NO_COLOR wins over it)",
					"TERM", "dumb turns colour off when --color is auto",
					"XDG_CONFIG_HOME", "where the config file is looked for (see FILES); HOME/.config when it is not set",
				),
				roff.Para(`A variable's value must suit its flag (a whole number for --count, a
duration with a unit for --timeout, one of the listed words for --time);
otherwise the command stops with a usage error naming the variable (exit 2).
A value of the right type that the command refuses (OSCLI_PORT=99999) is
a usage error whose hint names the variable. version, --version, help and
completion read no OSCLI_ variable and no config file.`),
			},
			files: []roff.Block{
				roff.DL(
					"$XDG_CONFIG_HOME/oscli/config.yaml", `the config file, read when present (~/.config/oscli/config.yaml when
XDG_CONFIG_HOME is not set). --config FILE or OSCLI_CONFIG name another file,
which must exist. It is YAML; a file whose name ends in .json or .toml is
read as JSON or TOML.`,
				),
				roff.Para(`The shared settings (host, port, proto, color, verbose) may sit at the top
level; every other flag goes under its command's section (dump:, send:,
bundle:, bench:, replay:, tap:), with the flag's name as the key and a list for a
repeatable flag. Within the file, a command's value wins over a shared one.
targets: at the top level names destinations for @name.`),
				roff.Verbatim(`port: 9000                   # dump listens on 9000, send sends there
color: never
targets:
  mixer: osc.udp://192.168.1.20:10023
  lights: udp://10.0.0.5:8000
dump:
  time: utc
  filter: [/1/*, /2/*]
replay:
  loop: 3
  port: 9001                 # replay alone sends to 9001`),
				roff.Para(`Every command reads the file, so a mistake in it never breaks a command: an
unknown key, a command's flag at the top level, a section for an unknown
command or a wrongly typed value gets one warning line on stderr naming it,
in every run, and is ignored. A file that is not valid YAML is a usage
error for the commands that read it; version, help and completion do not.`),
			},
			seeAlso: []string{"oscli-json(5)"},
		},
		"oscli dump": {
			exit: []roff.Block{
				roff.DL(
					"0", "dump stopped by Ctrl-C, SIGTERM or SIGHUP (whatever --count says), after --count packets, or at --timeout when no --count was given; malformed packets are reported and counted and do not change the exit status",
					"1", "runtime failure: the socket cannot be opened (a port in use, no permission) or a network or I/O error; or --timeout passed before --count packets came (\"oscli: error: --timeout 5s passed with 0 of 1 packets\", after the summary)",
					"2", usageExit,
				),
				roff.Para(sharedCodes),
			},
			seeAlso: []string{"oscli-json(5)"},
		},
		"oscli tap": {
			exit: []roff.Block{
				roff.DL(
					"0", "tap stopped by Ctrl-C, SIGTERM or SIGHUP, after --count packets, or at --timeout when no --count was given; targets that were down or dropped packets are reported and counted and do not change the exit status",
					"1", "runtime failure: the socket cannot be opened (a port in use, no permission) or a network or I/O error; or --timeout passed before --count packets were printed",
					"2", usageExit,
				),
				roff.Para(sharedCodes),
			},
			seeAlso: []string{"oscli-json(5)"},
		},
		"oscli top": {
			exit: []roff.Block{
				roff.DL(
					"0", "top stopped by q, Ctrl-C, SIGTERM or SIGHUP, after --count packets, or at --timeout when no --count was given; the summary on stderr says which",
					"1", "runtime failure: the socket cannot be opened, the terminal cannot be read, or stdout failed or stayed blocked 1 s after the stop (a snapshot not written); or --timeout passed before --count packets came",
					"2", usageExit,
				),
				roff.Para(sharedCodes),
			},
			seeAlso: []string{"oscli-dump(1)"},
		},
		"oscli send": {
			exit: []roff.Block{
				roff.DL(
					"0", "every message was sent; with --reply, at least one reply came (with -n N, N replies)",
					"1", "runtime failure (network, I/O); with -, some lines could not be sent: each is reported with its line number, and the others went out; with --reply, no reply came within --timeout, or fewer than -n N",
					"2", usageExit+"; nothing is sent",
					"130", "interrupted (Ctrl-C, SIGTERM or SIGHUP), for example during --repeat 0",
				),
				roff.Para(sharedCodes),
			},
			seeAlso: []string{"oscli-json(5)"},
		},
		"oscli bundle": {
			exit: []roff.Block{
				roff.DL(
					"0", "the bundle was sent",
					"1", "runtime failure (network, I/O), or a bad line on stdin: every bad line is reported and nothing is sent",
					"2", usageExit+"; nothing is sent",
					"130", "interrupted (Ctrl-C, SIGTERM or SIGHUP)",
				),
				roff.Para(sharedCodes),
			},
			seeAlso: []string{"oscli-json(5)"},
		},
		"oscli bench": {
			exit: []roff.Block{
				roff.DL(
					"0", "the run finished and the report was printed; loss does not change the exit status",
					"1", "runtime failure (network, I/O)",
					"2", usageExit,
					"130", "interrupted (Ctrl-C, SIGTERM or SIGHUP)",
				),
				roff.Para(sharedCodes),
			},
		},
		"oscli replay": {
			exit: []roff.Block{
				roff.DL(
					"0", "the recording was played; records that could not be read were reported and skipped, so a recording cut short by a crash replays",
					"1", "runtime failure: the file cannot be opened or read, or a network error",
					"2", usageExit,
					"130", "interrupted (Ctrl-C, SIGTERM or SIGHUP), for example during --loop 0",
				),
				roff.Para(sharedCodes),
			},
			seeAlso: []string{"oscli-json(5)"},
		},
		"oscli query": {
			exit: []roff.Block{
				roff.DL(
					"0", "the tree was printed",
					"1", "the server could not be reached, did not answer within --timeout, did not answer OSCQuery JSON, or has no such PATH (404); no OSCQuery server (_oscjson._tcp) of the @NAME answered DNS-SD within 2 s",
					"2", usageExit+"; a URL or PATH that is not one",
				),
				roff.Para(sharedCodes),
			},
		},
		"oscli query get": {
			exit: []roff.Block{
				roff.DL(
					"0", "the value was printed",
					"1", "the server could not be reached or answered no OSCQuery JSON; the PATH does not exist, has no value or cannot be read (ACCESS 2); no OSCQuery server of the @NAME answered DNS-SD within 2 s",
					"2", usageExit,
				),
				roff.Para(sharedCodes),
			},
		},
		"oscli query set": {
			exit: []roff.Block{
				roff.DL(
					"0", "the message was sent",
					"1", "the server could not be reached or answered no OSCQuery JSON, the PATH does not exist, or the message could not be sent; no OSCQuery server of the @NAME answered DNS-SD within 2 s",
					"2", usageExit+"; a value that does not fit the address's TYPE or RANGE, or an address whose ACCESS forbids writing (nothing is sent; --force sends anyway)",
				),
				roff.Para(sharedCodes),
			},
		},
		"oscli query watch": {
			exit: []roff.Block{
				roff.DL(
					"0", "watch was stopped by Ctrl-C, SIGTERM, SIGHUP or -n N changes",
					"1", "the server could not be reached at the start, its WebSocket closed, or the output failed (a failed poll is reported and tried again); no OSCQuery server of the @NAME answered DNS-SD within 2 s",
					"2", usageExit,
				),
				roff.Para(sharedCodes),
			},
		},
		"oscli serve": {
			exit: []roff.Block{
				roff.DL(
					"0", "serve was stopped by Ctrl-C, SIGTERM, SIGHUP or -n N packets, and --save (if given) wrote the tree; refused messages are warned about and counted, and do not change the exit status, nor does an --advertise that cannot be announced (a warning)",
					"1", "a port is in use or cannot be opened, the output failed, or --save could not write the tree",
					"2", usageExit+"; a TREE.json that cannot be read as an OSCQuery tree; an --advertise NAME DNS-SD cannot carry (empty, longer than 63 bytes, a control character or a '.')",
				),
				roff.Para(sharedCodes),
			},
		},
	}
}

func targetsText() []roff.Block {
	return []roff.Block{
		roff.Para(`TARGET (send, bundle, bench, replay) and LISTEN (dump) are one word before
the OSC address or the file; it never starts with '/'. It is one of:`),
		roff.DL(
			"9000", "a port, on 127.0.0.1 to send to, on 0.0.0.0 to listen on",
			"host:port, [::1]:9000", "a host name or IP address and a port; IPv6 literals go in brackets",
			"udp://host:port, tcp://host:port, unix:///path", "a URL naming the protocol; liblo's spellings osc.udp://, osc.tcp:// and osc.unix:// are read too",
			"ws://host:port/path, wss://host/path", "OSC over WebSocket, one packet per binary message (osc.js's WebSocketPort); without a port, 80 or 443 as in a browser; to listen on, a path is the only one served (none: any), and wss:// is not served",
			"@name", "a destination named under targets: in the config file; to send to (not a dry run), else the OSC application that announces that instance name with DNS-SD (oscli browse lists them), looked for up to 2 s",
		),
		roff.Para(`-H/--host, -p/--port and --proto say the same with flags. The defaults find
each other: dump listens on 0.0.0.0:8000 over UDP, and send, bundle, bench
and replay send to 127.0.0.1:8000.`),
	}
}

func textSyntax() []roff.Block {
	return []roff.Block{
		roff.Para(`Every message dump prints is a line that oscli send accepts, as arguments
or as a line on stdin, and that encodes to the same bytes. It is always
typed:`),
		roff.Verbatim(`/1/fader f:0.5
/my/pattern i:1 i:3 s:"a string" f:11.3
/mix i:1 [ i:2 f:0.5 ] s:z T N
/title s:$'\x1b[2Jhi\nthere'`),
		roff.Subhead("Arguments"),
		roff.DL(
			"i:42 h:-1", "int32, int64: decimal, or 0x hex (i:0xffffffff is -1); a leading 0 is not octal",
			"f:0.5 d:3.14", "float32, float64: printed in the shortest form that round-trips; Inf, -Inf, NaN; a NaN with another payload prints its bits, f:NaN:0xffc00001",
			"s:text S:symbol", "string, symbol: quoted as a POSIX shell needs (see Quoting); s: is the empty string",
			"c:x", "char: one character; anything unprintable as its code, c:0x20",
			"b:deadbeef b:@FILE", "blob: hex, or a file's bytes; b: is an empty blob",
			"t:WHEN", "time tag: printed raw, t:0xe000000080000000; any WHEN form is read",
			"r:ff8000ff m:00903c7f", "RGBA colour, MIDI message: exactly 8 hex digits",
			"T F N I", "true, false, nil, impulse: bare words",
			"[ ]", "an array around its contents, nested up to 32 deep",
		),
		roff.Para(`Untyped words are inferred: an integer in int32 range is i, a larger one h,
a number with '.' or an exponent is f, true and false are T and F, nil is
N, anything else is a string. Use s: to force a string (s:42, s:true,
s:/path).`),
		roff.Subhead("Time tags (WHEN)"),
		roff.Para(`WHEN, for --at and t:, is one of:`),
		roff.DL(
			"immediately", "OSC's special time tag 0x0000000000000001; the default",
			"now", "the current time",
			"+10s, -250ms, 1m30s", "relative to now",
			"2026-11-21T18:00:00Z", "RFC 3339",
			"HH:MM:SS[.frac]", "today, local time, even if that is already past",
			"0x0000000000000001", "0x and 16 hex digits: the raw NTP value",
			"@1700000000.5", "Unix seconds, up to nanoseconds",
		),
		roff.Subhead("Quoting"),
		roff.Para(`A printed line pastes into bash or zsh and reads back identically through
oscli send -:`),
		roff.Bullets{
			"words made only of letters, digits and %+,-./:=@^_ are printed bare;",
			"other printable text goes in double quotes, or in single quotes when it contains a double quote, dollar sign, backquote, backslash or exclamation mark;",
			`text with control characters, invalid UTF-8 or invisible Unicode (bidi
overrides, zero-width characters) goes in bash's $'...' with \n, \t, \xHH
and \uHHHH escapes, so nothing a sender puts in a string can move the
cursor or recolour the terminal;`,
			`addresses follow the same rules, so a pattern like "/mix/*/gain[1-4]" is
quoted and the shell does not glob it.`,
		},
		roff.Subhead("Lines on stdin"),
		roff.Para(`send - reads lines with the same rules (it does not expand variables),
skips blank lines and # comments, and skips dump's time and sender columns.
dump's bundle headers start with #, so piping dump's text into send -
re-sends a bundle's messages one by one; use --json to keep bundles whole
(see oscli-json(5)). A message that had no type tag string at all prints as
its address with a "# no type tag string" note and is sent back with an
empty one: the text syntax cannot express its absence.`),
	}
}

// jsonPage is oscli-json(5): the JSON-lines format.
func jsonPage(date string) *roff.Page {
	return &roff.Page{
		Name: "oscli-json", Section: "5", Date: date,
		Summary: "JSON lines written by oscli dump --json and read by send, bundle and replay",
		Sections: []roff.Section{
			{Title: "SYNOPSIS", Blocks: []roff.Block{roff.Raw(".nf\n" +
				roff.Bold("oscli dump --json") + "\n" +
				roff.Bold("oscli dump --record") + " " + roff.Italic("FILE") + "\n" +
				roff.Bold("oscli send --json -") + "\n" +
				roff.Bold("oscli bundle --json -") + "\n" +
				roff.Bold("oscli replay") + " " + roff.Italic("FILE") + "\n" +
				".fi\n")}},
			{Title: "DESCRIPTION", Blocks: []roff.Block{
				roff.Para(`oscli dump --json (--format json) writes one JSON object per packet, one
line each, flushed per packet; dump --record FILE writes the same lines to
FILE while printing as usual. It is the format for scripts and recordings:
send --json - and bundle --json - read it back, and replay plays it with
its original timing.`),
				roff.Verbatim(`{"time":"2026-11-21T18:00:00.123456789Z","from":"127.0.0.1:54321","proto":"udp","size":20,"raw":"LzEvZmFkZXIAAAAALGYAAD8AAAA=","packet":{"address":"/1/fader","types":"f","args":[0.5]}}`),
			}},
			{Title: "FIELDS", Blocks: []roff.Block{roff.DL(
				"time", "arrival, RFC 3339 with nanoseconds",
				"from", "the sender, ip:port ([v6]:port), or a Unix socket's path",
				"proto", "udp, tcp+slip, tcp+len, unix or ws",
				"size", "the packet's size in bytes",
				"raw", "the packet's bytes, base64",
				"packet", "the decoded message or bundle (below); absent for a malformed packet",
				"error, offset", "for a malformed packet: why it is malformed, and the byte offset",
			)}},
			{Title: "MESSAGES", Blocks: []roff.Block{
				roff.Para(`A message is {"address":..., "types":..., "args":[...]}, with
"no_typetags":true when it had no type tag string. args are JSON values
read through types:`),
				roff.DL(
					"i h", "numbers",
					"f d", `numbers, or the strings "NaN", "Inf", "-Inf" and "NaN:0x..." (a NaN with another payload)`,
					"s S", `strings; invalid UTF-8 shows as U+FFFD (raw keeps the bytes), and control,
bidi and zero-width characters are \u escapes`,
					"b", "a string of hex digits",
					"t", `a string, "0x" and 16 hex digits`,
					"r m", "a string of 8 hex digits",
					"c", "a one-character string, or a number when the value is not a valid character",
					"T F", "true, false",
					"N I", "null",
					"[ ]", "a JSON array, matching [ and ] in types",
				),
			}},
			{Title: "BUNDLES", Blocks: []roff.Block{
				roff.Para(`A bundle is {"timetag":"0x...", "time":..., "elements":[...]}: timetag is
the raw NTP value (16 hex digits), time the same instant in RFC 3339 with
nanoseconds, or "immediately"; elements are messages and bundles.`),
			}},
			{Title: "READING", Blocks: []roff.Block{
				roff.Para(`send --json - reads one object per line: "raw" wins when present, else
"packet" is encoded, so dump --json | jq ... | send --json - works even
after jq changed the packet and dropped raw. It also reads bare message or
bundle objects, where timetag may be any WHEN of oscli(1) ("+1s"). A line
that cannot be sent (a malformed packet, invalid JSON) is reported with its
line number.`),
				roff.Para(`bundle --json - reads message and bundle objects, the way to send nested
bundles. replay reads the lines dump writes and uses time to space the
packets as they arrived.`),
			}},
			{Title: "EXAMPLES", Blocks: []roff.Block{roff.Verbatim(`oscli dump --json | jq -c 'select(.packet.address == "/1/fader") | .packet.args'
oscli dump --json -n 100 > session.jsonl
oscli send --json - < session.jsonl
echo '{"timetag":"+5s","elements":[{"address":"/x","types":"i","args":[1]}]}' | oscli bundle --json -
oscli replay session.jsonl --speed 2`)}},
			{Title: "SEE ALSO", Blocks: []roff.Block{roff.Raw(".PP\n" + manRef("oscli", "1") + ",\n" + manRef("oscli-dump", "1") + ",\n" +
				manRef("oscli-send", "1") + ",\n" + manRef("oscli-bundle", "1") + ",\n" + manRef("oscli-replay", "1") + "\n")}},
		},
	}
}
