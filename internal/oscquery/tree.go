// Package oscquery speaks OSCQuery (Vidvox/OSCQueryProposal): the JSON
// tree in which an OSC application describes its address space (types,
// ranges, access, current values), the HOST_INFO object that says where
// its OSC server is, a client that reads both over HTTP and follows value
// changes over the WebSocket (LISTEN) or by polling VALUE, and a server
// that answers for a tree (attribute queries, HOST_INFO, LISTEN/IGNORE)
// and takes new values from OSC messages.
//
// It copes with real servers as they are rather than as the proposal
// has them: attribute queries that return the whole node (VRChat), JSON
// null for "no value", single values where arrays are due, T and F used
// for one boolean type. Everything read from the network or a file is
// bounded (Limits).
//
// It knows nothing of the command line, terminals or colour: callers
// render what it describes (Describe) and decide what to print.
package oscquery

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Limits bound what is read from a server, a client or a file.
type Limits struct {
	// MaxBody is the largest JSON document read, in bytes.
	MaxBody int64
	// MaxNodes is the most nodes a tree may hold.
	MaxNodes int
	// MaxDepth is the deepest a tree may nest (levels of CONTENTS).
	MaxDepth int
}

// DefaultLimits are generous for real applications (a VRChat avatar's
// tree is some 100 KB, a large ossia score session a few MB) and keep a
// hostile server from exhausting memory.
func DefaultLimits() Limits {
	return Limits{MaxBody: 16 << 20, MaxNodes: 100_000, MaxDepth: 64}
}

func (l Limits) orDefault() Limits {
	d := DefaultLimits()
	if l.MaxBody <= 0 {
		l.MaxBody = d.MaxBody
	}
	if l.MaxNodes <= 0 {
		l.MaxNodes = d.MaxNodes
	}
	if l.MaxDepth <= 0 {
		l.MaxDepth = d.MaxDepth
	}
	return l
}

// Access values (OSCQuery "ACCESS", a bit mask).
const (
	AccessNone      = 0
	AccessRead      = 1
	AccessWrite     = 2
	AccessReadWrite = 3
	// AccessUnknown is a node without ACCESS: writable, and readable
	// when it has a VALUE, as the proposal says.
	AccessUnknown = -1
)

// Node is one node of an OSCQuery address space: a method (it has a
// TYPE), a container (it has CONTENTS) or both. JSON values (VALUE,
// RANGE, UNIT, …) are kept as decoded by encoding/json with UseNumber:
// nil, bool, json.Number, string, []any, map[string]any.
type Node struct {
	FullPath    string
	Contents    map[string]*Node // nil: no CONTENTS
	Type        string           // TYPE, without the comma; "" when absent
	Description string
	Access      int // AccessUnknown when absent
	Value       any // VALUE; nil when absent (see HasValue)
	HasValue    bool
	Range       any
	Unit        any
	Extended    any // EXTENDED_TYPE
	ClipMode    any
	Tags        any
	Critical    any
	Overloads   []*Node
	// Extra holds the attributes this package does not interpret, kept
	// so that a tree served or saved keeps them.
	Extra map[string]any
}

// Readable reports whether the node's value may be read: ACCESS has bit
// 1, or there is no ACCESS and the node has a TYPE.
func (n *Node) Readable() bool {
	if n.Access == AccessUnknown {
		return n.Type != ""
	}
	return n.Access&AccessRead != 0
}

// Writable reports whether the node takes values: ACCESS has bit 2, or
// there is no ACCESS (the proposal's default).
func (n *Node) Writable() bool {
	return n.Access == AccessUnknown || n.Access&AccessWrite != 0
}

// Names returns the names of the node's children in natural order
// (/ch/2 before /ch/10).
func (n *Node) Names() []string {
	names := make([]string, 0, len(n.Contents))
	for k := range n.Contents {
		names = append(names, k)
	}
	slices.SortFunc(names, naturalCompare)
	return names
}

// SortNatural sorts addresses or names in natural order.
func SortNatural(s []string) { slices.SortFunc(s, naturalCompare) }

