package transport

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/coder/websocket"
)

// OSC over WebSocket (SPEC §12): one OSC packet per binary message, the
// convention of osc.js's WebSocketPort. Text messages are not OSC: a
// listener counts them and tells the first of each connection
// (ConnEvent.Notice), and never decodes them.

// wsHandshakeTimeout is how long a new connection has to send its HTTP
// request (the upgrade): one that says nothing does not keep its place
// in the HTTP phase.
const wsHandshakeTimeout = 5 * time.Second

// wsMaxHeader bounds an upgrade request's headers (a browser's, with
// cookies, is a few KiB).
const wsMaxHeader = 64 << 10

// wsCloseGrace is how long a closing connection waits for its peer's
// answer to the close message before the connection is cut.
const wsCloseGrace = 250 * time.Millisecond

// ErrTextMessage matches (errors.Is) the Notice of a WebSocket text
// message: not OSC, so ignored.
var ErrTextMessage = errors.New("text message")

// wsListener serves OSC over WebSocket: an HTTP server on a TCP socket
// that upgrades requests for its path (any path when it has none) and
// reads one packet from each binary message. Its connections are kept
// within the bounds of a connSet as TCP's are; each message begun must
// end within FrameTimeout, and MaxFrame bounds a message.
type wsListener struct {
	connSet
	ln   *net.TCPListener
	hl   *httpPhaseListener
	srv  *http.Server
	path string // "" for any
	dual bool
	cfg  ListenConfig
	h    func(*Packet)

	texts   atomic.Int64
	admitMu sync.Mutex // one newcomer at a time waits for a slot
	wg      sync.WaitGroup

	// waiting, when set (by tests, before Serve), is told each time a
	// connection is about to wait for bytes, with a message under way
	// (partial) of which it has have bytes, or between messages.
	waiting func(c *wsConn, partial bool, have int)
}

func listenWS(ctx context.Context, ep Endpoint, cfg ListenConfig) (*wsListener, error) {
	if strings.ContainsAny(ep.Path, "?#") {
		return nil, fmt.Errorf("cannot listen on %s: a path to listen on has no query", ep)
	}
	ln, dual, err := listenStream(ctx, WS, ep.Host, ep.Port, cfg.IPv6Only)
	if err != nil {
		return nil, err
	}
	cfg = withLimitDefaults(cfg)
	l := &wsListener{ln: ln, dual: dual, cfg: cfg, path: ep.Path}
	l.init(cfg, "message")
	l.hl = newHTTPPhaseListener(ln, cfg.MaxConns)
	l.srv = &http.Server{
		Handler:           l,
		ReadHeaderTimeout: wsHandshakeTimeout,
		IdleTimeout:       wsHandshakeTimeout,
		MaxHeaderBytes:    wsMaxHeader,
		// net/http would log a peer's mistakes to the process's stderr,
		// unescaped; what matters is reported through OnConn.
		ErrorLog: log.New(io.Discard, "", 0),
		ConnContext: func(ctx context.Context, c net.Conn) context.Context {
			return context.WithValue(ctx, httpConnKey{}, c)
		},
	}
	return l, nil
}

func (l *wsListener) Addr() Endpoint {
	ap := l.ln.Addr().(*net.TCPAddr).AddrPort()
	return Endpoint{Proto: WS, Host: ap.Addr().Unmap().String(), Port: int(ap.Port()), Path: l.path}
}

func (l *wsListener) String() string { return l.Describe() }

func (l *wsListener) Describe(notes ...string) string {
	var own []string
	if l.dual {
		own = append(own, "IPv4 and IPv6")
	}
	if l.path == "" {
		own = append(own, "any path")
	}
	return describe(l.Addr(), nil, append(own, notes...))
}

func (l *wsListener) Stats() ListenStats {
	return ListenStats{Conns: l.conns.Load(), Dropped: l.dropped.Load(), TextMessages: l.texts.Load()}
}

