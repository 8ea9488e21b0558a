//go:build unix

package main

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// oscli top's screen, for real: the binary (the test binary run as
// "oscli") in a tmux pane of its own tmux server, driven with send-keys
// and read with capture-pane, with traffic from oscli send, oscli bench
// and liblo's oscsend. Every wait is for the pane to show something (or
// a file to appear), never a sleep. Without tmux (or oscsend) the test
// skips, unless OSCLI_REQUIRE_PEERS=1.
func TestTopScreenInTmux(t *testing.T) {
	tm := newTmux(t)
	oscsend := needTool(t, "oscsend")
	tm.start(t)
	addr := tm.addr
	host, port, _ := net.SplitHostPort(addr)

	// Traffic from three senders; the table shows each address once.
	for i := range 3 {
		oscli(t, "send", addr, "/1/fader1", fmt.Sprintf("f:0.%d", i+1))
	}
	oscli(t, "send", addr, "/1/xy", "0.5", "1")
	oscli(t, "bench", addr, "--rate", "2000", "--count", "200")
	if out, err := exec.Command(oscsend, host, port, "/liblo/fader", "f", "0.25").CombinedOutput(); err != nil {
		t.Fatalf("oscsend: %v %s", err, out)
	}
	screen := tm.waitFor(t, `(?m)^.*/oscli/bench +hhhb .* 200 `, `(?m)^ +/liblo/fader +f +f:0\.25 +1 `,
		`(?m)^ +/1/fader1 +f +f:0\.3 +3 `, `(?m)^ +/1/xy +fi +f:0\.5 i:1 +1 `, `oscli top udp://127\.0\.0\.1:\d+ +4 addresses`)
	if strings.Contains(screen, "oscli: listening") {
		t.Errorf("stderr over the screen:\n%s", screen)
	}

	// Sort by count: the bench row first. Then by address again.
	tm.keys(t, "n")
	tm.waitFor(t, `by count`, `(?s)ADDRESS[^\n]*\n *[^ ]*/oscli/bench`)
	tm.keys(t, "a")
	tm.waitFor(t, `by address`, `(?s)ADDRESS[^\n]*\n *[^ ]*/1/fader1`)

	// Enter: the detail pane of the selected row (the first, /1/fader1):
	// its history with arrival times, and its last packet's hexdump.
	tm.keys(t, "Enter")
	tm.waitFor(t, `recent messages, newest first`, `(?m)^\d\d:\d\d:\d\d\.\d{6}  f:0\.3$`,
		`(?m)^\d\d:\d\d:\d\d\.\d{6}  f:0\.1$`, `last packet, 20 bytes`, `000:2f312f66 61646572 31000000 2c660000`)
	tm.keys(t, "Escape")
	tm.waitFor(t, `SPARKLINE`)

	// / sets a pattern filter; "fader" is //*fader*.
	tm.keys(t, "/", "-l", "fader", "Enter")
	screen = tm.waitFor(t, `filter fader \(2 shown\)`, `/liblo/fader`)
	if strings.Contains(screen, "/1/xy") {
		t.Errorf("filter shows /1/xy:\n%s", screen)
	}
	tm.keys(t, "/", "C-u", "Enter")
	tm.waitFor(t, `/1/xy`)

	// y copies the selected row as a send line: OSC 52 reaches tmux's
	// paste buffer (set-clipboard on).
	tm.keys(t, "y")
	tm.waitFor(t, `copied \(OSC 52`)
	want := "oscli send " + addr + " /1/fader1 f:0.3"
	if got := tm.run(t, "show-buffer"); got != want {
		t.Errorf("tmux buffer %q, want %q", got, want)
	}

	// p pauses the display; counting goes on, and shows on resume.
	tm.keys(t, "p")
	tm.waitFor(t, `PAUSED`)
	oscli(t, "send", addr, "/1/fader1", "f:0.9")
	tm.keys(t, "p")
	tm.waitFor(t, `(?m)^ +/1/fader1 +f +f:0\.9 +4 `)

	// c clears the table.
	tm.keys(t, "c")
	tm.waitFor(t, `0 addresses`, `waiting for messages`)

	// q quits: the terminal is given back as it was (no alternate screen
	// left over, canonical mode and echo on), the copied line and dump's
	// summary follow.
	tm.keys(t, "q")
	screen = tm.waitFor(t, `EXIT=0`, `(?m)^DONE$`)
	tm.checkRestored(t, screen)
	for _, w := range []string{want, "oscli: stopped by q: 206 packets"} {
		if !strings.Contains(screen, w) {
			t.Errorf("after q, no %q:\n%s", w, screen)
		}
	}
}

// SIGTERM (what timeout, systemd and docker stop send) takes the screen
// down as q does: terminal restored, summary naming the signal.
func TestTopScreenSIGTERMInTmux(t *testing.T) {
	tm := newTmux(t)
	tm.start(t)
	oscli(t, "send", tm.addr, "/a", "i:1")
	tm.waitFor(t, `(?m)^ +/a +i +i:1 +1 `)
	pid, err := os.ReadFile(filepath.Join(tm.dir, "pid"))
	if err != nil {
		t.Fatal(err)
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(pid)))
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(n, syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	screen := tm.waitFor(t, `EXIT=0`, `(?m)^DONE$`)
	tm.checkRestored(t, screen)
	if !strings.Contains(screen, "oscli: stopped by SIGTERM: 1 packet,") {
		t.Errorf("no summary:\n%s", screen)
	}
}

