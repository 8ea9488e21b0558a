package transport

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/oscli/oscli/internal/slip"
)

// Framing is how packets are delimited on a TCP stream.
type Framing string

// The framings. OSC 1.0 prefixes each packet with its int32 size (liblo's
// default, ETC Eos, many consoles); OSC 1.1 wraps each in SLIP END bytes
// (python-osc, osc.js, TouchOSC's option).
const (
	FramingAuto Framing = "auto"
	FramingSLIP Framing = "slip"
	FramingLen  Framing = "len"
)

// ParseFraming validates a --framing value; auto is allowed only where a
// receiver can detect the framing.
func ParseFraming(s string, allowAuto bool) (Framing, error) {
	switch f := Framing(s); f {
	case FramingSLIP, FramingLen:
		return f, nil
	case FramingAuto:
		if allowAuto {
			return f, nil
		}
	}
	if allowAuto {
		return "", fmt.Errorf("invalid --framing %q (want auto, slip or len)", s)
	}
	return "", fmt.Errorf("invalid --framing %q (want slip or len)", s)
}

// DefaultMaxFrame is the largest TCP frame accepted unless configured.
const DefaultMaxFrame = 1 << 20

// ErrFrameTooLarge reports a frame above the configured maximum.
var ErrFrameTooLarge = errors.New("frame larger than the maximum")

// FrameReader reads packets from a stream in one framing.
type FrameReader interface {
	// Next returns the next packet, valid until the following call.
	Next() ([]byte, error)
}

// DetectFraming looks at the first byte of a stream: SLIP starts with END
// (or, from single-END senders, with a packet's '/' or '#'); a length
// prefix of any sane size starts with a zero byte.
func DetectFraming(r *bufio.Reader) (Framing, error) {
	b, err := r.Peek(1)
	if err != nil {
		return "", err
	}
	switch b[0] {
	case slip.End, '/', '#':
		return FramingSLIP, nil
	case 0:
		return FramingLen, nil
	}
	return "", fmt.Errorf("cannot tell the framing: the stream starts with byte 0x%02x, which neither SLIP (0xc0) nor a length prefix (0x00) does", b[0])
}

// NewFrameReader returns a reader for the given framing (not auto).
func NewFrameReader(r *bufio.Reader, f Framing, max int) FrameReader {
	if max <= 0 {
		max = DefaultMaxFrame
	}
	if f == FramingLen {
		return &lenReader{r: r, max: max}
	}
	return &slipReader{d: slip.NewDecoder(r, max)}
}

type slipReader struct{ d *slip.Decoder }

func (s *slipReader) Next() ([]byte, error) {
	f, err := s.d.Next()
	if errors.Is(err, slip.ErrFrameTooLarge) {
		return nil, fmt.Errorf("%w (%v)", ErrFrameTooLarge, err)
	}
	return f, err
}

type lenReader struct {
	r   *bufio.Reader
	max int
	buf []byte
	hdr [4]byte
}

func (l *lenReader) Next() ([]byte, error) {
	for {
		if _, err := io.ReadFull(l.r, l.hdr[:]); err != nil {
			if err == io.ErrUnexpectedEOF {
				return nil, fmt.Errorf("connection closed inside a length prefix: %w", err)
			}
			return nil, err
		}
		n := int64(int32(binary.BigEndian.Uint32(l.hdr[:])))
		if n < 0 {
			return nil, fmt.Errorf("negative frame size %d: not length-prefixed OSC", n)
		}
		if n > int64(l.max) {
			return nil, fmt.Errorf("%w: %d bytes, maximum %d (--max-packet)", ErrFrameTooLarge, n, l.max)
		}
		if n == 0 {
			continue // an empty frame carries nothing
		}
		if cap(l.buf) < int(n) {
			l.buf = make([]byte, n)
		}
		l.buf = l.buf[:n]
		if got, err := io.ReadFull(l.r, l.buf); err != nil {
			if err == io.ErrUnexpectedEOF || err == io.EOF {
				return nil, fmt.Errorf("connection closed mid-frame (%d of %d bytes): %w", got, n, io.ErrUnexpectedEOF)
			}
			return nil, err
		}
		return l.buf, nil
	}
}

// AppendFrame appends p framed for a stream.
func AppendFrame(dst, p []byte, f Framing) []byte {
	if f == FramingLen {
		dst = binary.BigEndian.AppendUint32(dst, uint32(len(p)))
		return append(dst, p...)
	}
	return slip.Append(dst, p)
}

