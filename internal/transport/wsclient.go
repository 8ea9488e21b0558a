package transport

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
)

// wsClient sends each packet as one binary WebSocket message and reads
// binary messages back (replies); text messages from the server are not
// OSC and are skipped.
type wsClient struct {
	ws  *websocket.Conn
	raw *batchConn // the TCP connection (under TLS for wss)
	url string
	max int
	buf []byte
	src Source
}

// dialWS connects to a WebSocket server and upgrades: ws:// in plain
// HTTP, wss:// over TLS (the system's trusted certificates). No HTTP
// proxy is used: OSC peers are on the local network.
func dialWS(ctx context.Context, ep Endpoint, cfg DialConfig) (Client, error) {
	host := ep.Host
	if host == "" {
		host = "127.0.0.1"
	}
	u := wsURL(ep.Proto, host, ep.Port, ep.Path)
	limit := cfg.connectLimit(ctx)
	d, local, err := cfg.dialer(host, limit)
	if err != nil {
		return nil, err
	}
	var raw *batchConn
	tr := &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := d.DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			raw = &batchConn{Conn: c}
			return raw, nil
		},
		TLSHandshakeTimeout:    limit,
		DisableCompression:     true,
		MaxResponseHeaderBytes: wsMaxHeader,
	}
	dctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	ws, resp, err := websocket.Dial(dctx, u, &websocket.DialOptions{HTTPClient: &http.Client{Transport: tr}})
	if err != nil {
		tr.CloseIdleConnections()
		return nil, wsDialError(ctx, u, local, cfg, limit, resp, err)
	}
	max := cfg.MaxFrame
	if max <= 0 {
		max = DefaultMaxFrame
	}
	ws.SetReadLimit(int64(max))
	c := &wsClient{ws: ws, raw: raw, url: u, max: max}
	ap := unmapAddrPort(raw.RemoteAddr().(*net.TCPAddr).AddrPort())
	c.src = Source{proto: WS, name: ap.String(), addr: ap, r: c}
	return c, nil
}

// wsURL is the URL to dial, with the scheme's own port left out, as
// browsers send the Host header (some virtual hosts want it so).
func wsURL(scheme, host string, port int, path string) string {
	if scheme == WS && port == 80 || scheme == WSS && port == 443 {
		if strings.Contains(host, ":") {
			host = "[" + host + "]"
		}
		return scheme + "://" + host + path
	}
	return scheme + "://" + net.JoinHostPort(host, strconv.Itoa(port)) + path
}

// wsDialError says why a WebSocket connection could not be opened: the
// TCP connection's failures as TCP says them, a server that answers HTTP
// but does not upgrade (with its status and the first line of its
// answer), one that does not answer HTTP at all, TLS failures.
func wsDialError(ctx context.Context, u, local string, cfg DialConfig, limit time.Duration, resp *http.Response, err error) error {
	if resp != nil && resp.StatusCode != http.StatusSwitchingProtocols {
		msg := fmt.Sprintf("cannot connect to %s: not a WebSocket endpoint (HTTP %s", u, resp.Status)
		if resp.Body != nil {
			b, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
			if line, _, _ := strings.Cut(strings.TrimSpace(string(b)), "\n"); line != "" {
				msg += ": " + clip(strconv.Quote(strings.TrimSpace(line)), 160)
			}
		}
		return errors.New(msg + ")")
	}
	var (
		certErr   *tls.CertificateVerificationError
		unknownCA x509.UnknownAuthorityError
		hostErr   x509.HostnameError
		recErr    tls.RecordHeaderError
	)
	switch {
	case errors.As(err, &certErr) || errors.As(err, &unknownCA) || errors.As(err, &hostErr):
		return fmt.Errorf("cannot connect to %s: its TLS certificate is not trusted: %s", u, wsMessage(err))
	case errors.As(err, &recErr) || strings.Contains(err.Error(), "server gave HTTP response to HTTPS client"):
		return fmt.Errorf("cannot connect to %s: it does not speak TLS (a ws:// server?)", u)
	case resp != nil:
		// It answered 101 but broke the handshake (a wrong accept key).
		return fmt.Errorf("cannot connect to %s: %s", u, wsMessage(err))
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || strings.Contains(err.Error(), "malformed HTTP"):
		return fmt.Errorf("cannot connect to %s: not a WebSocket server there (no HTTP answer)", u)
	}
	// Refused, no answer in time, interrupted, a --bind that fails: as
	// TCP says them.
	return connectError(ctx, u, local, cfg, limit, err)
}

func (c *wsClient) Send(p []byte) error {
	if err := c.ws.Write(context.Background(), websocket.MessageBinary, p); err != nil {
		return c.sendError(err)
	}
	return nil
}

// SendBatch writes the messages into one buffer and that buffer with
// one system call, as TCP's batches go.
func (c *wsClient) SendBatch(ps [][]byte) error {
	c.raw.hold()
	var err error
	for _, p := range ps {
		if err = c.ws.Write(context.Background(), websocket.MessageBinary, p); err != nil {
			break
		}
	}
	if ferr := c.raw.flush(); err == nil {
		err = ferr
	}
	if err != nil {
		return c.sendError(err)
	}
	return nil
}

