package cmd

import (
	"bytes"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"

	"github.com/oscli/oscli/internal/config"
)

// pageName is "OSCLI-SEND" for man/oscli-send.1, and its section.
func pageName(file string) (string, string) {
	base := strings.TrimPrefix(file, "man/")
	i := strings.LastIndexByte(base, '.')
	return strings.ToUpper(base[:i]), base[i+1:]
}

// Every generated page is titled after itself, has the sections a user
// looks for, and contains no Markdown.
func TestManPages(t *testing.T) {
	files, err := GenerateDocs("", func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	sections := func(page string) []string {
		var out []string
		for _, m := range regexp.MustCompile(`(?m)^\.SH "([^"]*)"$`).FindAllStringSubmatch(page, -1) {
			out = append(out, m[1])
		}
		return out
	}
	want := map[string][]string{
		"man/oscli.1": {"NAME", "SYNOPSIS", "DESCRIPTION", "COMMANDS", "OPTIONS", "TARGETS", "TEXT SYNTAX",
			"EXIT STATUS", "ENVIRONMENT", "FILES", "SEE ALSO"},
		"man/oscli-json.5":    {"NAME", "SYNOPSIS", "DESCRIPTION", "FIELDS", "MESSAGES", "BUNDLES", "READING", "EXAMPLES", "SEE ALSO"},
		"man/oscli-version.1": {"NAME", "SYNOPSIS", "DESCRIPTION", "OPTIONS", "GLOBAL OPTIONS", "SEE ALSO"},
	}
	for _, c := range []string{"dump", "send", "bundle", "bench", "replay"} {
		want["man/oscli-"+c+".1"] = []string{"NAME", "SYNOPSIS", "DESCRIPTION", "OPTIONS", "GLOBAL OPTIONS",
			"EXIT STATUS", "ENVIRONMENT", "EXAMPLES", "SEE ALSO"}
	}
	pages := 0
	for name, data := range files {
		if !strings.HasPrefix(name, "man/") {
			continue
		}
		pages++
		page := string(data)
		title, sec := pageName(name)
		th := `.TH "` + strings.ReplaceAll(title, "-", `\-`) + `" "` + sec + `" `
		if !strings.Contains(page, "\n"+th) {
			t.Errorf("%s: no %s... line", name, th)
		}
		for _, bad := range []string{"](", "`", "**"} {
			if strings.Contains(page, bad) {
				t.Errorf("%s contains Markdown %q", name, bad)
			}
		}
		for i, c := range page {
			if c > '~' || c < ' ' && c != '\n' {
				t.Errorf("%s: byte %d is %q, not printable ASCII", name, i, c)
				break
			}
		}
		if w, ok := want[name]; ok {
			if got := sections(page); strings.Join(got, ",") != strings.Join(w, ",") {
				t.Errorf("%s has sections\n%q\nwant\n%q", name, got, w)
			}
		} else if got := sections(page); len(got) < 4 || got[0] != "NAME" || got[len(got)-1] != "SEE ALSO" {
			t.Errorf("%s has sections %q", name, got)
		}
	}
	if pages != 22 {
		t.Errorf("%d man pages, want 22 (oscli, 10 commands, query's 4, version, completion and its 4 shells, oscli-json)", pages)
	}
	root := string(files["man/oscli.1"])
	for _, s := range []string{"OSCLI_CONFIG", "NO_COLOR", "CLICOLOR_FORCE", "XDG_CONFIG_HOME", "oscli/config.yaml",
		`\fB130\fR`, `\fBoscli\-json\fR(5)`, `\fBoscli\-send\fR(1)`} {
		if !strings.Contains(root, s) {
			t.Errorf("oscli.1 does not mention %s", s)
		}
	}
}

// Each variable a command's page lists is one the config code reads for
// that command's flag, and every flag of the command is listed.
func TestManPagesListRealVariables(t *testing.T) {
	files, err := GenerateDocs("", func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	env, _, _ := testEnv("")
	root := newRootCmd(env)
	sch := schema(root)
	entry := regexp.MustCompile(`(?m)^\.TP\n(\\fBOSCLI_[^\n]*)\n\\-\\-((?:[a-z0-9]|\\-)+):`)
	for _, c := range sch.Commands {
		page := string(files["man/oscli-"+c.Name+".1"])
		listed := map[string]bool{}
		for _, m := range entry.FindAllStringSubmatch(page, -1) {
			flag := strings.ReplaceAll(m[2], `\-`, "-")
			listed[flag] = true
			var f config.Flag
			for _, cf := range c.Flags {
				if cf.Name == flag {
					f = cf
				}
			}
			if f.Name == "" {
				t.Errorf("oscli-%s.1 lists --%s, which %s does not have", c.Name, flag, c.Name)
				continue
			}
			for _, v := range regexp.MustCompile(`OSCLI_[A-Z0-9_]+`).FindAllString(m[1], -1) {
				res := config.Resolve(config.Input{
					Schema: sch, Command: c.Name, Flags: []config.Flag{f},
					Getenv: func(k string) string {
						if k == v {
							return "1"
						}
						return ""
					},
				})
				if len(res.Settings) != 1 || res.Settings[0].Env != v {
					t.Errorf("oscli-%s.1 lists %s for --%s, but %s does not read it: %+v", c.Name, v, flag, c.Name, res.Settings)
				}
			}
		}
		for _, f := range c.Flags {
			if !listed[f.Name] {
				t.Errorf("oscli-%s.1 does not list a variable for --%s", c.Name, f.Name)
			}
		}
	}
}

// groff formats every page without a warning, and what a reader sees has
// the page's title, unbroken options and no Markdown.
func TestManPagesGroff(t *testing.T) {
	groff, err := exec.LookPath("groff")
	if err != nil {
		if os.Getenv("OSCLI_REQUIRE_PEERS") == "1" {
			t.Fatal("groff not found and OSCLI_REQUIRE_PEERS=1 (apt-get install groff-base)")
		}
		t.Skip("groff not found (apt-get install groff-base)")
	}
	files, err := GenerateDocs("", func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	for name, data := range files {
		if !strings.HasPrefix(name, "man/") {
			continue
		}
		run := func(args ...string) string {
			cmd := exec.Command(groff, append(args, "-")...)
			cmd.Stdin = bytes.NewReader(data)
			var out, errb bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &errb
			if err := cmd.Run(); err != nil || errb.Len() > 0 {
				t.Errorf("groff %s %s: %v\n%s", strings.Join(args, " "), name, err, errb.String())
			}
			return out.String()
		}
		run("-ww", "-z", "-man", "-Tutf8")
		text := run("-man", "-Tutf8", "-rLL=80n", "-P", "-cbou")
		title, sec := pageName(name)
		if first, _, _ := strings.Cut(text, "\n"); !strings.HasPrefix(first, title+"("+sec+")") {
			t.Errorf("%s: rendered title line %q, want %s(%s)", name, first, title, sec)
		}
		for _, bad := range []string{"](", "**", "`", "##", "\u2010", "\u2018", "\u2019", "\\f", "\\-"} {
			if strings.Contains(text, bad) {
				t.Errorf("%s: rendered text contains %q", name, bad)
			}
		}
	}
}
