package cmd

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCompletions(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "oscli"), 0o755)
	os.WriteFile(filepath.Join(dir, "oscli", "config.yaml"), []byte("targets:\n  mixer: udp://10.0.0.9:10023\n  lights: tcp://h:1\n"), 0o644)
	env := map[string]string{"XDG_CONFIG_HOME": dir}
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"__complete", "dump", "--format", ""}, "text\njson\nhex\nraw\n:4\n"},
		{[]string{"__complete", "send", "--framing", ""}, "slip\nlen\n:4\n"},
		{[]string{"__complete", "dump", "--framing", ""}, "auto\nslip\nlen\n:4\n"},
		{[]string{"__complete", "replay", "--format", ""}, "json\noscdump\nslip\n:4\n"},
		{[]string{"__complete", "dump", "--time", ""}, "local\nutc\nunix\nrel\nnone\n:4\n"},
		{[]string{"__complete", "send", "@m"}, "@mixer\tudp://10.0.0.9:10023\n:4\n"},
		{[]string{"__complete", "bundle", "@"}, "@lights\ttcp://h:1\n@mixer\tudp://10.0.0.9:10023\n:4\n"},
		{[]string{"__complete", "send", "/1/fa"}, ":4\n"}, // an OSC address: no file names
		{[]string{"__complete", "replay", ""}, ":0\n"},    // the recording: files
		{[]string{"__complete", "serve", ""}, ":0\n"},     // TREE.json: files
		{[]string{"__complete", "query", "@"}, ":4\n"},    // on the network, not the config's
	}
	for _, tt := range tests {
		r := run(t, "", env, tt.args...)
		// Cobra adds value-filtering hints on stderr; stdout is the contract.
		if got := r.out; !strings.HasSuffix(got, tt.want) && got != tt.want {
			t.Errorf("%v: got %q, want %q", tt.args, got, tt.want)
		}
	}
}
