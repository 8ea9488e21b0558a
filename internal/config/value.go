package config

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// fileValues turns a value from the file into the flag's values, or says
// why it does not fit: `"abc", not a whole number`.
func fileValues(f Flag, raw any) ([]string, error) {
	if list, ok := raw.([]any); ok && f.Kind == List {
		vals := make([]string, 0, len(list))
		for _, x := range list {
			s, ok := scalarString(x)
			if !ok {
				return nil, fmt.Errorf("a list holding %s, not %s", describe(x), f.wants())
			}
			if err := checkValue(f, s); err != nil {
				return nil, err
			}
			vals = append(vals, s)
		}
		return vals, nil
	}
	s, ok := scalarString(raw)
	if !ok {
		return nil, fmt.Errorf("%s, not %s", describe(raw), f.wants())
	}
	return []string{s}, checkValue(f, s)
}

// checkValue checks a value against the flag's kind and words. It parses
// as the flag will, so that a value that passes can be set.
func checkValue(f Flag, s string) error {
	var err error
	switch f.Kind {
	case Bool:
		_, err = strconv.ParseBool(s)
	case Int:
		_, err = strconv.ParseInt(s, 0, 64)
	case Float:
		_, err = strconv.ParseFloat(s, 64)
	case Duration:
		_, err = time.ParseDuration(s)
	}
	if err != nil || f.Words != nil && !slices.Contains(f.Words, s) {
		if _, ferr := strconv.ParseFloat(s, 64); f.Kind == Duration && ferr == nil {
			// time.ParseDuration wants a unit even for 5.
			return fmt.Errorf("%q, a duration without a unit (did you mean %ss?)", s, s)
		}
		return fmt.Errorf("%q, not %s", s, f.wants())
	}
	return nil
}

// wants says what a flag takes, for messages.
func (f Flag) wants() string {
	if f.Words != nil {
		return "one of " + strings.Join(f.Words, ", ")
	}
	switch f.Kind {
	case Bool:
		return "true or false"
	case Int:
		return "a whole number"
	case Float:
		return "a number"
	case Duration:
		return "a duration (500ms, 2s)"
	case List:
		return "a value or a list of values"
	}
	return "a single value"
}

// describe names a value from the file for messages.
func describe(raw any) string {
	switch raw.(type) {
	case nil:
		return "empty"
	case map[string]any:
		return "a section"
	case []any:
		return "a list"
	}
	s, _ := scalarString(raw)
	return strconv.Quote(s)
}

// scalarString writes a YAML, TOML or JSON scalar as it would be typed on
// the command line.
func scalarString(x any) (string, bool) {
	switch x := x.(type) {
	case string:
		return x, true
	case bool:
		return strconv.FormatBool(x), true
	case int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64:
		return fmt.Sprint(x), true
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < 1<<53 {
			return strconv.FormatInt(int64(x), 10), true // JSON numbers are float64
		}
		return strconv.FormatFloat(x, 'g', -1, 64), true
	case float32:
		return scalarString(float64(x))
	case time.Time:
		return x.Format(time.RFC3339Nano), true // YAML reads a bare RFC 3339 time as a timestamp
	}
	return "", false
}
