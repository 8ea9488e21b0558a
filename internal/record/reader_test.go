package record_test

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/oscli/oscli/internal/osc"
	"github.com/oscli/oscli/internal/record"
	"github.com/oscli/oscli/internal/slip"
)

var now = time.Date(2026, 11, 21, 18, 0, 0, 0, time.UTC)

func readAll(t *testing.T, in string, format string) ([]*record.Record, []error, string) {
	t.Helper()
	r, err := record.NewReader(strings.NewReader(in), format, now)
	if err != nil {
		t.Fatal(err)
	}
	var recs []*record.Record
	var bad []error
	for {
		rec, err := r.Next()
		if err == io.EOF {
			return recs, bad, r.Format
		}
		var be *record.BadRecordError
		if errors.As(err, &be) {
			bad = append(bad, err)
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, rec)
	}
}

func TestOscdumpLog(t *testing.T) {
	log := `eeac15a9.bc40181d /all ihfdsScbtmTFNI -5 123456789012 1.500000 -2.250000 "say "hi" there" 'sym bol 'x' [5b 0x1 0x2 0x3 0x4 0xff] e0000000.80000000 MIDI [0x00 0x90 0x3c 0x7f] #T #F Nil Infinitum
eeac15a9.be75bc44 /e 
eeac15a9.c2674080 /sp ace s ""
eeac15a9.c2674080 /q ss "a" "b" c"
liblo server error 9912 in path /arr: Invalid message received
eeac15aa.00000000 /c cc ' ' '''
`
	recs, bad, format := readAll(t, log, "")
	if format != record.FormatOscdump {
		t.Fatalf("detected %s", format)
	}
	want := []string{
		`/all i:-5 h:123456789012 f:1.5 d:-2.25 s:'say "hi" there' S:"sym bol" c:x b:01020304ff t:0xe000000080000000 m:00903c7f T F N I`,
		`/e`,
		`"/sp ace" s:`,
		`/q s:a s:'b" c'`,
		`/c c:0x20 c:0x27`,
	}
	if len(recs) != len(want) {
		t.Fatalf("%d records: %v (bad %v)", len(recs), recs, bad)
	}
	for i, w := range want {
		if got := recs[i].Packet.(*osc.Message).String(); got != w {
			t.Errorf("record %d: %s\nwant       %s", i, got, w)
		}
	}
	if len(bad) != 1 || !strings.Contains(bad[0].Error(), "line 5") {
		t.Errorf("bad records %v", bad)
	}
	if d := recs[5-1].Time.Sub(recs[0].Time); d <= 0 {
		t.Errorf("times not read: %v", d)
	}
}

func TestJSONRecordingTruncatedLastLine(t *testing.T) {
	in := `{"time":"2026-11-21T18:00:00Z","raw":"LzEvZmFkZXIAAAAALGYAAD8AAAA="}
{"time":"2026-11-21T18:00:01Z","packet":{"address":"/b"}}
{"time":"2026-11-21T18:00:02Z","raw":"LzEvZmFk`
	recs, bad, format := readAll(t, in, "")
	if format != record.FormatJSON || len(recs) != 2 || len(bad) != 1 || !strings.Contains(bad[0].Error(), "line 3: invalid JSON") {
		t.Fatalf("%s %d records, bad %v", format, len(recs), bad)
	}
	if d := recs[1].Time.Sub(recs[0].Time); d != time.Second {
		t.Errorf("second record %v after the first", d)
	}
}

func TestSLIPRecording(t *testing.T) {
	a, _ := osc.AppendMessage(nil, &osc.Message{Address: "/a"})
	b, _ := osc.AppendBundle(nil, &osc.Bundle{Timetag: osc.Immediately})
	wire := slip.Append(slip.Append(nil, a), b)
	wire = append(wire, slip.End, 'x', 'y') // a frame cut short
	recs, bad, format := readAll(t, string(wire), "")
	if format != record.FormatSLIP || len(recs) != 2 || !bytes.Equal(recs[0].Raw, a) || !bytes.Equal(recs[1].Raw, b) {
		t.Fatalf("%s %v", format, recs)
	}
	if len(bad) != 1 || !strings.Contains(bad[0].Error(), "truncated last frame") {
		t.Errorf("bad %v", bad)
	}
}

func TestUnknownFormat(t *testing.T) {
	if _, err := record.NewReader(strings.NewReader("hello world\n"), "", now); err == nil {
		t.Error("detected a format in prose")
	}
	if _, err := record.NewReader(strings.NewReader(""), "", now); err == nil {
		t.Error("empty input accepted")
	}
}