func (l *wsListener) event(e ConnEvent) {
	if l.cfg.OnConn != nil {
		l.cfg.OnConn(e)
	}
}

// Serve serves HTTP until Close, each connection in a goroutine of its
// own. It returns after every connection has finished.
func (l *wsListener) Serve(h func(*Packet)) error {
	l.h = h
	err := l.srv.Serve(l.hl)
	l.wg.Wait()
	if errors.Is(err, http.ErrServerClosed) || errors.Is(err, net.ErrClosed) {
		return nil
	}
	return err
}

// Close stops accepting and closes every connection: WebSocket
// connections with a close message (going away), each given
// wsCloseGrace to answer it.
func (l *wsListener) Close() error {
	// Marked closed first: a request that has not yet joined l.wg stays
	// out of it, so Serve's wait cannot miss one.
	l.closeAll()
	err := l.srv.Close()
	if errors.Is(err, net.ErrClosed) {
		err = nil
	}
	return err
}

// httpConnKey is the request context's key for its *httpConn.
type httpConnKey struct{}

// ServeHTTP upgrades a request for the listener's path and serves the
// WebSocket connection; anything else gets a short answer and is
// reported.
func (l *wsListener) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	raw, ok := r.Context().Value(httpConnKey{}).(*httpConn)
	if !ok {
		http.Error(w, "oscli: internal error", http.StatusInternalServerError)
		return
	}
	raw.requested.Store(true)
	ap := unmapAddrPort(raw.RemoteAddr().(*net.TCPAddr).AddrPort())
	src := Source{proto: WS, name: ap.String(), addr: ap}
	if l.path != "" && r.URL.Path != l.path {
		l.refuse(w, src, http.StatusNotFound,
			fmt.Sprintf("asked for path %s, not %s (answered 404)", clip(strconv.Quote(r.URL.Path), 80), l.path),
			"oscli: no OSC WebSocket at "+clip(r.URL.Path, 80)+"; it is at "+l.path+"\n")
		return
	}
	if !isUpgrade(r) {
		w.Header().Set("Upgrade", "websocket")
		l.refuse(w, src, http.StatusUpgradeRequired,
			fmt.Sprintf("plain HTTP %s %s, not a WebSocket upgrade (answered 426)", clip(r.Method, 16), clip(strconv.Quote(r.URL.Path), 80)),
			"oscli: this is an OSC WebSocket endpoint (one OSC packet per binary message); connect with a WebSocket client such as osc.js's WebSocketPort\n")
		return
	}
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return
	}
	l.wg.Add(1)
	l.mu.Unlock()
	defer l.wg.Done()

	c := &wsConn{l: l, raw: raw, src: src}
	c.src.r = c
	l.add(&c.connSlot, raw.tcp, src.name, func() { raw.Close() })
	if !l.waitSlot(c) {
		return // the listener closed
	}
	// Browser pages and osc.js apps come from other origins (a file://
	// page, a dev server's port): any Origin is accepted. dump only
	// reads and, with --echo, answers on the same connection. A refused
	// upgrade's answer closes the connection (the upgrade replaces the
	// header).
	w.Header().Set("Connection", "close")
	ws, err := websocket.Accept(w, r, &websocket.AcceptOptions{InsecureSkipVerify: true})
	if err != nil {
		// Accept has answered (400, 405); an eviction meanwhile says why.
		why := l.done(&c.connSlot)
		if why == nil {
			l.dropped.Add(1)
			why = fmt.Errorf("WebSocket upgrade refused: %s", wsMessage(err))
		}
		l.event(ConnEvent{Source: src, Err: why})
		return
	}
	// The connection leaves the HTTP phase, and its deadlines; its reads
	// are c's from now on.
	raw.release()
	_ = raw.SetDeadline(time.Time{})
	c.ws = ws
	raw.ws = c
	l.serveConn(c)
}

