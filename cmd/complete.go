package cmd

import (
	"sort"
	"strings"

	"github.com/spf13/cobra"
)

// Shell completion: enum flags complete their values, a target word
// starting with '@' completes from the config file's targets, and OSC
// addresses get no file names.

var flagValues = map[string][]string{
	"format":  {"text", "json", "hex", "raw"},
	"color":   {"auto", "always", "never"},
	"time":    {"local", "utc", "unix", "rel", "none"},
	"proto":   {"udp", "tcp", "unix"},
	"framing": {"auto", "slip", "len"},
}

// addCompletions registers value completion on c's enum flags and, when
// targets is true, @name completion for its positional words.
func addCompletions(env *Env, c *cobra.Command, targets bool) {
	for name, vals := range flagValues {
		if c.Flags().Lookup(name) == nil {
			continue
		}
		if c.Name() != "dump" && name == "framing" {
			vals = []string{"slip", "len"}
		}
		if c.Name() == "replay" && name == "format" {
			vals = []string{"json", "oscdump", "slip"}
		}
		_ = c.RegisterFlagCompletionFunc(name, cobra.FixedCompletions(vals, cobra.ShellCompDirectiveNoFileComp))
	}
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
		for name, url := range v.GetStringMapString("targets") {
			if strings.HasPrefix("@"+name, toComplete) {
				out = append(out, "@"+name+"\t"+url)
			}
		}
		sort.Strings(out)
		return out, cobra.ShellCompDirectiveNoFileComp
	}
}
