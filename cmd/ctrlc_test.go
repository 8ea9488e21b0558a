package cmd

import (
	"context"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/oscli/oscli/internal/clock"
	"github.com/oscli/oscli/internal/iostreams"
)

// A terminal echoes ^C where the cursor is: after Ctrl-C on a terminal,
// what oscli prints next starts on a line of its own. Not after another
// signal, and not into a file or pipe.
func TestNewlineAfterCtrlC(t *testing.T) {
	for _, tt := range []struct {
		name   string
		args   []string
		listen bool
		sig    syscall.Signal
		tty    bool
		want   string // stderr after the "listening on" line, if any
	}{
		{"dump Ctrl-C on a terminal", []string{"dump", "-H", "127.0.0.1", "-p", "0"}, true, syscall.SIGINT, true,
			"\noscli: stopped by SIGINT: 0 packets, 0 bytes, 0 malformed, 0 filtered\n"},
		{"dump Ctrl-C into a file", []string{"dump", "-H", "127.0.0.1", "-p", "0"}, true, syscall.SIGINT, false,
			"oscli: stopped by SIGINT: 0 packets, 0 bytes, 0 malformed, 0 filtered\n"},
		{"dump SIGTERM on a terminal", []string{"dump", "-H", "127.0.0.1", "-p", "0"}, true, syscall.SIGTERM, true,
			"oscli: stopped by SIGTERM: 0 packets, 0 bytes, 0 malformed, 0 filtered\n"},
		{"send Ctrl-C on a terminal", []string{"send", "--dry-run", "/tick", "--repeat", "0", "--interval", "1h"}, false, syscall.SIGINT, true,
			"\noscli: interrupted by SIGINT\n"},
		{"send Ctrl-C into a file", []string{"send", "--dry-run", "/tick", "--repeat", "0", "--interval", "1h"}, false, syscall.SIGINT, false,
			"oscli: interrupted by SIGINT\n"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ios, _, _, errb := iostreams.Test()
			ios.SetStderrTTY(tt.tty)
			clk := clock.NewFake(t0)
			ready := make(chan string, 1)
			env := &Env{ios: ios, Getenv: func(string) string { return "" }, Clock: clk, onListen: func(a string) { ready <- a }}
			ctx, cancel := context.WithCancelCause(context.Background())
			defer cancel(nil)
			done := make(chan int, 1)
			go func() { done <- Run(ctx, env, tt.args) }()
			if tt.listen {
				select {
				case <-ready:
				case <-time.After(10 * time.Second):
					t.Fatal("not listening")
				}
			} else if !clk.BlockUntil(1, 10*time.Second) {
				t.Fatal("not waiting for --interval")
			}
			cancel(&signalCause{Signal: tt.sig})
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				t.Fatal("did not stop")
			}
			got := errb.String()
			if tt.listen {
				_, got, _ = strings.Cut(got, "\n") // after "listening on"
			}
			if got != tt.want {
				t.Errorf("stderr %q, want %q", got, tt.want)
			}
		})
	}
}
