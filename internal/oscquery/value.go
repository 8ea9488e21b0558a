package oscquery

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/oscli/oscli/internal/osc"
)

// Slot is one value position of a TYPE: its tag and where its entry sits
// in VALUE, RANGE and the other per-value attributes (an index per level
// of array nesting: "i[ff]" has slots [0], [1 0] and [1 1]).
type Slot struct {
	Tag  osc.Tag
	Path []int
}

// ParseType reads a TYPE string (type tags without the comma, with [ ]
// for arrays) into its value slots.
func ParseType(typ string) ([]Slot, error) {
	var slots []Slot
	idx := []int{0}
	for i := 0; i < len(typ); i++ {
		t := osc.Tag(typ[i])
		switch {
		case t == osc.TagArrayBegin:
			if len(idx) > 32 {
				return nil, fmt.Errorf("TYPE %q: arrays nested more than 32 deep", typ)
			}
			idx = append(idx, 0)
		case t == osc.TagArrayEnd:
			if len(idx) == 1 {
				return nil, fmt.Errorf("TYPE %q: ']' without '['", typ)
			}
			idx = idx[:len(idx)-1]
			idx[len(idx)-1]++
		case t.Valid():
			slots = append(slots, Slot{Tag: t, Path: append([]int(nil), idx...)})
			idx[len(idx)-1]++
		default:
			return nil, fmt.Errorf("TYPE %q: unknown type tag %q", typ, rune(typ[i]))
		}
	}
	if len(idx) != 1 {
		return nil, fmt.Errorf("TYPE %q: '[' without ']'", typ)
	}
	return slots, nil
}

// at returns the entry of a per-value attribute for a slot. An attribute
// that is not an array where the slot needs one applies to every value
// below that level (the proposal lets "all equal" be written once).
func at(attr any, path []int) any {
	for _, i := range path {
		list, ok := attr.([]any)
		if !ok {
			return attr
		}
		if i >= len(list) {
			return nil
		}
		attr = list[i]
	}
	return attr
}

// ArgFromJSON converts a JSON value to an argument of tag t, as the
// proposal maps OSC types to JSON. ok is false when the JSON holds no
// value for it (null, or b and m, which OSCQuery cannot carry). T and F
// follow the boolean, whichever of them the TYPE names.
func ArgFromJSON(t osc.Tag, v any) (a osc.Arg, ok bool, err error) {
	switch t {
	case osc.TagNil, osc.TagImpulse:
		return osc.Arg{Tag: t}, true, nil
	}
	if v == nil {
		return osc.Arg{}, false, nil
	}
	bad := func() (osc.Arg, bool, error) {
		return osc.Arg{}, false, fmt.Errorf("%s is not a value of type %c", compactJSON(v), t)
	}
	switch t {
	case osc.TagInt32, osc.TagInt64, osc.TagTimetag:
		n, ok := v.(json.Number)
		if !ok {
			if b, isBool := v.(bool); isBool && t != osc.TagTimetag {
				// Some servers write booleans for 0/1 integers.
				return osc.Arg{Tag: t, Bits: boolBits(b)}, true, nil
			}
			return bad()
		}
		i, err := intOf(n, t)
		if err != nil {
			return osc.Arg{}, false, err
		}
		if t == osc.TagInt32 {
			return osc.Int32(int32(i)), true, nil
		}
		return osc.Arg{Tag: t, Bits: uint64(i)}, true, nil
	case osc.TagFloat32, osc.TagFloat64:
		n, ok := v.(json.Number)
		if !ok {
			return bad()
		}
		f, err := strconv.ParseFloat(string(n), 64)
		if err != nil {
			return bad()
		}
		if t == osc.TagFloat32 {
			return osc.Float32(float32(f)), true, nil
		}
		return osc.Float64(f), true, nil
	case osc.TagString, osc.TagSymbol:
		s, ok := v.(string)
		if !ok {
			return bad()
		}
		if strings.IndexByte(s, 0) >= 0 {
			return osc.Arg{}, false, fmt.Errorf("string %q holds a NUL", s)
		}
		return osc.Arg{Tag: t, Data: []byte(s)}, true, nil
	case osc.TagChar:
		switch c := v.(type) {
		case string:
			r, n := utf8.DecodeRuneInString(c)
			if n == 0 || n != len(c) {
				return bad()
			}
			return osc.Char(r), true, nil
		case json.Number:
			i, err := c.Int64()
			if err != nil || i < 0 || i > math.MaxUint32 {
				return bad()
			}
			return osc.Arg{Tag: t, Bits: uint64(i)}, true, nil
		}
		return bad()
	case osc.TagRGBA:
		s, ok := v.(string)
		if !ok {
			return bad()
		}
		c, err := ParseColor(s)
		if err != nil {
			return osc.Arg{}, false, err
		}
		return osc.RGBA(c), true, nil
	case osc.TagTrue, osc.TagFalse:
		switch b := v.(type) {
		case bool:
			return osc.Bool(b), true, nil
		case json.Number:
			// 0 and 1 for booleans, as some servers write them.
			if f, err := b.Float64(); err == nil {
				return osc.Bool(f != 0), true, nil
			}
		}
		return bad()
	case osc.TagMIDI:
		// OSCQuery has no JSON for m; four numbers are read when a server
		// writes them.
		if list, ok := v.([]any); ok && len(list) == 4 {
			var bs [4]byte
			for i, x := range list {
				n, ok := x.(json.Number)
				k, err := n.Int64()
				if !ok || err != nil || k < 0 || k > 255 {
					return bad()
				}
				bs[i] = byte(k)
			}
			return osc.MIDI(bs[0], bs[1], bs[2], bs[3]), true, nil
		}
		return osc.Arg{}, false, nil
	case osc.TagBlob:
		return osc.Arg{}, false, nil
	}
	return bad()
}

