package oscquery

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"

	"github.com/oscli/oscli/internal/match"
	"github.com/oscli/oscli/internal/osc"
)

// ServerConfig says how a Server answers.
type ServerConfig struct {
	// Info is the HOST_INFO to answer: NAME and where the OSC server is
	// (OSC_PORT, OSC_TRANSPORT; an empty OSC_IP is filled, per request,
	// with the address the client reached). EXTENSIONS are the server's.
	Info HostInfo
	// Learn adds every address a message is sent to, with its types and
	// the range of values seen (serve --learn).
	Learn bool
	// Limits bound the tree (MaxNodes when learning).
	Limits Limits
	// MaxClients is how many WebSocket clients may be connected at once
	// (DefaultMaxClients when 0).
	MaxClients int
	// Notice, when set, is told about what a client or a message did
	// that the server refused or gave up on, one line each.
	Notice func(msg string)
}

// DefaultMaxClients bounds the WebSocket clients of a server.
const DefaultMaxClients = 64

// clientQueue is how many updates wait for a WebSocket client that reads
// slowly; one that falls further behind is closed.
const clientQueue = 1024

// maxLearnedTypes is the most OVERLOADS --learn records for an address
// sent with several type tag strings.
const maxLearnedTypes = 8

// Server answers OSCQuery for a tree: HTTP GET of nodes and attributes
// and HOST_INFO, and a WebSocket on the same port where clients LISTEN to
// addresses and get each new value as a binary OSC packet. New values come
// from Apply (the OSC port's messages).
type Server struct {
	cfg ServerConfig

	mu      sync.RWMutex
	root    *Node
	nodes   int
	clients map[*wsClient]struct{}
	closed  bool
	full    bool // --learn reached MaxNodes (said once)
}

// NewServer returns a server for the tree at root (nil: an empty one).
func NewServer(root *Node, cfg ServerConfig) *Server {
	if root == nil {
		root = &Node{FullPath: "/", Access: AccessNone, Contents: map[string]*Node{}}
	}
	if cfg.MaxClients <= 0 {
		cfg.MaxClients = DefaultMaxClients
	}
	cfg.Limits = cfg.Limits.orDefault()
	return &Server{cfg: cfg, root: root, nodes: root.Count(), clients: map[*wsClient]struct{}{}}
}

// Extensions are what this server supports, for HOST_INFO.
func (s *Server) Extensions() map[string]bool {
	return map[string]bool{
		"ACCESS": true, "VALUE": true, "RANGE": true, "DESCRIPTION": true, "TAGS": true,
		"EXTENDED_TYPE": true, "UNIT": true, "CRITICAL": true, "CLIPMODE": true, "OVERLOADS": true,
		"LISTEN": true, "PATH_ADDED": s.cfg.Learn, "PATH_CHANGED": false, "PATH_REMOVED": false,
		"PATH_RENAMED": false, "HTML": false,
	}
}

// HostInfo is the HOST_INFO the server answers a client that reached it
// at local (nil: unknown).
func (s *Server) HostInfo(local net.Addr) *HostInfo {
	h := s.cfg.Info
	h.Extensions = s.Extensions()
	if h.OSCIP == "" {
		if ta, ok := local.(*net.TCPAddr); ok && !ta.IP.IsUnspecified() {
			h.OSCIP = ta.IP.String()
			if v4 := ta.IP.To4(); v4 != nil {
				h.OSCIP = v4.String()
			}
		}
	}
	return &h
}

// Tree returns the tree as JSON, indented, for saving.
func (s *Server) Tree() []byte {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return Indent(MarshalNode(s.root, -1))
}

// Root returns a copy of the tree.
func (s *Server) Root() *Node {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.root.Clone()
}

func (s *Server) notice(format string, a ...any) {
	if s.cfg.Notice != nil {
		s.cfg.Notice(fmt.Sprintf(format, a...))
	}
}

