package format

import (
	"io"

	"github.com/oscli/oscli/internal/slip"
)

// Raw writes each packet SLIP-framed (double END), the OSC 1.1 stream and
// file format: `oscli dump --format raw > session.slip`.
type Raw struct {
	w   io.Writer
	buf []byte
}

// NewRaw returns a raw renderer.
func NewRaw(w io.Writer) *Raw { return &Raw{w: w} }

// Render writes one event's bytes.
func (r *Raw) Render(ev *Event) error {
	r.buf = slip.Append(r.buf[:0], ev.Raw)
	return writeAll(r.w, r.buf)
}
