package osc

import (
	"errors"
	"strconv"
)

// Sentinel errors. Decoding errors come wrapped in a *DecodeError that says
// where; test for them with errors.Is.
var (
	ErrTruncated     = errors.New("truncated")
	ErrSize          = errors.New("packet size is not a multiple of 4")
	ErrUnterminated  = errors.New("string without NUL terminator")
	ErrBadPadding    = errors.New("non-zero padding byte")
	ErrBadAddress    = errors.New("address must start with '/'")
	ErrNotBundle     = errors.New(`not a bundle: want "#bundle"`)
	ErrBadTypeTags   = errors.New("type tag string must start with ','")
	ErrUnknownTag    = errors.New("unknown type tag")
	ErrUnbalanced    = errors.New("unbalanced array brackets")
	ErrTooDeep       = errors.New("nesting too deep")
	ErrBlobSize      = errors.New("negative blob size")
	ErrElementSize   = errors.New("bundle element size is not a positive multiple of 4")
	ErrTrailing      = errors.New("trailing bytes after the last argument")
	ErrNUL           = errors.New("string contains NUL")
	ErrArgsNoTypeTag = errors.New("a message without type tags cannot carry arguments")
	ErrNilElement    = errors.New("nil bundle element")
)

// Depth caps. OSC sets no limit, but a packet of nested '[' or '#bundle'
// headers must not be able to exhaust the stack or memory of a receiver.
const (
	MaxArrayDepth  = 32
	MaxBundleDepth = 32
)

// MaxPacket is the largest packet oscli sends or receives anywhere: 16 MiB.
// OSC sets no limit and a UDP datagram carries at most 64 KiB; over TCP a
// receiver's limit (dump --max-packet) may be raised up to this, and every
// reader derives its own limit from it (blob files, lines of stdin and of
// recordings), so a packet dump accepts can always be replayed.
const MaxPacket = 16 << 20

// DecodeError reports a malformed packet: the byte offset in the packet
// where the problem lies, and the reason, which wraps one of the sentinels.
type DecodeError struct {
	Off int
	Err error
}

func (e *DecodeError) Error() string {
	return "offset " + strconv.Itoa(e.Off) + ": " + e.Err.Error()
}

func (e *DecodeError) Unwrap() error { return e.Err }

func decodeErr(off int, err error) error { return &DecodeError{Off: off, Err: err} }

// detailErr wraps a sentinel with detail, keeping errors.Is working.
type detailErr struct {
	sentinel error
	detail   string
}

func (e *detailErr) Error() string { return e.sentinel.Error() + " " + e.detail }
func (e *detailErr) Unwrap() error { return e.sentinel }

func withDetail(err error, detail string) error { return &detailErr{err, detail} }