// refuse answers a request that is not an upgrade for the listener's
// path, closes the connection and reports it.
func (l *wsListener) refuse(w http.ResponseWriter, src Source, code int, why, body string) {
	l.conns.Add(1)
	l.dropped.Add(1)
	h := w.Header()
	h.Set("Connection", "close")
	h.Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(code)
	_, _ = io.WriteString(w, body)
	l.event(ConnEvent{Source: src, Err: errors.New(why)})
}

// isUpgrade reports a WebSocket upgrade request (RFC 6455 §4.1):
// Connection names Upgrade, Upgrade names websocket.
func isUpgrade(r *http.Request) bool {
	return hasToken(r.Header, "Connection", "upgrade") && hasToken(r.Header, "Upgrade", "websocket")
}

func hasToken(h http.Header, key, token string) bool {
	for _, v := range h.Values(key) {
		for t := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(strings.TrimSpace(t), token) {
				return true
			}
		}
	}
	return false
}

// waitSlot gives c a slot, waiting (unread) while every slot is taken by
// a connection that cannot be evicted; false when the listener closed.
func (l *wsListener) waitSlot(c *wsConn) bool {
	l.admitMu.Lock()
	defer l.admitMu.Unlock()
	for {
		ok, closed := l.admit(&c.connSlot)
		if closed {
			return false
		}
		if ok {
			return true
		}
		<-l.changed
	}
}

// serveConn reads c's messages until it ends, then reports how.
func (l *wsListener) serveConn(c *wsConn) {
	ws := c.ws
	ws.SetReadLimit(int64(l.cfg.MaxFrame))
	l.mu.Lock()
	c.goAway = c.closeGoingAway
	l.mu.Unlock()
	l.event(ConnEvent{Source: c.src, Opened: true})
	small := make([]byte, 0, keepFrameBuffer)
	buf := small
	pk := Packet{Source: c.src}
	var (
		typ     websocket.MessageType
		err     error
		partial bool
	)
	for {
		if typ, buf, partial, err = c.next(buf); err != nil {
			break
		}
		if typ == websocket.MessageBinary {
			pk.Data, pk.More = buf, c.raw.full.Load()
			l.h(&pk)
		} else {
			c.text(buf)
		}
		if cap(buf) > keepFrameBuffer {
			// A large message's buffer is let go once it is done.
			_ = c.hold(-charge(cap(buf)))
			buf = small
		}
	}
	have := len(buf)
	if errors.Is(err, websocket.ErrMessageTooBig) {
		// Tell the peer why (status 1009), giving it wsCloseGrace to
		// answer; the rest of its message is read and dropped meanwhile.
		_ = c.raw.SetDeadline(time.Now().Add(wsCloseGrace))
		_ = ws.Close(websocket.StatusMessageTooBig, fmt.Sprintf("message larger than the %d-byte limit", l.cfg.MaxFrame))
	}
	why := l.done(&c.connSlot)
	c.closing.Wait()
	_ = ws.CloseNow()
	switch {
	case why != nil:
		l.event(ConnEvent{Source: c.src, Err: why})
	case !errors.Is(err, websocket.ErrMessageTooBig) && (l.isClosed() || wsLeft(err, partial)):
		// Leaving, or closed as the listener stops; a message too big
		// was the peer's before the stop, and is told.
		l.event(ConnEvent{Source: c.src})
	default:
		l.dropped.Add(1)
		l.event(ConnEvent{Source: c.src, Err: wsReadError(err, partial, have, l.cfg.MaxFrame)})
	}
}

// wsLeft reports a peer that left between messages: with a normal close
// message, or without one (even with a reset), as TCP peers leave.
func wsLeft(err error, partial bool) bool {
	switch websocket.CloseStatus(err) {
	case websocket.StatusNormalClosure, websocket.StatusGoingAway, websocket.StatusNoStatusRcvd:
		return true
	case -1:
	default:
		return false
	}
	return !partial && (errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, net.ErrClosed) || errors.Is(err, syscall.ECONNRESET))
}