// ServeHTTP answers a GET of a node (the tree under it), of one of its
// attributes (?VALUE), or of HOST_INFO (?HOST_INFO, whatever the path),
// and upgrades a WebSocket request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
		s.serveWebSocket(w, r)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "OSCQuery answers GET", http.StatusMethodNotAllowed)
		return
	}
	// Browser-based OSCQuery clients live on other origins.
	w.Header().Set("Access-Control-Allow-Origin", "*")
	attr, _, _ := strings.Cut(r.URL.RawQuery, "=")
	if attr == keyHostInfo {
		local, _ := r.Context().Value(http.LocalAddrContextKey).(net.Addr)
		writeJSONAnswer(w, MarshalHostInfo(s.HostInfo(local)))
		return
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	n := s.root.Find(r.URL.Path)
	if n == nil {
		http.Error(w, "no such OSC address: "+r.URL.Path, http.StatusNotFound)
		return
	}
	if attr == "" {
		writeJSONAnswer(w, MarshalNode(n, -1))
		return
	}
	if !knownAttr(attr) && n.Extra[attr] == nil {
		http.Error(w, "unknown attribute "+attr, http.StatusBadRequest)
		return
	}
	if attr == keyValue && n.Type != "" && !n.Readable() {
		w.WriteHeader(http.StatusNoContent) // write-only: the proposal's 204
		return
	}
	var b bytes.Buffer
	b.WriteByte('{')
	if attr == keyContents {
		if n.Contents != nil {
			full := MarshalNode(n, -1)
			var m map[string]json.RawMessage
			if json.Unmarshal(full, &m) == nil {
				b.WriteString(`"CONTENTS":`)
				b.Write(m[keyContents])
			}
		}
	} else if v, ok := n.Attr(attr); ok {
		writeJSON(&b, attr)
		b.WriteByte(':')
		writeJSON(&b, v)
	}
	b.WriteByte('}')
	writeJSONAnswer(w, b.Bytes())
}

func knownAttr(a string) bool {
	switch a {
	case keyFullPath, keyContents, keyType, keyDescription, keyAccess, keyValue, keyRange, keyUnit,
		keyExtended, keyClipMode, keyTags, keyCritical, keyOverloads:
		return true
	}
	return false
}

func writeJSONAnswer(w http.ResponseWriter, body []byte) {
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(body)
}

// ErrUnknownPath is a message to an address the tree does not have.
var ErrUnknownPath = errors.New("no such address")

// Apply takes a message received on the OSC port: every method its
// address names (an OSC pattern names all that match) that is writable
// and whose TYPE the arguments have (or one of its OVERLOADS) gets them as
// its VALUE, and the clients listening to it get the message. With Learn,
// an address the tree does not have is added. It returns how many
// methods took the message, and the first refusal.
func (s *Server) Apply(m *osc.Message) (int, error) {
	s.mu.Lock()
	var targets []*Node
	var err error
	if isPattern(m.Address) {
		p, perr := match.Compile(m.Address)
		if perr != nil {
			s.mu.Unlock()
			return 0, fmt.Errorf("%s: %w", m.Address, perr)
		}
		s.root.Walk(func(n *Node, _ int) bool {
			if n != s.root && (n.Type != "" || n.Contents == nil) && p.Match(n.FullPath) {
				targets = append(targets, n)
			}
			return true
		})
	} else if n := s.root.Find(m.Address); n != nil && n != s.root {
		targets = append(targets, n)
	}
	var added string
	if len(targets) == 0 && s.cfg.Learn && !isPattern(m.Address) {
		var n *Node
		n, added, err = s.learnLocked(m)
		if n != nil {
			targets = append(targets, n)
		}
	}
	if len(targets) == 0 && err == nil {
		err = fmt.Errorf("%s: %w", m.Address, ErrUnknownPath)
	}
	took := 0
	var sends []delivery
	for _, n := range targets {
		if e := s.setLocked(n, m); e != nil {
			if err == nil {
				err = e
			}
			continue
		}
		took++
		if len(s.clients) == 0 {
			continue
		}
		out := *m
		out.Address = n.FullPath
		pkt, e := osc.AppendMessage(nil, &out)
		if e != nil {
			continue
		}
		for c := range s.clients {
			if c.listens[n.FullPath] {
				sends = append(sends, delivery{c, wsOut{typ: websocket.MessageBinary, data: pkt}})
			}
		}
	}
	if added != "" {
		note, _ := json.Marshal(map[string]string{"COMMAND": "PATH_ADDED", "DATA": added})
		for c := range s.clients {
			sends = append(sends, delivery{c, wsOut{typ: websocket.MessageText, data: note}})
		}
	}
	s.mu.Unlock()
	for _, d := range sends {
		d.c.enqueue(d.out)
	}
	return took, err
}

