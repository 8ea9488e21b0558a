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

// syncBuffer is a bytes.Buffer safe for a command writing while a test
// reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// result is what a finished command left.
type result struct {
	code     int
	out, err string
}

// run runs oscli in-process to completion.
func run(t *testing.T, stdin string, getenv map[string]string, args ...string) result {
	t.Helper()
	env, out, errb := testEnv(stdin)
	if getenv != nil {
		env.Getenv = func(k string) string { return getenv[k] }
	}
	env.Clock = clock.Real
	code := Run(context.Background(), env, args)
	return result{code, out.String(), errb.String()}
}

// background is a command running in-process, e.g. a dump.
type background struct {
	addr   string // the listener's address, once ready
	stdout *syncBuffer
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
	ready := make(chan string, 1)
	var out, errb syncBuffer
	env := &Env{
		In: strings.NewReader(""), Out: &out, Err: &errb, Clock: clk,
		Getenv:   func(k string) string { return getenv[k] },
		onListen: func(a string) { ready <- a },
	}
	ctx, cancel := context.WithCancel(context.Background())
	bg := &background{cancel: cancel, done: make(chan result, 1), stdout: &out}
	go func() {
		code := Run(ctx, env, args)
		bg.done <- result{code, out.String(), errb.String()}
	}()
	select {
	case a := <-ready:
		bg.addr = strings.TrimPrefix(a, "udp://")
	case r := <-bg.done:
		t.Fatalf("%v exited before listening: %d %s", args, r.code, r.err)
	case <-time.After(10 * time.Second):
		t.Fatalf("%v: not listening after 10s", args)
	}
	t.Cleanup(cancel)
	return bg
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
