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

// Test's streams are buffers and no terminal; the setters say otherwise
// and colour follows as New would decide it.
func TestTestStreams(t *testing.T) {
	s, in, out, errOut := Test()
	if s.In != in || s.Out != out || s.ErrOut != errOut {
		t.Fatal("streams are not the returned buffers")
	}
	check := func(step string, inTTY, outTTY, errTTY, color bool) {
		t.Helper()
		got := [4]bool{s.IsStdinTTY(), s.IsStdoutTTY(), s.IsStderrTTY(), s.ColorOut()}
		if want := [4]bool{inTTY, outTTY, errTTY, color}; got != want {
			t.Errorf("%s: stdin, stdout, stderr a terminal, stdout coloured = %v, want %v", step, got, want)
		}
	}
	check("new", false, false, false, false)
	s.SetStdoutTTY(true)
	check("stdout a terminal", false, true, false, true)
	s.SetStderrTTY(true)
	s.SetStdinTTY(true)
	check("all terminals", true, true, true, true)
	noColor := func(k string) string {
		if k == "NO_COLOR" {
			return "1"
		}
		return ""
	}
	s.SetColor(ColorAuto, noColor)
	check("NO_COLOR", true, true, true, false)
	s.SetStdoutTTY(false)
	s.SetColor(ColorAlways, noColor)
	check("--color always on a pipe", true, false, true, true)
	s.SetStdoutTTY(true)
	s.SetColor(ColorNever, func(string) string { return "" })
	check("--color never on a terminal", true, true, true, false)
}
