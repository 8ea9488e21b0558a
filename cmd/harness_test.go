package cmd

import (
	"bytes"
	"context"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/oscli/oscli/internal/clock"
)

// t0 is where the fake clock of a test starts.
var t0 = time.Date(2026, 11, 21, 18, 0, 0, 0, time.UTC)

// syncBuffer is a bytes.Buffer safe for a command writing while a test
// reads, and that tells a waiting test when it was written to.
type syncBuffer struct {
	mu      sync.Mutex
	b       bytes.Buffer
	written chan struct{} // closed and replaced by each Write
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.written != nil {
		close(s.written)
		s.written = nil
	}
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// waitFor waits (up to 10 s) until what was written satisfies cond: a
// ready signal from the output, not a sleep.
func (s *syncBuffer) waitFor(t *testing.T, cond func(out string) bool) {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		s.mu.Lock()
		out := s.b.String()
		if s.written == nil {
			s.written = make(chan struct{})
		}
		written := s.written
		s.mu.Unlock()
		if cond(out) {
			return
		}
		select {
		case <-written:
		case <-deadline:
			t.Fatalf("output not as awaited within 10s:\n%s", out)
		}
	}
}

// result is what a finished command left.
type result struct {
	code     int
	out, err string
}

// run runs oscli in-process to completion.
func run(t *testing.T, stdin string, getenv map[string]string, args ...string) result {
	t.Helper()
	return runOn(t, clock.Real, stdin, getenv, args...)
}

// runOn is run with a clock of the test's (a fake one, for exact times
// in a command that does not wait).
func runOn(t *testing.T, clk clock.Clock, stdin string, getenv map[string]string, args ...string) result {
	t.Helper()
	env, out, errb := testEnv(stdin)
	if getenv != nil {
		env.Getenv = func(k string) string { return getenv[k] }
	}
	env.Clock = clk
	code := Run(context.Background(), env, args)
	return result{code, out.String(), errb.String()}
}

// background is a command running in-process, e.g. a dump.
type background struct {
	addr   string // the listener's address, once ready
	stdout *syncBuffer
	stderr *syncBuffer
	ready  chan string
	cancel context.CancelFunc
	done   chan result
}

// start runs oscli in the background and, for a listener, waits for its
// ready signal (not a sleep) before returning.
func start(t *testing.T, getenv map[string]string, args ...string) *background {
	t.Helper()
	return startOn(t, clock.Real, getenv, args...)
}

// startOn is start with a clock of the test's (a fake one, for timing).
func startOn(t *testing.T, clk clock.Clock, getenv map[string]string, args ...string) *background {
	t.Helper()
	return startEnv(t, clk, getenv, nil, args...)
}

// startEnv is startOn with setup changing the command's Env (launchEnv).
func startEnv(t *testing.T, clk clock.Clock, getenv map[string]string, setup func(*Env), args ...string) *background {
	t.Helper()
	bg := launchEnv(t, clk, getenv, setup, args...)
	select {
	case a := <-bg.ready:
		bg.addr = strings.TrimPrefix(a, "udp://")
	case r := <-bg.done:
		t.Fatalf("%v exited before listening: %d %s", args, r.code, r.err)
	case <-time.After(10 * time.Second):
		t.Fatalf("%v: not listening after 10s", args)
	}
	return bg
}

// launch runs oscli in the background and returns at once: for a command
// that waits on a fake clock the test moves.
func launch(t *testing.T, clk clock.Clock, getenv map[string]string, args ...string) *background {
	t.Helper()
	return launchEnv(t, clk, getenv, nil, args...)
}

// launchEnv is launch with setup, when set, changing the command's Env
// before it runs (its network interfaces, say).
func launchEnv(t *testing.T, clk clock.Clock, getenv map[string]string, setup func(*Env), args ...string) *background {
	t.Helper()
	var out, errb syncBuffer
	ctx, cancel := context.WithCancel(context.Background())
	bg := &background{cancel: cancel, done: make(chan result, 1), stdout: &out, stderr: &errb, ready: make(chan string, 1)}
	env := &Env{
		In: strings.NewReader(""), Out: &out, Err: &errb, Clock: clk,
		Getenv:   func(k string) string { return getenv[k] },
		onListen: func(a string) { bg.ready <- a },
	}
	if setup != nil {
		setup(env)
	}
	go func() {
		code := Run(ctx, env, args)
		bg.done <- result{code, out.String(), errb.String()}
	}()
	t.Cleanup(cancel)
	return bg
}

// tick moves a fake clock on by step each time the command waits on it,
// until the command ends, and returns what it left. For commands whose
// waits all end on multiples of step.
func (b *background) tick(t *testing.T, clk *clock.Fake, step time.Duration) result {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case r := <-b.done:
			return r
		case <-deadline:
			b.cancel()
			r := <-b.done
			t.Fatalf("did not finish within 10s (clock moved to %v); stdout:\n%s\nstderr:\n%s", clk.Now(), r.out, r.err)
		default:
		}
		// A short real wait, repeated: the command may be between two
		// waits, or about to end.
		if clk.BlockUntil(1, time.Millisecond) {
			clk.Advance(step)
		}
	}
}

// wait waits for the command to end by itself (--count, --timeout).
func (b *background) wait(t *testing.T) result {
	t.Helper()
	select {
	case r := <-b.done:
		return r
	case <-time.After(10 * time.Second):
		b.cancel()
		r := <-b.done
		t.Fatalf("did not finish within 10s; stdout so far:\n%s\nstderr:\n%s", r.out, r.err)
		return r
	}
}

// stop interrupts the command as Ctrl-C would and returns what it left.
func (b *background) stop(t *testing.T) result {
	t.Helper()
	b.cancel()
	return b.wait(t)
}

// sendRaw sends datagrams to addr from one plain socket.
func sendRaw(t *testing.T, addr string, packets ...[]byte) {
	t.Helper()
	c, err := net.Dial("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for _, p := range packets {
		if _, err := c.Write(p); err != nil {
			t.Fatal(err)
		}
	}
}

// lines splits output into lines without the final newline.
func lines(s string) []string {
	s = strings.TrimSuffix(s, "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}
