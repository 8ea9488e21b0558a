package cmd

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/oscli/oscli/internal/clock"

	"github.com/spf13/cobra"
)

// docsDate is the date printed in the man pages: fixed, so generating them
// is deterministic (SOURCE_DATE_EPOCH overrides it for releases).
var docsDate = time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC)

// GenerateDocs writes the shell completions and man pages into
// dir/completions and dir/man: a page per command (oscli.1, oscli-dump.1,
// ...) and oscli-json.5 for the JSON lines. `oscli gen-docs .` regenerates
// the committed copies; a test fails when they drift from the command tree.
func GenerateDocs(dir string, getenv func(string) string) (map[string][]byte, error) {
	env := &Env{Getenv: getenv, Clock: clock.Real}
	root := newRootCmd(env)
	root.InitDefaultCompletionCmd()
	files := map[string][]byte{}
	var b bytes.Buffer
	gens := map[string]func() error{
		"completions/oscli.bash": func() error { return root.GenBashCompletionV2(&b, true) },
		"completions/_oscli":     func() error { return root.GenZshCompletion(&b) },
		"completions/oscli.fish": func() error { return root.GenFishCompletion(&b, true) },
		"completions/oscli.ps1":  func() error { return root.GenPowerShellCompletionWithDesc(&b) },
	}
	for name, gen := range gens {
		b.Reset()
		if err := gen(); err != nil {
			return nil, err
		}
		files[name] = bytes.Clone(b.Bytes())
	}
	date := docsDate
	if s := getenv("SOURCE_DATE_EPOCH"); s != "" {
		var sec int64
		if _, err := fmt.Sscan(s, &sec); err == nil {
			date = time.Unix(sec, 0).UTC()
		}
	}
	day := date.Format("2006-01-02")
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if !c.IsAvailableCommand() && c != root || c.Name() == "help" {
			return
		}
		c.InitDefaultHelpFlag() // cobra adds -h when a command runs; --help lists it
		files["man/"+manName(c)+".1"] = commandPage(c, day, schema(root)).Render()
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
	files["man/oscli-json.5"] = jsonPage(day).Render()
	if dir != "" {
		for name, data := range files {
			path := filepath.Join(dir, name)
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				return nil, err
			}
			if err := os.WriteFile(path, data, 0o644); err != nil {
				return nil, err
			}
		}
	}
	return files, nil
}

func newGenDocsCmd(env *Env) *cobra.Command {
	return &cobra.Command{
		Use:    "gen-docs DIR",
		Short:  "Regenerate completions/ and man/ under DIR",
		Hidden: true,
		Args:   cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			files, err := GenerateDocs(args[0], env.Getenv)
			if err != nil {
				return err
			}
			fmt.Fprintf(env.Out, "wrote %d files under %s\n", len(files), args[0])
			return nil
		},
	}
}
