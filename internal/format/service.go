package format

import (
	"strconv"
	"time"

	"github.com/oscli/oscli/internal/osc"
)

// Service is a DNS-SD service as oscli browse prints it: found, changed or
// gone, or one line of the list printed at the end of a timed browse.
// Every string in it comes from the network.
type Service struct {
	Time   time.Time
	Event  string // "found", "updated", "gone"; "" in a final list
	Reason string // why it is gone: "goodbye" or "expired"
	Gone   bool

	Name  string // the instance name
	Type  string // "_osc._udp"
	Host  string // the SRV target, "ipad.local."
	Port  int
	Addrs []string // "192.168.1.40", "fe80::1%eth0"
	From  string   // the address the service answered from
	// Target is the URL oscli sends to (udp://192.168.1.40:9000), or
	// for an OSCQuery server, where its HTTP server is (http://…/);
	// Unreachable, when set, says why there is none.
	Target      string
	Unreachable string
	TXT         []TXTPair
	OSC         []TXTPair // the OSC 1.1 keys among TXT
	HostInfo    *HostInfo
	// Query says it is an OSCQuery server this machine reaches: the text
	// line ends with the command that asks it, oscli query @NAME.
	Query bool
}

// TXTPair is one attribute of a TXT record.
type TXTPair struct {
	Key, Value string
	HasValue   bool
}

// HostInfo is an OSCQuery server's HOST_INFO, or why it could not be had.
type HostInfo struct {
	Name         string
	OSC          string // udp://127.0.0.1:9000, where it takes OSC
	OSCIP        string
	OSCPort      int
	OSCTransport string
	Err          string
}

// AppendServiceText appends s as one line (without its newline):
//
//   - "TouchOSC on iPad"  _osc._udp  udp://192.168.1.40:9000  host ipad.local. (192.168.1.40)  txtvers=1 version=1.1
//
// '+' found, '~' changed, '-' gone; no sign in a final list. An OSCQuery
// server's line ends with the command that asks it, "→ oscli query
// @NAME", when Query says so. Names, hosts and TXT values are quoted and
// escaped as the text syntax quotes strings, so nothing from the network
// reaches a terminal raw and a name pastes after '@' into a shell.
func AppendServiceText(b []byte, s *Service) []byte {
	switch s.Event {
	case "found":
		b = append(b, "+ "...)
	case "updated":
		b = append(b, "~ "...)
	case "gone":
		b = append(b, "- "...)
	}
	b = osc.AppendWord(b, s.Name)
	b = append(b, "  "...)
	b = osc.AppendWord(b, s.Type)
	if s.Gone {
		b = append(b, "  gone"...)
		if s.Reason != "" {
			b = append(b, " ("...)
			b = append(b, s.Reason...)
			b = append(b, ')')
		}
		return b
	}
	b = append(b, "  "...)
	if s.Target != "" {
		b = osc.AppendWord(b, s.Target)
	} else {
		b = append(b, "port "...)
		b = strconv.AppendInt(b, int64(s.Port), 10)
	}
	if s.Unreachable != "" {
		b = append(b, " (unreachable: "...)
		b = appendPlain(b, s.Unreachable)
		b = append(b, ')')
	}
	b = append(b, "  host "...)
	b = osc.AppendWord(b, s.Host)
	if len(s.Addrs) > 0 {
		b = append(b, " ("...)
		for i, a := range s.Addrs {
			if i > 0 {
				b = append(b, ", "...)
			}
			b = osc.AppendWord(b, a)
		}
		b = append(b, ')')
	}
	for i, kv := range s.TXT {
		if i == 0 {
			b = append(b, ' ')
		}
		b = append(b, ' ')
		w := kv.Key
		if kv.HasValue {
			w += "=" + kv.Value
		}
		b = osc.AppendWord(b, w)
	}
	if h := s.HostInfo; h != nil {
		b = append(b, "  HOST_INFO "...)
		if h.Err != "" {
			b = append(b, "error: "...)
			b = appendPlain(b, h.Err)
			return b
		}
		b = append(b, "name="...)
		b = osc.AppendWord(b, h.Name)
		if h.OSC != "" {
			b = append(b, " osc="...)
			b = osc.AppendWord(b, h.OSC)
		}
	}
	if s.Query {
		b = append(b, "  → oscli query @"...)
		b = osc.AppendWord(b, s.Name)
	}
	return b
}

