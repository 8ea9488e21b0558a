package iostreams

import (
	"bytes"
	"testing"
)

func TestColorDecision(t *testing.T) {
	env := func(kv ...string) func(string) string {
		m := map[string]string{}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return func(k string) string { return m[k] }
	}
	tests := []struct {
		name   string
		mode   ColorMode
		tty    bool
		getenv func(string) string
		want   bool
	}{
		{"auto on a pipe", ColorAuto, false, env(), false},
		{"auto on a terminal", ColorAuto, true, env(), true},
		{"NO_COLOR wins in auto", ColorAuto, true, env("NO_COLOR", "1"), false},
		{"CLICOLOR_FORCE on a pipe", ColorAuto, false, env("CLICOLOR_FORCE", "1"), true},
		{"CLICOLOR_FORCE=0 ignored", ColorAuto, false, env("CLICOLOR_FORCE", "0"), false},
		{"NO_COLOR beats CLICOLOR_FORCE", ColorAuto, false, env("NO_COLOR", "x", "CLICOLOR_FORCE", "1"), false},
		{"dumb terminal", ColorAuto, true, env("TERM", "dumb"), false},
		{"always beats NO_COLOR", ColorAlways, false, env("NO_COLOR", "1"), true},
		{"never beats a terminal", ColorNever, true, env("CLICOLOR_FORCE", "1"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := decide(tt.mode, tt.tty, tt.getenv); got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
	s := New(nil, &bytes.Buffer{}, &bytes.Buffer{}, ColorAuto, env())
	if s.IsStdoutTTY() || s.ColorOut() {
		t.Error("a buffer is not a terminal")
	}
	if _, err := ParseColorMode("sometimes"); err == nil {
		t.Error("bad mode accepted")
	}
}
