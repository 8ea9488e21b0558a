package cmd

import (
	"sort"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/oscli/oscli/internal/config"
	"github.com/oscli/oscli/internal/format"
)

// Shell completion: enum flags complete their values, a target word
// starting with '@' completes from the config file's targets, and OSC
// addresses get no file names.

// enumValues lists the values a flag of a command takes when it takes one
// of a few words, else nil: for completion, and to check values from the
// environment and the config file.
func enumValues(command, flag string) []string {
	switch flag {
	case "format":
		if command == "replay" {
			return []string{"json", "oscdump", "slip"}
		}
		return format.Formats
	case "color":
		return []string{"auto", "always", "never"}
	case "time":
		return []string{"local", "utc", "unix", "rel", "none"}
	case "sort":
		if command == "top" {
			return []string{"address", "rate", "recent", "count"}
		}
	case "proto":
		return []string{"udp", "tcp", "unix"}
	case "framing":
		if command == "dump" || command == "top" {
			return []string{"auto", "slip", "len"}
		}
		return []string{"slip", "len"}
	}
	return nil
}

// addCompletions registers value completion on c's enum flags and, when
// targets is true, @name completion for its positional words.
func addCompletions(env *Env, c *cobra.Command, targets bool) {
	c.Flags().VisitAll(func(f *pflag.Flag) {
		if vals := enumValues(c.Name(), f.Name); vals != nil {
			_ = c.RegisterFlagCompletionFunc(f.Name, cobra.FixedCompletions(vals, cobra.ShellCompDirectiveNoFileComp))
		}
	})
	if !targets {
		return
	}
	c.ValidArgsFunction = func(_ *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
		if c.Name() == "replay" && len(args) == 0 {
			return nil, cobra.ShellCompDirectiveDefault // the recording: a file
		}
		if !strings.HasPrefix(toComplete, "@") {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		v, err := loadConfig(env, env.configPath)
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		var out []string
		for name, url := range config.Targets(fileSettings(v)) {
			if strings.HasPrefix("@"+name, toComplete) {
				out = append(out, "@"+name+"\t"+url)
			}
		}
		sort.Strings(out)
		return out, cobra.ShellCompDirectiveNoFileComp
	}
}
