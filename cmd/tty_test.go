package cmd

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/oscli/oscli/internal/clock"
	"github.com/oscli/oscli/internal/iostreams"
	"github.com/oscli/oscli/internal/osc"
)

// Behaviour that depends on whether a stream is a terminal, tested both
// ways with iostreams.Test's TTY setters instead of a real terminal.

// tty says which of the command's streams are terminals.
type tty struct{ stdout, stderr bool }

func (t tty) String() string {
	name := func(is bool) string {
		if is {
			return "tty"
		}
		return "pipe"
	}
	return "stdout " + name(t.stdout) + ", stderr " + name(t.stderr)
}

// runTTY runs oscli in-process to completion on iostreams.Test's buffers,
// with the streams in term marked as terminals. For a listener (dump),
// packets are sent to it once it is ready.
func runTTY(t *testing.T, term tty, getenv map[string]string, packets [][]byte, args ...string) result {
	t.Helper()
	ios, _, out, errb := iostreams.Test()
	ios.SetStdoutTTY(term.stdout)
	ios.SetStderrTTY(term.stderr)
	ready := make(chan string, 1)
	env := &Env{
		ios:      ios,
		Getenv:   func(k string) string { return getenv[k] },
		Clock:    clock.Real,
		onListen: func(a string) { ready <- a },
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan int, 1)
	go func() { done <- Run(ctx, env, args) }()
	if packets != nil {
		select {
		case a := <-ready:
			sendRaw(t, strings.TrimPrefix(a, "udp://"), packets...)
		case code := <-done:
			t.Fatalf("%v exited before listening: %d %s", args, code, errb)
		case <-time.After(10 * time.Second):
			t.Fatalf("%v: not listening after 10s", args)
		}
	}
	select {
	case code := <-done:
		return result{code, out.String(), errb.String()}
	case <-time.After(10 * time.Second):
		cancel()
		<-done
		t.Fatalf("%v did not finish within 10s", args)
		return result{}
	}
}

// dump --format raw writes binary: refused on a terminal (exit 2), fine
// into a pipe or file whatever stderr is.
func TestDumpRawRefusedOnTerminal(t *testing.T) {
	for _, tt := range []struct {
		term tty
		code int
	}{
		{tty{stdout: true}, 2},
		{tty{stdout: true, stderr: true}, 2},
		{tty{stderr: true}, 0},
		{tty{}, 0},
	} {
		t.Run(tt.term.String(), func(t *testing.T) {
			ios, _, _, errb := iostreams.Test()
			ios.SetStdoutTTY(tt.term.stdout)
			ios.SetStderrTTY(tt.term.stderr)
			env := &Env{ios: ios, Getenv: func(string) string { return "" }, Clock: clock.Real, parseOnly: true}
			code := Run(context.Background(), env, []string{"dump", "--format", "raw"})
			if code != tt.code {
				t.Fatalf("exit %d, want %d: %s", code, tt.code, errb)
			}
			if refused := strings.Contains(errb.String(), "oscli: error: --format raw writes binary"); refused != (tt.code == 2) {
				t.Errorf("stderr %q", errb)
			}
		})
	}
}

// bench's live progress line goes to stderr only when stderr is a
// terminal, and is cleared before the report. The pacing makes the run
// last at least 299.5 ms (600 probes at 2000/s), longer than the 250 ms
// between progress updates, so a terminal gets at least one whatever the
// machine's speed.
func TestBenchProgressOnlyOnTerminal(t *testing.T) {
	progress := regexp.MustCompile(`\r\x1b\[K *[0-9.]+s  sent [0-9]+ \([0-9]+/s\)  received [0-9]+  in flight or lost [0-9.]+%`)
	for _, term := range []tty{{stderr: true}, {stdout: true}, {}} {
		t.Run(term.String(), func(t *testing.T) {
			t.Parallel()
			r := runTTY(t, term, nil, nil, "bench", "--rate", "2000", "--count", "600")
			if r.code != 0 || !strings.Contains(r.out, "sent") {
				t.Fatalf("exit %d, out %q, err %q", r.code, r.out, r.err)
			}
			if got := progress.MatchString(r.err); got != term.stderr {
				t.Errorf("progress line on stderr: %v, want %v: %q", got, term.stderr, r.err)
			}
			if term.stderr && !strings.HasSuffix(r.err, "\r\x1b[K") {
				t.Errorf("progress line not cleared: %q", r.err)
			}
			if !term.stderr && strings.ContainsAny(r.err, "\r\x1b") {
				t.Errorf("control characters on a non-terminal stderr: %q", r.err)
			}
			if strings.ContainsAny(r.out, "\r\x1b") {
				t.Errorf("control characters in the report: %q", r.out)
			}
		})
	}
}