// wsReadError says in oscli's words why a connection's reading failed.
func wsReadError(err error, partial bool, have, maxFrame int) error {
	var ce websocket.CloseError
	switch {
	case errors.Is(err, websocket.ErrMessageTooBig):
		return &closeError{kind: ErrFrameTooLarge, msg: fmt.Sprintf("message larger than the %d-byte limit", maxFrame)}
	case errors.As(err, &ce):
		return fmt.Errorf("closed the connection with status %s", closeStatus(ce))
	case partial && (errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)):
		return &closeError{kind: io.ErrUnexpectedEOF, msg: fmt.Sprintf("connection closed mid-message (%d bytes received)", have)}
	case partial:
		return fmt.Errorf("%s mid-message (%d bytes received)", wsMessage(err), have)
	}
	return errors.New(wsMessage(err))
}

// closeStatus names a close message's status: `1011 (internal error):
// "reason"`.
func closeStatus(ce websocket.CloseError) string {
	s := strconv.Itoa(int(ce.Code))
	if name, ok := closeNames[ce.Code]; ok {
		s += " (" + name + ")"
	}
	if ce.Reason != "" {
		s += ": " + clip(strconv.Quote(ce.Reason), 130)
	}
	return s
}

var closeNames = map[websocket.StatusCode]string{
	websocket.StatusProtocolError:           "protocol error",
	websocket.StatusUnsupportedData:         "unsupported data",
	websocket.StatusInvalidFramePayloadData: "invalid payload",
	websocket.StatusPolicyViolation:         "policy violation",
	websocket.StatusMessageTooBig:           "message too big",
	websocket.StatusMandatoryExtension:      "extension required",
	websocket.StatusInternalError:           "internal error",
	websocket.StatusServiceRestart:          "service restart",
	websocket.StatusTryAgainLater:           "try again later",
	websocket.StatusBadGateway:              "bad gateway",
}

// wsMessage is a WebSocket library error without the library's chain of
// "failed to …:" prefixes, which say what it was doing, not what went
// wrong: "received unmasked frame from client", "connection reset by
// peer".
func wsMessage(err error) string {
	var op *net.OpError
	if errors.As(err, &op) && op.Err != nil {
		return op.Err.Error()
	}
	var ue *url.Error
	if errors.As(err, &ue) && ue.Err != nil {
		return wsMessage(ue.Err)
	}
	msg := err.Error()
	for {
		rest, ok := strings.CutPrefix(msg, "failed to ")
		if !ok {
			break
		}
		i := strings.Index(rest, ": ")
		if i < 0 {
			break
		}
		msg = rest[i+2:]
	}
	return strings.TrimPrefix(msg, "WebSocket protocol violation: ")
}

// clip shortens s to at most n bytes, marking the cut.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// wsConn is one WebSocket connection: what the listener knows of it, and
// the way to answer its peer.
type wsConn struct {
	connSlot
	l     *wsListener
	raw   *httpConn
	ws    *websocket.Conn
	src   Source
	texts int64 // text messages received; the reading goroutine's
	// inMessage: a message's first header has been read, its last byte
	// not yet.
	inMessage atomic.Bool

	// goAway, closeGoingAway's goroutine, joined by closing.
	closing sync.WaitGroup

	// Replies waiting for the writer, each an int32 size and the packet.
	replies replyQueue
}

// next waits for the next message and reads it into buf; partial
// reports an error inside a message (after its first frame's header).
// The clock is read where the connection reads its socket (wsConn.Read),
// not for every message.
func (c *wsConn) next(buf []byte) (typ websocket.MessageType, _ []byte, partial bool, err error) {
	typ, r, err := c.ws.Reader(context.Background())
	if err != nil {
		return 0, buf, false, err
	}
	c.inMessage.Store(true)
	buf, err = c.readMessage(r, buf)
	c.inMessage.Store(false)
	if err == nil && c.raw.eof.Load() {
		// The library ends a message with io.EOF, as if it were whole,
		// when the connection ends where a read of its payload begins
		// (a header read, none of its payload). A whole message never
		// needs the connection's end to be read: this one was cut.
		err = io.ErrUnexpectedEOF
	}
	if err != nil {
		return 0, buf, true, err
	}
	c.frameDone()
	return typ, buf, false, nil
}

