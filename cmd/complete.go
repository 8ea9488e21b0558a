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
		if command == "dump" || command == "tap" {
			return []string{"udp", "tcp", "unix", "ws"}
		}
		return []string{"udp", "tcp", "unix", "ws", "wss"}
	case "to-framing":
		return []string{"slip", "len"}
	case "framing":
		if command == "dump" || command == "tap" || command == "top" {
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
		switch {
		case c.Name() == "replay" && len(args) == 0, c.Name() == "serve":
			return nil, cobra.ShellCompDirectiveDefault // a file: the recording, TREE.json
		case c.Name() == "query":
			// query's @NAME is an OSCQuery server on the network, never a
			// config target (those are OSC ports): nothing to offer.
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		if !strings.HasPrefix(toComplete, "@") {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		file, err := loadConfig(env, env.configPath)
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		var out []string
		for name, url := range config.Targets(file.Settings) {
			if strings.HasPrefix("@"+name, toComplete) {
				out = append(out, "@"+name+"\t"+url)
			}
		}
		sort.Strings(out)
		return out, cobra.ShellCompDirectiveNoFileComp
	}
}
