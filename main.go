// Command oscli is a command-line tool for debugging Open Sound Control
// traffic: dump, send, bundle, bench and replay. See README.md.
package main

import (
	"os"

	"github.com/oscli/oscli/cmd"
)

// Set by the release build: -ldflags "-X main.version=… -X main.commit=… -X main.date=…".
var version, commit, date string

func main() {
	os.Exit(cmd.Main(os.Args[1:], cmd.BuildInfo{Version: version, Commit: commit, Date: date}))
}
