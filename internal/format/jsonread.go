package format

// This file reads back the JSON lines that json.go writes (send --json,
// bundle --json and replay's recordings all come through ParseJSONLine).

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/oscli/oscli/internal/argparse"
	"github.com/oscli/oscli/internal/osc"
)

// JSONLine is one decoded JSON line.
type JSONLine struct {
	Time   time.Time  // "time", zero if absent
	Raw    []byte     // the packet bytes ("raw" if present, else encoded from "packet")
	Packet osc.Packet // the packet
}

type jsonLineIn struct {
	Time   string          `json:"time"`
	Raw    *string         `json:"raw"`
	Packet json.RawMessage `json:"packet"`
	Error  string          `json:"error"`

	// A bare packet object is accepted too.
	Address  *string           `json:"address"`
	Timetag  *string           `json:"timetag"`
	Elements []json.RawMessage `json:"elements"`
}

type jsonPacketIn struct {
	Address    *string           `json:"address"`
	Types      *string           `json:"types"`
	Args       []json.RawMessage `json:"args"`
	NoTypeTags bool              `json:"no_typetags"`
	Timetag    *string           `json:"timetag"`
	Time       string            `json:"time"`
	Elements   []json.RawMessage `json:"elements"`
}

// ParseJSONLine reads one line as AppendJSON (dump --json) writes it, or a
// bare message or bundle object. "raw" (base64) wins when present;
// otherwise the packet is encoded from "packet". now resolves relative
// times in hand-written bundle time tags ("timetag":"+1s").
func ParseJSONLine(line []byte, now time.Time) (*JSONLine, error) {
	var jl jsonLineIn
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.UseNumber()
	if err := dec.Decode(&jl); err != nil {
		return nil, fmt.Errorf("invalid JSON: %w", err)
	}
	out := &JSONLine{}
	if jl.Time != "" {
		t, err := time.Parse(time.RFC3339Nano, jl.Time)
		if err != nil {
			return nil, fmt.Errorf("invalid \"time\" %q", jl.Time)
		}
		out.Time = t
	}
	if jl.Raw != nil {
		raw, err := base64.StdEncoding.DecodeString(*jl.Raw)
		if err != nil {
			return nil, errors.New("invalid \"raw\": not base64")
		}
		p, err := osc.Decode(raw)
		if err != nil {
			return nil, fmt.Errorf("\"raw\" is not a valid OSC packet: %w", err)
		}
		out.Raw, out.Packet = raw, p
		return out, nil
	}
	body := []byte(jl.Packet)
	if len(body) == 0 || string(body) == "null" {
		if jl.Address == nil && jl.Timetag == nil && jl.Elements == nil {
			if jl.Error != "" {
				return nil, errors.New("a malformed packet without \"raw\" cannot be sent")
			}
			return nil, errors.New("no \"raw\" or \"packet\"")
		}
		body = line
	}
	p, err := parseJSONPacket(body, now, 0)
	if err != nil {
		return nil, err
	}
	raw, err := osc.AppendPacket(nil, p)
	if err != nil {
		return nil, err
	}
	out.Raw, out.Packet = raw, p
	return out, nil
}

func parseJSONPacket(body []byte, now time.Time, depth int) (osc.Packet, error) {
	var jp jsonPacketIn
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&jp); err != nil {
		return nil, fmt.Errorf("invalid packet object: %w", err)
	}
	switch {
	case jp.Address != nil:
		m := &osc.Message{Address: *jp.Address, NoTypeTags: jp.NoTypeTags}
		if jp.NoTypeTags {
			return m, nil
		}
		types := ""
		if jp.Types != nil {
			types = *jp.Types
		} else if len(jp.Args) > 0 {
			return nil, errors.New("message has \"args\" but no \"types\"")
		}
		args, rest, err := parseJSONArgs(types, jp.Args, now, 0)
		if err != nil {
			return nil, fmt.Errorf("message %s: %w", strconv.Quote(*jp.Address), err)
		}
		if rest != "" {
			return nil, fmt.Errorf("message %s: ']' without '[' in types", strconv.Quote(*jp.Address))
		}
		m.Args = args
		return m, nil
	case jp.Timetag != nil || jp.Elements != nil:
		if depth >= osc.MaxBundleDepth {
			return nil, errors.New("bundles nested too deep")
		}
		b := &osc.Bundle{Timetag: osc.Immediately}
		if jp.Timetag != nil {
			tt, err := argparse.ParseWhen(*jp.Timetag, now)
			if err != nil {
				return nil, fmt.Errorf("bundle \"timetag\": %w", err)
			}
			b.Timetag = tt
		}
		for i, e := range jp.Elements {
			p, err := parseJSONPacket(e, now, depth+1)
			if err != nil {
				return nil, fmt.Errorf("element %d: %w", i+1, err)
			}
			b.Elements = append(b.Elements, p)
		}
		return b, nil
	}
	return nil, errors.New("packet object needs \"address\" (message) or \"timetag\"/\"elements\" (bundle)")
}

