package main

import (
	"encoding/hex"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/oscli/oscli/cmd"
	"github.com/rogpeppe/go-internal/testscript"
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
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"waitready": waitReady,
			"sendhex":   sendHex,
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

// sendhex ADDR HEX sends raw bytes (malformed packets, say) to udp ADDR.
func sendHex(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: sendhex ADDR HEX")
	}
	data, err := hex.DecodeString(args[1])
	ts.Check(err)
	c, err := net.Dial("udp", strings.TrimPrefix(args[0], "udp://"))
	ts.Check(err)
	defer c.Close()
	_, err = c.Write(data)
	ts.Check(err)
}
