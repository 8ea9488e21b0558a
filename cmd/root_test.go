package cmd

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/oscli/oscli/internal/clock"
)

// testEnv returns an Env with buffers for streams and a fixed clock.
func testEnv(stdin string) (*Env, *bytes.Buffer, *bytes.Buffer) {
	var out, errb bytes.Buffer
	return &Env{
		In:     strings.NewReader(stdin),
		Out:    &out,
		Err:    &errb,
		Getenv: func(string) string { return "" },
		Clock:  clock.NewFake(time.Date(2026, 11, 21, 18, 0, 0, 0, time.UTC)),
	}, &out, &errb
}

func TestReport(t *testing.T) {
	tests := []struct {
		err  error
		ran  bool
		code int
		out  string
	}{
		{nil, true, 0, ""},
		{errors.New("connection refused"), true, 1, "oscli: error: connection refused\n"},
		{usageErrorf("argument 3 %q: invalid int32", "i:4x"), true, 2, "oscli: error: argument 3 \"i:4x\": invalid int32\n"},
		{&hintError{errors.New("port 8000 in use"), "try -p 0"}, true, 1, "oscli: error: port 8000 in use\noscli: hint: try -p 0\n"},
		{context.Canceled, true, 130, "oscli: interrupted\n"},
		{&exitCodeError{code: 1}, true, 1, ""},
	}
	for _, tt := range tests {
		var b bytes.Buffer
		if code := report(&b, tt.err, tt.ran); code != tt.code || b.String() != tt.out {
			t.Errorf("report(%v) = %d %q, want %d %q", tt.err, code, b.String(), tt.code, tt.out)
		}
	}
}
