package argparse_test

import (
	"math"
	"strings"
	"testing"

	"github.com/oscli/oscli/internal/argparse"
	"github.com/oscli/oscli/internal/osc"
)

func TestLibloTypes(t *testing.T) {
	tests := []struct {
		w      string
		values int
		ok     bool
	}{
		{"i", 1, true},
		{"iTfs", 3, true},
		{"hdSc", 4, true},
		{"m", 1, true},
		{"NIF", 0, true},
		{"TFNI", 0, true},
		{"fish", 4, true}, // a word, and also a type string
		{"", 0, false},
		{"b", 0, false}, // liblo 0.31's oscsend refuses blobs and time tags
		{"it", 0, false},
		{"i:1", 0, false},
		{"hello", 0, false},
		{"[i]", 0, false},
	}
	for _, tt := range tests {
		n, ok := argparse.LibloTypes(tt.w)
		if n != tt.values || ok != tt.ok {
			t.Errorf("LibloTypes(%q) = %d, %v, want %d, %v", tt.w, n, ok, tt.values, tt.ok)
		}
	}
}

// What oscsend 0.31 sends for each value (checked byte for byte against
// the real oscsend in cmd's interop test); here, the values themselves.
func TestParseLiblo(t *testing.T) {
	bits32 := func(b uint32) osc.Arg { return osc.Arg{Tag: osc.TagFloat32, Bits: uint64(b)} }
	bits64 := func(b uint64) osc.Arg { return osc.Arg{Tag: osc.TagFloat64, Bits: b} }
	tests := []struct {
		types string
		vals  []string
		want  []osc.Arg
	}{
		{"iTfs", []string{"1", "3.14", "hello"}, []osc.Arg{osc.Int32(1), osc.Bool(true), osc.Float32(3.14), osc.String("hello")}},
		{"ii", []string{"-2147483648", "+010"}, []osc.Arg{osc.Int32(math.MinInt32), osc.Int32(10)}},
		{"h", []string{"-9223372036854775808"}, []osc.Arg{osc.Int64(math.MinInt64)}},
		{"ffff", []string{"-0.5", "1e3", ".5", "0x10"}, []osc.Arg{osc.Float32(-0.5), osc.Float32(1000), osc.Float32(0.5), osc.Float32(16)}},
		{"fff", []string{"inf", "-Infinity", "1e40"}, []osc.Arg{bits32(0x7f800000), bits32(0xff800000), bits32(0x7f800000)}},
		{"ff", []string{"nan", "-nan"}, []osc.Arg{bits32(0x7fc00000), bits32(0xffc00000)}},
		{"dd", []string{"3.141592653589793", "-nan"}, []osc.Arg{osc.Float64(3.141592653589793), bits64(0xfff8000000000000)}},
		{"d", []string{"0x1.8p1"}, []osc.Arg{osc.Float64(3)}},
		{"sS", []string{"two words", ""}, []osc.Arg{osc.String("two words"), osc.Symbol("")}},
		{"s", []string{"i:1"}, []osc.Arg{osc.String("i:1")}},
		{"c", []string{"x"}, []osc.Arg{osc.Char('x')}},
		{"mm", []string{"00903c7f", "0x903c7f"}, []osc.Arg{{Tag: osc.TagMIDI, Bits: 0x00903c7f}, {Tag: osc.TagMIDI, Bits: 0x00903c7f}}},
		{"NIF", nil, []osc.Arg{osc.Nil(), {Tag: osc.TagImpulse}, osc.Bool(false)}},
	}
	for _, tt := range tests {
		got, err := argparse.ParseLiblo(tt.types, tt.vals)
		if err != nil {
			t.Errorf("%s %q: %v", tt.types, tt.vals, err)
			continue
		}
		if len(got) != len(tt.want) {
			t.Errorf("%s %q: got %v", tt.types, tt.vals, got)
			continue
		}
		for i := range got {
			if !got[i].Equal(tt.want[i]) || got[i].Bits != tt.want[i].Bits {
				t.Errorf("%s %q: arg %d = %v (%#x), want %v (%#x)", tt.types, tt.vals, i, got[i], got[i].Bits, tt.want[i], tt.want[i].Bits)
			}
		}
	}
}

// What oscsend would read differently from how it looks, or not at all,
// is refused with the value's position (the type string is argument 1).
func TestParseLibloErrors(t *testing.T) {
	tests := []struct {
		types string
		vals  []string
		err   string
	}{
		{"if", []string{"1"}, `argument 1 "if": liblo's type string for 2 values, followed by 1`},
		{"i", []string{"1", "2"}, `argument 1 "i": liblo's type string for 1 value, followed by 2`},
		{"i", []string{"0x10"}, `argument 2 "0x10": not a decimal int32 (for "i" in "i")`},
		{"i", []string{"2147483648"}, `argument 2 "2147483648": out of int32 range`},
		{"i", []string{"i:1"}, `argument 2 "i:1": not a decimal int32`},
		{"i", []string{""}, `not a decimal int32`},
		{"h", []string{"99999999999999999999"}, "out of int64 range"},
		{"sf", []string{"x", "abc"}, `argument 3 "abc": not a float32 (for "f" in "sf")`},
		{"f", []string{" 1"}, "not a float32"},
		{"f", []string{"1_0"}, "not a float32"},
		{"d", []string{"nan(1)"}, "not a float64"},
		{"c", []string{"xyz"}, "not one ASCII character"},
		{"c", []string{"é"}, "not one ASCII character"},
		{"c", []string{""}, "not one ASCII character"},
		{"m", []string{"00903c7f00"}, "not up to 8 hex digits"},
		{"m", []string{"zz"}, "not up to 8 hex digits"},
		{"m", []string{"0x00903c7f"}, "not up to 8 hex digits"},
		{"b", []string{"00"}, "not a liblo type string"},
	}
	for _, tt := range tests {
		_, err := argparse.ParseLiblo(tt.types, tt.vals)
		if err == nil || !strings.Contains(err.Error(), tt.err) {
			t.Errorf("%s %q: err = %v, want %q", tt.types, tt.vals, err, tt.err)
		}
	}
}
