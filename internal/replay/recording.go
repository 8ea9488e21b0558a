package replay

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/oscli/oscli/internal/record"
)

// File is a recording in a file, read again from disk for each loop, so
// memory does not grow with the file.
type File struct {
	Path   string
	Format string // json, oscdump, slip, or "" to detect
	Now    time.Time
	f      *os.File
}

// Open starts reading the file (again), closing the previous pass.
func (r *File) Open() (Records, error) {
	if r.f != nil {
		r.f.Close()
	}
	f, err := os.Open(r.Path)
	if err != nil {
		return nil, err
	}
	r.f = f
	rd, err := record.NewReader(f, r.Format, r.Now)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: %w", r.Path, err)
	}
	r.Format = rd.Format
	return rd, nil
}

// Close closes the file.
func (r *File) Close() error {
	if r.f == nil {
		return nil
	}
	return r.f.Close()
}

// Stream is a recording read once from a stream (stdin); it keeps the
// good records of the first pass in memory to play them again.
type Stream struct {
	R      io.Reader
	Format string
	Now    time.Time
	kept   []*record.Record
	passes int
}

// Open returns the stream's records on the first call and the kept copy
// after that.
func (r *Stream) Open() (Records, error) {
	r.passes++
	if r.passes > 1 {
		return &kept{recs: r.kept}, nil
	}
	rd, err := record.NewReader(r.R, r.Format, r.Now)
	if err != nil {
		return nil, err
	}
	r.Format = rd.Format
	return &keeping{rd: rd, s: r}, nil
}

type keeping struct {
	rd *record.Reader
	s  *Stream
}

func (k *keeping) Next() (*record.Record, error) {
	rec, err := k.rd.Next()
	if err == nil {
		k.s.kept = append(k.s.kept, rec)
	}
	return rec, err
}

type kept struct {
	recs []*record.Record
	i    int
}

func (k *kept) Next() (*record.Record, error) {
	if k.i >= len(k.recs) {
		return nil, io.EOF
	}
	k.i++
	return k.recs[k.i-1], nil
}
