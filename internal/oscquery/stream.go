package oscquery

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
)

// DefaultMaxMessage bounds one WebSocket message (an OSC packet or a JSON
// command) unless configured: far more than any value update needs.
const DefaultMaxMessage = 1 << 20

// Stream is a WebSocket connection to an OSCQuery server: LISTEN and
// IGNORE go out as JSON text messages; value updates come in as binary
// messages holding OSC packets, and the server's commands (PATH_ADDED,
// PATH_REMOVED, PATH_CHANGED, PATH_RENAMED) as text.
type Stream struct {
	conn *websocket.Conn
	url  string
	raw  *eofConn // the TCP connection, when this package dialled it
}

// eofConn notes that a read returned io.EOF: the server's end of the
// connection. The WebSocket library ends a message with io.EOF, as if
// it were whole, when the connection ends where a read of its payload
// begins; a whole message never needs the connection's end to be read.
type eofConn struct {
	net.Conn
	eof atomic.Bool
}

func (c *eofConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if err == io.EOF {
		c.eof.Store(true)
	}
	return n, err
}

// StreamMessage is one message from the server: an OSC packet, or a
// command with its DATA.
type StreamMessage struct {
	Packet  []byte // a binary message: the OSC packet
	Command string // a text message's COMMAND
	Data    any    // and its DATA
}

// WebSocketURL is where the server's WebSocket is: WS_IP and WS_PORT of
// its HOST_INFO, else the HTTP server's host and port.
func (c *Client) WebSocketURL(h *HostInfo) string {
	host, port := c.Base.Hostname(), c.Base.Port()
	if h != nil && h.WSIP != "" && !isWildcard(h.WSIP) {
		host = h.WSIP
	}
	if h != nil && h.WSPort != 0 {
		port = strconv.Itoa(h.WSPort)
	}
	scheme := "ws"
	if c.Base.Scheme == "https" {
		scheme = "wss"
	}
	if port == "" {
		return (&url.URL{Scheme: scheme, Host: host, Path: "/"}).String()
	}
	return (&url.URL{Scheme: scheme, Host: net.JoinHostPort(host, port), Path: "/"}).String()
}

// OSCAddress is where the server's OSC server listens, from HOST_INFO
// (OSC_IP, OSC_PORT, OSC_TRANSPORT), else the HTTP host and port over UDP,
// as the proposal says. An OSC_IP of 0.0.0.0 or :: (a server that
// reports where it listens, not where it is reached) means the HTTP host.
func (c *Client) OSCAddress(h *HostInfo) (proto, host string, port int) {
	proto, host = "udp", c.Base.Hostname()
	port, _ = strconv.Atoi(c.Base.Port())
	if port == 0 {
		port = 80
		if c.Base.Scheme == "https" {
			port = 443
		}
	}
	if h == nil {
		return proto, host, port
	}
	if h.OSCIP != "" && !isWildcard(h.OSCIP) {
		host = h.OSCIP
	}
	if h.OSCPort != 0 {
		port = h.OSCPort
	}
	if h.OSCTransport == "TCP" {
		proto = "tcp"
	}
	return proto, host, port
}

func isWildcard(ip string) bool {
	return ip == "0.0.0.0" || ip == "::" || ip == "[::]"
}

// OpenStream connects to the server's WebSocket.
func (c *Client) OpenStream(ctx context.Context, h *HostInfo) (*Stream, error) {
	u := c.WebSocketURL(h)
	dctx, cancel := context.WithTimeout(ctx, c.timeout())
	defer cancel()
	hc, raw := c.HTTP, (*eofConn)(nil)
	if hc == nil {
		var d net.Dialer
		hc = c.httpClient()
		hc.Transport = &http.Transport{
			Proxy: http.ProxyFromEnvironment, // as the requests' DefaultTransport
			DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
				conn, err := d.DialContext(ctx, network, addr)
				if err != nil {
					return nil, err
				}
				raw = &eofConn{Conn: conn}
				return raw, nil
			},
		}
	}
	conn, resp, err := websocket.Dial(dctx, u, &websocket.DialOptions{HTTPClient: hc})
	if resp != nil && resp.Body != nil {
		resp.Body.Close()
	}
	if err != nil {
		if errors.Is(dctx.Err(), context.DeadlineExceeded) {
			return nil, &RequestError{URL: u, Err: err, Timeout: c.timeout()}
		}
		return nil, &RequestError{URL: u, Err: err}
	}
	lim := int64(DefaultMaxMessage)
	conn.SetReadLimit(lim)
	return &Stream{conn: conn, url: u, raw: raw}, nil
}

// URL is the WebSocket's URL.
func (s *Stream) URL() string { return s.url }

// Listen asks for the values sent to one OSC address (exactly that one,
// not those below it).
func (s *Stream) Listen(ctx context.Context, path string) error {
	return s.command(ctx, "LISTEN", path)
}

// Ignore stops the values of an address.
func (s *Stream) Ignore(ctx context.Context, path string) error {
	return s.command(ctx, "IGNORE", path)
}

func (s *Stream) command(ctx context.Context, cmd, path string) error {
	b, _ := json.Marshal(struct {
		Command string `json:"COMMAND"`
		Data    string `json:"DATA"`
	}{cmd, path})
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := s.conn.Write(ctx, websocket.MessageText, b); err != nil {
		return fmt.Errorf("%s %s on %s: %w", cmd, path, s.url, err)
	}
	return nil
}

// Next waits for the server's next message. A text message that is not
// a JSON command is returned with Command "" and the text as Data.
func (s *Stream) Next(ctx context.Context) (StreamMessage, error) {
	typ, data, err := s.conn.Read(ctx)
	if err == nil && s.raw != nil && s.raw.eof.Load() {
		return StreamMessage{}, fmt.Errorf("%s closed the connection inside a message (%d bytes received)", s.url, len(data))
	}
	if err != nil {
		if ctx.Err() != nil {
			return StreamMessage{}, ctx.Err()
		}
		if errors.Is(err, websocket.ErrMessageTooBig) {
			return StreamMessage{}, fmt.Errorf("%s sent a message over %d bytes", s.url, DefaultMaxMessage)
		}
		var ce websocket.CloseError
		if errors.As(err, &ce) {
			return StreamMessage{}, fmt.Errorf("%s closed the WebSocket (%s)", s.url, closeStatus(ce))
		}
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed) {
			return StreamMessage{}, fmt.Errorf("%s closed the connection (has the server stopped?)", s.url)
		}
		return StreamMessage{}, fmt.Errorf("WebSocket %s: %w", s.url, err)
	}
	if typ == websocket.MessageBinary {
		return StreamMessage{Packet: data}, nil
	}
	doc, err := decodeJSON(data)
	obj, ok := doc.(map[string]any)
	if err != nil || !ok {
		return StreamMessage{Data: string(data)}, nil
	}
	cmd, _ := obj["COMMAND"].(string)
	return StreamMessage{Command: cmd, Data: obj["DATA"]}, nil
}

// closeStatus names a close message's status for people: "status 1011,
// internal error", and its reason, quoted.
func closeStatus(ce websocket.CloseError) string {
	s := "status " + strconv.Itoa(int(ce.Code))
	if name := closeNames[ce.Code]; name != "" {
		s += ", " + name
	}
	if ce.Reason != "" {
		s += ": " + strconv.Quote(ce.Reason)
	}
	return s
}

var closeNames = map[websocket.StatusCode]string{
	websocket.StatusNormalClosure:           "normal closure",
	websocket.StatusGoingAway:               "going away",
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

// Close closes the connection.
func (s *Stream) Close() error { return s.conn.CloseNow() }
