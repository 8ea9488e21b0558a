package suggest

import (
	"reflect"
	"testing"
)

func TestClosest(t *testing.T) {
	flags := []string{"count", "timeout", "time", "filter", "format", "verbose", "interval", "repeat", "reply"}
	tests := []struct {
		word string
		want []string
	}{
		{"cout", []string{"count"}},
		{"timeuot", []string{"timeout"}},
		{"tim", []string{"timeout", "time"}}, // a prefix of both
		{"verb", []string{"verbose"}},        // a prefix
		{"reaply", []string{"reply"}},        // one edit
		{"repat", []string{"repeat"}},        // one edit
		{"filtre", []string{"filter"}},       // a swap is one edit
		{"xyz", nil},
		{"count", nil}, // the word itself is not a suggestion
		{"COUT", []string{"count"}},
		{"fomrat", []string{"format"}},
	}
	for _, tt := range tests {
		if got := Closest(tt.word, flags); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Closest(%q) = %q, want %q", tt.word, got, tt.want)
		}
	}
}

func TestDistance(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"", "", 0}, {"a", "", 1}, {"", "abc", 3}, {"kitten", "sitting", 3}, {"send", "send", 0}, {"dmup", "dump", 1}, {"ab", "ba", 1}, {"abc", "ca", 3},
	}
	for _, tt := range tests {
		if got := distance(tt.a, tt.b); got != tt.want {
			t.Errorf("distance(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
	}
}
