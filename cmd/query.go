package cmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/oscli/oscli/internal/clock"
	"github.com/oscli/oscli/internal/format"
	"github.com/oscli/oscli/internal/iostreams"
	"github.com/oscli/oscli/internal/match"
	"github.com/oscli/oscli/internal/osc"
	"github.com/oscli/oscli/internal/oscquery"
	"github.com/oscli/oscli/internal/termsafe"
	"github.com/oscli/oscli/internal/transport"
)

// queryTarget is the server a query command asks and the OSC address it
// asks about.
type queryTarget struct {
	Client *oscquery.Client
	Path   string
}

type queryOptions struct {
	IO    *iostreams.IOStreams
	Clock clock.Clock
	queryTarget
	JSON    bool
	Depth   int
	Filters []*match.Pattern
}

func newQueryCmd(env *Env, runF func(*queryOptions) error) *cobra.Command {
	o := &queryOptions{}
	var (
		timeout time.Duration
		filters []string
	)
	c := &cobra.Command{
		Use:   "query URL [PATH] | query get|set|watch|info URL …",
		Short: "Read, set and watch an application's OSC address space (OSCQuery)",
		Long: `Ask an OSCQuery server (Vidvox/OSCQueryProposal: VRChat, MadMapper,
Chataigne, ossia score, RNBO, 'oscli serve') for its address space and print
it as a tree: each address with its types, access (r, w, rw, - for none),
current value in the syntax 'oscli send' reads ('-' for a value the server
does not give), range (MIN..MAX, or the VALS allowed, a|b|c), unit and
description. A header says the server's name, where its OSC server is and
whether it streams values (LISTEN).

URL is http://host:port (https too), host:port or a port on 127.0.0.1; a
path in the URL is taken as PATH. URL may be @NAME: the OSCQuery server
advertised as NAME with DNS-SD (_oscjson._tcp, as VRChat and 'oscli serve
--advertise' do; 'oscli browse' lists them), compared without case and
looked for up to 2 s; the config file's targets name OSC ports and do not
count here. PATH shows only the tree under that address. --depth N stops
N levels below it; --filter PATTERN (OSC address patterns, repeatable)
shows the addresses that match and the containers that hold them. --json
prints the server's JSON as it came.

Every request has --timeout; what a server sends is bounded (16 MiB,
100,000 nodes, 64 levels), and every string from it is escaped before it
reaches the terminal.

  query get URL PATH          print the current value
  query set URL PATH VALUE…   check the values against TYPE, RANGE and ACCESS,
                              then send them to the server's OSC port
  query watch URL [PATTERN…]  print every value change (LISTEN, else polling)
  query info URL              print HOST_INFO`,
		Example: `  oscli query http://127.0.0.1:5678
  oscli query 127.0.0.1:5678 /baz --depth 1
  oscli query 5678 --filter '/avatar/parameters/*'
  oscli query http://127.0.0.1:5678 --json > tree.json
  oscli query get 5678 /foo
  oscli query set 5678 /bar 4 51
  oscli query watch 5678
  oscli query @VRChat-Client-A1B2C3 /avatar/parameters`,
		Args: needArgs(1, 2, "query needs a URL: oscli query URL [PATH] (or query get|set|watch|info URL …)", "query takes a URL and a PATH at most"),
		RunE: func(c *cobra.Command, args []string) error {
			io, err := env.streams()
			if err != nil {
				return err
			}
			o.IO, o.Clock = io, env.Clock
			if o.queryTarget, err = resolveQueryTarget(env, args[0], args[1:], timeout); err != nil {
				return queryWordHint(c, args[0], err)
			}
			if err := inRange("depth", o.Depth, 0, -1); err != nil {
				return err
			}
			for _, f := range filters {
				p, err := match.Compile(f)
				if err != nil {
					return usageErrorf("--filter: %v", err)
				}
				o.Filters = append(o.Filters, p)
			}
			warnIdle(io.ErrOut, c.Flags(),
				idle{"depth", o.JSON, "with --json: the server's JSON is printed as it came"},
				idle{"filter", o.JSON, "with --json: the server's JSON is printed as it came"})
			env.awaitSignals()
			if runF != nil {
				return runF(o)
			}
			return runQuery(c.Context(), o)
		},
	}
	fs := c.Flags()
	addTimeoutFlag(fs, &timeout)
	fs.BoolVar(&o.JSON, "json", false, "print the server's JSON as it came")
	fs.IntVar(&o.Depth, "depth", 0, "show `N` levels below PATH (0: all)")
	fs.StringArrayVar(&filters, "filter", nil, "show only addresses matching `PATTERN`, with their containers (repeatable)")
	c.AddCommand(
		newQueryGetCmd(env, parseOnly[queryGetOptions](env)),
		newQuerySetCmd(env, parseOnly[querySetOptions](env)),
		newQueryWatchCmd(env, parseOnly[queryWatchOptions](env)),
		newQueryInfoCmd(env, parseOnly[queryInfoOptions](env)),
	)
	return c
}

