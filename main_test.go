package main

import (
	"os"
	"testing"

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
	})
}