// appendPlain appends oscli's own words about network values, escaped.
func appendPlain(b []byte, s string) []byte {
	q := osc.AppendWord(nil, s)
	if len(q) > 0 && (q[0] == '"' || q[0] == '\'') && q[len(q)-1] == q[0] {
		q = q[1 : len(q)-1] // printable: no quotes needed inside oscli's text
	}
	return append(b, q...)
}

// AppendServiceJSON appends s as one JSON object (without a newline):
// time, event, name, type, host, port, addresses, from, target (or
// unreachable), txt (key to value; true for a key without one), osc (the
// OSC 1.1 keys), host_info (name, osc_ip, osc_port, osc_transport, or
// error), and reason for a service gone. Strings are escaped as in dump's
// JSON lines.
func AppendServiceJSON(b []byte, s *Service) []byte {
	b = append(b, `{"time":"`...)
	b = s.Time.UTC().AppendFormat(b, time.RFC3339Nano)
	b = append(b, `","event":`...)
	b = appendJSONString(b, s.Event)
	b = append(b, `,"name":`...)
	b = appendJSONString(b, s.Name)
	b = append(b, `,"type":`...)
	b = appendJSONString(b, s.Type)
	if s.Reason != "" {
		b = append(b, `,"reason":`...)
		b = appendJSONString(b, s.Reason)
	}
	b = append(b, `,"host":`...)
	b = appendJSONString(b, s.Host)
	b = append(b, `,"port":`...)
	b = strconv.AppendInt(b, int64(s.Port), 10)
	b = append(b, `,"addresses":[`...)
	for i, a := range s.Addrs {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, a)
	}
	b = append(b, ']')
	if s.From != "" {
		b = append(b, `,"from":`...)
		b = appendJSONString(b, s.From)
	}
	if s.Target != "" {
		b = append(b, `,"target":`...)
		b = appendJSONString(b, s.Target)
	}
	if s.Unreachable != "" {
		b = append(b, `,"unreachable":`...)
		b = appendJSONString(b, s.Unreachable)
	}
	b = append(b, `,"txt":`...)
	b = appendTXTObject(b, s.TXT)
	b = append(b, `,"osc":`...)
	b = appendTXTObject(b, s.OSC)
	if h := s.HostInfo; h != nil {
		b = append(b, `,"host_info":{`...)
		if h.Err != "" {
			b = append(b, `"error":`...)
			b = appendJSONString(b, h.Err)
		} else {
			b = append(b, `"name":`...)
			b = appendJSONString(b, h.Name)
			if h.OSCIP != "" {
				b = append(b, `,"osc_ip":`...)
				b = appendJSONString(b, h.OSCIP)
			}
			if h.OSCPort != 0 {
				b = append(b, `,"osc_port":`...)
				b = strconv.AppendInt(b, int64(h.OSCPort), 10)
			}
			if h.OSCTransport != "" {
				b = append(b, `,"osc_transport":`...)
				b = appendJSONString(b, h.OSCTransport)
			}
			if h.OSC != "" {
				b = append(b, `,"osc":`...)
				b = appendJSONString(b, h.OSC)
			}
		}
		b = append(b, '}')
	}
	return append(b, '}')
}

func appendTXTObject(b []byte, kvs []TXTPair) []byte {
	b = append(b, '{')
	for i, kv := range kvs {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, kv.Key)
		b = append(b, ':')
		if kv.HasValue {
			b = appendJSONString(b, kv.Value)
		} else {
			b = append(b, "true"...)
		}
	}
	return append(b, '}')
}
