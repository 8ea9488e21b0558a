package format

import (
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/oscli/oscli/internal/osc"
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
		{"", 2, "line 2 is 300 bytes, longer than 100: skipped"},
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

// A line longer than the buffer and the limit is read to its end, not
// kept, and reported with its length; the next line is read as usual.
func TestLineReaderSkipsHugeLines(t *testing.T) {
	huge := strings.Repeat("h", 300<<10)
	for _, tail := range []string{"\nnext\n", ""} {
		r := NewLineReader(strings.NewReader("a\n"+huge+tail), 100<<10)
		if l, err := r.Next(); err != nil || string(l) != "a" {
			t.Fatalf("first: %q %v", l, err)
		}
		_, err := r.Next()
		var tl *LineTooLongError
		if !errors.As(err, &tl) || *tl != (LineTooLongError{Line: 2, Len: 300 << 10, Max: 100 << 10}) {
			t.Fatalf("huge (tail %q): %v", tail, err)
		}
		if cap(r.long) > 100<<10+64<<10 {
			t.Errorf("kept %d bytes for a skipped line", cap(r.long))
		}
		l, err := r.Next()
		if tail == "" {
			if err != io.EOF {
				t.Fatalf("end: %q %v", l, err)
			}
			continue
		}
		if err != nil || string(l) != "next" || r.Line() != 3 {
			t.Fatalf("after: %q %v line %d", l, err, r.Line())
		}
	}
}

// The readers' limit follows from the largest packet: every JSON line
// dump can write for a packet of osc.MaxPacket bytes fits.
func TestMaxLine(t *testing.T) {
	if MaxLine != LineLimit(osc.MaxPacket) {
		t.Fatalf("MaxLine %d, LineLimit(osc.MaxPacket) %d", MaxLine, LineLimit(osc.MaxPacket))
	}
	// The worst case: a string of control bytes filling the packet.
	const n = 1 << 16
	m := &osc.Message{Address: "/" + strings.Repeat("\x1b", 7), Args: []osc.Arg{osc.String(strings.Repeat("\x1b", n))}}
	raw, err := osc.AppendMessage(nil, m)
	if err != nil {
		t.Fatal(err)
	}
	p, _ := osc.Decode(raw)
	line := AppendJSON(nil, &Event{Time: time.Now(), From: "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff%eth0]:65535", Proto: "tcp+slip", Raw: raw, Packet: p})
	if len(line) > LineLimit(len(raw)) {
		t.Errorf("a JSON line of %d bytes for a %d-byte packet; the limit is %d", len(line), len(raw), LineLimit(len(raw)))
	}
}
