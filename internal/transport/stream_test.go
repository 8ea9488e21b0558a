package transport

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/oscli/oscli/internal/slip"
)

// chunkReader returns data n bytes a read at most.
type chunkReader struct {
	data []byte
	n    int
}

func (c *chunkReader) Read(p []byte) (int, error) {
	if len(c.data) == 0 {
		return 0, io.EOF
	}
	k := min(len(p), c.n, len(c.data))
	copy(p, c.data[:k])
	c.data = c.data[k:]
	return k, nil
}

// readFrames reads frames until an error, copying each.
func readFrames(fr *frameReader) ([]string, error) {
	var got []string
	for {
		p, err := fr.Next()
		if err != nil {
			return got, err
		}
		got = append(got, string(p))
	}
}

func TestFrameReader(t *testing.T) {
	lenFrame := func(s string) string { return string(AppendFrame(nil, []byte(s), FramingLen)) }
	slipFrame := func(s string) string { return string(AppendFrame(nil, []byte(s), FramingSLIP)) }
	tests := []struct {
		name    string
		framing Framing
		max     int
		in      string
		want    []string
		err     string // "" for a clean end of stream
	}{
		{"slip double END", FramingSLIP, 0, slipFrame("/a\xc0\xdb") + slipFrame("/b"), []string{"/a\xc0\xdb", "/b"}, ""},
		{"slip single END", FramingAuto, 0, "/a\xc0/b\xc0", []string{"/a", "/b"}, ""},
		{"len", FramingLen, 0, lenFrame("/a") + "\x00\x00\x00\x00" + lenFrame("/bcd"), []string{"/a", "/bcd"}, ""},
		{"auto slip", FramingAuto, 0, slipFrame("/x"), []string{"/x"}, ""},
		{"auto len", FramingAuto, 0, lenFrame("/x"), []string{"/x"}, ""},
		{"not OSC", FramingAuto, 0, "GET / HTTP/1.1\r\n", nil,
			"cannot tell the framing: the stream starts with byte 0x47, which neither SLIP (0xc0) nor a length prefix (0x00) does"},
		{"slip too large", FramingSLIP, 8, slipFrame("/ok") + slipFrame("/toolarge"), []string{"/ok"},
			"frame larger than the maximum of 8 bytes at stream offset 14"},
		{"slip too large by an escape", FramingSLIP, 4, "\xc0/abc\xdb\xdc\xc0", nil,
			"frame larger than the maximum of 4 bytes at stream offset 6"},
		{"slip fits exactly", FramingSLIP, 4, "\xc0/ab\xdb\xdc\xc0", []string{"/ab\xc0"}, ""},
		{"slip bad escape", FramingSLIP, 0, "\xc0/a\xdbx\xc0", nil, "SLIP ESC not followed by ESC_END or ESC_ESC at stream offset 4"},
		{"len too large", FramingLen, 8, lenFrame("/toolarge"), nil, "frame larger than the maximum of 8 bytes: the prefix says 9"},
		{"len negative", FramingLen, 0, "\xff\xff\xff\xf0", nil, "negative frame size -16: not length-prefixed OSC"},
		{"closed mid slip frame", FramingSLIP, 0, "\xc0/ab", nil, "connection closed mid-frame (3 bytes received)"},
		{"closed after ESC", FramingSLIP, 0, "\xc0\xdb", nil, "connection closed mid-frame (0 bytes received)"},
		{"closed in a prefix", FramingLen, 0, lenFrame("/a") + "\x00\x00", []string{"/a"}, "connection closed inside a length prefix (2 of 4 bytes)"},
		{"closed mid len frame", FramingLen, 0, "\x00\x00\x00\x08/a", nil, "connection closed mid-frame (2 of 8 bytes)"},
	}
	for _, tt := range tests {
		for _, chunk := range []int{1, 3, 1 << 20} {
			t.Run(fmt.Sprintf("%s/%d", tt.name, chunk), func(t *testing.T) {
				fr := newFrameReader(&chunkReader{data: []byte(tt.in), n: chunk}, tt.framing, tt.max, nil)
				got, err := readFrames(fr)
				if fmt.Sprint(got) != fmt.Sprint(tt.want) {
					t.Errorf("frames %q, want %q", got, tt.want)
				}
				switch {
				case tt.err == "":
					if err != io.EOF {
						t.Errorf("error %v, want EOF", err)
					}
				case err == nil || err.Error() != tt.err:
					t.Errorf("error %v, want %s", err, tt.err)
				}
			})
		}
	}
}