// Find returns the node at an OSC address below n (n is "/"), or nil.
func (n *Node) Find(addr string) *Node {
	cur := n
	for _, part := range splitAddress(addr) {
		next := cur.Contents[part]
		if next == nil {
			return nil
		}
		cur = next
	}
	return cur
}

// Walk calls f for n and every node below it, parents before children,
// children in natural order, with the depth below n; f returning false
// skips a node's children.
func (n *Node) Walk(f func(m *Node, depth int) bool) {
	n.walk(f, 0)
}

func (n *Node) walk(f func(*Node, int) bool, depth int) {
	if !f(n, depth) {
		return
	}
	for _, name := range n.Names() {
		n.Contents[name].walk(f, depth+1)
	}
}

// Count returns how many nodes the tree under n holds, n included.
func (n *Node) Count() int {
	c := 1
	for _, m := range n.Contents {
		c += m.Count()
	}
	return c
}

// splitAddress splits "/a/b" into ["a" "b"]; "/" and "" into none.
func splitAddress(addr string) []string {
	addr = strings.Trim(addr, "/")
	if addr == "" {
		return nil
	}
	return strings.Split(addr, "/")
}

// joinPath appends a child's name to a parent's address.
func joinPath(parent, name string) string {
	if parent == "/" || parent == "" {
		return "/" + name
	}
	return parent + "/" + name
}

// naturalCompare orders strings with runs of digits compared as numbers.
func naturalCompare(a, b string) int {
	for a != "" && b != "" {
		da, db := digitRun(a), digitRun(b)
		if da > 0 && db > 0 {
			na, nb := strings.TrimLeft(a[:da], "0"), strings.TrimLeft(b[:db], "0")
			if c := len(na) - len(nb); c != 0 {
				return c
			}
			if c := strings.Compare(na, nb); c != 0 {
				return c
			}
			a, b = a[da:], b[db:]
			continue
		}
		ra, sa := utf8.DecodeRuneInString(a)
		rb, sb := utf8.DecodeRuneInString(b)
		if ra != rb {
			if ra < rb {
				return -1
			}
			return 1
		}
		a, b = a[sa:], b[sb:]
	}
	return len(a) - len(b)
}

func digitRun(s string) int {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	return i
}

// The attributes a node may carry, in the order MarshalNode writes them.
const (
	keyFullPath    = "FULL_PATH"
	keyContents    = "CONTENTS"
	keyType        = "TYPE"
	keyDescription = "DESCRIPTION"
	keyAccess      = "ACCESS"
	keyValue       = "VALUE"
	keyRange       = "RANGE"
	keyUnit        = "UNIT"
	keyExtended    = "EXTENDED_TYPE"
	keyClipMode    = "CLIPMODE"
	keyTags        = "TAGS"
	keyCritical    = "CRITICAL"
	keyOverloads   = "OVERLOADS"
	keyHostInfo    = "HOST_INFO"
)

// Errors of ParseNode; each is wrapped with what was wrong where.
var (
	// ErrNotJSON is a document that is not JSON at all (an HTML page).
	ErrNotJSON = errors.New("not JSON")
	// ErrNotNode is JSON that is not an OSCQuery node.
	ErrNotNode = errors.New("not an OSCQuery node")
	// ErrTooBig is a document or tree over the Limits.
	ErrTooBig = errors.New("too big")
)

// decodeJSON reads one JSON value from data, numbers as json.Number, and
// nothing after it but blanks.
func decodeJSON(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNotJSON, jsonWhy(err))
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("%w: text after the JSON value", ErrNotJSON)
	}
	return v, nil
}

// jsonWhy shortens encoding/json's errors for one line.
func jsonWhy(err error) string {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf("%s at byte %d", se.Error(), se.Offset)
	}
	if err == io.EOF {
		return "empty document"
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return "the document ends early"
	}
	return err.Error()
}

