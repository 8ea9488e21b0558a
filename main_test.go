package main

import (
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/oscli/oscli/cmd"
	"github.com/oscli/oscli/internal/testvec"
)

// TestMain lets testscript run the real command tree as "oscli" inside the
// scripts, without building a binary.
func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"oscli": func() { os.Exit(cmd.Main(os.Args[1:], cmd.BuildInfo{})) },
	})
}

// TestScript runs testdata/script/*.txtar: end-to-end CLI sessions.
func TestScript(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:                 "testdata/script",
		RequireExplicitExec: true,
		Setup: func(env *testscript.Env) error {
			// Under -race, every exit sleeps a second so that late reports
			// get out (GORACE atexit_sleep_ms, 1000 by default), and the
			// scripts run oscli about seventy times: nearly all of the 18 s
			// this package took under -race.
			env.Setenv("GORACE", strings.TrimSpace(os.Getenv("GORACE")+" atexit_sleep_ms=0"))
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"waitready":  waitReady,
			"sendvector": sendVector,
			"exits":      exits,
		},
	})
}

// waitready FILE VAR waits (up to 10 s) for a listener's --ready-file and
// sets $VAR to the address in it: the ready signal, instead of a sleep.
func waitReady(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: waitready FILE VAR")
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		data, err := os.ReadFile(ts.MkAbs(args[0]))
		if err == nil && strings.HasSuffix(string(data), "\n") {
			ts.Setenv(args[1], strings.TrimSpace(string(data)))
			return
		}
		if time.Now().After(deadline) {
			ts.Fatalf("%s did not appear within 10s", args[0])
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// sendvector ADDR NAME... sends test vectors (testdata/vectors/NAME.osc,
// malformed ones too) to udp ADDR, each as one datagram.
func sendVector(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: sendvector ADDR NAME...")
	}
	c, err := net.Dial("udp", strings.TrimPrefix(args[0], "udp://"))
	ts.Check(err)
	defer c.Close()
	for _, name := range args[1:] {
		data, err := os.ReadFile(filepath.Join(testvec.Dir(), name+".osc"))
		ts.Check(err)
		_, err = c.Write(data)
		ts.Check(err)
	}
}

// exits CODE PROGRAM [ARGS...] runs PROGRAM as exec does and checks its
// exit code: exec only tells success from failure, and oscli's exit codes
// say what kind of failure (2: bad usage, 1: the rest).
func exits(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: exits CODE PROGRAM [ARGS...]")
	}
	want, err := strconv.Atoi(args[0])
	ts.Check(err)
	err = ts.Exec(args[1], args[2:]...)
	got := 0
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		got = ee.ExitCode()
	default:
		ts.Fatalf("%s: %v", args[1], err)
	}
	if got != want {
		ts.Fatalf("%s exited with %d, want %d", args[1], got, want)
	}
}
