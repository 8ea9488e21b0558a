package slip_test

import (
	"bytes"
	"errors"
	"io"
	"testing"
	"testing/iotest"

	"github.com/oscli/oscli/internal/slip"
)

func TestAppend(t *testing.T) {
	got := slip.Append(nil, []byte{1, slip.End, 2, slip.Esc, 3})
	want := []byte{slip.End, 1, slip.Esc, slip.EscEnd, 2, slip.Esc, slip.EscEsc, 3, slip.End}
	if !bytes.Equal(got, want) {
		t.Errorf("got %x want %x", got, want)
	}
}

func readAll(t *testing.T, r io.Reader, max int) ([][]byte, error) {
	t.Helper()
	d := slip.NewDecoder(r, max)
	var frames [][]byte
	for {
		f, err := d.Next()
		if err != nil {
			return frames, err
		}
		frames = append(frames, bytes.Clone(f))
	}
}

func TestDecoder(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
		want []string
		err  error
	}{
		{"double END", []byte("\xc0abc\xc0\xc0def\xc0"), []string{"abc", "def"}, io.EOF},
		{"single END (RFC 1055 style)", []byte("abc\xc0def\xc0"), []string{"abc", "def"}, io.EOF},
		{"empty frames skipped", []byte("\xc0\xc0\xc0abc\xc0\xc0\xc0"), []string{"abc"}, io.EOF},
		{"escapes", []byte("\xc0a\xdb\xdcb\xdb\xddc\xc0"), []string{"a\xc0b\xdbc"}, io.EOF},
		{"unfinished frame", []byte("\xc0abc"), nil, io.ErrUnexpectedEOF},
		{"ESC at end", []byte("\xc0abc\xdb"), nil, io.ErrUnexpectedEOF},
		{"empty stream", nil, nil, io.EOF},
	}
	for _, tt := range tests {
		for _, split := range []bool{false, true} {
			name := tt.name
			var r io.Reader = bytes.NewReader(tt.in)
			if split {
				name += "/one byte per read"
				r = iotest.OneByteReader(r)
			}
			t.Run(name, func(t *testing.T) {
				frames, err := readAll(t, r, 0)
				if !errors.Is(err, tt.err) {
					t.Errorf("err = %v, want %v", err, tt.err)
				}
				if len(frames) != len(tt.want) {
					t.Fatalf("frames %q, want %q", frames, tt.want)
				}
				for i := range frames {
					if string(frames[i]) != tt.want[i] {
						t.Errorf("frame %d = %q, want %q", i, frames[i], tt.want[i])
					}
				}
			})
		}
	}
}

// After an error the decoder resynchronises at the next END.
func TestDecoderRecovers(t *testing.T) {
	in := []byte("\xc0ok1\xc0\xc00123456789\xc0\xc0bad\xdbxyz\xc0\xc0ok2\xc0")
	d := slip.NewDecoder(iotest.OneByteReader(bytes.NewReader(in)), 8)
	var got []string
	var errs []error
	for {
		f, err := d.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		got = append(got, string(f))
	}
	if len(got) != 2 || got[0] != "ok1" || got[1] != "ok2" {
		t.Errorf("frames %q", got)
	}
	if len(errs) != 2 || !errors.Is(errs[0], slip.ErrFrameTooLarge) || !errors.Is(errs[1], slip.ErrBadEscape) {
		t.Fatalf("errors %v", errs)
	}
	var fe *slip.FrameError
	if !errors.As(errs[0], &fe) || fe.Off != 14 {
		t.Errorf("too-large error at %v, want stream offset 14", errs[0])
	}
}

// A frame of exactly the maximum passes.
func TestMaxFrameBoundary(t *testing.T) {
	frame := bytes.Repeat([]byte{slip.End}, 8) // escapes double it on the wire
	frames, err := readAll(t, bytes.NewReader(slip.Append(nil, frame)), 8)
	if err != io.EOF || len(frames) != 1 || !bytes.Equal(frames[0], frame) {
		t.Fatalf("frames %x err %v", frames, err)
	}
}

// FuzzSLIP: any sequence of frames survives Append → Decoder whatever the
// read sizes, and arbitrary input never panics the decoder.
func FuzzSLIP(f *testing.F) {
	f.Add([]byte("/1/fader\x00\x00\x00\x00,f\x00\x00?\x00\x00\x00"), uint8(3))
	f.Add([]byte{slip.End, slip.Esc, slip.EscEnd, slip.EscEsc}, uint8(1))
	f.Add([]byte{}, uint8(0))
	f.Fuzz(func(t *testing.T, data []byte, cut uint8) {
		// Raw input: no panic, and every frame respects the maximum.
		d := slip.NewDecoder(iotest.HalfReader(bytes.NewReader(data)), 16)
		for range len(data) + 1 {
			fr, err := d.Next()
			if err == io.EOF || err == io.ErrUnexpectedEOF {
				break
			}
			if len(fr) > 16 {
				t.Fatalf("frame of %d bytes beyond max", len(fr))
			}
		}
		// Round trip: split data into frames at every cut-th byte.
		var frames [][]byte
		step := int(cut%16) + 1
		for i := 0; i < len(data); i += step {
			frames = append(frames, data[i:min(i+step, len(data))])
		}
		var wire []byte
		for _, fr := range frames {
			wire = slip.Append(wire, fr)
		}
		got, err := readAll(t, iotest.OneByteReader(bytes.NewReader(wire)), 0)
		if err != io.EOF {
			t.Fatal(err)
		}
		if len(got) != len(frames) {
			t.Fatalf("%d frames, want %d", len(got), len(frames))
		}
		for i := range got {
			if !bytes.Equal(got[i], frames[i]) {
				t.Fatalf("frame %d: %x want %x", i, got[i], frames[i])
			}
		}
	})
}

func BenchmarkDecode(b *testing.B) {
	var wire []byte
	for range 1000 {
		wire = slip.Append(wire, []byte("/1/fader\x00\x00\x00\x00,f\x00\x00?\x00\x00\x00"))
	}
	b.SetBytes(int64(len(wire)))
	b.ReportAllocs()
	r := bytes.NewReader(wire)
	for b.Loop() {
		r.Reset(wire)
		d := slip.NewDecoder(r, 0)
		for {
			if _, err := d.Next(); err != nil {
				break
			}
		}
	}
}

// The first frame of a connection has no leading END; the decoder reads
// it and the double-END frames after it.
func TestAppendFirst(t *testing.T) {
	wire := slip.AppendFirst(nil, []byte{'#', slip.End, 'b'})
	if want := []byte{'#', slip.Esc, slip.EscEnd, 'b', slip.End}; !bytes.Equal(wire, want) {
		t.Errorf("got %x want %x", wire, want)
	}
	wire = slip.Append(wire, []byte("next"))
	frames, err := readAll(t, bytes.NewReader(wire), 0)
	if err != io.EOF || len(frames) != 2 || string(frames[0]) != "#\xc0b" || string(frames[1]) != "next" {
		t.Errorf("frames %q, err %v", frames, err)
	}
}
