package format

import (
	"errors"
	"io"
	"strings"
	"testing"
)

// Lines over the limit are reported with their number and skipped; the
// lines around them are read, and a last line without a newline counts.
func TestLineReader(t *testing.T) {
	long := strings.Repeat("x", 300)
	in := "a\n" + long + "\n\nb\n" + strings.Repeat("y", 100) + "\nlast"
	r := NewLineReader(strings.NewReader(in), 100)
	type got struct {
		line string
		n    int
		err  string
	}
	var gots []got
	for {
		l, err := r.Next()
		if err == io.EOF {
			break
		}
		g := got{string(l), r.Line(), ""}
		var tl *LineTooLongError
		if errors.As(err, &tl) {
			g.err = err.Error()
		} else if err != nil {
			t.Fatal(err)
		}
		gots = append(gots, g)
	}
	want := []got{
		{"a", 1, ""},
		{"", 2, "line 2 is longer than 100 bytes: skipped"},
		{"", 3, ""},
		{"b", 4, ""},
		{strings.Repeat("y", 100), 5, ""},
		{"last", 6, ""},
	}
	if len(gots) != len(want) {
		t.Fatalf("got %+v", gots)
	}
	for i := range want {
		if gots[i] != want[i] {
			t.Errorf("line %d: got %+v, want %+v", i, gots[i], want[i])
		}
	}
}

// A small buffer does not change the limit: long lines are assembled.
func TestLineReaderLongLinesUnderLimit(t *testing.T) {
	line := strings.Repeat("z", 200<<10)
	r := NewLineReader(strings.NewReader(line+"\n"+line), 0)
	for i := 0; i < 2; i++ {
		l, err := r.Next()
		if err != nil || string(l) != line {
			t.Fatalf("line %d: %d bytes, %v", i+1, len(l), err)
		}
	}
	if _, err := r.Next(); err != io.EOF {
		t.Fatalf("at the end: %v", err)
	}
}