func boolBits(b bool) uint64 {
	if b {
		return 1
	}
	return 0
}

// intOf reads an integer JSON number for tag t; "4.0" counts as 4.
func intOf(n json.Number, t osc.Tag) (int64, error) {
	s := string(n)
	if t == osc.TagTimetag {
		u, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("%s is not a time tag (a whole number, NTP 32.32)", s)
		}
		return int64(u), nil
	}
	i, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		f, ferr := strconv.ParseFloat(s, 64)
		if ferr != nil || f != math.Trunc(f) || math.Abs(f) > 1<<62 {
			return 0, fmt.Errorf("%s is not a whole number (type %c)", s, t)
		}
		i = int64(f)
	}
	if t == osc.TagInt32 && (i < math.MinInt32 || i > math.MaxInt32) {
		return 0, fmt.Errorf("%s does not fit an int32 (type i)", s)
	}
	return i, nil
}

// ParseColor reads OSCQuery's colour notation, "#RRGGBBAA" (the '#' and
// the alpha may be left out).
func ParseColor(s string) (uint32, error) {
	h := strings.TrimPrefix(s, "#")
	if len(h) == 6 {
		h += "ff"
	}
	if len(h) != 8 {
		return 0, fmt.Errorf("colour %q: want #RRGGBBAA", s)
	}
	v, err := strconv.ParseUint(h, 16, 32)
	if err != nil {
		return 0, fmt.Errorf("colour %q: want #RRGGBBAA", s)
	}
	return uint32(v), nil
}

// ArgJSON is the JSON for an argument (not an array marker), as the
// proposal maps OSC types: numbers, strings, "#RRGGBBAA", booleans, and
// null for b, m, N and I (and for floats JSON cannot hold: NaN, ±Inf).
func ArgJSON(a osc.Arg) any {
	switch a.Tag {
	case osc.TagInt32:
		return json.Number(strconv.FormatInt(int64(a.Int32()), 10))
	case osc.TagInt64:
		return json.Number(strconv.FormatInt(a.Int64(), 10))
	case osc.TagTimetag:
		return json.Number(strconv.FormatUint(a.Bits, 10))
	case osc.TagFloat32:
		f := float64(a.Float32())
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return nil
		}
		return json.Number(strconv.FormatFloat(f, 'g', -1, 32))
	case osc.TagFloat64:
		f := a.Float64()
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return nil
		}
		return json.Number(strconv.FormatFloat(f, 'g', -1, 64))
	case osc.TagString, osc.TagSymbol:
		return string(a.Data)
	case osc.TagChar:
		r := rune(a.Uint32())
		if utf8.ValidRune(r) {
			return string(r)
		}
		return json.Number(strconv.FormatUint(uint64(a.Uint32()), 10))
	case osc.TagRGBA:
		return fmt.Sprintf("#%08X", a.Uint32())
	case osc.TagTrue:
		return true
	case osc.TagFalse:
		return false
	}
	return nil
}

