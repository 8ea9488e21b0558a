package osc_test

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"testing"

	"github.com/oscli/oscli/internal/osc"
	"github.com/oscli/oscli/internal/testvec"
)

var update = flag.Bool("update", false, "rewrite the .txt goldens in testdata/vectors")

// wantErr is the sentinel each malformed vector of the shared set must fail
// with; oscli's own vectors name theirs in oscli-index.json.
var wantErr = map[string]error{
	"bad-size":                 osc.ErrSize,
	"bad-unterminated-address": osc.ErrUnterminated,
	"bad-unknown-tag":          osc.ErrUnknownTag,
	"bad-blob-size":            osc.ErrTruncated,
	"bad-negative-blob":        osc.ErrBlobSize,
	"bad-missing-arg":          osc.ErrTruncated,
	"bad-trailing":             osc.ErrTrailing,
	"bad-array-open":           osc.ErrUnbalanced,
	"bad-array-close":          osc.ErrUnbalanced,
	"bad-element-size":         osc.ErrTruncated,
	"bad-element-align":        osc.ErrElementSize,
	"bad-bundle-short":         osc.ErrTruncated,
	"bad-first-byte":           osc.ErrBadAddress,
	"bad-string-padding":       osc.ErrBadPadding,
	"bad-deep-bundles":         osc.ErrTooDeep,
	"bad-deep-arrays":          osc.ErrTooDeep,
}

var sentinels = map[string]error{
	"ErrTruncated": osc.ErrTruncated, "ErrSize": osc.ErrSize, "ErrUnterminated": osc.ErrUnterminated,
	"ErrBadPadding": osc.ErrBadPadding, "ErrBadAddress": osc.ErrBadAddress, "ErrBadTypeTags": osc.ErrBadTypeTags,
	"ErrUnknownTag": osc.ErrUnknownTag, "ErrUnbalanced": osc.ErrUnbalanced, "ErrTooDeep": osc.ErrTooDeep,
	"ErrBlobSize": osc.ErrBlobSize, "ErrElementSize": osc.ErrElementSize, "ErrTrailing": osc.ErrTrailing,
}

func TestVectors(t *testing.T) {
	for _, v := range testvec.Load(t) {
		t.Run(v.Name, func(t *testing.T) {
			p, err := osc.Decode(v.Data)
			var got string
			if v.Kind == "malformed" {
				if err == nil {
					t.Fatalf("decoded a malformed packet: %v", p)
				}
				want := wantErr[v.Name]
				if v.Error != "" {
					want = sentinels[v.Error]
				}
				if want == nil {
					t.Fatalf("no expected sentinel for %s (got %v)", v.Name, err)
				}
				if !errors.Is(err, want) {
					t.Errorf("error %q does not wrap %q", err, want)
				}
				var de *osc.DecodeError
				if !errors.As(err, &de) {
					t.Fatalf("error %T is not a *DecodeError", err)
				}
				if v.Offset != nil && de.Off != *v.Offset {
					t.Errorf("offset %d, want %d (%v)", de.Off, *v.Offset, err)
				}
				got = err.Error() + "\n"
			} else {
				if err != nil {
					t.Fatalf("decode: %v", err)
				}
				if m, ok := p.(*osc.Message); ok {
					if m.Address != v.Address {
						t.Errorf("address %q, want %q", m.Address, v.Address)
					}
					if m.NoTypeTags != (v.CLI == nil) {
						t.Errorf("NoTypeTags = %v, index cli = %q", m.NoTypeTags, v.CLI)
					}
				}
				if (v.Kind == "bundle") != osc.IsBundle(v.Data) {
					t.Errorf("kind %s but IsBundle = %v", v.Kind, osc.IsBundle(v.Data))
				}
				enc, err := osc.AppendPacket(nil, p)
				if err != nil {
					t.Fatalf("encode: %v", err)
				}
				if !bytes.Equal(enc, v.Data) {
					t.Errorf("re-encoded bytes differ:\n got %x\nwant %x", enc, v.Data)
				}
				got = p.(interface{ String() string }).String() + "\n"
			}
			checkGolden(t, v.Path(".txt"), got)
		})
	}
}

func checkGolden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs:\n got %q\nwant %q", path, got, want)
	}
}

// TestTextIsTerminalSafe: whatever the network sends, the text rendering
// holds no control character (ESC above all) other than the newlines that
// separate a bundle's lines.
func TestTextIsTerminalSafe(t *testing.T) {
	for _, v := range testvec.Load(t) {
		p, err := osc.Decode(v.Data)
		if err != nil {
			continue
		}
		for _, c := range []byte(p.(interface{ String() string }).String()) {
			if c < ' ' && c != '\n' || c == 0x7f {
				t.Errorf("%s: control byte %#x in text", v.Name, c)
			}
		}
	}
}