// ErrClosedByPeer matches (errors.Is) a WebSocket connection the other
// side closed with a status saying something went wrong (1009, message
// too big; 1008, policy violation; …), not a normal goodbye.
var ErrClosedByPeer = errors.New("closed by the peer")

// peerClosed says what a close message with an error status means.
func (c *wsClient) peerClosed(ce websocket.CloseError) error {
	return &closeError{kind: ErrClosedByPeer, msg: fmt.Sprintf("%s closed the connection (status %s)", c.url, closeStatus(ce))}
}

// closedWell reports a close status that is a normal goodbye.
func closedWell(code websocket.StatusCode) bool {
	switch code {
	case websocket.StatusNormalClosure, websocket.StatusGoingAway, websocket.StatusNoStatusRcvd:
		return true
	}
	return false
}

func (c *wsClient) sendError(err error) error {
	var ce websocket.CloseError
	if errors.As(err, &ce) && !closedWell(ce.Code) {
		return c.peerClosed(ce)
	}
	return fmt.Errorf("send to %s: %s", c.url, wsMessage(err))
}

// Receive returns the next binary message. A normal close from the
// server is io.EOF.
func (c *wsClient) Receive() (Packet, error) {
	for {
		typ, r, err := c.ws.Reader(context.Background())
		if err != nil {
			return Packet{}, c.receiveError(err)
		}
		if c.buf, err = c.readMessage(r, c.buf); err == nil && c.raw.eof.Load() {
			err = io.ErrUnexpectedEOF // cut, not whole: see wsConn.next
		}
		if err != nil {
			return Packet{}, c.receiveError(err)
		}
		if typ == websocket.MessageBinary {
			return Packet{Data: c.buf, Source: c.src}, nil
		}
	}
}

func (c *wsClient) readMessage(r io.Reader, buf []byte) ([]byte, error) {
	buf = buf[:0]
	for {
		if len(buf) > c.max {
			return buf, websocket.ErrMessageTooBig
		}
		if len(buf) == cap(buf) {
			nb := make([]byte, len(buf), min(max(2*cap(buf), 512), c.max+1))
			copy(nb, buf)
			buf = nb
		}
		n, err := r.Read(buf[len(buf):min(cap(buf), c.max+1)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
}

func (c *wsClient) receiveError(err error) error {
	var ce websocket.CloseError
	if errors.As(err, &ce) {
		if closedWell(ce.Code) {
			return io.EOF
		}
		return c.peerClosed(ce)
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return err // a read deadline: as other clients report it
	}
	if errors.Is(err, websocket.ErrMessageTooBig) {
		return fmt.Errorf("%w of %d bytes: a message from %s", ErrFrameTooLarge, c.max, c.url)
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return io.EOF
	}
	return fmt.Errorf("receive from %s: %s", c.url, wsMessage(err))
}

func (c *wsClient) reply(_ *Source, p []byte) error { return c.Send(p) }

func (c *wsClient) SetReadDeadline(t time.Time) error  { return c.raw.SetReadDeadline(t) }
func (c *wsClient) SetWriteDeadline(t time.Time) error { return c.raw.SetWriteDeadline(t) }

// Close says goodbye with a close message (normal closure) and gives the
// server wsCloseGrace to answer before the connection is cut. A server
// that closed the connection with an error status (a message over its
// limit: 1009) is ErrClosedByPeer: what was sent may not have been taken.
func (c *wsClient) Close() error {
	_ = c.raw.SetDeadline(time.Now().Add(wsCloseGrace))
	err := c.ws.Close(websocket.StatusNormalClosure, "")
	_ = c.raw.Close()
	var ce websocket.CloseError
	if errors.As(err, &ce) && !closedWell(ce.Code) {
		return c.peerClosed(ce)
	}
	return nil
}

func (c *wsClient) String() string {
	return fmt.Sprintf("%s %s → %s", strings.SplitN(c.url, ":", 2)[0], c.raw.LocalAddr(), c.url)
}

// batchConn is a WebSocket connection's TCP connection, which can hold
// what is written (hold) to write it with one system call (flush): a
// client's batch, a listener's queued replies.
type batchConn struct {
	net.Conn
	mu      sync.Mutex
	holding bool
	buf     []byte
	// eof: a read returned io.EOF, the peer's end of the connection.
	eof atomic.Bool
}

func (c *batchConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if err == io.EOF {
		c.eof.Store(true)
	}
	return n, err
}

// Write writes p, or keeps it while holding. The lock keeps writes in
// order (TLS records must go out in the order they were made).
func (c *batchConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.holding {
		c.buf = append(c.buf, p...)
		return len(p), nil
	}
	return c.Conn.Write(p)
}

func (c *batchConn) hold() {
	c.mu.Lock()
	c.holding = true
	c.mu.Unlock()
}

// flush writes what was held and stops holding.
func (c *batchConn) flush() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.holding = false
	if len(c.buf) == 0 {
		return nil
	}
	_, err := c.Conn.Write(c.buf)
	if cap(c.buf) > 64<<10 {
		c.buf = nil
	} else {
		c.buf = c.buf[:0]
	}
	return err
}