// addTimeoutFlag adds --timeout, which bounds each HTTP request of a
// query command.
func addTimeoutFlag(fs *pflag.FlagSet, d *time.Duration) {
	fs.DurationVar(d, "timeout", oscquery.DefaultTimeout, "longest each HTTP request may take")
}

// queryWordHint adds, to a bad URL that is a subcommand misspelt
// ("oscli query gte URL"), the subcommand meant.
func queryWordHint(c *cobra.Command, word string, err error) error {
	var ue *usageError
	if errors.As(err, &ue) && !strings.ContainsAny(word, ":/@") {
		if c.SuggestionsMinimumDistance <= 0 {
			c.SuggestionsMinimumDistance = 2
		}
		if near := c.SuggestionsFor(word); len(near) > 0 {
			ue.hint = "did you mean 'oscli query " + near[0] + "'? " + helpHint(c)
		}
	}
	return err
}

// resolveQueryTarget reads a URL word (and the PATH after it, if any).
// The word is http://host:port[/path], https://…, host:port, a port on
// 127.0.0.1, or @NAME: the OSCQuery server (_oscjson._tcp) advertised as
// NAME with DNS-SD, looked up once the rest is checked (discoverQuery).
func resolveQueryTarget(env *Env, word string, rest []string, timeout time.Duration) (queryTarget, error) {
	if timeout <= 0 {
		return queryTarget{}, usageErrorf("--timeout %v: want more than 0", timeout)
	}
	var (
		base *url.URL
		path = "/"
		err  error
	)
	name, byName := strings.CutPrefix(word, "@")
	if !byName {
		if base, path, err = parseQueryURL(word); err != nil {
			return queryTarget{}, err
		}
	}
	if len(rest) > 0 {
		if path != "/" {
			return queryTarget{}, usageErrorf("the URL %q has a path and PATH %q is given too: give the path once", word, rest[0])
		}
		path = rest[0]
	}
	if !strings.HasPrefix(path, "/") {
		return queryTarget{}, &usageError{err: fmt.Errorf("PATH %q: an OSC address starts with '/'", path),
			hint: "oscli query URL /address"}
	}
	if byName {
		if base, err = discoverQuery(env, name); err != nil {
			return queryTarget{}, err
		}
	}
	return queryTarget{Client: &oscquery.Client{Base: base, Timeout: timeout}, Path: path}, nil
}

// parseQueryURL reads the URL word of the query commands.
func parseQueryURL(word string) (*url.URL, string, error) {
	bad := func(why string) (*url.URL, string, error) {
		return nil, "", &usageError{err: fmt.Errorf("URL %q: %s", word, why),
			hint: "write http://HOST:PORT, HOST:PORT or a PORT on 127.0.0.1 (OSCQuery's HTTP port, not its OSC port), or @NAME of one 'oscli browse' lists"}
	}
	s := word
	switch {
	case isDigits(word):
		s = "http://127.0.0.1:" + word
	case !strings.Contains(word, "://"):
		if _, _, err := net.SplitHostPort(word); err != nil {
			return bad("want a port")
		}
		s = "http://" + word
	}
	u, err := url.Parse(s)
	if err != nil {
		return bad("not a URL")
	}
	switch strings.ToLower(u.Scheme) {
	case "http", "https":
	case "ws", "wss":
		return bad("OSCQuery's URL is its HTTP server's (http://…); its WebSocket is found from there")
	default:
		return bad(fmt.Sprintf("scheme %q: OSCQuery speaks http (the OSC port is found from its HOST_INFO)", u.Scheme))
	}
	if u.Hostname() == "" {
		return bad("no host")
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return bad("the port must be 1 to 65535")
		}
	}
	path := u.Path
	if path == "" {
		path = "/"
	}
	u.Path, u.RawPath, u.RawQuery, u.Fragment = "", "", "", ""
	return u, path, nil
}

