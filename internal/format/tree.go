package format

import (
	"io"
	"unicode/utf8"

	"github.com/fatih/color"
)

// TreeRow is one line of an address-space listing (oscli query): the
// address indented by its depth, then its columns. The strings are
// written as they are: the caller has escaped what came from the network.
type TreeRow struct {
	Depth                                      int
	Address, Types, Access, Value, Range, Unit string
	Desc                                       string
}

// Widest a column is padded to; a longer entry pushes the rest of its
// line right rather than every line.
var treeCaps = [...]int{48, 12, 2, 32, 32, 16}

// WriteTree writes rows as aligned columns, coloured when color is set:
// addresses as dump colours them, types cyan, ranges and units yellow,
// access and descriptions faint.
func WriteTree(w io.Writer, rows []TreeRow, colored bool) error {
	var width [6]int
	for _, r := range rows {
		for i, c := range r.cols() {
			n := utf8.RuneCountInString(c)
			if i == 0 {
				n += 2 * r.Depth
			}
			width[i] = max(width[i], min(n, treeCaps[i]))
		}
	}
	var paint [7]string
	reset := ""
	if colored {
		paint = [7]string{sgr(color.FgGreen, color.Bold), sgr(color.FgCyan), sgr(color.Faint), "", sgr(color.FgYellow), sgr(color.FgYellow), sgr(color.Faint)}
		reset = sgr(color.Reset)
	}
	var b []byte
	for _, r := range rows {
		b = b[:0]
		for range r.Depth {
			b = append(b, ' ', ' ')
		}
		cols := r.cols()
		last := len(cols) - 1
		for last > 0 && cols[last] == "" {
			last--
		}
		all := append(cols[:], r.Desc)
		if r.Desc != "" {
			last = 6
		}
		for i := 0; i <= last; i++ {
			c := all[i]
			if c != "" && paint[i] != "" {
				b = append(b, paint[i]...)
				b = append(b, c...)
				b = append(b, reset...)
			} else {
				b = append(b, c...)
			}
			if i == last {
				break
			}
			n := utf8.RuneCountInString(c)
			if i == 0 {
				n += 2 * r.Depth
			}
			for ; n < width[i]; n++ {
				b = append(b, ' ')
			}
			if width[i] > 0 || i == 0 {
				b = append(b, ' ', ' ')
			}
		}
		b = append(b, '\n')
		if err := writeAll(w, b); err != nil {
			return err
		}
	}
	return nil
}

func (r TreeRow) cols() [6]string {
	return [6]string{r.Address, r.Types, r.Access, r.Value, r.Range, r.Unit}
}
