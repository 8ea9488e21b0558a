// Package filter chooses packets by their messages' addresses, for
// dump's and replay's --filter and --exclude and their kin. It compiles the user's OSC address patterns and matches decoded packets; it
// does not decode or print anything.
package filter

import (
	"github.com/oscli/oscli/internal/match"
	"github.com/oscli/oscli/internal/osc"
)

// Set is a list of patterns to include and a list to exclude. The zero
// Set passes everything.
type Set struct {
	include, exclude []*match.Pattern
}

// Include adds a pattern a message must match (any one of them).
func (s *Set) Include(pattern string) error {
	p, err := match.Compile(pattern)
	if err == nil {
		s.include = append(s.include, p)
	}
	return err
}

// Exclude adds a pattern no message may match.
func (s *Set) Exclude(pattern string) error {
	p, err := match.Compile(pattern)
	if err == nil {
		s.exclude = append(s.exclude, p)
	}
	return err
}

// Empty reports whether the set passes everything.
func (s *Set) Empty() bool { return s == nil || len(s.include) == 0 && len(s.exclude) == 0 }

// HasIncludes reports whether the set has patterns to include: then a
// packet that matches none of them (or does not decode) does not pass.
func (s *Set) HasIncludes() bool { return s != nil && len(s.include) > 0 }

// Pass reports whether a packet is shown or sent: a message passes when it
// matches an include pattern (or there are none) and no exclude pattern; a
// bundle when any of its messages passes.
func (s *Set) Pass(p osc.Packet) bool {
	if s.Empty() {
		return true
	}
	switch p := p.(type) {
	case *osc.Message:
		return s.PassAddress(p.Address)
	case *osc.Bundle:
		for _, e := range p.Elements {
			if s.Pass(e) {
				return true
			}
		}
	}
	return false
}

// PassAddress reports whether a message with this address passes.
func (s *Set) PassAddress(addr string) bool {
	if s.Empty() {
		return true
	}
	for _, x := range s.exclude {
		if x.Match(addr) {
			return false
		}
	}
	if len(s.include) == 0 {
		return true
	}
	for _, in := range s.include {
		if in.Match(addr) {
			return true
		}
	}
	return false
}