// ParseNode reads a node (and the tree under it) from JSON. at is the
// address it was asked for, used when the node has no FULL_PATH.
func ParseNode(data []byte, at string, lim Limits) (*Node, error) {
	lim = lim.orDefault()
	if int64(len(data)) > lim.MaxBody {
		return nil, fmt.Errorf("%w: %d bytes, more than %d", ErrTooBig, len(data), lim.MaxBody)
	}
	if d := jsonDepth(data); d > 2*lim.MaxDepth+16 {
		return nil, fmt.Errorf("%w: JSON nested %d deep", ErrTooBig, d)
	}
	v, err := decodeJSON(data)
	if err != nil {
		return nil, err
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%w: the document is %s, not an object", ErrNotNode, jsonKind(v))
	}
	if at == "" {
		at = "/"
	}
	if _, has := obj[keyFullPath]; !has {
		_, c := obj[keyContents]
		_, t := obj[keyType]
		if !c && !t {
			if looksLikeHostInfo(obj) {
				return nil, fmt.Errorf("%w: the server answered HOST_INFO (VRChat does for any URL holding those letters)", ErrNotNode)
			}
			return nil, fmt.Errorf("%w: no FULL_PATH, CONTENTS or TYPE", ErrNotNode)
		}
	}
	budget := lim.MaxNodes
	return nodeFrom(obj, at, 0, lim.MaxDepth, &budget)
}

// jsonDepth is the deepest nesting of objects and arrays in data, found
// without decoding (encoding/json alone allows 10,000 levels).
func jsonDepth(data []byte) int {
	depth, most, inStr, esc := 0, 0, false, false
	for _, c := range data {
		switch {
		case inStr:
			switch {
			case esc:
				esc = false
			case c == '\\':
				esc = true
			case c == '"':
				inStr = false
			}
		case c == '"':
			inStr = true
		case c == '{' || c == '[':
			depth++
			most = max(most, depth)
		case c == '}' || c == ']':
			depth--
		}
	}
	return most
}

func looksLikeHostInfo(obj map[string]any) bool {
	for _, k := range []string{"EXTENSIONS", "OSC_PORT", "OSC_TRANSPORT", "OSC_IP"} {
		if _, ok := obj[k]; ok {
			return true
		}
	}
	return false
}

func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case json.Number:
		return "a number"
	case string:
		return "a string"
	case []any:
		return "an array"
	}
	return "an object"
}

func nodeFrom(obj map[string]any, at string, depth, maxDepth int, budget *int) (*Node, error) {
	if *budget--; *budget < 0 {
		return nil, fmt.Errorf("%w: more nodes than the limit", ErrTooBig)
	}
	if depth > maxDepth {
		return nil, fmt.Errorf("%w: nodes nested more than %d deep at %s", ErrTooBig, maxDepth, at)
	}
	n := &Node{FullPath: at, Access: AccessUnknown}
	for k, v := range obj {
		switch k {
		case keyFullPath:
			if s, ok := v.(string); ok && s != "" {
				n.FullPath = s
			}
		case keyContents:
			m, ok := v.(map[string]any)
			if !ok {
				if v == nil {
					continue
				}
				return nil, fmt.Errorf("%w: CONTENTS of %s is %s, not an object", ErrNotNode, at, jsonKind(v))
			}
			n.Contents = make(map[string]*Node, len(m))
			for name, cv := range m {
				co, ok := cv.(map[string]any)
				if !ok {
					return nil, fmt.Errorf("%w: %s in CONTENTS of %s is %s, not an object", ErrNotNode, strconv.Quote(name), at, jsonKind(cv))
				}
				c, err := nodeFrom(co, joinPath(at, name), depth+1, maxDepth, budget)
				if err != nil {
					return nil, err
				}
				n.Contents[name] = c
			}
		case keyType:
			if s, ok := v.(string); ok {
				n.Type = strings.TrimPrefix(s, ",")
			}
		case keyDescription:
			if s, ok := v.(string); ok {
				n.Description = s
			}
		case keyAccess:
			if num, ok := v.(json.Number); ok {
				if a, err := num.Int64(); err == nil && a >= 0 && a <= 3 {
					n.Access = int(a)
				}
			}
		case keyValue:
			n.Value, n.HasValue = v, true
		case keyRange:
			n.Range = v
		case keyUnit:
			n.Unit = v
		case keyExtended:
			n.Extended = v
		case keyClipMode:
			n.ClipMode = v
		case keyTags:
			n.Tags = v
		case keyCritical:
			n.Critical = v
		case keyOverloads:
			list, _ := v.([]any)
			for _, o := range list {
				if oo, ok := o.(map[string]any); ok {
					delete(oo, keyContents) // overloads have none
					ov, err := nodeFrom(oo, at, depth+1, maxDepth, budget)
					if err != nil {
						return nil, err
					}
					n.Overloads = append(n.Overloads, ov)
				}
			}
		default:
			if n.Extra == nil {
				n.Extra = map[string]any{}
			}
			n.Extra[k] = v
		}
	}
	return n, nil
}

