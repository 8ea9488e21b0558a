package oscquery

import (
	"encoding/json"
	"strings"

	"github.com/oscli/oscli/internal/osc"
	"github.com/oscli/oscli/internal/termsafe"
)

// Row describes a node for people, one field per column. Every string
// that came from the server is escaped for a terminal (package termsafe),
// and the address and the value are written in the syntax 'oscli send'
// reads.
type Row struct {
	Depth   int    // levels below the node the listing started at
	Address string // FULL_PATH, quoted as a word of the text syntax
	Types   string // TYPE
	Access  string // "r", "w", "rw", "-" (none), "" (not given)
	Value   string // VALUE as arguments: "f:0.5", "i:4 i:51"; "-" for a value not known
	Range   string // per value: "0..100", "empty|half-full|full", "-" for none
	Unit    string // per value, "-" for none
	Desc    string // DESCRIPTION
}

// Describe returns the node's row.
func Describe(n *Node, depth int) Row {
	r := Row{Depth: depth, Address: string(osc.AppendWord(nil, n.FullPath)), Types: termsafe.String(n.Type), Desc: termsafe.String(n.Description)}
	switch n.Access {
	case AccessNone:
		r.Access = "-"
	case AccessRead:
		r.Access = "r"
	case AccessWrite:
		r.Access = "w"
	case AccessReadWrite:
		r.Access = "rw"
	}
	r.Value = ValueText(n)
	slots, err := ParseType(n.Type)
	if err != nil || len(slots) == 0 {
		if n.Range != nil {
			r.Range = termsafe.String(compactJSON(n.Range))
		}
		if n.Unit != nil {
			r.Unit = termsafe.String(compactJSON(n.Unit))
		}
		return r
	}
	r.Range = perSlot(slots, n.Range, rangeText)
	r.Unit = perSlot(slots, n.Unit, func(v any, _ osc.Tag) string {
		if s, ok := v.(string); ok && s != "" {
			return termsafe.String(s)
		}
		return "-"
	})
	return r
}

// ValueText is the node's VALUE as arguments in the text syntax ("-" for
// a value it does not have); "" when it has no VALUE at all.
func ValueText(n *Node) string {
	if !n.HasValue || n.Type == "" {
		if n.HasValue && n.Value != nil {
			return termsafe.String(compactJSON(n.Value))
		}
		return ""
	}
	args, known, err := n.ValueArgs()
	if err != nil {
		return termsafe.String(compactJSON(n.Value))
	}
	var b []byte
	slot := 0
	for _, a := range args {
		if len(b) > 0 {
			b = append(b, ' ')
		}
		switch a.Tag {
		case osc.TagArrayBegin:
			b = append(b, '[')
			continue
		case osc.TagArrayEnd:
			b = append(b, ']')
			continue
		}
		if known[slot] {
			b = a.AppendText(b)
		} else {
			b = append(b, '-')
		}
		slot++
	}
	return string(b)
}

// perSlot describes a per-value attribute, one word per slot, or "" when
// no slot has an entry.
func perSlot(slots []Slot, attr any, word func(v any, t osc.Tag) string) string {
	if attr == nil {
		return ""
	}
	words := make([]string, len(slots))
	some := false
	for i, s := range slots {
		words[i] = word(at(attr, s.Path), s.Tag)
		some = some || words[i] != "-"
	}
	if !some {
		return ""
	}
	return strings.Join(words, " ")
}

// rangeText writes a RANGE entry: "0..100", "0..", "..1", or the VALS
// joined by '|'; "-" when it says nothing.
func rangeText(v any, t osc.Tag) string {
	obj, ok := v.(map[string]any)
	if !ok {
		return "-"
	}
	if vals, ok := obj["VALS"].([]any); ok && len(vals) > 0 {
		words := make([]string, len(vals))
		for i, x := range vals {
			words[i] = jsonWord(x, t)
		}
		return strings.Join(words, "|")
	}
	lo, hasLo := obj["MIN"]
	hi, hasHi := obj["MAX"]
	if (!hasLo || lo == nil) && (!hasHi || hi == nil) {
		return "-"
	}
	var b strings.Builder
	if hasLo && lo != nil {
		b.WriteString(jsonWord(lo, t))
	}
	b.WriteString("..")
	if hasHi && hi != nil {
		b.WriteString(jsonWord(hi, t))
	}
	return b.String()
}

// jsonWord writes a JSON value of a RANGE for reading: numbers as the
// server wrote them, strings quoted as words of the text syntax.
func jsonWord(v any, _ osc.Tag) string {
	switch x := v.(type) {
	case json.Number:
		return string(x)
	case string:
		return string(osc.AppendWord(nil, x))
	}
	return termsafe.String(compactJSON(v))
}