// Errors a connection ends with keep their kind for the listener.
func TestFrameReaderErrorKinds(t *testing.T) {
	fr := newFrameReader(strings.NewReader("\xc0/a"), FramingSLIP, 0, nil)
	if _, err := fr.Next(); !errors.Is(err, io.ErrUnexpectedEOF) || !fr.partial() {
		t.Errorf("mid-frame EOF: %v, partial %v", err, fr.partial())
	}
	fr = newFrameReader(strings.NewReader("\xc0/a\xc0"), FramingSLIP, 0, nil)
	fr.Next()
	if _, err := fr.Next(); err != io.EOF || fr.partial() {
		t.Errorf("EOF between frames: %v, partial %v", err, fr.partial())
	}
	fr = newFrameReader(strings.NewReader(string(AppendFrame(nil, make([]byte, 40), FramingSLIP))), FramingSLIP, 16, nil)
	if _, err := fr.Next(); !errors.Is(err, ErrFrameTooLarge) {
		t.Errorf("too large: %v", err)
	}
	fr = newFrameReader(iotest.ErrReader(errors.New("boom")), FramingAuto, 0, nil)
	if err := fr.detectFraming(); err == nil || err.Error() != "boom" {
		t.Errorf("read error before a frame: %v", err)
	}
}

// loopReader repeats data forever.
type loopReader struct {
	data []byte
	pos  int
}

func (l *loopReader) Read(p []byte) (int, error) {
	if l.pos == len(l.data) {
		l.pos = 0
	}
	n := copy(p, l.data[l.pos:])
	l.pos += n
	return n, nil
}

func benchStream(f Framing) []byte {
	msg := []byte("/1/fader\x00\x00\x00\x00,f\x00\x00\x3f\x00\x00\x00")
	var wire []byte
	for range 1000 {
		wire = AppendFrame(wire, msg, f)
	}
	return wire
}

// Reading typical packets from a stream allocates nothing, in either
// framing.
func TestFrameReaderAllocs(t *testing.T) {
	for _, f := range []Framing{FramingSLIP, FramingLen} {
		fr := newFrameReader(&loopReader{data: benchStream(f)}, f, 0, nil)
		if n := testing.AllocsPerRun(5000, func() {
			if _, err := fr.Next(); err != nil {
				t.Fatal(err)
			}
		}); n != 0 {
			t.Errorf("%s: %.1f allocations per packet", f, n)
		}
	}
}

func BenchmarkFrameReader(b *testing.B) {
	for _, f := range []Framing{FramingSLIP, FramingLen} {
		b.Run(string(f), func(b *testing.B) {
			wire := benchStream(f)
			fr := newFrameReader(&loopReader{data: wire}, f, 0, nil)
			b.ReportAllocs()
			b.SetBytes(int64(len(wire) / 1000))
			for b.Loop() {
				if _, err := fr.Next(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// FuzzFrameReader reads any stream in chunks of any size: SLIP gives the
// frames and the first error (at the same offset) that package slip's
// decoder gives; length prefixes give what a plain reading of the
// prefixes gives.
func FuzzFrameReader(f *testing.F) {
	f.Add([]byte("\xc0/a\xdb\xdc\xc0\xc0/b\xc0"), uint8(1), uint8(8))
	f.Add([]byte("\x00\x00\x00\x04/abc\x00\x00\x00\x00\x00\x00\x00\x08/a"), uint8(3), uint8(8))
	f.Add([]byte("\xc0/toolong\xdb\xc0"), uint8(2), uint8(4))
	f.Fuzz(func(t *testing.T, data []byte, chunk, max uint8) {
		n, m := int(chunk)+1, int(max)+1
		for _, framing := range []Framing{FramingSLIP, FramingLen} {
			got, err := readFrames(newFrameReader(&chunkReader{data: data, n: n}, framing, m, nil))
			var want []string
			var werr error
			if framing == FramingSLIP {
				d := slip.NewDecoder(bytes.NewReader(data), m)
				for {
					p, err := d.Next()
					if err != nil {
						werr = err
						break
					}
					want = append(want, string(p))
				}
			} else {
				want, werr = readLenFrames(data, m)
			}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Fatalf("%s: frames %q, want %q", framing, got, want)
			}
			var fe *slip.FrameError
			switch {
			case werr == io.EOF || errors.Is(werr, io.ErrUnexpectedEOF):
				if !errors.Is(err, werr) {
					t.Fatalf("%s: error %v, want %v", framing, err, werr)
				}
			case errors.As(werr, &fe):
				if !errors.Is(err, fe.Err) || !strings.HasSuffix(err.Error(), fmt.Sprintf(" at stream offset %d", fe.Off)) {
					t.Fatalf("%s: error %v, want %v", framing, err, werr)
				}
			case err == nil || err.Error() != werr.Error():
				t.Fatalf("%s: error %v, want %v", framing, err, werr)
			}
		}
	})
}

// readLenFrames is the plain reading of size-prefixed frames.
func readLenFrames(data []byte, max int) ([]string, error) {
	var frames []string
	for len(data) > 0 {
		if len(data) < 4 {
			return frames, io.ErrUnexpectedEOF
		}
		n := int32(binary.BigEndian.Uint32(data))
		data = data[4:]
		switch {
		case n < 0:
			return frames, fmt.Errorf("negative frame size %d: not length-prefixed OSC", n)
		case int64(n) > int64(max):
			return frames, fmt.Errorf("%w of %d bytes: the prefix says %d", ErrFrameTooLarge, max, n)
		case int(n) > len(data):
			return frames, io.ErrUnexpectedEOF
		case n > 0:
			frames = append(frames, string(data[:n]))
		}
		data = data[n:]
	}
	return frames, io.EOF
}