// ArgsJSON is the VALUE array for a message's arguments: one entry per
// argument, arrays nested as the type tags nest them.
func ArgsJSON(args []osc.Arg) []any {
	stack := [][]any{{}}
	for _, a := range args {
		switch a.Tag {
		case osc.TagArrayBegin:
			stack = append(stack, []any{})
		case osc.TagArrayEnd:
			if len(stack) > 1 {
				inner := stack[len(stack)-1]
				stack = stack[:len(stack)-1]
				stack[len(stack)-1] = append(stack[len(stack)-1], inner)
			}
		default:
			stack[len(stack)-1] = append(stack[len(stack)-1], ArgJSON(a))
		}
	}
	for len(stack) > 1 { // unbalanced: close what is open
		inner := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		stack[len(stack)-1] = append(stack[len(stack)-1], inner)
	}
	return stack[0]
}

// TypeOf is the TYPE string of a message's arguments.
func TypeOf(args []osc.Arg) string {
	b := make([]byte, len(args))
	for i, a := range args {
		b[i] = byte(a.Tag)
	}
	return string(b)
}

// ValueArgs converts the node's VALUE to arguments, array markers
// included. known reports, per value slot, whether VALUE held a value
// for it; a slot without one has the zero Arg.
func (n *Node) ValueArgs() (args []osc.Arg, known []bool, err error) {
	if n.Type == "" {
		return nil, nil, nil
	}
	if _, err := ParseType(n.Type); err != nil {
		return nil, nil, err
	}
	slot := 0
	idx := []int{0}
	for i := 0; i < len(n.Type); i++ {
		t := osc.Tag(n.Type[i])
		switch t {
		case osc.TagArrayBegin:
			args = append(args, osc.ArrayBegin())
			idx = append(idx, 0)
			continue
		case osc.TagArrayEnd:
			args = append(args, osc.ArrayEnd())
			idx = idx[:len(idx)-1]
			idx[len(idx)-1]++
			continue
		}
		var v any
		if n.HasValue {
			v = at(n.Value, idx)
		}
		a, ok, err := ArgFromJSON(t, v)
		if err != nil {
			return nil, nil, fmt.Errorf("VALUE %d: %w", slot+1, err)
		}
		args = append(args, a)
		known = append(known, ok && n.HasValue)
		idx[len(idx)-1]++
		slot++
	}
	return args, known, nil
}

// MismatchError is a value that does not suit a node: the argument's
// position (1-based, among the values, array markers not counted; 0 for
// the message as a whole), and why.
type MismatchError struct {
	Path string
	Pos  int
	Why  string
}

func (e *MismatchError) Error() string {
	if e.Pos == 0 {
		return e.Path + ": " + e.Why
	}
	return fmt.Sprintf("%s: value %d: %s", e.Path, e.Pos, e.Why)
}

// ErrReadOnly is matched (errors.Is) by a write to a node whose ACCESS
// does not allow it.
var ErrReadOnly = errors.New("not writable")

// AccessError is a write to a node whose ACCESS forbids it.
type AccessError struct {
	Path   string
	Access int
}

func (e *AccessError) Error() string {
	switch e.Access {
	case AccessNone:
		return fmt.Sprintf("%s takes no value (ACCESS 0)", e.Path)
	case AccessRead:
		return fmt.Sprintf("%s is read-only (ACCESS 1)", e.Path)
	}
	return fmt.Sprintf("%s is not writable (ACCESS %d)", e.Path, e.Access)
}

