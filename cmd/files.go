package cmd

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"

	"github.com/oscli/oscli/internal/argparse"
	"github.com/oscli/oscli/internal/sender"
)

// fileTooBigError reports a file over the size its use allows. Size is -1
// when the file has no size of its own (a device, a pipe) and more than
// Max bytes were there to read.
type fileTooBigError struct {
	Name      string
	Size, Max int64
	Why       string // what the limit is, "the largest packet to udp://…"
}

func (e *fileTooBigError) Error() string {
	if e.Size < 0 {
		return fmt.Sprintf("%s holds more than %d bytes, %s", e.Name, e.Max, e.Why)
	}
	return fmt.Sprintf("%s is %d bytes, more than %d, %s", e.Name, e.Size, e.Max, e.Why)
}

// readFileMax reads a whole file of at most max bytes. A larger one is
// refused before it is read (a regular file, by its size) or as soon as
// max+1 bytes came (/dev/zero, a FIFO), so memory stays bounded.
func readFileMax(name string, max int64, why string) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() && fi.Size() > max {
		return nil, &fileTooBigError{Name: name, Size: fi.Size(), Max: max, Why: why}
	}
	data, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > max {
		return nil, &fileTooBigError{Name: name, Size: -1, Max: max, Why: why}
	}
	return data, nil
}

// newArgParser returns the argument parser of send and bundle: b:@FILE
// reads at most what one packet to the target carries (d is resolved by
// the time arguments are parsed).
func newArgParser(env *Env, d *sender.Options) *argparse.Parser {
	return &argparse.Parser{Now: env.Clock.Now, ReadFile: func(name string) ([]byte, error) {
		max := sender.MaxPacket(*d)
		return readFileMax(name, int64(max), fmt.Sprintf("the largest packet to %s", d.Target))
	}}
}

// fileError names a file that could not be opened the way a user gave it
// (with the flag, when a flag gave it) and says why without the name of
// the system call: "--record /x/y.jsonl: no such file or directory".
func fileError(flag, name string, err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	if flag != "" {
		return fmt.Errorf("%s %s: %w", flag, name, err)
	}
	return fmt.Errorf("%s: %w", name, err)
}
