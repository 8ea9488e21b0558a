package osc_test

import (
	"bytes"
	"testing"

	"github.com/oscli/oscli/internal/osc"
	"github.com/oscli/oscli/internal/testvec"
)

// FuzzDecode: decoding never panics, and whatever decodes re-encodes to the
// very same bytes (strict decoding leaves no freedom), which decode again to
// the same text.
func FuzzDecode(f *testing.F) {
	for _, v := range testvec.Load(f) {
		f.Add(v.Data)
	}
	var d osc.Decoder
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := d.Decode(data)
		if err != nil {
			return
		}
		text := p.(interface{ String() string }).String()
		enc, err := osc.AppendPacket(nil, p)
		if err != nil {
			t.Fatalf("decoded %q but cannot encode it: %v", text, err)
		}
		if !bytes.Equal(enc, data) {
			t.Fatalf("re-encoding differs:\n in  %x\n out %x", data, enc)
		}
		again, err := osc.Decode(enc)
		if err != nil {
			t.Fatal(err)
		}
		if got := again.(interface{ String() string }).String(); got != text {
			t.Fatalf("second decode %q != %q", got, text)
		}
	})
}