// Colour in text output: automatic on a terminal, absent on a pipe;
// NO_COLOR turns auto off; --color always and never beat the terminal and
// the environment. (color.txtar checks the process environment gets here.)
func TestColorFollowsTerminal(t *testing.T) {
	for _, tt := range []struct {
		name  string
		term  tty
		args  []string
		env   map[string]string
		color bool
	}{
		{"terminal", tty{stdout: true}, nil, nil, true},
		{"pipe", tty{}, nil, nil, false},
		{"pipe, stderr a terminal", tty{stderr: true}, nil, nil, false},
		{"terminal, NO_COLOR", tty{stdout: true}, nil, map[string]string{"NO_COLOR": "1"}, false},
		{"pipe, --color always, NO_COLOR", tty{}, []string{"--color", "always"}, map[string]string{"NO_COLOR": "1"}, true},
		{"terminal, --color never", tty{stdout: true}, []string{"--color", "never"}, nil, false},
		{"terminal, --color never, CLICOLOR_FORCE", tty{stdout: true}, []string{"--color", "never"}, map[string]string{"CLICOLOR_FORCE": "1"}, false},
	} {
		t.Run("dump/"+tt.name, func(t *testing.T) {
			args := append([]string{"dump", "-H", "127.0.0.1", "-p", "0", "-n", "1"}, tt.args...)
			r := runTTY(t, tt.term, tt.env, [][]byte{vectorData(t, "fader")}, args...)
			if r.code != 0 || !strings.Contains(r.out, "/1/fader") {
				t.Fatalf("exit %d, out %q, err %q", r.code, r.out, r.err)
			}
			if got := strings.Contains(r.out, "\x1b["); got != tt.color {
				t.Errorf("colour %v, want %v: %q", got, tt.color, r.out)
			}
		})
	}
	for _, tt := range []struct {
		name  string
		term  tty
		color bool
	}{
		{"terminal", tty{stdout: true}, true},
		{"pipe", tty{}, false},
	} {
		t.Run("send --reply/"+tt.name, func(t *testing.T) {
			t.Parallel()
			addr := replyPeer(t)
			r := runTTY(t, tt.term, nil, nil, "send", addr, "/ping", "--reply", "--timeout", "500ms")
			if r.code != 0 || !strings.Contains(r.out, "/pong") {
				t.Fatalf("exit %d, out %q, err %q", r.code, r.out, r.err)
			}
			if got := strings.Contains(r.out, "\x1b["); got != tt.color {
				t.Errorf("colour %v, want %v: %q", got, tt.color, r.out)
			}
		})
	}
	if r := run(t, "", nil, "--color", "sometimes", "send", "--dry-run", "/x"); r.code != 2 {
		t.Errorf("bad --color accepted")
	}
}

// replyPeer answers one message with /pong to the sender's port, as OSC
// servers do, and returns its address.
func replyPeer(t *testing.T) string {
	pc, addr := listen(t)
	go func() {
		buf := make([]byte, 1024)
		_, from, err := pc.ReadFrom(buf)
		if err != nil {
			return
		}
		reply, _ := osc.AppendMessage(nil, &osc.Message{Address: "/pong"})
		_, _ = pc.WriteTo(reply, from)
	}()
	return addr
}
