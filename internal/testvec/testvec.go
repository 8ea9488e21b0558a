// Package testvec loads the OSC test vectors in testdata/vectors for the
// tests of other packages: index.json (copied from shared/vectors, checked
// against liblo and python-osc) and oscli-index.json (oscli's own). It is
// used by tests only.
package testvec

import (
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// Vector is one entry of an index, with its bytes loaded.
type Vector struct {
	Name    string   `json:"name"`
	Kind    string   `json:"kind"` // message, bundle or malformed
	Desc    string   `json:"desc"`
	Size    int      `json:"size"`
	Address string   `json:"address"`
	CLI     []string `json:"cli"`    // typed argv for send; nil if not expressible
	Offset  *int     `json:"offset"` // malformed: where the error points, if given
	Error   string   `json:"error"`  // malformed (own vectors): sentinel name
	Data    []byte   `json:"-"`
}

// Dir returns the absolute path of testdata/vectors.
func Dir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "testdata", "vectors")
}

// Path returns the path of the vector's file with the given extension
// (".osc", ".hex", ".txt").
func (v *Vector) Path(ext string) string { return filepath.Join(Dir(), v.Name+ext) }

// Load reads both indexes and every vector's bytes.
func Load(t testing.TB) []Vector {
	t.Helper()
	var all []Vector
	for _, idx := range []string{"index.json", "oscli-index.json"} {
		b, err := os.ReadFile(filepath.Join(Dir(), idx))
		if err != nil {
			t.Fatal(err)
		}
		var vs []Vector
		if err := json.Unmarshal(b, &vs); err != nil {
			t.Fatalf("%s: %v", idx, err)
		}
		all = append(all, vs...)
	}
	for i := range all {
		v := &all[i]
		data, err := os.ReadFile(v.Path(".osc"))
		if err != nil {
			t.Fatal(err)
		}
		if len(data) != v.Size {
			t.Fatalf("%s: %d bytes, index says %d", v.Name, len(data), v.Size)
		}
		v.Data = data
	}
	if len(all) == 0 {
		t.Fatal("no vectors")
	}
	return all
}
