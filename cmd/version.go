package cmd

import (
	"fmt"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// BuildInfo says which build this is. Release builds set it through
// ldflags; otherwise it comes from the module's build information.
type BuildInfo struct {
	Version string
	Commit  string
	Date    string
}

// resolve fills what ldflags did not set from debug.ReadBuildInfo.
func (b BuildInfo) resolve() BuildInfo {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		info = &debug.BuildInfo{}
	}
	if b.Version == "" {
		b.Version = info.Main.Version
	}
	if b.Version == "" || b.Version == "(devel)" {
		b.Version = "dev"
	}
	for _, s := range info.Settings {
		switch {
		case s.Key == "vcs.revision" && b.Commit == "":
			b.Commit = s.Value
		case s.Key == "vcs.time" && b.Date == "":
			b.Date = s.Value
		}
	}
	if b.Commit == "" {
		b.Commit = "unknown"
	}
	if b.Date == "" {
		b.Date = "unknown"
	}
	return b
}

func newVersionCmd(env *Env) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version, commit and build date",
		Args:  needArgs(0, 0, "", "version takes no arguments"),
		RunE:  func(*cobra.Command, []string) error { return printVersion(env) },
	}
}

// printVersion is 'oscli version' and 'oscli --version'.
func printVersion(env *Env) error {
	b := env.Build.resolve()
	_, err := fmt.Fprintf(env.Out, "oscli %s (commit %s, built %s)\n", b.Version, b.Commit, b.Date)
	return err
}