func runQuery(ctx context.Context, o *queryOptions) error {
	n, body, err := o.Client.Node(ctx, o.Path)
	if err != nil {
		return queryError(err)
	}
	if o.JSON {
		return writeBody(o.IO, body)
	}
	hi, _, herr := o.Client.HostInfo(ctx)
	if herr != nil && !errors.Is(herr, oscquery.ErrNoHostInfo) {
		var be *oscquery.BodyError
		if !errors.As(herr, &be) {
			return queryError(herr)
		}
		hi = nil
	}
	writeHostHeader(o.IO.Out, o.Client, hi, herr)
	rows := treeRows(n, o.Depth, o.Filters)
	if len(rows) == 0 {
		fmt.Fprintf(o.IO.ErrOut, "oscli: note: no address under %s matches --filter\n", termsafe.String(o.Path))
		return nil
	}
	return format.WriteTree(o.IO.Out, rows, o.IO.ColorOut())
}

// writeBody writes a server's JSON as it came, with a final newline. On
// a terminal each line goes through termsafe: valid JSON has no raw
// control characters, but it may hold raw C1 controls (U+009B, a CSI to
// some terminals) and bidi overrides.
func writeBody(ios *iostreams.IOStreams, body []byte) error {
	if ios.IsStdoutTTY() {
		var b []byte
		for _, line := range strings.Split(strings.TrimSuffix(string(body), "\n"), "\n") {
			b = append(termsafe.Append(b, line), '\n')
		}
		body = b
	}
	if len(body) == 0 || body[len(body)-1] != '\n' {
		body = append(body, '\n')
	}
	_, err := ios.Out.Write(body)
	return err
}

// writeHostHeader prints what HOST_INFO says, for people.
func writeHostHeader(w io.Writer, c *oscquery.Client, hi *oscquery.HostInfo, herr error) {
	proto, host, port := c.OSCAddress(hi)
	osc := transport.Endpoint{Proto: proto, Host: host, Port: port}
	if hi == nil {
		fprintSafe(w, "host info   none (%v); OSC assumed at %s\n", herr, osc)
		fmt.Fprintln(w)
		return
	}
	if hi.Name != "" {
		fprintSafe(w, "name        %s\n", hi.Name)
	}
	fprintSafe(w, "osc         %s\n", osc)
	if hi.Has("LISTEN") {
		fprintSafe(w, "listen      yes, %s\n", c.WebSocketURL(hi))
	} else {
		fmt.Fprintln(w, "listen      no (query watch polls VALUE)")
	}
	if names := hi.ExtensionNames(); len(names) > 0 {
		fprintSafe(w, "extensions  %s\n", strings.Join(names, " "))
	}
	fmt.Fprintln(w)
}

// treeRows lists the tree under n: depth levels (0: all), and with
// filters only the addresses matching one and the containers above them.
func treeRows(n *oscquery.Node, depth int, filters []*match.Pattern) []format.TreeRow {
	var rows []format.TreeRow
	var visit func(m *oscquery.Node, d int) []format.TreeRow
	visit = func(m *oscquery.Node, d int) []format.TreeRow {
		var below []format.TreeRow
		if depth == 0 || d < depth {
			for _, name := range m.Names() {
				below = append(below, visit(m.Contents[name], d+1)...)
			}
		}
		if len(filters) > 0 && len(below) == 0 && !matchesAny(filters, m.FullPath) {
			return nil
		}
		r := oscquery.Describe(m, d)
		row := format.TreeRow{Depth: r.Depth, Address: r.Address, Types: r.Types, Access: r.Access,
			Value: r.Value, Range: r.Range, Unit: r.Unit, Desc: r.Desc}
		return append([]format.TreeRow{row}, below...)
	}
	rows = visit(n, 0)
	return rows
}

func matchesAny(ps []*match.Pattern, addr string) bool {
	for _, p := range ps {
		if p.Match(addr) {
			return true
		}
	}
	return false
}

