//go:build unix

package main

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// SIGINT, SIGTERM and SIGHUP each stop the real binary's dump in the
// middle of a flood exactly as Ctrl-C does: exit 0, the summary names the
// signal, and every packet it counted is on stdout (a signal that killed
// dump would lose the buffered lines and the summary). The binary is the
// test binary run as "oscli" (TestMain), the ready signal is the
// "listening on" line and the first line of output, never a sleep.
func TestSignalsStopDump(t *testing.T) {
	bin, err := exec.LookPath("oscli")
	if err != nil {
		t.Fatal(err)
	}
	// A signal this process ignores (go test started in the background,
	// or under nohup) would be ignored by dump too, by design; catching it
	// here gives the child the default disposition.
	for _, s := range []os.Signal{syscall.SIGINT, syscall.SIGHUP} {
		if signal.Ignored(s) {
			c := make(chan os.Signal, 1)
			signal.Notify(c, s)
			defer signal.Stop(c)
		}
	}
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP} {
		for i := range 3 {
			t.Run(fmt.Sprintf("%s-%d", signalName(sig), i), func(t *testing.T) { stopDumpOnce(t, bin, sig) })
		}
	}
}

var summaryRE = regexp.MustCompile(`(?m)^oscli: stopped by (\S+): (\d+) packets?, .*$`)

func stopDumpOnce(t *testing.T, bin string, sig syscall.Signal) {
	cmd := exec.Command(bin, "dump", "-H", "127.0.0.1", "-p", "0", "--time", "none")
	cmd.Env = append(os.Environ(), "GORACE=atexit_sleep_ms=0")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()

	errLines := make(chan string, 16)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			errLines <- sc.Text()
		}
		close(errLines)
	}()
	var addr string
	select {
	case l := <-errLines:
		var ok bool
		if addr, ok = strings.CutPrefix(l, "oscli: listening on udp://"); !ok {
			t.Fatalf("first stderr line %q", l)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("dump not listening after 10s")
	}

	first := make(chan struct{}) // closed at the first line of output, or its end
	var once sync.Once
	outLines := make(chan int, 1)
	go func() {
		n := 0
		br := bufio.NewReader(stdout)
		for {
			if _, err := br.ReadString('\n'); err != nil {
				once.Do(func() { close(first) })
				outLines <- n
				return
			}
			n++
			once.Do(func() { close(first) })
		}
	}()

	// Flood until dump has ended, so that lines are in its buffer when
	// the signal comes.
	stopFlood := make(chan struct{})
	flooded := make(chan struct{})
	go func() {
		defer close(flooded)
		c, err := net.Dial("udp", addr)
		if err != nil {
			t.Error(err)
			return
		}
		defer c.Close()
		msg := []byte("/flood\x00\x00,i\x00\x00\x00\x00\x00\x01")
		for {
			select {
			case <-stopFlood:
				return
			default:
			}
			_, _ = c.Write(msg) // a full socket buffer may refuse some: dump counts what it got
		}
	}()
	select {
	case <-first:
	case <-time.After(10 * time.Second):
		t.Fatal("no output after 10s of flood")
	}
	if err := cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
	var rest []string
	for l := range errLines {
		rest = append(rest, l)
	}
	n := <-outLines
	werr := cmd.Wait()
	close(stopFlood)
	<-flooded
	if werr != nil {
		t.Fatalf("dump: %v; stderr:\n%s", werr, strings.Join(rest, "\n"))
	}
	m := summaryRE.FindStringSubmatch(strings.Join(rest, "\n"))
	if m == nil || m[1] != signalName(sig) {
		t.Fatalf("no summary naming %s; stderr:\n%s", signalName(sig), strings.Join(rest, "\n"))
	}
	if counted, _ := strconv.Atoi(m[2]); counted != n || n == 0 {
		t.Fatalf("summary counts %d packets, stdout has %d lines", counted, n)
	}
}

func signalName(s syscall.Signal) string {
	return map[syscall.Signal]string{syscall.SIGINT: "SIGINT", syscall.SIGTERM: "SIGTERM", syscall.SIGHUP: "SIGHUP"}[s]
}
