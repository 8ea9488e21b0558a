package main

import (
	"go/build"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const module = "github.com/oscli/oscli"

// TestLayering keeps the arrows of STYLE.md honest: the codec, matcher,
// hexdump, SLIP, clock, config and termsafe packages use only the standard
// library (config checks settings without cobra, pflag or viper; the
// codec's text syntax escapes with termsafe, itself std-only); only cmd
// uses cobra and the YAML parser; only iostreams and format touch colour
// and TTY libraries; only transport and zeroconf use x/net; only oscquery
// and transport (ws://) use coder/websocket; only zeroconf pion/mdns and
// x/sys; only topview the Charm libraries (Bubble Tea, Lip Gloss);
// nothing in internal/ imports cmd;
// and every internal package is listed here with what it may import, so a
// new one has to be placed on purpose.
func TestLayering(t *testing.T) {
	stdOnly := map[string]bool{"osc": true, "match": true, "hexdump": true, "slip": true, "testvec": true, "clock": true, "config": true, "termsafe": true, "suggest": true, "roff": true}
	allowedInternal := map[string][]string{
		"osc":       {"termsafe"}, // std-only packages may use other std-only ones listed here
		"config":    {"suggest"},
		"argparse":  {"osc"},
		"filter":    {"osc", "match"},
		"format":    {"osc", "argparse", "hexdump", "iostreams", "slip", "termsafe"},
		"record":    {"osc", "format", "slip"},
		"bench":     {"osc", "clock"},
		"iostreams": {},
		"transport": {"clock", "osc", "slip"},
		"pipeline":  {"clock", "filter", "format", "osc", "transport"},
		"sender":    {"format", "hexdump", "osc", "transport"},
		"replay":    {"clock", "filter", "osc", "record", "sender"},
		"oscquery":  {"match", "osc", "termsafe"},
		"zeroconf":  {"clock"},
		"tap":       {"clock", "filter", "osc", "transport"},
		"top":       {"clock", "format", "osc"},
		"topview":   {"clock", "hexdump", "match", "osc", "termsafe", "top"},
	}
	dirs, err := os.ReadDir("internal")
	if err != nil {
		t.Fatal(err)
	}
	seen := 0
	for _, d := range dirs {
		if !d.IsDir() {
			continue
		}
		pkg, err := build.ImportDir(filepath.Join("internal", d.Name()), 0)
		if err != nil {
			t.Fatalf("%s: %v", d.Name(), err)
		}
		seen++
		name := d.Name()
		if _, ok := allowedInternal[name]; !ok && !stdOnly[name] {
			t.Errorf("internal/%s is not placed in TestLayering: add it with the packages it may import", name)
		}
		for _, imp := range pkg.Imports {
			isStd := !strings.Contains(strings.Split(imp, "/")[0], ".")
			switch {
			case isStd:
			case stdOnly[name]:
				if target, ok := strings.CutPrefix(imp, module+"/internal/"); ok && stdOnly[target] && contains(allowedInternal[name], target) {
					continue
				}
				t.Errorf("internal/%s imports %s; it may use only the standard library", name, imp)
			case strings.HasPrefix(imp, module+"/cmd"):
				t.Errorf("internal/%s imports %s; arrows point from cmd to internal", name, imp)
			case strings.Contains(imp, "spf13/cobra"), strings.Contains(imp, "spf13/pflag"), strings.Contains(imp, "goccy/go-yaml"):
				t.Errorf("internal/%s imports %s; only cmd may", name, imp)
			case strings.HasPrefix(imp, "github.com/coder/websocket"):
				// OSCQuery's WebSocket (LISTEN, value streams) is its own
				// protocol; the ws:// OSC transport wraps the library in
				// transport.
				if name != "oscquery" && name != "transport" {
					t.Errorf("internal/%s imports %s; only oscquery and transport may", name, imp)
				}
			case strings.HasPrefix(imp, "golang.org/x/net"):
				if name != "transport" && name != "zeroconf" {
					t.Errorf("internal/%s imports %s; only transport and zeroconf may", name, imp)
				}
			case strings.HasPrefix(imp, "github.com/pion/"), strings.HasPrefix(imp, "golang.org/x/sys"):
				// The mDNS responder and SO_REUSEPORT: multicast DNS only.
				if name != "zeroconf" {
					t.Errorf("internal/%s imports %s; only zeroconf may", name, imp)
				}
			case strings.HasPrefix(imp, "charm.land/"), strings.HasPrefix(imp, "github.com/charmbracelet/"):
				if name != "topview" {
					t.Errorf("internal/%s imports %s; only topview may (the Charm libraries draw top's screen)", name, imp)
				}
			case strings.Contains(imp, "fatih/color"), strings.Contains(imp, "go-isatty"):
				if name != "iostreams" && name != "format" {
					t.Errorf("internal/%s imports %s; only iostreams and format may", name, imp)
				}
			case strings.HasPrefix(imp, module+"/internal/"):
				target := strings.TrimPrefix(imp, module+"/internal/")
				if !contains(allowedInternal[name], target) {
					t.Errorf("internal/%s imports internal/%s; not an arrow of STYLE.md", name, target)
				}
			}
		}
	}
	if seen < 4 {
		t.Fatalf("only %d internal packages found", seen)
	}
	// Libraries that one internal package wraps are not reached around
	// from cmd either.
	cmd, err := build.ImportDir("cmd", 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, imp := range cmd.Imports {
		if strings.HasPrefix(imp, "github.com/coder/websocket") || strings.HasPrefix(imp, "golang.org/x/net") {
			t.Errorf("cmd imports %s; only internal/transport may", imp)
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