type delivery struct {
	c   *wsClient
	out wsOut
}

func isPattern(addr string) bool {
	return strings.ContainsAny(addr, "*?[]{}") || strings.Contains(addr, "//")
}

// setLocked gives one method the message's arguments as its VALUE, if
// its ACCESS and TYPE allow.
func (s *Server) setLocked(n *Node, m *osc.Message) error {
	if s.cfg.Learn && n.Type == "" && n.Contents != nil && n.Access == AccessNone {
		// A container (learned on the way to an address below it) that
		// turns out to take values: /1/fader1 as well as /1/fader1/z.
		n.Access = AccessReadWrite
	}
	if !n.Writable() {
		return &AccessError{Path: n.FullPath, Access: n.Access}
	}
	typ := TypeOf(m.Args)
	if n.Type == "" {
		if len(m.Args) == 0 {
			return nil // a bang for a method without a value
		}
		if s.cfg.Learn && n.Contents != nil {
			n.Type = typ // a container that turns out to take values
		} else {
			return &MismatchError{Path: n.FullPath, Why: fmt.Sprintf("takes no values (no TYPE), got %s", describeGot(m.Args))}
		}
	}
	sig := n
	if !sameShape(n.Type, typ) {
		sig = nil
		for _, o := range n.Overloads {
			if sameShape(o.Type, typ) {
				sig = o
				break
			}
		}
		if sig == nil && s.cfg.Learn && len(n.Overloads) < maxLearnedTypes {
			sig = &Node{FullPath: n.FullPath, Type: typ, Access: AccessUnknown}
			n.Overloads = append(n.Overloads, sig)
		}
		if sig == nil {
			return &MismatchError{Path: n.FullPath, Why: fmt.Sprintf("TYPE %s, got %s; value unchanged", n.Type, describeGot(m.Args))}
		}
	}
	sig.Value, sig.HasValue = ArgsJSON(m.Args), true
	if s.cfg.Learn {
		learnRange(sig, m.Args)
	}
	return nil
}

// learnLocked adds the message's address to the tree (containers on the
// way included); it returns the new method and its address.
func (s *Server) learnLocked(m *osc.Message) (*Node, string, error) {
	parts := splitAddress(m.Address)
	if len(parts) == 0 || strings.HasSuffix(m.Address, "/") {
		return nil, "", fmt.Errorf("%s: cannot learn an address with an empty part", m.Address)
	}
	for _, p := range parts {
		if p == "" {
			return nil, "", fmt.Errorf("%s: cannot learn an address with an empty part", m.Address)
		}
	}
	if len(parts) > s.cfg.Limits.MaxDepth {
		return nil, "", fmt.Errorf("%s: more than %d levels", m.Address, s.cfg.Limits.MaxDepth)
	}
	cur := s.root
	for i, p := range parts {
		next := cur.Contents[p]
		if next == nil {
			if s.nodes >= s.cfg.Limits.MaxNodes {
				if !s.full {
					s.full = true
					s.notice("--learn: the tree holds %d nodes, the limit; new addresses are not added", s.nodes)
				}
				return nil, "", nil
			}
			if cur.Contents == nil {
				cur.Contents = map[string]*Node{}
			}
			next = &Node{FullPath: joinPath(cur.FullPath, p), Access: AccessNone}
			if i == len(parts)-1 {
				next.Access = AccessReadWrite
				next.Type = TypeOf(m.Args)
			}
			cur.Contents[p] = next
			s.nodes++
		}
		cur = next
	}
	return cur, cur.FullPath, nil
}

// learnRange widens a learned method's RANGE to take in args: MIN and
// MAX for each number (arrays are left without a range).
func learnRange(n *Node, args []osc.Arg) {
	if strings.ContainsAny(n.Type, "[]") {
		return
	}
	old, _ := n.Range.([]any)
	r := make([]any, len(args))
	some := false
	for i, a := range args {
		x, ok := numberOf(a)
		if !ok {
			continue
		}
		j := ArgJSON(a)
		if j == nil {
			continue // NaN, ±Inf
		}
		lo, hi := j, j
		if i < len(old) {
			if o, ok := old[i].(map[string]any); ok {
				if f, ok := jsonFloat(o["MIN"]); ok && f < x {
					lo = o["MIN"]
				}
				if f, ok := jsonFloat(o["MAX"]); ok && f > x {
					hi = o["MAX"]
				}
			}
		}
		r[i] = map[string]any{"MIN": lo, "MAX": hi}
		some = true
	}
	if some {
		n.Range = r
	}
}

