// Package hexdump prints bytes in the format of osc4py3's dumphex_buffer,
// the hexdump OSC users already know:
//
//	000:2f6d792f 70617474 65726e00 2c696973     /my/ patt ern. ,iis
//
// Each line holds 16 bytes: the decimal offset zero-padded to 3 digits and a
// colon, the bytes in hex in groups of 4 separated by a space, left-justified
// to 40 columns, then the same bytes as text (32–126 as themselves, others
// as '.') in groups of 4. Every line ends with a newline; no input, no
// output. The package only formats; it reads and writes nothing else.
package hexdump

import (
	"io"
	"strconv"
)

const (
	perLine  = 16
	hexWidth = 40
)

// AppendDump appends the dump of b to dst, offsets starting at 0.
func AppendDump(dst, b []byte) []byte {
	for off := 0; off < len(b); off += perLine {
		dst = appendLine(dst, off, b[off:min(off+perLine, len(b))])
	}
	return dst
}

// Dump returns the dump of b.
func Dump(b []byte) string { return string(AppendDump(nil, b)) }

func appendLine(dst []byte, off int, line []byte) []byte {
	const digits = "0123456789abcdef"
	if off < 100 {
		dst = append(dst, '0')
		if off < 10 {
			dst = append(dst, '0')
		}
	}
	dst = strconv.AppendInt(dst, int64(off), 10)
	dst = append(dst, ':')
	start := len(dst)
	for i, c := range line {
		if i > 0 && i%4 == 0 {
			dst = append(dst, ' ')
		}
		dst = append(dst, digits[c>>4], digits[c&0xf])
	}
	for len(dst)-start < hexWidth {
		dst = append(dst, ' ')
	}
	for i, c := range line {
		if i > 0 && i%4 == 0 {
			dst = append(dst, ' ')
		}
		if c < 32 || c > 126 {
			c = '.'
		}
		dst = append(dst, c)
	}
	return append(dst, '\n')
}

// Dumper returns a WriteCloser that writes the dump of everything written
// to it to w, offsets continuing across writes. Close writes the final
// partial line; it does not close w.
func Dumper(w io.Writer) io.WriteCloser { return &dumper{w: w} }

type dumper struct {
	w    io.Writer
	off  int
	n    int // bytes held in line
	line [perLine]byte
	out  []byte
}

func (d *dumper) Write(p []byte) (int, error) {
	written := 0
	for len(p) > 0 {
		k := copy(d.line[d.n:], p)
		d.n += k
		p = p[k:]
		written += k
		if d.n == perLine {
			if err := d.flush(); err != nil {
				return written, err
			}
		}
	}
	return written, nil
}

func (d *dumper) flush() error {
	d.out = appendLine(d.out[:0], d.off, d.line[:d.n])
	d.off += d.n
	d.n = 0
	_, err := d.w.Write(d.out)
	return err
}

func (d *dumper) Close() error {
	if d.n == 0 {
		return nil
	}
	return d.flush()
}
