package cmd

import (
	"github.com/oscli/oscli/internal/match"
	"github.com/oscli/oscli/internal/osc"
)

// filterSet is --filter and --exclude, shared by dump and replay.
type filterSet struct {
	include, exclude []*match.Pattern
}

// pass reports whether a packet is shown or sent: a message passes when it
// matches an include pattern (or there are none) and no exclude pattern; a
// bundle when any of its messages passes.
func (f *filterSet) pass(p osc.Packet) bool {
	if len(f.include) == 0 && len(f.exclude) == 0 {
		return true
	}
	switch p := p.(type) {
	case *osc.Message:
		for _, x := range f.exclude {
			if x.Match(p.Address) {
				return false
			}
		}
		if len(f.include) == 0 {
			return true
		}
		for _, in := range f.include {
			if in.Match(p.Address) {
				return true
			}
		}
		return false
	case *osc.Bundle:
		for _, e := range p.Elements {
			if f.pass(e) {
				return true
			}
		}
	}
	return false
}