func (e *AccessError) Unwrap() error { return ErrReadOnly }

// Check reports whether args may be sent to the node: its ACCESS allows
// writing, the arguments have the node's TYPE (or one of its OVERLOADS;
// T and F stand for each other), and each value is within its RANGE
// (MIN, MAX, VALS). It returns the signature that matched.
func (n *Node) Check(args []osc.Arg) (*Node, error) {
	if !n.Writable() {
		return nil, &AccessError{Path: n.FullPath, Access: n.Access}
	}
	err := n.checkSig(args)
	if err == nil {
		return n, nil
	}
	for _, o := range n.Overloads {
		if o.checkSig(args) == nil {
			return o, nil
		}
	}
	return nil, err
}

// checkSig checks args against this signature's TYPE and RANGE.
func (n *Node) checkSig(args []osc.Arg) error {
	got := TypeOf(args)
	if n.Type == "" {
		if len(args) == 0 {
			return nil
		}
		return &MismatchError{Path: n.FullPath, Why: fmt.Sprintf("takes no values (no TYPE), got %d (%s)", countValues(args), got)}
	}
	slots, err := ParseType(n.Type)
	if err != nil {
		return &MismatchError{Path: n.FullPath, Why: err.Error()}
	}
	if !sameShape(n.Type, got) {
		if countValues(args) != len(slots) || structure(n.Type) != structure(got) {
			return &MismatchError{Path: n.FullPath, Why: fmt.Sprintf("takes %s (TYPE %s), got %s", plural(len(slots), "value"), n.Type, describeGot(args))}
		}
	}
	pos := 0
	for _, a := range args {
		if a.Tag == osc.TagArrayBegin || a.Tag == osc.TagArrayEnd {
			continue
		}
		want := slots[pos].Tag
		pos++
		if !sameTag(want, a.Tag) {
			return &MismatchError{Path: n.FullPath, Pos: pos, Why: fmt.Sprintf("%s is %s, but TYPE %s wants %s here", a.String(), TagName(a.Tag), n.Type, TagName(want))}
		}
		if r := at(n.Range, slots[pos-1].Path); r != nil {
			if why := outOfRange(a, r); why != "" {
				return &MismatchError{Path: n.FullPath, Pos: pos, Why: why}
			}
		}
	}
	return nil
}

func describeGot(args []osc.Arg) string {
	if len(args) == 0 {
		return "none"
	}
	return fmt.Sprintf("%s (%s)", plural(countValues(args), "value"), TypeOf(args))
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return strconv.Itoa(n) + " " + what + "s"
}

func countValues(args []osc.Arg) int {
	n := 0
	for _, a := range args {
		if a.Tag != osc.TagArrayBegin && a.Tag != osc.TagArrayEnd {
			n++
		}
	}
	return n
}

// structure is a type string with every tag replaced by '.', so that
// "i[ff]" and "i[TF]" compare equal.
func structure(typ string) string {
	b := []byte(typ)
	for i, c := range b {
		if c != '[' && c != ']' {
			b[i] = '.'
		}
	}
	return string(b)
}

func sameShape(want, got string) bool {
	if len(want) != len(got) {
		return false
	}
	for i := 0; i < len(want); i++ {
		if !sameTag(osc.Tag(want[i]), osc.Tag(got[i])) {
			return false
		}
	}
	return true
}

// sameTag compares type tags, T and F being one boolean type.
func sameTag(a, b osc.Tag) bool {
	isBool := func(t osc.Tag) bool { return t == osc.TagTrue || t == osc.TagFalse }
	return a == b || isBool(a) && isBool(b)
}