// MarshalNode writes the node and the tree under it (to depth levels of
// CONTENTS; negative: all) as JSON, attributes in a fixed order and
// children in natural order, so the same tree always gives the same bytes.
func MarshalNode(n *Node, depth int) []byte {
	var b bytes.Buffer
	writeNode(&b, n, depth, true)
	return b.Bytes()
}

func writeNode(b *bytes.Buffer, n *Node, depth int, full bool) {
	b.WriteByte('{')
	first := true
	field := func(k string, v any) {
		if !first {
			b.WriteByte(',')
		}
		first = false
		writeJSON(b, k)
		b.WriteByte(':')
		writeJSON(b, v)
	}
	if full {
		field(keyFullPath, n.FullPath)
	}
	if n.Description != "" {
		field(keyDescription, n.Description)
	}
	if n.Type != "" {
		field(keyType, n.Type)
	}
	if n.Access != AccessUnknown {
		field(keyAccess, n.Access)
	}
	if n.HasValue {
		field(keyValue, n.Value)
	}
	for _, kv := range []struct {
		k string
		v any
	}{{keyRange, n.Range}, {keyUnit, n.Unit}, {keyExtended, n.Extended}, {keyClipMode, n.ClipMode}, {keyTags, n.Tags}, {keyCritical, n.Critical}} {
		if kv.v != nil {
			field(kv.k, kv.v)
		}
	}
	if len(n.Overloads) > 0 {
		if !first {
			b.WriteByte(',')
		}
		first = false
		b.WriteString(`"OVERLOADS":[`)
		for i, o := range n.Overloads {
			if i > 0 {
				b.WriteByte(',')
			}
			writeNode(b, o, 0, false)
		}
		b.WriteByte(']')
	}
	if len(n.Extra) > 0 {
		keys := make([]string, 0, len(n.Extra))
		for k := range n.Extra {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			field(k, n.Extra[k])
		}
	}
	if n.Contents != nil && depth != 0 {
		if !first {
			b.WriteByte(',')
		}
		b.WriteString(`"CONTENTS":{`)
		for i, name := range n.Names() {
			if i > 0 {
				b.WriteByte(',')
			}
			writeJSON(b, name)
			b.WriteByte(':')
			writeNode(b, n.Contents[name], depth-1, true)
		}
		b.WriteByte('}')
	}
	b.WriteByte('}')
}

// writeJSON writes v as JSON without escaping <, > and & (this JSON is
// not for HTML) and without a newline.
func writeJSON(b *bytes.Buffer, v any) {
	enc := json.NewEncoder(b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		b.WriteString("null\n")
	}
	b.Truncate(b.Len() - 1) // Encode's newline
}

// MarshalAttr writes one attribute as a query for it is answered:
// {"VALUE":[0.5]}.
func MarshalAttr(attr string, v any) []byte {
	var b bytes.Buffer
	b.WriteByte('{')
	writeJSON(&b, attr)
	b.WriteByte(':')
	writeJSON(&b, v)
	b.WriteByte('}')
	return b.Bytes()
}

// Indent returns JSON indented by two spaces, with a final newline.
func Indent(data []byte) []byte {
	var b bytes.Buffer
	if err := json.Indent(&b, data, "", "  "); err != nil {
		return append(data, '\n')
	}
	b.WriteByte('\n')
	return b.Bytes()
}

// Clone returns a deep copy of the node's own attributes and its tree.
func (n *Node) Clone() *Node {
	c := *n
	if n.Contents != nil {
		c.Contents = make(map[string]*Node, len(n.Contents))
		for k, v := range n.Contents {
			c.Contents[k] = v.Clone()
		}
	}
	return &c
}
