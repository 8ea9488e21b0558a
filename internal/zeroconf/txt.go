package zeroconf

import "strings"

// TXTPair is one attribute of a TXT record (RFC 6763 §6.3): key=value, or
// a key alone (HasValue false).
type TXTPair struct {
	Key      string
	Value    string
	HasValue bool
}

// ParseTXT reads a TXT record's strings as DNS-SD attributes: the key is
// what comes before the first '=', compared without case; a string with
// an empty key is ignored, and of repeated keys the first counts (RFC 6763
// §6.4). The empty string of an empty TXT record gives nothing.
func ParseTXT(ss []string) []TXTPair {
	var out []TXTPair
	seen := map[string]bool{}
	for _, s := range ss {
		k, v, has := strings.Cut(s, "=")
		lk := strings.ToLower(k)
		if k == "" || seen[lk] {
			continue
		}
		seen[lk] = true
		out = append(out, TXTPair{Key: k, Value: v, HasValue: has})
	}
	return out
}

// OSCKeys are the TXT keys OSC 1.1 defines for _osc._udp and _osc._tcp
// (OSC 1.1 paper §5.2, table 4), in its order.
var OSCKeys = []string{"txtvers", "version", "framing", "uri", "types"}

// IsOSCKey reports whether k is one of OSCKeys (without case).
func IsOSCKey(k string) bool {
	for _, o := range OSCKeys {
		if strings.EqualFold(k, o) {
			return true
		}
	}
	return false
}

// Types is what oscli decodes: every OSC 1.0 and 1.1 type tag and arrays.
const Types = "ifsbhtdScrmTFNI[]"

// OSCTXT is the TXT record oscli announces for a listener: OSC 1.1's
// keys, with framing for a stream (TCP) only. framing is "slip" (OSC
// 1.1) or "len" (OSC 1.0's size prefix, oscli's word for it).
func OSCTXT(stream bool, framing string) []string {
	txt := []string{"txtvers=1", "version=1.1"}
	if stream {
		txt = append(txt, "framing="+framing)
	}
	return append(txt, "types="+Types)
}
