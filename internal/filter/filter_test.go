package filter

import (
	"strings"
	"testing"

	"github.com/oscli/oscli/internal/osc"
)

func TestSet(t *testing.T) {
	msg := func(a string) *osc.Message { return &osc.Message{Address: a} }
	for _, tt := range []struct {
		name             string
		include, exclude []string
		pass, fail       []osc.Packet
	}{
		{"empty", nil, nil, []osc.Packet{msg("/a"), &osc.Bundle{}}, nil},
		{"include", []string{"/1/*", "//level"}, nil,
			[]osc.Packet{msg("/1/fader"), msg("/x/y/level"), &osc.Bundle{Elements: []osc.Packet{msg("/2"), msg("/1/a")}}},
			[]osc.Packet{msg("/2/fader"), msg("/1/a/b"), &osc.Bundle{Elements: []osc.Packet{msg("/2")}}, &osc.Bundle{}}},
		{"exclude", nil, []string{"/ping"}, []osc.Packet{msg("/pong")}, []osc.Packet{msg("/ping")}},
		{"both", []string{"/1/*"}, []string{"/1/ping"}, []osc.Packet{msg("/1/a")}, []osc.Packet{msg("/1/ping"), msg("/2/a")}},
		{"nested bundle", []string{"/deep"}, nil,
			[]osc.Packet{&osc.Bundle{Elements: []osc.Packet{&osc.Bundle{Elements: []osc.Packet{msg("/deep")}}}}}, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := mustSet(t, tt.include, tt.exclude)
			for _, p := range tt.pass {
				if !s.Pass(p) {
					t.Errorf("%v did not pass", p)
				}
			}
			for _, p := range tt.fail {
				if s.Pass(p) {
					t.Errorf("%v passed", p)
				}
			}
		})
	}
	var zero *Set
	if !zero.Pass(msg("/a")) {
		t.Error("a nil set must pass everything")
	}
}

func mustSet(t *testing.T, include, exclude []string) *Set {
	t.Helper()
	s := &Set{}
	for _, p := range include {
		if err := s.Include(p); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range exclude {
		if err := s.Exclude(p); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

func TestBadPattern(t *testing.T) {
	s := &Set{}
	if err := s.Include("/a[z-a]"); err == nil || !strings.Contains(err.Error(), "offset") {
		t.Errorf("include: %v", err)
	}
	if err := s.Exclude("/{a"); err == nil {
		t.Errorf("exclude: %v", err)
	}
	if !s.Empty() {
		t.Error("a bad pattern was kept")
	}
}

func TestPassDoesNotAllocate(t *testing.T) {
	s := mustSet(t, []string{"/1/*"}, []string{"/1/ping"})
	b := &osc.Bundle{Elements: []osc.Packet{&osc.Message{Address: "/2"}, &osc.Message{Address: "/1/x"}}}
	if n := testing.AllocsPerRun(100, func() { s.Pass(b) }); n != 0 {
		t.Errorf("Pass allocates %v times", n)
	}
}