// parseJSONArgs reads values for the tags in types until the end or a ']',
// returning the tags left after that ']'.
func parseJSONArgs(types string, vals []json.RawMessage, now time.Time, depth int) ([]osc.Arg, string, error) {
	var args []osc.Arg
	vi := 0
	next := func() (json.RawMessage, error) {
		if vi >= len(vals) {
			return nil, fmt.Errorf("types %q need more args than given", types)
		}
		v := vals[vi]
		vi++
		return v, nil
	}
	for len(types) > 0 {
		t := osc.Tag(types[0])
		types = types[1:]
		switch t {
		case osc.TagArrayEnd:
			if depth == 0 {
				return nil, "]", nil
			}
			if vi != len(vals) {
				return nil, "", errors.New("more array values than types")
			}
			return args, types, nil
		case osc.TagArrayBegin:
			v, err := next()
			if err != nil {
				return nil, "", err
			}
			var inner []json.RawMessage
			if err := json.Unmarshal(v, &inner); err != nil {
				return nil, "", fmt.Errorf("arg %d: '[' wants a JSON array", vi)
			}
			if depth+1 > osc.MaxArrayDepth {
				return nil, "", errors.New("arrays nested too deep")
			}
			sub, rest, err := parseJSONArgs(types, inner, now, depth+1)
			if err != nil {
				return nil, "", err
			}
			args = append(args, osc.ArrayBegin())
			args = append(args, sub...)
			args = append(args, osc.ArrayEnd())
			types = rest
			continue
		}
		v, err := next()
		if err != nil {
			return nil, "", err
		}
		a, err := parseJSONValue(t, v, now)
		if err != nil {
			return nil, "", fmt.Errorf("arg %d (%c): %w", vi, t, err)
		}
		args = append(args, a)
	}
	if depth > 0 {
		return nil, "", errors.New("'[' without ']' in types")
	}
	if vi != len(vals) {
		word := "args"
		if len(vals) == 1 {
			word = "arg"
		}
		return nil, "", fmt.Errorf("%d %s for types that take %d", len(vals), word, vi)
	}
	return args, "", nil
}

func parseJSONValue(t osc.Tag, v json.RawMessage, now time.Time) (osc.Arg, error) {
	var s string
	isString := json.Unmarshal(v, &s) == nil
	var num json.Number
	isNumber := false
	if !isString {
		d := json.NewDecoder(bytes.NewReader(v))
		d.UseNumber()
		var x any
		if d.Decode(&x) == nil {
			num, isNumber = x.(json.Number)
		}
	}
	switch t {
	case osc.TagInt32, osc.TagInt64:
		if !isNumber {
			return osc.Arg{}, errors.New("want an integer")
		}
		bits := 64
		if t == osc.TagInt32 {
			bits = 32
		}
		n, err := strconv.ParseInt(num.String(), 10, bits)
		if err != nil {
			return osc.Arg{}, fmt.Errorf("want an int%d, got %s", bits, num)
		}
		if t == osc.TagInt32 {
			return osc.Int32(int32(n)), nil
		}
		return osc.Int64(n), nil
	case osc.TagFloat32, osc.TagFloat64:
		text := s
		if isNumber {
			text = num.String()
		} else if !isString {
			return osc.Arg{}, errors.New("want a number")
		}
		bits, err := argparse.ParseFloatBits(text, t == osc.TagFloat32)
		if err != nil {
			return osc.Arg{}, err
		}
		return osc.Arg{Tag: t, Bits: bits}, nil
	case osc.TagString, osc.TagSymbol:
		if !isString {
			return osc.Arg{}, errors.New("want a string")
		}
		if bytes.IndexByte([]byte(s), 0) >= 0 {
			return osc.Arg{}, errors.New("strings cannot contain NUL")
		}
		return osc.Arg{Tag: t, Data: []byte(s)}, nil
	case osc.TagBlob:
		data, err := hex.DecodeString(s)
		if !isString || err != nil {
			return osc.Arg{}, errors.New("want a hex string")
		}
		return osc.Blob(data), nil
	case osc.TagTimetag:
		if !isString {
			return osc.Arg{}, errors.New("want a time string such as \"0xe000000080000000\"")
		}
		tt, err := argparse.ParseWhen(s, now)
		if err != nil {
			return osc.Arg{}, err
		}
		return osc.TimetagArg(tt), nil
	case osc.TagRGBA, osc.TagMIDI:
		n, err := strconv.ParseUint(s, 16, 32)
		if !isString || len(s) != 8 || err != nil {
			return osc.Arg{}, errors.New("want 8 hex digits")
		}
		return osc.Arg{Tag: t, Bits: n}, nil
	case osc.TagChar:
		if isString {
			if r, n := utf8.DecodeRuneInString(s); n == len(s) && s != "" {
				return osc.Char(r), nil
			}
			return osc.Arg{}, errors.New("want one character")
		}
		if isNumber {
			n, err := strconv.ParseUint(num.String(), 10, 32)
			if err == nil && n <= math.MaxUint32 {
				return osc.Arg{Tag: t, Bits: n}, nil
			}
		}
		return osc.Arg{}, errors.New("want one character or its code")
	case osc.TagTrue, osc.TagFalse, osc.TagNil, osc.TagImpulse:
		return osc.Arg{Tag: t}, nil
	}
	return osc.Arg{}, fmt.Errorf("unknown type tag %q", rune(t))
}
