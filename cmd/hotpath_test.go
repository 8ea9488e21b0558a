package cmd

import (
	"bufio"
	"io"
	"testing"
	"time"

	"github.com/oscli/oscli/internal/format"
	"github.com/oscli/oscli/internal/iostreams"
	"github.com/oscli/oscli/internal/osc"
)

// dump's per-packet path (decode, filter, render into the output buffer)
// allocates nothing, for text and JSON.
func TestDumpHotPathAllocs(t *testing.T) {
	if testing.Short() {
		t.Skip("alloc counts are checked in full runs")
	}
	raw := vectorData(t, "fader")
	for _, fmtName := range []string{"text", "json"} {
		d := discardDumper(fmtName)
		var rs recvState
		d.handle(&rs, "127.0.0.1:54321", "udp", raw, false, false)
		if n := testing.AllocsPerRun(1000, func() { d.handle(&rs, "127.0.0.1:54321", "udp", raw, false, false) }); n != 0 {
			t.Errorf("%s: %v allocs per packet, want 0", fmtName, n)
		}
	}
}

func BenchmarkDumpHotPath(b *testing.B) {
	raw, _ := osc.AppendMessage(nil, &osc.Message{Address: "/1/fader", Args: []osc.Arg{osc.Float32(0.5)}})
	for _, fmtName := range []string{"text", "json"} {
		b.Run(fmtName, func(b *testing.B) {
			d := discardDumper(fmtName)
			var rs recvState
			b.ReportAllocs()
			for b.Loop() {
				d.handle(&rs, "127.0.0.1:54321", "udp", raw, false, false)
			}
		})
	}
}

// discardDumper is a dump run's per-packet machinery writing to nowhere.
func discardDumper(fmtName string) *dumper {
	o := &dumpOptions{
		IO:     iostreams.New(nil, io.Discard, io.Discard, iostreams.ColorNever, func(string) string { return "" }),
		Now:    time.Now,
		Format: fmtName,
		Time:   format.TimeLocal,
	}
	d := &dumper{o: o, stop: func() {}, out: bufio.NewWriterSize(io.Discard, 64*1024)}
	d.r = o.renderer(d.out)
	return d
}
