package cmd

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// The oscli column of README.md's liblo and oscpy migration tables holds
// command lines that oscli accepts (the left column is the other tool's).
func TestReadmeMigrationTables(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, sec, ok := strings.Cut(string(readme), "\n## From liblo and oscpy\n")
	if !ok {
		t.Fatal(`README.md has no "## From liblo and oscpy" section`)
	}
	sec, _, _ = strings.Cut(sec, "\n## ")
	exampleWorld(t)
	span := regexp.MustCompile("`(oscli [^`]*)`")
	n := 0
	for _, row := range strings.Split(sec, "\n") {
		if !strings.HasPrefix(row, "| `") {
			continue
		}
		cells := strings.Split(row, " | ")
		for _, m := range span.FindAllStringSubmatch(cells[len(cells)-1], -1) {
			for _, line := range oscliLines(m[1]) {
				checkInvocation(t, "README.md migration table", line)
				n++
			}
		}
	}
	if n < 25 {
		t.Errorf("only %d oscli commands in README.md's migration tables", n)
	}
}