// tmux is a tmux server of the test's own (its socket in a temporary
// directory) with one pane running top.
type tmux struct {
	bin, sock, dir, addr string
}

func newTmux(t *testing.T) *tmux {
	t.Helper()
	bin := needTool(t, "tmux")
	dir := t.TempDir()
	tm := &tmux{bin: bin, sock: filepath.Join(dir, "tmux.sock"), dir: dir}
	t.Cleanup(func() { _ = exec.Command(bin, "-S", tm.sock, "kill-server").Run() })
	return tm
}

// needTool finds a program the test drives; without it the test skips,
// unless OSCLI_REQUIRE_PEERS=1 (CI), where it fails.
func needTool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("OSCLI_REQUIRE_PEERS") == "1" {
			t.Fatalf("%s not found and OSCLI_REQUIRE_PEERS=1 (apt-get install tmux liblo-tools)", name)
		}
		t.Skipf("%s not found", name)
	}
	return p
}

// start runs top in a 120×30 pane and waits for its ready file. The
// pane's shell script writes top's pid (sh execs into it) and, once top
// has ended, its exit status and the terminal's modes.
func (tm *tmux) start(t *testing.T) {
	t.Helper()
	oscliBin, err := exec.LookPath("oscli")
	if err != nil {
		t.Fatal(err)
	}
	script := filepath.Join(tm.dir, "run.sh")
	body := fmt.Sprintf(`#!/bin/sh
cd %[1]q
sh -c 'echo $$ > pid; exec "$@"' sh %[2]q top -H 127.0.0.1 -p 0 --ready-file ready
echo "EXIT=$?"
echo "MODES=$(stty -a | tr ' ;' '\n\n' | grep -Ex -- '-?(icanon|echo)' | tr '\n' ' ')"
echo DONE
`, tm.dir, oscliBin)
	if err := os.WriteFile(script, []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
	// The options first, so that the pane stays (with what top left on
	// it) after the script ends, and OSC 52 reaches tmux's buffers.
	tm.run(t, "-f", "/dev/null", "start-server", ";", "set-option", "-g", "remain-on-exit", "on", ";",
		"set-option", "-s", "set-clipboard", "on", ";",
		"new-session", "-d", "-x", "120", "-y", "30", "-e", "GORACE=atexit_sleep_ms=0", script)
	deadline := time.Now().Add(10 * time.Second)
	for {
		data, err := os.ReadFile(filepath.Join(tm.dir, "ready"))
		if err == nil && strings.HasSuffix(string(data), "\n") {
			tm.addr = strings.TrimPrefix(strings.TrimSpace(string(data)), "udp://")
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("top not listening within 10s; pane:\n%s", tm.capture(t))
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func (tm *tmux) run(t *testing.T, args ...string) string {
	t.Helper()
	out, err := exec.Command(tm.bin, append([]string{"-S", tm.sock}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("tmux %v: %v %s", args, err, out)
	}
	return string(out)
}

// capture returns what the pane shows.
func (tm *tmux) capture(t *testing.T) string {
	t.Helper()
	return tm.run(t, "capture-pane", "-p", "-t", "0")
}

// keys types into the pane (tmux send-keys: key names, or -l and text).
func (tm *tmux) keys(t *testing.T, keys ...string) {
	t.Helper()
	var args []string
	for i := 0; i < len(keys); i++ {
		if keys[i] == "-l" {
			tm.run(t, append([]string{"send-keys", "-t", "0"}, args...)...)
			tm.run(t, "send-keys", "-t", "0", "-l", keys[i+1])
			args = nil
			i++
			continue
		}
		args = append(args, keys[i])
	}
	if len(args) > 0 {
		tm.run(t, append([]string{"send-keys", "-t", "0"}, args...)...)
	}
}

// waitFor captures the pane until every pattern matches it (up to 10 s)
// and returns the capture.
func (tm *tmux) waitFor(t *testing.T, patterns ...string) string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		screen := tm.capture(t)
		missing := ""
		for _, p := range patterns {
			if !regexp.MustCompile(p).MatchString(screen) {
				missing = p
				break
			}
		}
		if missing == "" {
			return screen
		}
		if time.Now().After(deadline) {
			t.Fatalf("pane never showed %q:\n%s", missing, screen)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// checkRestored checks the pane after top ended: the listening line
// printed before the screen went up is back (the alternate screen was
// left), no table is left, and the terminal is in canonical mode with
// echo, as the shell had it.
func (tm *tmux) checkRestored(t *testing.T, screen string) {
	t.Helper()
	// With the history: the summary may have scrolled the first line.
	history := tm.run(t, "capture-pane", "-p", "-S", "-", "-t", "0")
	if !strings.Contains(history, "oscli: listening on udp://127.0.0.1:") || strings.Contains(history, "SPARKLINE") {
		t.Errorf("alternate screen not left:\n%s", history)
	}
	modes := regexp.MustCompile(`(?m)^MODES=.*$`).FindString(screen)
	if strings.TrimSpace(modes) != "MODES=icanon echo" {
		t.Errorf("terminal modes after top: %q\n%s", modes, screen)
	}
}

// oscli runs the oscli binary to completion.
func oscli(t *testing.T, args ...string) {
	t.Helper()
	cmd := exec.Command("oscli", args...)
	cmd.Env = append(os.Environ(), "GORACE=atexit_sleep_ms=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("oscli %v: %v\n%s", args, err, out)
	}
}
