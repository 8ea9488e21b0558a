package cmd

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/oscli/oscli/internal/argparse"
)

// The committed completions/ and man/ are what the binary generates.
func TestDocsDoNotDrift(t *testing.T) {
	files, err := GenerateDocs("", func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range files {
		got, err := os.ReadFile(filepath.Join("..", name))
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s is out of date: run 'go run . gen-docs .' and commit the result", name)
		}
	}
	for _, dir := range []string{"completions", "man"} {
		entries, _ := os.ReadDir(filepath.Join("..", dir))
		for _, e := range entries {
			if _, ok := files[dir+"/"+e.Name()]; !ok {
				t.Errorf("%s/%s is not generated any more: delete it", dir, e.Name())
			}
		}
	}
	// Deterministic: a second run gives the same bytes.
	again, _ := GenerateDocs("", func(string) string { return "" })
	for name := range files {
		if !bytes.Equal(files[name], again[name]) {
			t.Errorf("%s differs between two runs", name)
		}
	}
}

// oscliLines finds the oscli invocations in text: each pipeline segment
// that starts with "oscli", cut at redirections and shell operators.
func oscliLines(text string) []string {
	var out []string
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		for _, seg := range regexp.MustCompile(`\|\||&&|[|;]`).Split(line, -1) {
			seg = strings.TrimSpace(seg)
			if !strings.HasPrefix(seg, "oscli ") {
				continue
			}
			seg = regexp.MustCompile(`\s(>|<|2>|&)(\s|$).*$|\s*&$|<<<.*$`).ReplaceAllString(seg, "")
			out = append(out, seg)
		}
	}
	return out
}

// checkInvocation runs one example through the real command tree with
// runners that only check flags and arguments.
func checkInvocation(t *testing.T, where, line string) {
	t.Helper()
	words, err := argparse.SplitLine(line)
	if err != nil {
		t.Errorf("%s: %q: %v", where, line, err)
		return
	}
	env, _, errb := testEnv("")
	env.parseOnly = true
	env.Zeroconf = exampleNetwork.open // the instances examples name with @
	env.Getenv = func(k string) string {
		if k == "OSCLI_CONFIG" {
			return exampleConfig
		}
		return ""
	}
	if code := Run(t.Context(), env, words[1:]); code != 0 {
		t.Errorf("%s: %q exits %d: %s", where, line, code, errb)
	}
}

// exampleConfig is a config file with the targets the examples name; the
// examples run in a directory holding the files they read.
var exampleConfig string

func exampleWorld(t *testing.T) {
	dir := t.TempDir()
	exampleConfig = filepath.Join(dir, "config.yaml")
	cfg := "targets:\n  mixer: osc.udp://192.168.1.20:10023\n  lights: udp://10.0.0.5:8000\n"
	if err := os.WriteFile(exampleConfig, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "sample.bin"), []byte{1, 2, 3}, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir)
}

// Every example in README.md's shell blocks is a valid command line.
func TestReadmeExamplesParse(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	exampleWorld(t)
	blocks := regexp.MustCompile("(?s)```sh\n(.*?)```").FindAllStringSubmatch(string(readme), -1)
	n := 0
	for _, b := range blocks {
		for _, line := range oscliLines(b[1]) {
			checkInvocation(t, "README.md", line)
			n++
		}
	}
	if n < 40 {
		t.Errorf("only %d examples found in README.md", n)
	}
}

// Every command's --help has a Long text and examples, and they parse.
func TestHelpExamplesParse(t *testing.T) {
	exampleWorld(t)
	env, _, _ := testEnv("")
	root := newRootCmd(env)
	for _, c := range root.Commands() {
		if c.Hidden || c.Name() == "version" || c.Name() == "help" {
			continue
		}
		if c.Long == "" || c.Example == "" {
			t.Errorf("%s: no Long text or no examples", c.Name())
		}
		for _, line := range oscliLines(c.Example) {
			checkInvocation(t, c.Name()+" --help", line)
		}
	}
}
