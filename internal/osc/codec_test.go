package osc_test

import (
	"bytes"
	"errors"
	"math"
	"testing"

	"github.com/oscli/oscli/internal/osc"
	"github.com/oscli/oscli/internal/testvec"
)

func fader() *osc.Message {
	return &osc.Message{Address: "/1/fader", Args: []osc.Arg{osc.Float32(0.5)}}
}

func mixed8() *osc.Message {
	return &osc.Message{Address: "/mixed", Args: []osc.Arg{
		osc.Int32(1), osc.Float32(0.5), osc.String("hello"), osc.Blob([]byte{1, 2, 3, 4}),
		osc.Int64(1234567890123), osc.Float64(0.25), osc.Bool(true), osc.Nil(),
	}}
}

func bundle10() *osc.Bundle {
	b := &osc.Bundle{Timetag: osc.Immediately}
	for i := range 10 {
		b.Elements = append(b.Elements, &osc.Message{
			Address: "/ch/" + string(rune('0'+i)) + "/level",
			Args:    []osc.Arg{osc.Float32(float32(i) / 10)},
		})
	}
	return b
}

func vector(t testing.TB, name string) []byte {
	for _, v := range testvec.Load(t) {
		if v.Name == name {
			return v.Data
		}
	}
	t.Fatalf("no vector %s", name)
	return nil
}

// The benchmark messages built in Go encode to the cross-checked vectors.
func TestEncodeMatchesVectors(t *testing.T) {
	tests := []struct {
		name string
		p    osc.Packet
	}{
		{"fader", fader()},
		{"mixed-8", mixed8()},
		{"bundle-10", bundle10()},
		{"bundle-empty", &osc.Bundle{Timetag: osc.Immediately}},
		{"midi-rgba", &osc.Message{Address: "/mr", Args: []osc.Arg{osc.MIDI(0, 0x90, 0x3c, 0x7f), osc.RGBA(0xff8000ff)}}},
		{"symbol-char", &osc.Message{Address: "/sc", Args: []osc.Arg{osc.Symbol("sym"), osc.Char('x')}}},
		{"blob-empty", &osc.Message{Address: "/b", Args: []osc.Arg{osc.Blob(nil)}}},
		{"no-typetag", &osc.Message{Address: "/xinfo", NoTypeTags: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := osc.AppendPacket(nil, tt.p)
			if err != nil {
				t.Fatal(err)
			}
			if want := vector(t, tt.name); !bytes.Equal(got, want) {
				t.Errorf("got  %x\nwant %x", got, want)
			}
		})
	}
}

func TestEncodeErrors(t *testing.T) {
	tests := []struct {
		name string
		p    osc.Packet
		want error
	}{
		{"empty address", &osc.Message{}, osc.ErrBadAddress},
		{"no slash", &osc.Message{Address: "fader"}, osc.ErrBadAddress},
		{"NUL in address", &osc.Message{Address: "/a\x00b"}, osc.ErrNUL},
		{"NUL in string", &osc.Message{Address: "/a", Args: []osc.Arg{osc.String("a\x00")}}, osc.ErrNUL},
		{"unknown tag", &osc.Message{Address: "/a", Args: []osc.Arg{{Tag: 'x'}}}, osc.ErrUnknownTag},
		{"zero arg", &osc.Message{Address: "/a", Args: []osc.Arg{{}}}, osc.ErrUnknownTag},
		{"unclosed array", &osc.Message{Address: "/a", Args: []osc.Arg{osc.ArrayBegin()}}, osc.ErrUnbalanced},
		{"stray close", &osc.Message{Address: "/a", Args: []osc.Arg{osc.ArrayEnd()}}, osc.ErrUnbalanced},
		{"args without type tags", &osc.Message{Address: "/a", NoTypeTags: true, Args: []osc.Arg{osc.Nil()}}, osc.ErrArgsNoTypeTag},
		{"nil element", &osc.Bundle{Elements: []osc.Packet{nil}}, osc.ErrNilElement},
		{"deep arrays", deepArrays(osc.MaxArrayDepth + 1), osc.ErrTooDeep},
		{"deep bundles", deepBundles(osc.MaxBundleDepth + 1), osc.ErrTooDeep},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dst := []byte("keep")
			got, err := osc.AppendPacket(dst, tt.p)
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if string(got) != "keep" {
				t.Errorf("dst changed on error: %q", got)
			}
		})
	}
	for _, p := range []osc.Packet{deepArrays(osc.MaxArrayDepth), deepBundles(osc.MaxBundleDepth)} {
		b, err := osc.AppendPacket(nil, p)
		if err != nil {
			t.Fatalf("at the cap: %v", err)
		}
		if _, err := osc.Decode(b); err != nil {
			t.Fatalf("decode at the cap: %v", err)
		}
	}
}

func deepArrays(n int) *osc.Message {
	m := &osc.Message{Address: "/a"}
	for range n {
		m.Args = append(m.Args, osc.ArrayBegin())
	}
	for range n {
		m.Args = append(m.Args, osc.ArrayEnd())
	}
	return m
}

func deepBundles(n int) *osc.Bundle {
	b := &osc.Bundle{Timetag: osc.Immediately, Elements: []osc.Packet{fader()}}
	for range n - 1 {
		b = &osc.Bundle{Timetag: osc.Immediately, Elements: []osc.Packet{b}}
	}
	return b
}

