//go:build unix

package cmd

import (
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

// --record to a FIFO nobody reads: a signal still ends dump, the record
// write given up pipeline.StopGrace after the stop on dump's clock, as for
// a blocked stdout; the packet shown still reaches stdout, the one not
// recorded is counted, exit 1 with one error line.
func TestDumpStopsWithBlockedRecord(t *testing.T) {
	fifo := t.TempDir() + "/rec"
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skip("no FIFO:", err)
	}
	// A reader that never reads, and the FIFO's buffer filled, so that
	// dump's first record write blocks.
	rd, err := os.OpenFile(fifo, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	fd, err := syscall.Open(fifo, syscall.O_WRONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		t.Fatal(err)
	}
	chunk := make([]byte, 4096)
	for {
		if _, err := syscall.Write(fd, chunk); err != nil {
			break // EAGAIN: full
		}
	}
	syscall.Close(fd)
	clk := clock.NewFake(t0)
	out := &syncBuffer{}
	s := startSession(t, clk, strings.NewReader(""), out, "dump", "-H", "127.0.0.1", "-p", "0", "--time", "none", "--echo", "--record", fifo)
	var addr string
	select {
	case addr = <-s.ready:
	case r := <-s.done:
		t.Fatalf("exited: %d %s", r.code, r.err)
	}
	c, err := net.Dial("udp", strings.TrimPrefix(addr, "udp://"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write(vectorData(t, "fader")); err != nil {
		t.Fatal(err)
	}
	// The echo comes before the packet is shown and recorded.
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.Read(make([]byte, 64)); err != nil {
		t.Fatal("no echo:", err)
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
	want := "oscli: stopped by SIGTERM: 1 packet, 20 bytes, 0 malformed, 0 filtered, 1 not recorded\n" +
		"oscli: error: record " + fifo + " blocked: up to 1 packet not recorded (gave up 1s after the stop)\n"
	if r.code != 1 || !strings.HasSuffix(r.err, want) || !strings.Contains(out.String(), "/1/fader f:0.5") {
		t.Fatalf("%d\nstdout:\n%s\nstderr:\n%s\nwant suffix\n%s", r.code, out.String(), r.err, want)
	}
}

// serve --save to a FIFO writes the tree into it: the FIFO is not
// replaced by a regular file (as a rename over it would), and the reader
// gets the tree. (/dev/stdout, /dev/full: the same, a device.)
func TestServeSavesIntoFIFO(t *testing.T) {
	fifo := t.TempDir() + "/tree"
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skip("no FIFO:", err)
	}
	got := make(chan string, 1)
	go func() {
		f, err := os.Open(fifo)
		if err != nil {
			got <- err.Error()
			return
		}
		defer f.Close()
		b, _ := io.ReadAll(f)
		got <- string(b)
	}()
	srv := start(t, nil, "serve", "--learn", "--save", fifo, "-H", "127.0.0.1", "-p", "0", "-n", "1", "--time", "none")
	if r := run(t, "", nil, "send", srv.addr, "/a", "i:1"); r.code != 0 {
		t.Fatalf("send: %s", r.err)
	}
	if r := srv.wait(t); r.code != 0 {
		t.Fatalf("serve: %d %s", r.code, r.err)
	}
	select {
	case tree := <-got:
		if !strings.Contains(tree, `"FULL_PATH": "/a"`) {
			t.Errorf("the FIFO's reader got %q", tree)
		}
	case <-time.After(10 * time.Second):
		t.Error("nothing was written into the FIFO")
	}
	if fi, err := os.Lstat(fifo); err != nil || fi.Mode()&os.ModeNamedPipe == 0 {
		t.Errorf("--save replaced the FIFO: %v %v", fi.Mode(), err)
	}
}

// serve --save through a symbolic link writes the file it points to and
// keeps the link (/dev/stdout is one, to /proc/self/fd/1: a rename over
// it replaced it with a regular file).
func TestServeSavesThroughSymlink(t *testing.T) {
	dir := t.TempDir()
	target, link := dir+"/tree.json", dir+"/link.json"
	if err := os.WriteFile(target, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, link); err != nil {
		t.Skip("no symlink:", err)
	}
	srv := start(t, nil, "serve", "--learn", "--save", link, "-H", "127.0.0.1", "-p", "0", "-n", "1", "--time", "none")
	if r := run(t, "", nil, "send", srv.addr, "/a", "i:1"); r.code != 0 {
		t.Fatalf("send: %s", r.err)
	}
	if r := srv.wait(t); r.code != 0 {
		t.Fatalf("serve: %d %s", r.code, r.err)
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Errorf("--save replaced the link: %v %v", fi.Mode(), err)
	}
	if b, _ := os.ReadFile(target); !strings.Contains(string(b), `"FULL_PATH": "/a"`) {
		t.Errorf("the link's file holds %q", b)
	}
}