// wsClient is one WebSocket connection.
type wsClient struct {
	conn    *websocket.Conn
	send    chan wsOut
	listens map[string]bool // under Server.mu
	once    sync.Once
	gone    chan struct{}
	name    string
	srv     *Server
}

type wsOut struct {
	typ  websocket.MessageType
	data []byte
}

// enqueue queues a message for the client without waiting; a client too
// far behind is closed.
func (c *wsClient) enqueue(o wsOut) {
	select {
	case c.send <- o:
	case <-c.gone:
	default:
		c.srv.notice("WebSocket client %s is not reading its updates (%d waiting); connection closed", c.name, clientQueue)
		c.close(websocket.StatusPolicyViolation, "not reading")
	}
}

func (c *wsClient) close(code websocket.StatusCode, why string) {
	c.once.Do(func() {
		close(c.gone)
		go func() { _ = c.conn.Close(code, why) }()
	})
}

func (s *Server) serveWebSocket(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	n, closed := len(s.clients), s.closed
	s.mu.Unlock()
	if closed {
		http.Error(w, "shutting down", http.StatusServiceUnavailable)
		return
	}
	if n >= s.cfg.MaxClients {
		s.notice("WebSocket client %s refused: %d clients already", r.RemoteAddr, n)
		http.Error(w, "too many WebSocket clients", http.StatusServiceUnavailable)
		return
	}
	// Any origin: OSCQuery's browser clients are served from elsewhere.
	conn, err := websocket.Accept(w, r, &websocket.AcceptOptions{InsecureSkipVerify: true})
	if err != nil {
		return
	}
	conn.SetReadLimit(64 << 10) // commands are a line of JSON
	c := &wsClient{conn: conn, send: make(chan wsOut, clientQueue), listens: map[string]bool{},
		gone: make(chan struct{}), name: r.RemoteAddr, srv: s}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		_ = conn.CloseNow()
		return
	}
	s.clients[c] = struct{}{}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.clients, c)
		s.mu.Unlock()
		c.once.Do(func() { close(c.gone) })
		_ = conn.CloseNow()
	}()
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	go s.writeLoop(ctx, c)
	for {
		typ, data, err := conn.Read(ctx)
		if err != nil {
			return
		}
		if typ != websocket.MessageText {
			continue // OSC packets from clients are not taken (see README)
		}
		var cmd struct {
			Command string `json:"COMMAND"`
			Data    any    `json:"DATA"`
		}
		if json.Unmarshal(data, &cmd) != nil {
			continue
		}
		path, _ := cmd.Data.(string)
		switch cmd.Command {
		case "LISTEN":
			// Only an address the tree has, kept as its FULL_PATH: what a
			// client holds is bounded by the tree, not by what it sends
			// (made-up paths of 64 KiB each). After PATH_ADDED, it may
			// listen to a learned one.
			s.mu.Lock()
			if n := s.root.Find(path); n != nil && len(c.listens) < s.cfg.Limits.MaxNodes {
				c.listens[n.FullPath] = true
			}
			s.mu.Unlock()
		case "IGNORE":
			s.mu.Lock()
			if n := s.root.Find(path); n != nil {
				delete(c.listens, n.FullPath)
			}
			s.mu.Unlock()
		}
	}
}

// writeLoop writes the client's queue; a write that takes longer than
// 5 s (a peer that stopped reading) closes the connection.
func (s *Server) writeLoop(ctx context.Context, c *wsClient) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-c.gone:
			return
		case o := <-c.send:
			wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			err := c.conn.Write(wctx, o.typ, o.data)
			cancel()
			if err != nil {
				c.close(websocket.StatusGoingAway, "write failed")
				return
			}
		}
	}
}

// Close closes every WebSocket connection and refuses new ones.
func (s *Server) Close() {
	s.mu.Lock()
	s.closed = true
	cs := make([]*wsClient, 0, len(s.clients))
	for c := range s.clients {
		cs = append(cs, c)
	}
	s.mu.Unlock()
	for _, c := range cs {
		c.once.Do(func() { close(c.gone) })
		_ = c.conn.CloseNow()
	}
}
