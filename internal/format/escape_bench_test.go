package format

import (
	"testing"

	"github.com/oscli/oscli/internal/osc"
)

// Strings as they come in OSC traffic, for the string writers' speed:
// plain addresses, accented and CJK names, emoji, and hostile text.
var benchStrings = []struct{ name, s string }{
	{"ascii", "/mixer/channel/01/fader"},
	{"latin1", "/szene/Überblendung/Größe"},
	{"cjk", "/音量/チャンネル/左右"},
	{"emoji", "/reaction/👍/🎉🎉"},
	{"hostile", "/x\x1b[2J\u202eevil\u200b\x9b"},
}

func BenchmarkJSONString(b *testing.B) {
	for _, bs := range benchStrings {
		b.Run(bs.name, func(b *testing.B) {
			var buf []byte
			b.ReportAllocs()
			for b.Loop() {
				buf = appendJSONString(buf[:0], bs.s)
			}
		})
	}
}

func BenchmarkTextString(b *testing.B) {
	for _, bs := range benchStrings {
		b.Run(bs.name, func(b *testing.B) {
			m := &osc.Message{Address: "/s", Args: []osc.Arg{osc.String(bs.s)}}
			var buf []byte
			b.ReportAllocs()
			for b.Loop() {
				buf = m.AppendText(buf[:0])
			}
		})
	}
}