// beforeRead tells the connSet (and a test's waiting hook) that the
// connection's socket is about to be read, and may wait: with a message
// under way, or between messages.
func (c *wsConn) beforeRead() {
	in := c.inMessage.Load()
	c.reading(in)
	if c.l.waiting != nil {
		c.l.waiting(c, in, 0)
	}
}

// readMessage reads the message r delivers into buf, growing it up to
// one byte past the listener's limit (with the connSet's consent): a
// message that fills it is too big (websocket.ErrMessageTooBig). The
// library's own limit, a byte further, is never reached.
func (c *wsConn) readMessage(r io.Reader, buf []byte) ([]byte, error) {
	buf = buf[:0]
	limit := c.l.cfg.MaxFrame
	for {
		if len(buf) > limit {
			return buf, websocket.ErrMessageTooBig
		}
		if len(buf) == cap(buf) {
			n := min(max(2*cap(buf), 512), limit+1)
			if err := c.hold(charge(n) - charge(cap(buf))); err != nil {
				return buf, err
			}
			nb := make([]byte, len(buf), n)
			copy(nb, buf)
			buf = nb
		}
		n, err := r.Read(buf[len(buf):min(cap(buf), limit+1)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
}

// text counts a text message and tells the first of the connection.
func (c *wsConn) text(b []byte) {
	c.l.texts.Add(1)
	c.texts++
	if c.texts > 1 {
		return
	}
	c.l.event(ConnEvent{Source: c.src, Notice: &closeError{kind: ErrTextMessage,
		msg: fmt.Sprintf("sent a text message (%d %s: %s), which is not OSC: ignored; OSC over WebSocket is one packet per binary message (later text messages are counted)",
			len(b), plural(len(b), "byte", "bytes"), clip(strconv.Quote(string(b[:min(len(b), 48)])), 60))}})
}

// closeGoingAway closes the connection with a close message (going
// away), as the listener stops; the peer has wsCloseGrace to answer.
// It is called with the listener's lock held, and does not wait.
func (c *wsConn) closeGoingAway() {
	c.closing.Add(1)
	go func() {
		defer c.closing.Done()
		_ = c.raw.SetDeadline(time.Now().Add(wsCloseGrace))
		_ = c.ws.Close(websocket.StatusGoingAway, "")
		c.raw.Close()
	}()
}

// reply queues p for the connection's writer, which it starts when none
// runs: it never waits on the peer, so one that does not read cannot
// hold up the caller (dump's pipeline, serving every connection). A peer
// whose replies pile up past replyQueueLimit is closed (ErrNotReading).
func (c *wsConn) reply(_ *Source, p []byte) error {
	return c.replies.push(func(q []byte) []byte {
		q = binary.BigEndian.AppendUint32(q, uint32(len(p)))
		return append(q, p...)
	}, replyQueueLimit(c.l.cfg.MaxFrame), c)
}

// writeReplies writes queued replies, one binary message each. What is
// queued when the writer looks goes out with one system call, as TCP's
// replies do: a writer that took one per message fell behind a peer
// reading as fast as it sends.
func (c *wsConn) writeReplies(buf []byte) error {
	var err error
	c.raw.hold()
	for off := 0; off < len(buf) && err == nil; {
		n := int(binary.BigEndian.Uint32(buf[off:]))
		err = c.ws.Write(context.Background(), websocket.MessageBinary, buf[off+4:off+4+n])
		off += 4 + n
	}
	if ferr := c.raw.flush(); err == nil {
		err = ferr
	}
	return err
}

// killNotReading closes a peer that does not read its replies.
func (c *wsConn) killNotReading(err error) {
	if c.l.killIfOpen(&c.connSlot, err) {
		c.raw.Close()
	}
}

// httpPhaseListener lets at most max connections be in their HTTP phase
// (before the upgrade) at once: each holds a goroutine and buffers of
// net/http's. When all places are taken, a newcomer takes the place of
// the connection that has waited longest without sending its request,
// which is closed (as a TCP newcomer takes the slot of the connection
// idle longest): silent connections cannot lock others out, and a
// request takes one round trip to send.
type httpPhaseListener struct {
	*net.TCPListener
	max int

	mu     sync.Mutex
	phase  []*httpConn // in their HTTP phase, in order of acceptance
	closed bool
	freed  chan struct{} // a place may have been given back
}

func newHTTPPhaseListener(ln *net.TCPListener, max int) *httpPhaseListener {
	return &httpPhaseListener{TCPListener: ln, max: max, freed: make(chan struct{}, 1)}
}

func (l *httpPhaseListener) Accept() (net.Conn, error) {
	tc, err := l.AcceptTCP()
	if err != nil {
		return nil, err
	}
	c := &httpConn{batchConn: batchConn{Conn: tc}, tcp: tc, l: l}
	for {
		l.mu.Lock()
		if l.closed {
			l.mu.Unlock()
			tc.Close()
			return nil, net.ErrClosed
		}
		if len(l.phase) < l.max {
			l.phase = append(l.phase, c)
			l.mu.Unlock()
			return c, nil
		}
		var victim *httpConn
		for _, x := range l.phase {
			if !x.requested.Load() {
				victim = x
				break
			}
		}
		if victim != nil {
			l.removeLocked(victim)
		}
		l.mu.Unlock()
		if victim != nil {
			victim.Conn.Close()
			continue
		}
		// Every place is taken by a request being served (waiting for
		// a connection slot): the newcomer waits.
		<-l.freed
	}
}

// removeLocked takes c out of the HTTP phase; l.mu is held.
func (l *httpPhaseListener) removeLocked(c *httpConn) {
	c.released.Store(true)
	for i, x := range l.phase {
		if x == c {
			l.phase = append(l.phase[:i], l.phase[i+1:]...)
			break
		}
	}
	select {
	case l.freed <- struct{}{}:
	default:
	}
}

func (l *httpPhaseListener) Close() error {
	l.mu.Lock()
	l.closed = true
	l.mu.Unlock()
	select {
	case l.freed <- struct{}{}:
	default:
	}
	return l.TCPListener.Close()
}

// httpConn is an accepted connection. In its HTTP phase it holds a place
// of its listener's, given back when it is upgraded or closed; upgraded,
// it is read for ws.
type httpConn struct {
	batchConn
	tcp       *net.TCPConn // the same, looked at (peekConn) by the connSet
	l         *httpPhaseListener
	released  atomic.Bool
	requested atomic.Bool // its request arrived: not to be closed for a newcomer
	ws        *wsConn     // once upgraded
	// full reports that the last read filled the buffer it was given:
	// more bytes are likely waiting (Packet.More).
	full atomic.Bool
}

// Read is where an upgraded connection waits for bytes: its deadlines,
// idleness and the test hook are kept here, once per system call, rather
// than once per message.
func (c *httpConn) Read(p []byte) (int, error) {
	ws := c.ws
	if ws != nil {
		ws.beforeRead()
	}
	n, err := c.Conn.Read(p)
	if err == io.EOF {
		c.eof.Store(true)
	}
	c.full.Store(n == len(p) && n > 0)
	if n > 0 && ws != nil {
		ws.received()
	}
	return n, err
}

// release gives the connection's place in the HTTP phase back.
func (c *httpConn) release() {
	if c.l == nil || c.released.Load() {
		return
	}
	c.l.mu.Lock()
	if !c.released.Load() {
		c.l.removeLocked(c)
	}
	c.l.mu.Unlock()
}

func (c *httpConn) Close() error {
	c.release()
	return c.Conn.Close()
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