// StreamHandler receives what a TCP server reads. Calls for one
// connection come from one goroutine, in order; calls for different
// connections may run concurrently.
type StreamHandler interface {
	// Packet is one frame; it is valid only during the call.
	Packet(c *StreamConn, frame []byte)
	// Opened and Closed bracket a connection; err says why it was closed
	// when that was a problem (nil for a clean close).
	Opened(c *StreamConn)
	Closed(c *StreamConn, err error)
}

// StreamConn is one accepted connection.
type StreamConn struct {
	Remote  string
	Framing Framing // detected or forced
	// State is the handler's own per-connection value.
	State any
	conn  net.Conn
	wmu   sync.Mutex
	wbuf  []byte
}

// Proto names the connection's protocol and framing: "tcp+slip", "tcp+len".
func (c *StreamConn) Proto() string { return "tcp+" + string(c.Framing) }

// Send writes p back on the connection in its framing (for --echo).
func (c *StreamConn) Send(p []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.wbuf = AppendFrame(c.wbuf[:0], p, c.Framing)
	_, err := c.conn.Write(c.wbuf)
	return err
}

// TCPServer accepts OSC stream connections.
type TCPServer struct {
	ln       *net.TCPListener
	Local    string
	Framing  Framing // FramingAuto detects per connection
	MaxFrame int
	MaxConns int

	active atomic.Int64
	wg     sync.WaitGroup
	mu     sync.Mutex
	conns  map[net.Conn]struct{}
}

// ErrTooManyConns is reported for a connection refused by MaxConns.
var ErrTooManyConns = errors.New("too many connections")

// ListenTCP listens on host:port.
func ListenTCP(ctx context.Context, host string, port int) (*TCPServer, error) {
	if host == "" {
		host = "0.0.0.0"
	}
	addr := net.JoinHostPort(host, strconv.Itoa(port))
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		if errors.Is(err, syscall.EADDRINUSE) {
			return nil, &AddrInUseError{Proto: TCP, Addr: addr}
		}
		return nil, fmt.Errorf("cannot listen on tcp %s: %w", addr, unwrapOp(err))
	}
	s := &TCPServer{ln: ln.(*net.TCPListener), Framing: FramingAuto, MaxFrame: DefaultMaxFrame, MaxConns: 500,
		conns: map[net.Conn]struct{}{}}
	s.Local = s.ln.Addr().String()
	return s, nil
}

// Serve accepts connections until Close, handing what they send to h.
// It returns after every connection handler has finished.
func (s *TCPServer) Serve(h StreamHandler) error {
	defer s.wg.Wait()
	for {
		conn, err := s.ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			// Out of file descriptors and the like: wait a little, go on.
			time.Sleep(10 * time.Millisecond)
			continue
		}
		sc := &StreamConn{Remote: conn.RemoteAddr().String(), Framing: s.Framing, conn: conn}
		if s.active.Add(1) > int64(s.MaxConns) {
			s.active.Add(-1)
			h.Closed(sc, fmt.Errorf("%w (--max-conns %d)", ErrTooManyConns, s.MaxConns))
			conn.Close()
			continue
		}
		s.track(conn, true)
		s.wg.Add(1)
		go s.serveConn(sc, h)
	}
}

func (s *TCPServer) track(c net.Conn, add bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if add {
		s.conns[c] = struct{}{}
	} else {
		delete(s.conns, c)
	}
}

func (s *TCPServer) serveConn(sc *StreamConn, h StreamHandler) {
	defer s.wg.Done()
	defer s.active.Add(-1)
	defer s.track(sc.conn, false)
	defer sc.conn.Close()
	r := bufio.NewReaderSize(sc.conn, 64*1024)
	if sc.Framing == FramingAuto {
		f, err := DetectFraming(r)
		if err != nil {
			if err == io.EOF {
				err = nil // connected and left without a word
			}
			h.Closed(sc, err)
			return
		}
		sc.Framing = f
	}
	h.Opened(sc)
	fr := NewFrameReader(r, sc.Framing, s.MaxFrame)
	for {
		frame, err := fr.Next()
		if err != nil {
			if err == io.EOF || errors.Is(err, net.ErrClosed) {
				err = nil
			} else if err == io.ErrUnexpectedEOF {
				err = errors.New("connection closed mid-frame")
			}
			h.Closed(sc, err)
			return
		}
		h.Packet(sc, frame)
	}
}

// Close stops accepting and closes every connection.
func (s *TCPServer) Close() error {
	err := s.ln.Close()
	s.mu.Lock()
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	return err
}