// TagName names a type tag for messages: "f (float32)".
func TagName(t osc.Tag) string {
	name := map[osc.Tag]string{
		osc.TagInt32: "int32", osc.TagFloat32: "float32", osc.TagString: "string", osc.TagBlob: "blob",
		osc.TagInt64: "int64", osc.TagTimetag: "time tag", osc.TagFloat64: "float64", osc.TagSymbol: "symbol",
		osc.TagChar: "char", osc.TagRGBA: "colour", osc.TagMIDI: "MIDI", osc.TagTrue: "boolean",
		osc.TagFalse: "boolean", osc.TagNil: "nil", osc.TagImpulse: "impulse",
	}[t]
	if name == "" {
		return strconv.QuoteRune(rune(t))
	}
	return fmt.Sprintf("%c (%s)", t, name)
}

// outOfRange says why a is outside a RANGE entry, or "".
func outOfRange(a osc.Arg, r any) string {
	obj, ok := r.(map[string]any)
	if !ok {
		return ""
	}
	if vals, ok := obj["VALS"].([]any); ok && len(vals) > 0 {
		for _, v := range vals {
			if equalJSON(a, v) {
				return ""
			}
		}
		words := make([]string, 0, len(vals))
		for _, v := range vals {
			words = append(words, compactJSON(v))
		}
		return fmt.Sprintf("%s is not one of VALS %s", a.String(), strings.Join(words, ", "))
	}
	x, isNum := numberOf(a)
	if !isNum {
		return ""
	}
	lo, hasLo := jsonFloat(obj["MIN"])
	hi, hasHi := jsonFloat(obj["MAX"])
	if math.IsNaN(x) && (hasLo || hasHi) {
		// NaN compares false with every bound: it would pass them all.
		return fmt.Sprintf("%s is not a number, outside RANGE %s", a.String(), rangeText(obj, a.Tag))
	}
	if hasLo && compareBound(a, x, obj["MIN"], lo) < 0 {
		return fmt.Sprintf("%s is below MIN %s", a.String(), compactJSON(obj["MIN"]))
	}
	if hasHi && compareBound(a, x, obj["MAX"], hi) > 0 {
		return fmt.Sprintf("%s is above MAX %s", a.String(), compactJSON(obj["MAX"]))
	}
	return ""
}

// compareBound compares a numeric argument (x as a float64) with a bound
// of RANGE (f as a float64): integers with an integer bound exactly, as
// int64s (float64 rounds those past 2^53), the rest as float64s.
func compareBound(a osc.Arg, x float64, bound any, f float64) int {
	if a.Tag == osc.TagInt32 || a.Tag == osc.TagInt64 {
		if b, err := bound.(json.Number).Int64(); err == nil {
			i := a.Int64()
			if a.Tag == osc.TagInt32 {
				i = int64(a.Int32())
			}
			return cmp.Compare(i, b)
		}
	}
	return cmp.Compare(x, f)
}

// numberOf is a numeric argument's value.
func numberOf(a osc.Arg) (float64, bool) {
	switch a.Tag {
	case osc.TagInt32:
		return float64(a.Int32()), true
	case osc.TagInt64:
		return float64(a.Int64()), true
	case osc.TagFloat32:
		return float64(a.Float32()), true
	case osc.TagFloat64:
		return a.Float64(), true
	case osc.TagTimetag:
		return float64(a.Bits), true
	}
	return 0, false
}

func jsonFloat(v any) (float64, bool) {
	n, ok := v.(json.Number)
	if !ok {
		return 0, false
	}
	f, err := n.Float64()
	return f, err == nil
}

// equalJSON reports whether a equals a JSON value of VALS.
func equalJSON(a osc.Arg, v any) bool {
	if x, ok := numberOf(a); ok {
		f, ok := jsonFloat(v)
		if a.Tag == osc.TagFloat32 {
			return ok && float32(f) == float32(x)
		}
		return ok && f == x
	}
	j := ArgJSON(a)
	switch jv := j.(type) {
	case string:
		s, ok := v.(string)
		if a.Tag == osc.TagRGBA && ok {
			c, err := ParseColor(s)
			return err == nil && c == a.Uint32()
		}
		return ok && s == jv
	case bool:
		b, ok := v.(bool)
		return ok && b == jv
	}
	return j == nil && v == nil
}

// compactJSON writes a JSON value on one line.
func compactJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return "?"
	}
	return string(b)
}
