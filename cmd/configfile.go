package cmd

// Reading the config file: where it is, and its settings as plain data
// for internal/config, which decides what they mean.

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/goccy/go-yaml"

	"github.com/oscli/oscli/internal/config"
)

// configFileData is a config file read: its settings by top-level key
// (keys in lower case at every level, so "Port" and "port" are one
// setting and @Mixer finds "mixer"), and its path ("" for none).
type configFileData struct {
	Settings map[string]any
	Path     string
}

// loadConfig reads the config file: --config FILE (which must exist), else
// $XDG_CONFIG_HOME/oscli/config.yaml (or ~/.config/oscli/config.yaml) if
// present. It returns empty settings when there is none. The file is YAML
// (or JSON, by its .json extension); internal/config decides what its
// settings mean.
func loadConfig(env *Env, explicit string) (configFileData, error) {
	path := configFile(env, explicit)
	if path == "" {
		return configFileData{Settings: map[string]any{}}, nil
	}
	ext := strings.ToLower(filepath.Ext(path))
	typ := "YAML"
	switch ext {
	case "", ".yaml", ".yml":
	case ".json":
		typ = "JSON"
	default:
		return configFileData{}, usageErrorf("config file %s: unknown format %q (want YAML: .yaml or .yml; or JSON: .json)", path, ext)
	}
	data, err := readFileMax(path, config.MaxFile, "too big for a config file")
	var big *fileTooBigError
	switch {
	case os.IsNotExist(err):
		return configFileData{}, usageErrorf("config file %s does not exist", path)
	case errors.As(err, &big):
		return configFileData{}, usageErrorf("config %v", err)
	case err != nil:
		return configFileData{}, usageErrorf("config file %s: %v", path, err)
	}
	var raw any
	if typ == "JSON" {
		err = json.Unmarshal(data, &raw)
	} else {
		err = yaml.Unmarshal(data, &raw)
	}
	if err != nil {
		return configFileData{}, usageErrorf("config file %s is not valid %s: %s", path, typ, parseWhy(err))
	}
	settings := map[string]any{}
	switch m := lowerKeys(raw).(type) {
	case nil: // an empty file
	case map[string]any:
		settings = m
	default:
		return configFileData{}, usageErrorf("config file %s is not valid %s: want settings (key: value), not a %s", path, typ, kindOf(m))
	}
	return configFileData{Settings: settings, Path: path}, nil
}

// parseWhy is a parse error's first line, "[2:1] mapping key "a" already
// defined" read as "line 2, column 1: mapping key …": the YAML parser
// goes on to quote the file, which a one-line error leaves out.
func parseWhy(err error) string {
	why, _, _ := strings.Cut(err.Error(), "\n")
	if rest, ok := strings.CutPrefix(why, "["); ok {
		if pos, msg, ok := strings.Cut(rest, "] "); ok {
			if line, col, ok := strings.Cut(pos, ":"); ok {
				why = "line " + line + ", column " + col + ": " + msg
			}
		}
	}
	return why
}

// lowerKeys returns v with every map key in lower case, at every level;
// YAML's non-string keys (port numbers as keys) become their text.
func lowerKeys(v any) any {
	switch v := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(v))
		for k, e := range v {
			m[strings.ToLower(k)] = lowerKeys(e)
		}
		return m
	case map[any]any:
		m := make(map[string]any, len(v))
		for k, e := range v {
			m[strings.ToLower(fmt.Sprint(k))] = lowerKeys(e)
		}
		return m
	case []any:
		for i, e := range v {
			v[i] = lowerKeys(e)
		}
	}
	return v
}

// kindOf names a decoded value's kind for an error: "list", "string"…
func kindOf(v any) string {
	switch v.(type) {
	case []any:
		return "list"
	case string:
		return "string"
	case bool:
		return "boolean"
	}
	return "number"
}

// configFile names the config file to read: explicit (--config), else
// OSCLI_CONFIG (both must exist), else the default file when it is there;
// "" for none.
func configFile(env *Env, explicit string) string {
	if explicit != "" {
		return explicit
	}
	if path := env.Getenv("OSCLI_CONFIG"); path != "" {
		return path
	}
	dir := env.Getenv("XDG_CONFIG_HOME")
	if dir == "" {
		if home := env.Getenv("HOME"); home != "" {
			dir = filepath.Join(home, ".config")
		}
	}
	if dir == "" {
		return ""
	}
	path := filepath.Join(dir, "oscli", "config.yaml")
	if _, err := os.Stat(path); err != nil {
		return ""
	}
	return path
}