func TestArgValues(t *testing.T) {
	m := mixed8()
	m.Args = append(m.Args, osc.Char('é'), osc.TimetagArg(42), osc.Float32(float32(math.Inf(-1))))
	b, err := osc.AppendMessage(nil, m)
	if err != nil {
		t.Fatal(err)
	}
	var got osc.Message
	if err := osc.DecodeMessage(b, &got); err != nil {
		t.Fatal(err)
	}
	a := got.Args
	if a[0].Int32() != 1 || a[1].Float32() != 0.5 || a[2].Str() != "hello" || !bytes.Equal(a[3].Data, []byte{1, 2, 3, 4}) ||
		a[4].Int64() != 1234567890123 || a[5].Float64() != 0.25 || !a[6].Bool() || a[7].Tag != osc.TagNil ||
		rune(a[8].Uint32()) != 'é' || a[9].Timetag() != 42 || !math.IsInf(float64(a[10].Float32()), -1) {
		t.Errorf("values: %v", got.String())
	}
	for i := range m.Args {
		if !m.Args[i].Equal(got.Args[i]) {
			t.Errorf("arg %d: %v != %v", i, m.Args[i], got.Args[i])
		}
	}
}

// Decoded values alias the buffer; Clone does not.
func TestCloneOwnsItsBytes(t *testing.T) {
	buf, _ := osc.AppendMessage(nil, mixed8())
	var m osc.Message
	if err := osc.DecodeMessage(buf, &m); err != nil {
		t.Fatal(err)
	}
	c := m.Clone()
	bd, _ := osc.Decode(vector(t, "bundle-nested"))
	cb := osc.ClonePacket(bd).(*osc.Bundle)
	before := c.String() + cb.String()
	for i := range buf {
		buf[i] = 'X'
	}
	if after := c.String() + cb.String(); after != before {
		t.Errorf("clone changed with its source: %s", after)
	}
}

// Reusing a Decoder across packets of different shapes gives the same
// results as fresh decodes.
func TestDecoderReuse(t *testing.T) {
	var d osc.Decoder
	vs := testvec.Load(t)
	for range 2 {
		for _, v := range vs {
			p, err := d.Decode(v.Data)
			fresh, ferr := osc.Decode(v.Data)
			if (err == nil) != (ferr == nil) {
				t.Fatalf("%s: reused err %v, fresh err %v", v.Name, err, ferr)
			}
			if err != nil {
				continue
			}
			if a, b := p.(interface{ String() string }).String(), fresh.(interface{ String() string }).String(); a != b {
				t.Errorf("%s: reused %q, fresh %q", v.Name, a, b)
			}
		}
	}
}

func TestDecodeErrorShape(t *testing.T) {
	_, err := osc.Decode([]byte("/a\x00\x00,x\x00\x00"))
	var de *osc.DecodeError
	if !errors.As(err, &de) || de.Off != 5 || !errors.Is(err, osc.ErrUnknownTag) {
		t.Fatalf("got %#v", err)
	}
	if got := err.Error(); got != "offset 5: unknown type tag 'x'" {
		t.Errorf("message %q", got)
	}
}

// DecodeBundle on something else says it is not a bundle, where a
// message decoder would complain about the address.
func TestDecodeBundleNotABundle(t *testing.T) {
	for _, tt := range []struct {
		name string
		data []byte
	}{
		{"message", vector(t, "fader")},
		{"short", []byte("#bun")},
		{"header without NUL", []byte("#bundles\x00\x00\x00\x00\x00\x00\x00\x00")},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var b osc.Bundle
			err := osc.DecodeBundle(tt.data, &b)
			var de *osc.DecodeError
			if !errors.As(err, &de) || de.Off != 0 || !errors.Is(err, osc.ErrNotBundle) {
				t.Fatalf("got %#v", err)
			}
			if got := err.Error(); got != `offset 0: not a bundle: want "#bundle"` {
				t.Errorf("message %q", got)
			}
		})
	}
}

func TestAllocs(t *testing.T) {
	if testing.Short() {
		t.Skip("alloc counts are checked in full runs")
	}
	buf := make([]byte, 0, 1024)
	for _, tt := range []struct {
		name string
		p    osc.Packet
	}{{"fader", fader()}, {"mixed-8", mixed8()}, {"bundle-10", bundle10()}} {
		if n := testing.AllocsPerRun(100, func() { buf, _ = osc.AppendPacket(buf[:0], tt.p) }); n != 0 {
			t.Errorf("encode %s: %v allocs, want 0", tt.name, n)
		}
	}
	var d osc.Decoder
	for _, name := range []string{"fader", "mixed-8", "bundle-10"} {
		data := vector(t, name)
		if n := testing.AllocsPerRun(100, func() { _, _ = d.Decode(data) }); n != 0 {
			t.Errorf("decode %s into reused value: %v allocs, want 0", name, n)
		}
	}
	// A new address costs exactly the address string.
	var m osc.Message
	a, b := vector(t, "fader"), vector(t, "spec-frequency")
	n := testing.AllocsPerRun(100, func() {
		_ = osc.DecodeMessage(a, &m)
		_ = osc.DecodeMessage(b, &m)
	})
	if n > 2 {
		t.Errorf("alternating addresses: %v allocs per pair, want ≤ 2", n)
	}
}
