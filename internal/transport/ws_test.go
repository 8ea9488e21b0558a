package transport

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/oscli/oscli/internal/clock"
)

func TestParseWebSocketEndpoint(t *testing.T) {
	def := Endpoint{Proto: UDP, Host: "127.0.0.1", Port: 8000}
	tests := []struct {
		word string
		want Endpoint
	}{
		{"ws://10.0.0.5:9000", Endpoint{WS, "10.0.0.5", 9000, ""}},
		{"ws://10.0.0.5:9000/", Endpoint{WS, "10.0.0.5", 9000, ""}},
		{"ws://10.0.0.5:9000/osc", Endpoint{WS, "10.0.0.5", 9000, "/osc"}},
		{"WS://host:1/a/b?token=x", Endpoint{WS, "host", 1, "/a/b?token=x"}},
		{"ws://host:1?token=x", Endpoint{WS, "host", 1, "/?token=x"}},
		{"ws://[::1]:9000/osc", Endpoint{WS, "::1", 9000, "/osc"}},
		{"ws://:9000/osc", Endpoint{WS, "127.0.0.1", 9000, "/osc"}},
		// Without a port, the scheme's, as in a browser.
		{"ws://example.com/osc", Endpoint{WS, "example.com", 80, "/osc"}},
		{"wss://example.com/osc", Endpoint{WSS, "example.com", 443, "/osc"}},
		{"wss://[::1]", Endpoint{WSS, "::1", 443, ""}},
		// Nothing after the scheme: host and port are the defaults.
		{"ws://", Endpoint{WS, "127.0.0.1", 8000, ""}},
	}
	for _, tt := range tests {
		t.Run(tt.word, func(t *testing.T) {
			got, err := ParseEndpoint(tt.word, def)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
	for _, bad := range []string{"ws://h:99999", "ws://h:x/osc", "ws://user@h:1", "ws://h:1/a b", "ws://h:1/a#frag",
		"ws://::1:9000", "osc.ws://h:1", "ws://h:/x"} {
		if _, err := ParseEndpoint(bad, def); err == nil || !strings.Contains(err.Error(), "invalid address") {
			t.Errorf("%q: err = %v", bad, err)
		}
	}
	for ep, want := range map[Endpoint]string{
		{WS, "::1", 9000, "/osc"}:  "ws://[::1]:9000/osc",
		{WSS, "h", 443, ""}:        "wss://h:443",
		{WS, "0.0.0.0", 8000, ""}:  "ws://0.0.0.0:8000",
		{TCP, "0.0.0.0", 8000, ""}: "tcp://0.0.0.0:8000",
	} {
		if s := ep.String(); s != want {
			t.Errorf("String = %q, want %q", s, want)
		}
	}
	for _, tt := range []struct {
		ep   Endpoint
		want string
	}{
		{Endpoint{WSS, "osc.example.com", 443, "/osc"}, "wss://osc.example.com/osc"},
		{Endpoint{WS, "::1", 80, ""}, "ws://[::1]"},
		{Endpoint{WS, "::1", 443, "/a?b=c"}, "ws://[::1]:443/a?b=c"},
		{Endpoint{WSS, "h", 80, ""}, "wss://h:80"},
	} {
		if got := wsURL(tt.ep.Proto, tt.ep.Host, tt.ep.Port, tt.ep.Path); got != tt.want {
			t.Errorf("wsURL(%v) = %q, want %q", tt.ep, got, tt.want)
		}
	}
	for _, p := range []string{TCP, WS, WSS} {
		if !(Endpoint{Proto: p}).Stream() {
			t.Errorf("%s is not a stream", p)
		}
	}
	for _, p := range []string{UDP, Unix} {
		if (Endpoint{Proto: p}).Stream() {
			t.Errorf("%s is a stream", p)
		}
	}
}

// wsHarness is a WebSocket listener on loopback with a fake clock,
// whose connection events and waits the test can await.
type wsHarness struct {
	t      *testing.T
	l      *wsListener
	clk    *clock.Fake
	events chan ConnEvent
	waits  chan connWait
	seen   map[string][]connWait
	pkts   <-chan Packet
}

func newWSHarness(t *testing.T, path string, cfg ListenConfig) *wsHarness {
	t.Helper()
	h := &wsHarness{t: t, clk: clock.NewFake(t0), events: make(chan ConnEvent, 1<<10),
		waits: make(chan connWait, 1<<14), seen: map[string][]connWait{}}
	cfg.Clock = h.clk
	cfg.OnConn = func(e ConnEvent) { h.events <- e }
	l, err := Listen(context.Background(), Endpoint{Proto: WS, Host: "127.0.0.1", Path: path}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	h.l = l.(*wsListener)
	h.l.waiting = func(c *wsConn, partial bool, have int) {
		select {
		case h.waits <- connWait{c.src.String(), partial, have}:
		default:
			t.Error("too many waits to keep")
		}
	}
	h.pkts = serve(t, l)
	return h
}

// dial connects a client (oscli's own) to the listener's path and waits
// until the listener has it open.
func (h *wsHarness) dial() *wsClient {
	h.t.Helper()
	c := h.dialTo(h.l.Addr())
	h.opened(c.raw.LocalAddr().String())
	return c
}

func (h *wsHarness) dialTo(ep Endpoint) *wsClient {
	h.t.Helper()
	c, err := Dial(context.Background(), ep, DialConfig{})
	if err != nil {
		h.t.Fatal(err)
	}
	h.t.Cleanup(func() { c.Close() })
	return c.(*wsClient)
}

func (h *wsHarness) event() ConnEvent {
	h.t.Helper()
	select {
	case e := <-h.events:
		return e
	case <-time.After(10 * time.Second):
		h.t.Fatal("no connection event in 10s")
	}
	return ConnEvent{}
}

// opened awaits name's opening and its first wait between messages.
func (h *wsHarness) opened(name string) {
	h.t.Helper()
	if e := h.event(); !e.Opened || e.Source.String() != name || e.Source.Proto() != WS {
		h.t.Fatalf("event %+v (%v), want %s opened", e, e.Err, name)
	}
	h.await(name, connWait{})
}

func (h *wsHarness) await(name string, want connWait) {
	h.t.Helper()
	want.name = name
	timeout := time.After(10 * time.Second)
	for {
		for len(h.seen[name]) > 0 {
			w := h.seen[name][0]
			h.seen[name] = h.seen[name][1:]
			if w == want {
				return
			}
		}
		select {
		case w := <-h.waits:
			h.seen[w.name] = append(h.seen[w.name], w)
		case <-timeout:
			h.t.Fatalf("no wait %+v within 10s", want)
		}
	}
}

func (h *wsHarness) packet(from string, want []byte) Packet {
	h.t.Helper()
	p := next(h.t, h.pkts)
	if p.Source.String() != from || !bytes.Equal(p.Data, want) {
		h.t.Fatalf("got %d bytes %.20q from %s, want %d bytes %.20q from %s", len(p.Data), p.Data, p.Source, len(want), want, from)
	}
	return p
}

// rawWS is a WebSocket client written by hand, for what a library
// client would not send: half a message, a message never finished.
type rawWS struct {
	net.Conn
	br *bufio.Reader
}

func dialRawWS(t *testing.T, ep Endpoint, path string) *rawWS {
	t.Helper()
	c, err := net.Dial("tcp", ep.HostPort())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: %s\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"+
		"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n", path, ep.HostPort())
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols || resp.Header.Get("Sec-WebSocket-Accept") != "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" {
		t.Fatalf("upgrade answered %s %v", resp.Status, resp.Header)
	}
	return &rawWS{Conn: c, br: br}
}

// wsFrame is a client's frame (masked, with a zero key: the payload goes
// as it is) of opcode op: 1 text, 2 binary, 0 continuation, 8 close.
func wsFrame(op byte, fin bool, payload []byte, size int) []byte {
	b0 := op
	if fin {
		b0 |= 0x80
	}
	b := []byte{b0}
	switch {
	case size < 126:
		b = append(b, 0x80|byte(size))
	case size < 1<<16:
		b = append(b, 0x80|126)
		b = binary.BigEndian.AppendUint16(b, uint16(size))
	default:
		b = append(b, 0x80|127)
		b = binary.BigEndian.AppendUint64(b, uint64(size))
	}
	b = append(b, 0, 0, 0, 0)
	return append(b, payload...)
}

func binFrame(p []byte) []byte { return wsFrame(2, true, p, len(p)) }

func (c *rawWS) write(t *testing.T, b []byte) {
	t.Helper()
	if _, err := c.Write(b); err != nil {
		t.Fatal(err)
	}
}

// One Listen for WebSocket too: each binary message is a packet whose
// source names the sender and answers it with a binary message on its
// connection; text messages are counted, the first of a connection
// told, and never delivered; a listener without a path takes any.
func TestListenWS(t *testing.T) {
	h := newWSHarness(t, "", ListenConfig{})
	addr := h.l.Addr()
	if addr.Proto != WS || addr.Port == 0 || addr.Path != "" || addr.String() != fmt.Sprintf("ws://127.0.0.1:%d", addr.Port) {
		t.Errorf("Addr %v", addr)
	}
	if s := h.l.String(); s != addr.String()+" (any path)" {
		t.Errorf("String %q", s)
	}
	to := addr
	to.Path = "/any/path"
	c := h.dialTo(to)
	name := c.raw.LocalAddr().String()
	h.opened(name)

	if err := c.Send(msg("/a")); err != nil {
		t.Fatal(err)
	}
	p := h.packet(name, msg("/a"))
	if p.Source.Proto() != WS {
		t.Errorf("proto %q", p.Source.Proto())
	}
	if err := p.Source.Reply(msg("/reply")); err != nil {
		t.Fatal(err)
	}
	r, err := c.Receive()
	if err != nil || !bytes.Equal(r.Data, msg("/reply")) || r.Source.Proto() != WS || r.Source.String() != addr.HostPort() {
		t.Fatalf("Receive: %q from %s (%s), %v", r.Data, r.Source, r.Source.Proto(), err)
	}

	for _, s := range []string{"hello \x1b[2J", "again"} {
		if err := c.ws.Write(context.Background(), websocket.MessageText, []byte(s)); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.SendBatch([][]byte{msg("/b"), msg("/c")}); err != nil {
		t.Fatal(err)
	}
	e := h.event()
	want := `sent a text message (10 bytes: "hello \x1b[2J"), which is not OSC: ignored; OSC over WebSocket is one packet per binary message (later text messages are counted)`
	if !errors.Is(e.Notice, ErrTextMessage) || e.Err != nil || e.Opened || e.Notice.Error() != want {
		t.Errorf("event %+v: %v\nwant %s", e, e.Notice, want)
	}
	h.packet(name, msg("/b"))
	h.packet(name, msg("/c"))

	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if e := h.event(); e.Opened || e.Err != nil || e.Notice != nil || e.Source.String() != name {
		t.Errorf("closing event %+v (%v)", e, e.Err)
	}
	if st := h.l.Stats(); st.Conns != 1 || st.Dropped != 0 || st.TextMessages != 2 {
		t.Errorf("stats %+v", st)
	}
}

// A listener with a path upgrades requests for that path alone; others
// get 404, and a plain HTTP request 426, each with a line saying why,
// and each reported.
func TestListenWSPath(t *testing.T) {
	h := newWSHarness(t, "/osc", ListenConfig{})
	addr := h.l.Addr()
	if addr.Path != "/osc" || h.l.String() != addr.String() {
		t.Errorf("Addr %v, String %q", addr, h.l)
	}
	c := h.dial()
	if err := c.Send(msg("/ok")); err != nil {
		t.Fatal(err)
	}
	h.packet(c.raw.LocalAddr().String(), msg("/ok"))

	other := addr
	other.Path = "/other"
	_, err := Dial(context.Background(), other, DialConfig{})
	want := fmt.Sprintf(`cannot connect to %s: not a WebSocket endpoint (HTTP 404 Not Found: "oscli: no OSC WebSocket at /other; it is at /osc")`, other)
	if err == nil || err.Error() != want {
		t.Errorf("Dial %s: %v\nwant %s", other.Path, err, want)
	}
	if e := h.event(); e.Err == nil || e.Err.Error() != `asked for path "/other", not /osc (answered 404)` {
		t.Errorf("event %+v (%v)", e, e.Err)
	}

	resp, err := http.Get("http://" + addr.HostPort() + "/osc")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusUpgradeRequired || resp.Header.Get("Upgrade") != "websocket" ||
		!strings.HasPrefix(string(body), "oscli: this is an OSC WebSocket endpoint (one OSC packet per binary message)") {
		t.Errorf("plain GET: %s %v %q", resp.Status, resp.Header, body)
	}
	if e := h.event(); e.Err == nil || e.Err.Error() != `plain HTTP GET "/osc", not a WebSocket upgrade (answered 426)` {
		t.Errorf("event %+v (%v)", e, e.Err)
	}
	if st := h.l.Stats(); st.Conns != 3 || st.Dropped != 2 {
		t.Errorf("stats %+v", st)
	}
}

// Connections that say nothing do not lock newcomers out: with every
// place of the HTTP phase taken by silent ones, a newcomer takes the
// place of the one waiting longest, which is closed, and is upgraded at
// once (not when a silent one's 5 s are up: here they would never be).
func TestWSSilentConnsDoNotLockOut(t *testing.T) {
	l, err := Listen(context.Background(), Endpoint{Proto: WS, Host: "127.0.0.1"}, ListenConfig{MaxConns: 2})
	if err != nil {
		t.Fatal(err)
	}
	l.(*wsListener).srv.ReadHeaderTimeout = time.Hour
	pkts := serve(t, l)
	var silent []net.Conn
	for range 2 {
		c, err := net.Dial("tcp", l.Addr().HostPort())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		silent = append(silent, c)
	}
	c, err := Dial(context.Background(), l.Addr(), DialConfig{ConnectTimeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Send(msg("/in")); err != nil {
		t.Fatal(err)
	}
	if p := next(t, pkts); !bytes.Equal(p.Data, msg("/in")) {
		t.Fatalf("got %q", p.Data)
	}
	// The first silent connection made room, and was closed.
	closedByServer(t, silent[0])
}

// A message over MaxFrame closes its connection with status 1009 and is
// reported as ErrFrameTooLarge; one of exactly MaxFrame bytes passes, in
// one frame or in fragments.
func TestWSMessageTooLarge(t *testing.T) {
	h := newWSHarness(t, "", ListenConfig{MaxFrame: 64})
	c := dialRawWS(t, h.l.Addr(), "/")
	name := c.LocalAddr().String()
	h.opened(name)
	p := append(msg("/max"), make([]byte, 52)...)
	c.write(t, binFrame(p))
	h.packet(name, p)
	c.write(t, append(wsFrame(2, false, p[:10], 10), wsFrame(0, true, p[10:], len(p)-10)...))
	h.packet(name, p)
	c.write(t, binFrame(append(p, 0, 0, 0, 0)))
	e := h.event()
	if !errors.Is(e.Err, ErrFrameTooLarge) || e.Err.Error() != "message larger than the 64-byte limit" {
		t.Fatalf("event %+v (%v)", e, e.Err)
	}
	// The peer is told why: a close frame with status 1009.
	b, _ := io.ReadAll(c.br)
	if len(b) < 4 || b[0] != 0x88 || binary.BigEndian.Uint16(b[2:]) != 1009 || string(b[4:]) != "message larger than the 64-byte limit" {
		t.Errorf("the server sent %q, want a close frame with status 1009 and the reason", b)
	}
	if st := h.l.Stats(); st.Dropped != 1 {
		t.Errorf("stats %+v", st)
	}
}

// A message begun must end within FrameTimeout; a connection between
// messages may stay quiet as long as it likes.
func TestWSMessageTimeout(t *testing.T) {
	h := newWSHarness(t, "", ListenConfig{FrameTimeout: 5 * time.Second})
	quiet := dialRawWS(t, h.l.Addr(), "/")
	qname := quiet.LocalAddr().String()
	h.opened(qname)
	slow := dialRawWS(t, h.l.Addr(), "/")
	sname := slow.LocalAddr().String()
	h.opened(sname)
	long := append(msg("/slow"), make([]byte, 100)...)
	// The library reads a frame's payload whole: the connection waits
	// inside the message, with none of its bytes yet.
	slow.write(t, wsFrame(2, true, long[:10], len(long)))
	h.await(sname, connWait{partial: true, have: 0})

	h.clk.Advance(5*time.Second - 1)
	quiet.write(t, binFrame(msg("/q")))
	h.packet(qname, msg("/q"))
	h.clk.Advance(1)
	e := h.event()
	if e.Source.String() != sname || !errors.Is(e.Err, ErrFrameTimeout) || e.Err.Error() != "message not completed within 5s" {
		t.Fatalf("event %+v (%v)", e, e.Err)
	}
	h.clk.Advance(time.Hour)
	quiet.write(t, binFrame(msg("/q2")))
	h.packet(qname, msg("/q2"))
}

// At MaxConns, a new connection takes the slot of the one idle longest,
// which is closed and told whom it made room for.
func TestWSEvictsLongestIdle(t *testing.T) {
	h := newWSHarness(t, "", ListenConfig{MaxConns: 2})
	a := h.dial()
	h.clk.Advance(time.Second)
	b := h.dial()
	h.clk.Advance(time.Second)
	aname, bname := a.raw.LocalAddr().String(), b.raw.LocalAddr().String()
	if err := a.Send(msg("/a")); err != nil {
		t.Fatal(err)
	}
	h.packet(aname, msg("/a"))

	c := h.dialTo(h.l.Addr())
	cname := c.raw.LocalAddr().String()
	// c opens as b is closed: the two events come in either order.
	want := "evicted for " + cname + ": the longest idle (1s) of 2 connections"
	for range 2 {
		e := h.event()
		switch {
		case e.Opened && e.Source.String() == cname:
		case e.Source.String() == bname && errors.Is(e.Err, ErrTooManyConns) && e.Err.Error() == want:
		default:
			t.Fatalf("event %+v (%v), want %s opened and %s: %s", e, e.Err, cname, bname, want)
		}
	}
	h.await(cname, connWait{})
	if _, err := b.Receive(); err == nil {
		t.Error("the evicted client is still connected")
	}
	if err := c.Send(msg("/c")); err != nil {
		t.Fatal(err)
	}
	h.packet(cname, msg("/c"))
	if st := h.l.Stats(); st.Conns != 3 || st.Dropped != 1 {
		t.Errorf("stats %+v", st)
	}
}

// A reply never waits on its peer: with every packet echoed by one
// goroutine (as dump's pipeline does), a client that floods large
// messages and never reads its echoes is closed as not reading them, and
// another client's packet still comes through.
func TestWSReplyNeverBlocks(t *testing.T) {
	events := make(chan ConnEvent, 16)
	l, err := Listen(context.Background(), Endpoint{Proto: WS, Host: "127.0.0.1"},
		ListenConfig{OnConn: func(e ConnEvent) {
			select {
			case events <- e:
			default:
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	in, out := make(chan Packet, 4), make(chan Packet, 64)
	done := make(chan error, 1)
	go func() {
		done <- l.Serve(func(p *Packet) {
			c := *p
			c.Data = bytes.Clone(p.Data)
			in <- c
		})
	}()
	go func() { // the pipeline: one goroutine echoes every packet
		for p := range in {
			_ = p.Source.Reply(p.Data)
			out <- p
		}
	}()
	t.Cleanup(func() {
		l.Close()
		if err := <-done; err != nil {
			t.Errorf("Serve after Close: %v", err)
		}
		close(in)
	})
	guard := time.After(60 * time.Second) // failure guard only
	mute := dialRawWS(t, l.Addr(), "/")
	frame := binFrame(append(msg("/f"), make([]byte, 60000)...))
	go func() {
		for {
			if _, err := mute.Write(frame); err != nil {
				return // closed by the server
			}
		}
	}()
	var probe *rawWS
	for {
		select {
		case e := <-events:
			if e.Opened {
				continue
			}
			if e.Source.String() != mute.LocalAddr().String() || !errors.Is(e.Err, ErrNotReading) ||
				!strings.HasPrefix(e.Err.Error(), "not reading its replies (") {
				t.Fatalf("event %+v (%v), want %s not reading its replies", e, e.Err, mute.LocalAddr())
			}
			probe = dialRawWS(t, l.Addr(), "/")
			probe.write(t, binFrame(msg("/probe")))
		case p := <-out:
			if probe != nil && p.Source.String() == probe.LocalAddr().String() {
				if !bytes.Equal(p.Data, msg("/probe")) {
					t.Fatalf("probe came as %q", p.Data)
				}
				return
			}
		case <-guard:
			if probe == nil {
				t.Fatal("the client not reading its replies was not closed: replies wait on it")
			}
			t.Fatal("the probe was not delivered")
		}
	}
}

// Closing the listener says goodbye to each client with a close
// message (going away), which a client reads as the end (io.EOF).
func TestWSListenerCloseGoesAway(t *testing.T) {
	l, err := Listen(context.Background(), Endpoint{Proto: WS, Host: "127.0.0.1"}, ListenConfig{})
	if err != nil {
		t.Fatal(err)
	}
	opened := make(chan struct{}, 1)
	l.(*wsListener).cfg.OnConn = func(e ConnEvent) {
		if e.Opened {
			opened <- struct{}{}
		}
	}
	done := make(chan error, 1)
	go func() { done <- l.Serve(func(*Packet) {}) }()
	c, err := Dial(context.Background(), l.Addr(), DialConfig{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	<-opened
	raw := dialRawWS(t, l.Addr(), "/")
	<-opened
	l.Close()
	if _, err := c.Receive(); err != io.EOF {
		t.Errorf("Receive after the listener closed: %v, want io.EOF", err)
	}
	b := make([]byte, 4)
	if _, err := io.ReadFull(raw.br, b); err != nil || b[0] != 0x88 || binary.BigEndian.Uint16(b[2:]) != 1001 {
		t.Errorf("raw client read % x, %v: want a close frame with status 1001", b, err)
	}
	if err := <-done; err != nil {
		t.Errorf("Serve: %v", err)
	}
}

// A WebSocket client says clearly why it could not connect: nobody
// listening, an HTTP server that does not upgrade (its status and first
// line), a server that does not answer HTTP, one that does not answer
// at all, TLS trouble.
func TestDialWSErrors(t *testing.T) {
	ctx := context.Background()
	refused := freeTCPAddr(t)
	notWS := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "nothing here\nsecond line", http.StatusNotFound)
	}))
	defer notWS.Close()
	tlsSrv := httptest.NewUnstartedServer(http.NotFoundHandler())
	tlsSrv.Config.ErrorLog = log.New(io.Discard, "", 0)
	tlsSrv.StartTLS()
	defer tlsSrv.Close()
	mute := listenTCPAndClose(t)
	silent := fullListener(t)

	ep := func(proto, hostport, path string) Endpoint {
		host, port, _ := net.SplitHostPort(hostport)
		var p int
		fmt.Sscan(port, &p)
		return Endpoint{Proto: proto, Host: host, Port: p, Path: path}
	}
	tests := []struct {
		ep   Endpoint
		cfg  DialConfig
		want string
	}{
		{ep(WS, refused, "/osc"), DialConfig{}, "cannot connect to ws://" + refused + "/osc: connection refused (is a receiver listening?)"},
		{ep(WS, notWS.Listener.Addr().String(), "/x"), DialConfig{},
			"cannot connect to ws://" + notWS.Listener.Addr().String() + `/x: not a WebSocket endpoint (HTTP 404 Not Found: "nothing here")`},
		{ep(WS, mute, ""), DialConfig{}, "cannot connect to ws://" + mute + ": not a WebSocket server there (no HTTP answer)"},
		{ep(WS, silent, ""), DialConfig{ConnectTimeout: 50 * time.Millisecond}, "cannot connect to ws://" + silent + ": no answer within 50ms"},
		{ep(WSS, tlsSrv.Listener.Addr().String(), ""), DialConfig{},
			"cannot connect to wss://" + tlsSrv.Listener.Addr().String() + ": its TLS certificate is not trusted: tls: failed to verify certificate: x509: certificate signed by unknown authority"},
		{ep(WSS, notWS.Listener.Addr().String(), ""), DialConfig{},
			"cannot connect to wss://" + notWS.Listener.Addr().String() + ": it does not speak TLS (a ws:// server?)"},
	}
	for _, tt := range tests {
		_, err := Dial(ctx, tt.ep, tt.cfg)
		if err == nil || err.Error() != tt.want {
			t.Errorf("Dial %s:\n got %v\nwant %s", tt.ep, err, tt.want)
		}
	}
	if _, err := Dial(ctx, ep(WS, silent, ""), DialConfig{ConnectTimeout: 50 * time.Millisecond}); !errors.Is(err, ErrNoAnswer) {
		t.Errorf("no answer is not ErrNoAnswer: %v", err)
	}
}

func freeTCPAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	a := l.Addr().String()
	l.Close()
	return a
}

// listenTCPAndClose is a TCP server that closes every connection at once.
func listenTCPAndClose(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			_, _ = c.Read(make([]byte, 1024))
			c.Close()
		}
	}()
	return l.Addr().String()
}

// A client's read deadline ends a Receive (a timeout, as the other
// clients report it); a server closing with an error status is named.
func TestWSClientReceive(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		ctx := context.Background()
		_ = c.Write(ctx, websocket.MessageText, []byte("skipped"))
		_ = c.Write(ctx, websocket.MessageBinary, msg("/one"))
		_, _, _ = c.Read(ctx) // the client's go-ahead
		c.Close(websocket.StatusPolicyViolation, "go away")
	}))
	defer srv.Close()
	host, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	var p int
	fmt.Sscan(port, &p)
	cl, err := Dial(context.Background(), Endpoint{Proto: WS, Host: host, Port: p}, DialConfig{})
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	pk, err := cl.Receive()
	if err != nil || !bytes.Equal(pk.Data, msg("/one")) {
		t.Fatalf("Receive: %q, %v", pk.Data, err)
	}
	_ = cl.SetReadDeadline(time.Unix(1, 0))
	var ne net.Error
	if _, err := cl.Receive(); !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("Receive after the deadline: %v", err)
	}
	_ = cl.SetReadDeadline(time.Time{})
	if err := cl.Send(msg("/go")); err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf(`ws://%s closed the connection (status 1008 (policy violation): "go away")`, srv.Listener.Addr())
	if _, err := cl.Receive(); err == nil || err.Error() != want {
		t.Errorf("Receive: %v, want %s", err, want)
	}
}

// wsLoopConn is a connection whose reads return the same bytes over and
// over and whose writes go nowhere: a server connection's reading,
// without the network.
type wsLoopConn struct {
	net.Conn
	data []byte
	off  int
}

func (c *wsLoopConn) Read(p []byte) (int, error) {
	n := copy(p, c.data[c.off:])
	c.off = (c.off + n) % len(c.data)
	return n, nil
}
func (c *wsLoopConn) Write(p []byte) (int, error) { return len(p), nil }
func (c *wsLoopConn) Close() error                { return nil }

type hijackWriter struct {
	http.ResponseWriter
	conn net.Conn
}

func (w hijackWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return w.conn, bufio.NewReadWriter(bufio.NewReader(w.conn), bufio.NewWriter(w.conn)), nil
}

// newLoopWSConn is a listener's connection reading the frames in wire
// forever.
func newLoopWSConn(tb testing.TB, wire []byte) *wsConn {
	tb.Helper()
	l := &wsListener{cfg: withLimitDefaults(ListenConfig{})}
	l.init(l.cfg, "message")
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	for k, v := range map[string]string{"Connection": "Upgrade", "Upgrade": "websocket",
		"Sec-WebSocket-Version": "13", "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ=="} {
		r.Header.Set(k, v)
	}
	raw := &httpConn{batchConn: batchConn{Conn: &wsLoopConn{data: wire}}}
	ws, err := websocket.Accept(hijackWriter{httptest.NewRecorder(), raw}, r, nil)
	if err != nil {
		tb.Fatal(err)
	}
	c := &wsConn{l: l, ws: ws, raw: raw}
	l.add(&c.connSlot, nil, "loop", func() {})
	raw.ws = c
	ws.SetReadLimit(int64(l.cfg.MaxFrame))
	return c
}

func benchWSWire() []byte {
	var wire []byte
	for range 1000 {
		wire = append(wire, binFrame([]byte("/1/fader\x00\x00\x00\x00,f\x00\x00\x3f\x00\x00\x00"))...)
	}
	return wire
}

// Reading typical packets from a WebSocket connection allocates nothing.
func TestWSReceiveAllocs(t *testing.T) {
	c := newLoopWSConn(t, benchWSWire())
	buf := make([]byte, 0, keepFrameBuffer)
	if n := testing.AllocsPerRun(5000, func() {
		var err error
		if _, buf, _, err = c.next(buf); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Errorf("%.1f allocations per packet", n)
	}
}

func BenchmarkWSReceive(b *testing.B) {
	wire := benchWSWire()
	c := newLoopWSConn(b, wire)
	buf := make([]byte, 0, keepFrameBuffer)
	b.ReportAllocs()
	b.SetBytes(int64(len(wire) / 1000))
	for b.Loop() {
		var err error
		if _, buf, _, err = c.next(buf); err != nil {
			b.Fatal(err)
		}
	}
}

// A connection closed inside a message is an error, whatever byte it is
// cut at, and delivers nothing: the WebSocket library ends a message
// with io.EOF, as if it were whole, when the connection ends just where
// a read of the payload begins (a frame's header read, none of its
// payload; a first fragment whole, the last begun), so a bundle cut
// after its first element arrived as a smaller, valid bundle.
func TestWSCutMidMessage(t *testing.T) {
	p := append(msg("/cut"), make([]byte, 16)...)
	for _, tt := range []struct {
		name  string
		bytes []byte
		have  int
	}{
		{"header only", wsFrame(2, true, nil, len(p)), 0},
		{"last fragment begun", append(wsFrame(2, false, p[:8], 8), wsFrame(0, true, nil, len(p)-8)...), 8},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := newWSHarness(t, "", ListenConfig{})
			c := dialRawWS(t, h.l.Addr(), "/")
			name := c.LocalAddr().String()
			h.opened(name)
			c.write(t, tt.bytes)
			c.Conn.(*net.TCPConn).CloseWrite()
			e := h.event()
			want := fmt.Sprintf("connection closed mid-message (%d bytes received)", tt.have)
			if e.Source.String() != name || !errors.Is(e.Err, io.ErrUnexpectedEOF) || e.Err.Error() != want {
				t.Errorf("event %+v (%v), want %s", e, e.Err, want)
			}
			select {
			case p := <-h.pkts:
				t.Errorf("delivered %d bytes %q", len(p.Data), p.Data)
			default:
			}
		})
	}
}

// A server that closes the connection inside a message sends the client
// no packet: Receive ends (io.EOF) rather than returning the message cut
// (the library's io.EOF where the payload was due: see TestWSCutMidMessage).
func TestWSClientReceiveCut(t *testing.T) {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		req, err := http.ReadRequest(bufio.NewReader(c))
		if err != nil {
			return
		}
		sum := sha1.Sum([]byte(req.Header.Get("Sec-WebSocket-Key") + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
		fmt.Fprintf(c, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n",
			base64.StdEncoding.EncodeToString(sum[:]))
		c.Write([]byte{0x82, 12}) // a binary message of 12 bytes, none of them sent
	}()
	ap := ln.Addr().(*net.TCPAddr)
	cl, err := Dial(context.Background(), Endpoint{Proto: WS, Host: "127.0.0.1", Port: ap.Port}, DialConfig{})
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if p, err := cl.Receive(); err != io.EOF {
		t.Errorf("Receive: %d bytes %q, %v; want io.EOF", len(p.Data), p.Data, err)
	}
}
