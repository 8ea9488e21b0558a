package cmd

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/oscli/oscli/internal/clock"
	"github.com/oscli/oscli/internal/pipeline"
)

// The first stop signal cancels the run with the signal as the cause;
// the second, whichever it is, ends the process.
func TestWatchSignals(t *testing.T) {
	ch := make(chan os.Signal, 2)
	ctx, cancel := context.WithCancelCause(context.Background())
	died := make(chan os.Signal, 1)
	go watchSignals(ch, cancel, func(s os.Signal) { died <- s })
	ch <- syscall.SIGTERM
	<-ctx.Done()
	var sc *signalCause
	if !errors.As(context.Cause(ctx), &sc) || sc.Error() != "SIGTERM" {
		t.Fatalf("cause %v", context.Cause(ctx))
	}
	select {
	case s := <-died:
		t.Fatalf("died at the first signal (%v)", s)
	default:
	}
	ch <- syscall.SIGHUP
	select {
	case s := <-died:
		if s != syscall.SIGHUP {
			t.Fatalf("died of %v", s)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a second signal did not end the process")
	}
}

// A read of stdin blocked on a quiet pipe ends when the run does; what
// arrives before passes through unchanged.
func TestStdinReaderEndsWithRun(t *testing.T) {
	pr, pw := io.Pipe()
	defer pw.Close()
	ctx, cancel := context.WithCancel(context.Background())
	r := &stdinReader{ctx: ctx, r: pr}
	go pw.Write([]byte("/a i:1\n"))
	buf := make([]byte, 64)
	if n, err := r.Read(buf); err != nil || string(buf[:n]) != "/a i:1\n" {
		t.Fatalf("read %q %v", buf[:n], err)
	}
	errc := make(chan error, 1)
	go func() {
		_, err := r.Read(buf)
		errc <- err
	}()
	cancel()
	select {
	case err := <-errc:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("read after cancel: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("read still blocked after the run ended")
	}
	if _, err := r.Read(buf); !errors.Is(err, context.Canceled) {
		t.Fatalf("a later read: %v", err)
	}
}

// session runs oscli in-process with the given streams until the test
// cancels it (with a cause, as a signal does).
type session struct {
	cancel context.CancelCauseFunc
	ready  chan string
	done   chan result
	errb   *syncBuffer
}

func startSession(t *testing.T, clk clock.Clock, in io.Reader, out io.Writer, args ...string) *session {
	t.Helper()
	ctx, cancel := context.WithCancelCause(context.Background())
	s := &session{cancel: cancel, ready: make(chan string, 1), done: make(chan result, 1), errb: &syncBuffer{}}
	env := &Env{
		In: in, Out: out, Err: s.errb, Clock: clk,
		Getenv:   func(string) string { return "" },
		onListen: func(a string) { s.ready <- a },
	}
	go func() {
		code := Run(ctx, env, args)
		s.done <- result{code: code, err: s.errb.String()}
	}()
	t.Cleanup(func() { cancel(nil) })
	return s
}

func (s *session) wait(t *testing.T) result {
	t.Helper()
	select {
	case r := <-s.done:
		return r
	case <-time.After(10 * time.Second):
		t.Fatalf("still running 10s after it should have ended; stderr:\n%s", s.errb.String())
		return result{}
	}
}

// send - reading a pipe that stays open ends at a signal like Ctrl-C
// (exit 130, naming the signal), after sending what it had read.
func TestSendStdinStopsOnSignal(t *testing.T) {
	ln, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	pr, pw := io.Pipe()
	defer pw.Close()
	s := startSession(t, clock.Real, pr, io.Discard, "send", ln.LocalAddr().String(), "-")
	if _, err := pw.Write([]byte("/first i:1\n")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 64)
	_ = ln.SetReadDeadline(time.Now().Add(10 * time.Second))
	if n, _, err := ln.ReadFrom(buf); err != nil || !strings.HasPrefix(string(buf[:n]), "/first") {
		t.Fatalf("received %q %v", buf[:n], err)
	}
	s.cancel(&signalCause{Signal: syscall.SIGTERM})
	if r := s.wait(t); r.code != 130 || r.err != "oscli: interrupted by SIGTERM\n" {
		t.Fatalf("%d %q", r.code, r.err)
	}
}

// stuckStdout is a pipe nobody reads: every Write blocks until the test
// ends.
type stuckStdout struct {
	started chan struct{}
	release chan struct{}
}

func newStuckStdout(t *testing.T) *stuckStdout {
	s := &stuckStdout{started: make(chan struct{}, 100), release: make(chan struct{})}
	t.Cleanup(func() { close(s.release) })
	return s
}

func (s *stuckStdout) Write(p []byte) (int, error) {
	s.started <- struct{}{}
	<-s.release
	return 0, io.ErrClosedPipe
}

// A signal ends dump even while stdout is blocked: the write gets
// pipeline.StopGrace on dump's clock, then is given up; the summary
// counts the packet that was not written and the exit code says output
// was lost.
func TestDumpStopsWithBlockedStdout(t *testing.T) {
	clk := clock.NewFake(t0)
	stuck := newStuckStdout(t)
	s := startSession(t, clk, strings.NewReader(""), stuck, "dump", "-H", "127.0.0.1", "-p", "0", "--time", "none")
	var addr string
	select {
	case addr = <-s.ready:
	case r := <-s.done:
		t.Fatalf("exited: %d %s", r.code, r.err)
	}
	sendRaw(t, strings.TrimPrefix(addr, "udp://"), vectorData(t, "fader"))
	select {
	case <-stuck.started:
	case <-time.After(10 * time.Second):
		t.Fatal("dump never wrote")
	}
	s.cancel(&signalCause{Signal: syscall.SIGTERM})
	if !clk.BlockUntil(1, 10*time.Second) {
		t.Fatal("no grace timer after the signal")
	}
	clk.Advance(pipeline.StopGrace - time.Nanosecond)
	select {
	case r := <-s.done:
		t.Fatalf("ended before the grace: %d %s", r.code, r.err)
	default:
	}
	clk.Advance(time.Nanosecond)
	r := s.wait(t)
	want := "oscli: stopped by SIGTERM: 1 packet, 20 bytes, 0 malformed, 0 filtered, 1 not written\n" +
		"oscli: error: stdout blocked: up to 1 packet not written (gave up 1s after the stop)\n"
	if r.code != 1 || !strings.HasSuffix(r.err, want) {
		t.Fatalf("%d\n%s\nwant suffix\n%s", r.code, r.err, want)
	}
}

// A record that fails (a full disk) stops dump; the packet it showed still
// reaches stdout, the summary says why it stopped, then the error, exit 1.
func TestDumpRecordDiskFull(t *testing.T) {
	if _, err := os.Stat("/dev/full"); err != nil {
		t.Skip("no /dev/full")
	}
	d := start(t, nil, "dump", "-H", "127.0.0.1", "-p", "0", "--time", "none", "--record", "/dev/full")
	sendRaw(t, d.addr, vectorData(t, "fader"), vectorData(t, "fader"))
	r := d.wait(t)
	want := "oscli: stopped by a record error: 1 packet, 20 bytes, 0 malformed, 0 filtered, 1 not recorded\n" +
		"oscli: error: record /dev/full: no space left on device\n"
	if r.code != 1 || !strings.HasSuffix(r.err, want) || len(lines(r.out)) != 1 || !strings.Contains(r.out, "/1/fader f:0.5") {
		t.Fatalf("%d\nstdout:\n%s\nstderr:\n%s", r.code, r.out, r.err)
	}
}

// Ctrl-C on `producer | oscli bundle ADDR -` (or send -): the EOF the
// dying producer leaves is not the end of the input. The signal is
// handled the moment stdin returned EOF (env.onStdinEOF, where the
// watcher goroutine would cancel the run): bundle (all or nothing) sends
// nothing, and both exit 130, interrupted.
func TestStdinEOFAtInterrupt(t *testing.T) {
	for _, args := range [][]string{{"bundle"}, {"send"}} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			ln, err := net.ListenPacket("udp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			defer ln.Close()
			in := "/a 1\n/b 2\n"
			ctx, cancel := context.WithCancelCause(context.Background())
			defer cancel(nil)
			errb := &syncBuffer{}
			env := &Env{In: strings.NewReader(in), Out: io.Discard, Err: errb,
				Clock: clock.Real, Getenv: func(string) string { return "" },
				onStdinEOF: func() { cancel(&signalCause{Signal: syscall.SIGINT}) }}
			code := Run(ctx, env, append(append([]string{}, args...), ln.LocalAddr().String(), "-"))
			if code != 130 || !strings.HasSuffix(errb.String(), "oscli: interrupted by SIGINT\n") {
				t.Fatalf("exit %d, stderr:\n%s", code, errb.String())
			}
			if args[0] != "bundle" {
				return // send - sent the lines it had read before the signal
			}
			// Nothing went out before the run ended: the first datagram the
			// listener holds is the test's own, sent after it.
			c, err := net.Dial("udp", ln.LocalAddr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if _, err := c.Write([]byte("sentinel")); err != nil {
				t.Fatal(err)
			}
			buf := make([]byte, 2048)
			n, _, err := ln.ReadFrom(buf)
			if err != nil || string(buf[:n]) != "sentinel" {
				t.Fatalf("bundle sent %q (%v) though interrupted", buf[:n], err)
			}
		})
	}
}
