package cmd

import (
	"strings"
	"testing"
	"time"

	"github.com/oscli/oscli/internal/clock"
	"github.com/oscli/oscli/internal/osc"
)

// Exit codes report outcomes: dump -n N --timeout D that saw fewer than N
// packets exits 1 and says so, after the summary; without --count, or
// with it reached, a timeout is success.
func TestDumpCountNotReached(t *testing.T) {
	for _, tt := range []struct {
		name    string
		args    []string
		send    int
		code    int
		summary string
		err     string
	}{
		{"none of one", []string{"-n", "1"}, 0, 1, "stopped by --timeout 5s: 0 packets", "oscli: error: --timeout 5s passed with 0 of 1 packets\n"},
		{"one of two", []string{"--count", "2"}, 1, 1, "stopped by --timeout 5s: 1 packet,", "oscli: error: --timeout 5s passed with 1 of 2 packets\n"},
		{"no count", nil, 0, 0, "stopped by --timeout 5s: 0 packets", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			clk := clock.NewFake(t0)
			d := startOn(t, clk, nil, append([]string{"dump", "-H", "127.0.0.1", "-p", "0", "--time", "none", "--timeout", "5s"}, tt.args...)...)
			for range tt.send {
				sendRaw(t, d.addr, vectorData(t, "fader"))
			}
			d.stdout.waitFor(t, func(out string) bool { return strings.Count(out, "\n") == tt.send })
			if !clk.BlockUntil(1, 10*time.Second) {
				t.Fatal("no --timeout timer")
			}
			clk.Advance(5 * time.Second)
			r := d.wait(t)
			errLines := strings.SplitAfterN(r.err, "\n", 3) // listening on, summary, error
			if r.code != tt.code || len(errLines) < 2 || !strings.Contains(errLines[1], tt.summary) || strings.Join(errLines[2:], "") != tt.err {
				t.Errorf("exit %d, stderr %q", r.code, r.err)
			}
		})
	}
}

// Ctrl-C keeps dump's exit code 0 whatever --count says.
func TestDumpCountInterrupted(t *testing.T) {
	d := start(t, nil, "dump", "-H", "127.0.0.1", "-p", "0", "-n", "5", "--timeout", "1h")
	if r := d.stop(t); r.code != 0 || strings.Contains(r.err, "error") {
		t.Errorf("exit %d, stderr %q", r.code, r.err)
	}
}

// replier answers each message it gets with n replies to the sender's
// port, as OSC servers do, and returns its address.
func replier(t *testing.T, n int) string {
	pc, addr := listen(t)
	go func() {
		buf := make([]byte, 1024)
		for {
			_, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			for i := range n {
				reply, _ := osc.AppendMessage(nil, &osc.Message{Address: "/pong", Args: []osc.Arg{osc.Int32(int32(i))}})
				_, _ = pc.WriteTo(reply, from)
			}
		}
	}()
	return addr
}

// send --reply -n N stops at the Nth reply without waiting out --timeout
// (the fake clock never moves); fewer replies by --timeout, or none at all
// without --count, is exit status 1.
func TestReplyOutcomes(t *testing.T) {
	t.Run("count reached", func(t *testing.T) {
		addr := replier(t, 3)
		clk := clock.NewFake(t0)
		b := launch(t, clk, nil, "send", addr, "/ping", "--reply", "-n", "2", "--timeout", "1h")
		r := b.wait(t)
		if r.code != 0 || len(lines(r.out)) != 2 || !strings.Contains(r.out, "/pong i:1") || r.err != "" {
			t.Errorf("exit %d, out %q, err %q", r.code, r.out, r.err)
		}
	})
	for _, tt := range []struct {
		name    string
		replies int
		args    []string
		err     string
	}{
		{"none", 0, nil, "oscli: error: no reply within --timeout 500ms\n"},
		{"fewer than --count", 1, []string{"--count", "2"}, "oscli: error: --timeout 500ms passed with 1 of 2 replies\n"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var addr string
			if tt.replies == 0 {
				_, addr = listen(t)
			} else {
				addr = replier(t, tt.replies)
			}
			clk := clock.NewFake(t0)
			b := launch(t, clk, nil, append([]string{"send", addr, "/ping", "--reply", "--timeout", "500ms"}, tt.args...)...)
			if tt.replies > 0 {
				b.stdout.waitFor(t, func(out string) bool { return strings.Count(out, "\n") == tt.replies })
			}
			if !clk.BlockUntil(1, 10*time.Second) {
				t.Fatal("no --timeout timer")
			}
			clk.Advance(500 * time.Millisecond)
			if r := b.wait(t); r.code != 1 || r.err != tt.err {
				t.Errorf("exit %d, err %q", r.code, r.err)
			}
		})
	}
}
