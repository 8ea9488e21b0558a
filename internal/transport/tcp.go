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

// DefaultMaxFrame is the largest TCP frame accepted unless configured:
// 1 MiB, the same limit as SLIP files.
const DefaultMaxFrame = slip.DefaultMaxFrame

// ErrFrameTooLarge reports a frame above the configured maximum, in
// either framing.
var ErrFrameTooLarge = slip.ErrFrameTooLarge

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
	return &slipReader{d: slip.NewDecoder(r, max), max: max}
}

type slipReader struct {
	d   *slip.Decoder
	max int
}

func (s *slipReader) Next() ([]byte, error) {
	f, err := s.d.Next()
	var fe *slip.FrameError
	if errors.As(err, &fe) && errors.Is(err, ErrFrameTooLarge) {
		return nil, fmt.Errorf("%w of %d bytes at stream offset %d", ErrFrameTooLarge, s.max, fe.Off)
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
			return nil, fmt.Errorf("%w of %d bytes: the prefix says %d", ErrFrameTooLarge, l.max, n)
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

// tcpListener accepts OSC stream connections and reads packets from
// each in its framing. What it knows of each connection stays here.
type tcpListener struct {
	ln  *net.TCPListener
	cfg ListenConfig

	active  atomic.Int64
	conns   atomic.Int64
	dropped atomic.Int64
	wg      sync.WaitGroup
	mu      sync.Mutex
	open    map[net.Conn]struct{}
}

// ErrTooManyConns is reported for a connection refused by MaxConns.
var ErrTooManyConns = errors.New("too many connections")

func listenTCP(ctx context.Context, ep Endpoint, cfg ListenConfig) (*tcpListener, error) {
	host := ep.Host
	if host == "" {
		host = "0.0.0.0"
	}
	addr := net.JoinHostPort(host, strconv.Itoa(ep.Port))
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		if errors.Is(err, syscall.EADDRINUSE) {
			return nil, &AddrInUseError{Proto: TCP, Addr: addr}
		}
		return nil, fmt.Errorf("cannot listen on tcp %s: %w", addr, unwrapOp(err))
	}
	if cfg.Framing == "" {
		cfg.Framing = FramingAuto
	}
	if cfg.MaxFrame <= 0 {
		cfg.MaxFrame = DefaultMaxFrame
	}
	if cfg.MaxConns <= 0 {
		cfg.MaxConns = DefaultMaxConns
	}
	return &tcpListener{ln: ln.(*net.TCPListener), cfg: cfg, open: map[net.Conn]struct{}{}}, nil
}

func (l *tcpListener) Addr() Endpoint {
	ap := l.ln.Addr().(*net.TCPAddr).AddrPort()
	return Endpoint{Proto: TCP, Host: ap.Addr().Unmap().String(), Port: int(ap.Port())}
}

func (l *tcpListener) String() string {
	return l.Addr().String() + " (framing " + string(l.cfg.Framing) + ")"
}

func (l *tcpListener) Stats() ListenStats {
	return ListenStats{Conns: l.conns.Load(), Dropped: l.dropped.Load()}
}

// Serve accepts connections until Close, reading each in a goroutine of
// its own. It returns after every connection has finished.
func (l *tcpListener) Serve(h func(*Packet)) error {
	defer l.wg.Wait()
	for {
		conn, err := l.ln.Accept()
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
		sc := &streamConn{conn: conn, framing: l.cfg.Framing}
		ap := conn.RemoteAddr().(*net.TCPAddr).AddrPort()
		sc.src = Source{proto: TCP, name: unmapAddrPort(ap).String(), addr: unmapAddrPort(ap), r: sc}
		if l.active.Add(1) > int64(l.cfg.MaxConns) {
			l.active.Add(-1)
			l.dropped.Add(1)
			l.event(ConnEvent{Source: sc.src, Err: fmt.Errorf("%w: the maximum is %d", ErrTooManyConns, l.cfg.MaxConns)})
			conn.Close()
			continue
		}
		l.conns.Add(1)
		l.track(conn, true)
		l.wg.Add(1)
		go l.serveConn(sc, h)
	}
}

func (l *tcpListener) event(e ConnEvent) {
	if l.cfg.OnConn != nil {
		l.cfg.OnConn(e)
	}
}

func (l *tcpListener) track(c net.Conn, add bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if add {
		l.open[c] = struct{}{}
	} else {
		delete(l.open, c)
	}
}

func (l *tcpListener) serveConn(sc *streamConn, h func(*Packet)) {
	defer l.wg.Done()
	defer l.active.Add(-1)
	defer l.track(sc.conn, false)
	defer sc.conn.Close()
	r := bufio.NewReaderSize(sc.conn, 64*1024)
	if sc.framing == FramingAuto {
		f, err := DetectFraming(r)
		if err != nil {
			if err != io.EOF && !errors.Is(err, net.ErrClosed) {
				// Connected and left without a word is no problem;
				// anything else that is not OSC is.
				l.dropped.Add(1)
				l.event(ConnEvent{Source: sc.src, Err: err})
			}
			return
		}
		sc.framing = f
	}
	sc.src.proto = "tcp+" + string(sc.framing)
	l.event(ConnEvent{Source: sc.src, Opened: true})
	fr := NewFrameReader(r, sc.framing, l.cfg.MaxFrame)
	pk := Packet{Source: sc.src}
	for {
		frame, err := fr.Next()
		if err != nil {
			if err == io.EOF || errors.Is(err, net.ErrClosed) {
				err = nil
			} else if err == io.ErrUnexpectedEOF {
				err = errors.New("connection closed mid-frame")
			}
			if err != nil {
				l.dropped.Add(1)
			}
			l.event(ConnEvent{Source: sc.src, Err: err})
			return
		}
		pk.Data, pk.More = frame, r.Buffered() > 0
		h(&pk)
	}
}

// Close stops accepting and closes every connection.
func (l *tcpListener) Close() error {
	err := l.ln.Close()
	l.mu.Lock()
	for c := range l.open {
		c.Close()
	}
	l.mu.Unlock()
	if errors.Is(err, net.ErrClosed) {
		err = nil
	}
	return err
}

// streamConn is one accepted connection; it answers its source.
type streamConn struct {
	conn    net.Conn
	framing Framing
	src     Source
	wmu     sync.Mutex
	wbuf    []byte
}

// reply writes p back on the connection in its framing.
func (c *streamConn) reply(_ *Source, p []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.wbuf = AppendFrame(c.wbuf[:0], p, c.framing)
	_, err := c.conn.Write(c.wbuf)
	return err
}