// queryError adds advice to what went wrong with a server.
func queryError(err error) error {
	var (
		re *oscquery.RequestError
		be *oscquery.BodyError
		se *oscquery.StatusError
	)
	switch {
	case errors.As(err, &re) && re.Timeout > 0:
		return &hintError{err: err, hint: "a slow server may need a longer --timeout"}
	case errors.As(err, &re):
		return &hintError{err: err, hint: "is the application running, and is this its OSCQuery (HTTP) port? VRChat's changes at every start"}
	case errors.As(err, &be), errors.As(err, &se) && se.Code == http.StatusNotFound && se.Path == "/":
		return &hintError{err: err, hint: "is this an OSCQuery server? its OSC port is another one"}
	case oscquery.NotFound(err):
		return &hintError{err: err, hint: "'oscli query URL' lists the addresses there are"}
	}
	return err
}

// --- get

type queryGetOptions struct {
	IO *iostreams.IOStreams
	queryTarget
	JSON bool
}

func newQueryGetCmd(env *Env, runF func(*queryGetOptions) error) *cobra.Command {
	o := &queryGetOptions{}
	var timeout time.Duration
	c := &cobra.Command{
		Use:   "get URL PATH",
		Short: "Print an address's current value",
		Long: `Print the current value of an OSC address as a line 'oscli send -' reads
(/foo f:0.5), so 'oscli query get URL /foo | oscli send 9000 -' copies it.
A value the server does not give (JSON null, blobs, MIDI) prints as '-'.
--json prints the server's {"VALUE": […]} as it came (when the server
answers the whole node, as VRChat does, its VALUE). An address without a
value, or one that cannot be read (ACCESS 2), is an error.`,
		Example: `  oscli query get http://127.0.0.1:5678 /foo
  oscli query get 5678 /baz/qux --json`,
		Args: needArgs(2, 2, "query get needs a URL and a PATH: oscli query get URL PATH", "query get takes a URL and a PATH"),
		RunE: func(c *cobra.Command, args []string) error {
			io, err := env.streams()
			if err != nil {
				return err
			}
			o.IO = io
			if o.queryTarget, err = resolveQueryTarget(env, args[0], args[1:], timeout); err != nil {
				return err
			}
			env.awaitSignals()
			if runF != nil {
				return runF(o)
			}
			return runQueryGet(c.Context(), o)
		},
	}
	c.Flags().BoolVar(&o.JSON, "json", false, "print the server's JSON for VALUE as it came")
	addTimeoutFlag(c.Flags(), &timeout)
	return c
}

func runQueryGet(ctx context.Context, o *queryGetOptions) error {
	v, has, node, raw, err := o.Client.Attr(ctx, o.Path, "VALUE")
	if err != nil {
		return queryError(err)
	}
	answered := node == nil // the server answered ?VALUE itself
	if node == nil {
		// The proposal's answer: the TYPE comes separately.
		t, hasType, n2, _, err := o.Client.Attr(ctx, o.Path, "TYPE")
		if err != nil {
			return queryError(err)
		}
		if n2 != nil {
			node = n2
		} else {
			node = &oscquery.Node{FullPath: o.Path, Access: oscquery.AccessUnknown, Value: v, HasValue: has}
			if s, ok := t.(string); ok && hasType {
				node.Type = strings.TrimPrefix(s, ",")
			}
		}
	}
	node.Value, node.HasValue = v, has
	switch {
	case node.Access != oscquery.AccessUnknown && !node.Readable():
		return fmt.Errorf("%s cannot be read (ACCESS %d)", termsafe.String(o.Path), node.Access)
	case !has && node.Type == "" && node.Contents != nil:
		return &hintError{err: fmt.Errorf("%s has no value: it is a container", termsafe.String(o.Path)),
			hint: "'oscli query URL " + termsafe.String(o.Path) + "' lists what it holds"}
	case !has:
		return fmt.Errorf("%s has no value", termsafe.String(o.Path))
	}
	if o.JSON {
		if answered {
			return writeBody(o.IO, raw)
		}
		return writeBody(o.IO, oscquery.MarshalAttr("VALUE", v))
	}
	line := osc.AppendWord(nil, o.Path)
	if t := oscquery.ValueText(node); t != "" {
		line = append(append(line, ' '), t...)
	}
	_, err = o.IO.Out.Write(append(line, '\n'))
	return err
}
