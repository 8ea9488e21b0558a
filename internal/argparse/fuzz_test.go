package argparse_test

import (
	"testing"

	"github.com/oscli/oscli/internal/argparse"
	"github.com/oscli/oscli/internal/osc"
	"github.com/oscli/oscli/internal/testvec"
)

// FuzzArgParse: any decodable packet's text parses back to its bytes, and
// no word or line makes the parser panic.
func FuzzArgParse(f *testing.F) {
	for _, v := range testvec.Load(f) {
		f.Add(v.Data, "")
	}
	f.Add([]byte(nil), `/a s:$'\x1b' "i:4x" [ ] t:+1s b:@x`)
	f.Add([]byte(nil), `ifdmc 1 -nan 0x1p3 0x903c7f x q:1 -inf`)
	p := parser()
	f.Fuzz(func(t *testing.T, data []byte, line string) {
		if words, err := argparse.SplitLine(line); err == nil && len(words) > 0 {
			_, _ = p.ParseMessage(words)
			_, _ = argparse.ParseLiblo(words[0], words[1:])
		}
		_, _ = argparse.ParseWhen(line, now)
		pkt, err := osc.Decode(data)
		if err != nil {
			return
		}
		checkTextRoundTrip(t, p, pkt)
	})
}
