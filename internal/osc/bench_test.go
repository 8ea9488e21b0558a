package osc_test

import (
	"testing"

	"github.com/oscli/oscli/internal/osc"
)

var benchPackets = []struct {
	name string
	p    func() osc.Packet
}{
	{"fader", func() osc.Packet { return fader() }},
	{"mixed8", func() osc.Packet { return mixed8() }},
	{"bundle10", func() osc.Packet { return bundle10() }},
}

func BenchmarkEncode(b *testing.B) {
	for _, bp := range benchPackets {
		b.Run(bp.name, func(b *testing.B) {
			p := bp.p()
			buf, _ := osc.AppendPacket(nil, p)
			b.SetBytes(int64(len(buf)))
			b.ReportAllocs()
			for b.Loop() {
				buf, _ = osc.AppendPacket(buf[:0], p)
			}
		})
	}
}

func BenchmarkDecode(b *testing.B) {
	for _, bp := range benchPackets {
		b.Run(bp.name, func(b *testing.B) {
			data, _ := osc.AppendPacket(nil, bp.p())
			var d osc.Decoder
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := d.Decode(data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkAppendText(b *testing.B) {
	for _, bp := range benchPackets[:2] {
		b.Run(bp.name, func(b *testing.B) {
			m := bp.p().(*osc.Message)
			var buf []byte
			b.ReportAllocs()
			for b.Loop() {
				buf = m.AppendText(buf[:0])
			}
		})
	}
}
