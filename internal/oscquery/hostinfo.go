package oscquery

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// HostInfo is a server's HOST_INFO: its name, the optional attributes it
// supports, and where its OSC server and WebSocket are. Zero ports and
// empty addresses mean "where the HTTP server is", as the proposal says.
type HostInfo struct {
	Name         string
	Extensions   map[string]bool
	OSCIP        string
	OSCPort      int
	OSCTransport string // "UDP" or "TCP"; "" means UDP
	WSIP         string
	WSPort       int
	// Extra holds the keys this package does not interpret.
	Extra map[string]any
}

// Has reports whether the server says it supports an extension (LISTEN,
// PATH_CHANGED, VALUE, …).
func (h *HostInfo) Has(ext string) bool { return h != nil && h.Extensions[ext] }

// ExtensionNames lists the extensions the server says it supports, sorted.
func (h *HostInfo) ExtensionNames() []string {
	var names []string
	for k, v := range h.Extensions {
		if v {
			names = append(names, k)
		}
	}
	slices.Sort(names)
	return names
}

// ParseHostInfo reads a HOST_INFO object. Servers differ: a port may come
// as a string, a key may be missing; what cannot be read is left zero.
func ParseHostInfo(data []byte, lim Limits) (*HostInfo, error) {
	lim = lim.orDefault()
	if int64(len(data)) > lim.MaxBody {
		return nil, fmt.Errorf("%w: %d bytes", ErrTooBig, len(data))
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
		return nil, fmt.Errorf("HOST_INFO is %s, not an object", jsonKind(v))
	}
	if inner, ok := obj[keyHostInfo].(map[string]any); ok && len(obj) == 1 {
		obj = inner // {"HOST_INFO": {...}}, as some servers wrap it
	}
	if _, isNode := obj[keyFullPath]; isNode {
		if _, hasExt := obj["EXTENSIONS"]; !hasExt {
			return nil, fmt.Errorf("the server answered a node, not HOST_INFO")
		}
	}
	h := &HostInfo{}
	for k, v := range obj {
		switch k {
		case "NAME":
			h.Name, _ = v.(string)
		case "EXTENSIONS":
			if m, ok := v.(map[string]any); ok {
				h.Extensions = make(map[string]bool, len(m))
				for ek, ev := range m {
					b, _ := ev.(bool)
					h.Extensions[ek] = b
				}
			}
		case "OSC_IP":
			h.OSCIP, _ = v.(string)
		case "OSC_PORT":
			h.OSCPort = portOf(v)
		case "OSC_TRANSPORT":
			s, _ := v.(string)
			h.OSCTransport = strings.ToUpper(s)
		case "WS_IP":
			h.WSIP, _ = v.(string)
		case "WS_PORT":
			h.WSPort = portOf(v)
		default:
			if h.Extra == nil {
				h.Extra = map[string]any{}
			}
			h.Extra[k] = v
		}
	}
	return h, nil
}

// portOf reads a port given as a number or a string; 0 when it is neither
// or out of range.
func portOf(v any) int {
	var s string
	switch p := v.(type) {
	case json.Number:
		s = string(p)
	case string:
		s = p
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > 65535 {
		return 0
	}
	return n
}

// MarshalHostInfo writes HOST_INFO as JSON, keys in a fixed order, zero
// fields left out.
func MarshalHostInfo(h *HostInfo) []byte {
	var b bytes.Buffer
	b.WriteByte('{')
	first := true
	field := func(k string, v any) {
		if !first {
			b.WriteByte(',')
		}
		first = false
		writeJSON(&b, k)
		b.WriteByte(':')
		writeJSON(&b, v)
	}
	if h.Name != "" {
		field("NAME", h.Name)
	}
	if h.Extensions != nil {
		field("EXTENSIONS", h.Extensions)
	}
	if h.OSCIP != "" {
		field("OSC_IP", h.OSCIP)
	}
	if h.OSCPort != 0 {
		field("OSC_PORT", h.OSCPort)
	}
	if h.OSCTransport != "" {
		field("OSC_TRANSPORT", h.OSCTransport)
	}
	if h.WSIP != "" {
		field("WS_IP", h.WSIP)
	}
	if h.WSPort != 0 {
		field("WS_PORT", h.WSPort)
	}
	keys := make([]string, 0, len(h.Extra))
	for k := range h.Extra {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		field(k, h.Extra[k])
	}
	b.WriteByte('}')
	return b.Bytes()
}
