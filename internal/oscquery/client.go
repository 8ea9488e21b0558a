package oscquery

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Client reads an OSCQuery server over HTTP. Its zero value is not
// usable: set Base.
type Client struct {
	// Base is the server's URL (http://host:port); its path is ignored.
	Base *url.URL
	// Timeout bounds each request, from connecting to the last byte of
	// the body (DefaultTimeout when 0).
	Timeout time.Duration
	// Limits bound what is read.
	Limits Limits
	// HTTP is the client to use (a new one without keep-alive limits when
	// nil).
	HTTP *http.Client
}

// DefaultTimeout bounds a request unless the client says otherwise.
const DefaultTimeout = 5 * time.Second

// RequestError is a request that got no usable answer: the server could
// not be reached, did not answer in time, or broke off.
type RequestError struct {
	URL     string
	Err     error
	Timeout time.Duration // set when the request timed out
}

func (e *RequestError) Error() string {
	switch {
	case e.Timeout > 0:
		return fmt.Sprintf("no answer from %s within %v", e.URL, e.Timeout)
	case errors.Is(e.Err, syscall.ECONNREFUSED):
		return fmt.Sprintf("cannot reach %s: connection refused", e.URL)
	}
	return fmt.Sprintf("cannot reach %s: %v", e.URL, e.Err)
}

func (e *RequestError) Unwrap() error { return e.Err }

// StatusError is an HTTP answer other than success.
type StatusError struct {
	URL  string
	Code int
	// Path is the OSC address asked for.
	Path string
}

func (e *StatusError) Error() string {
	if e.Code == http.StatusNotFound && e.Path == "/" {
		// Every OSCQuery server has the root.
		return fmt.Sprintf("%s answered 404 Not Found for the root address /: not an OSCQuery server", e.URL)
	}
	if e.Code == http.StatusNotFound {
		return fmt.Sprintf("%s: no such path (404 from %s)", e.Path, e.URL)
	}
	return fmt.Sprintf("%s answered %d %s", e.URL, e.Code, http.StatusText(e.Code))
}

// NotFound reports whether err is a 404 for an OSC address other than
// the root (a server without the root is not an OSCQuery server).
func NotFound(err error) bool {
	var se *StatusError
	return errors.As(err, &se) && se.Code == http.StatusNotFound && se.Path != "/"
}

// ErrNoHTTP is a server that closed the connection, or answered
// something other than HTTP: not an OSCQuery server (an OSC TCP port).
var ErrNoHTTP = errors.New("no HTTP answer")

// errNoTLS is an https:// URL whose server answers plain HTTP.
var errNoTLS = errors.New("it does not speak TLS (an http:// server?)")

// BodyError is an answer whose body is not what OSCQuery promises.
type BodyError struct {
	URL         string
	ContentType string
	Err         error
}

func (e *BodyError) Error() string {
	ct := ""
	if e.ContentType != "" && !strings.Contains(e.ContentType, "json") {
		ct = " (" + e.ContentType + ")"
	}
	return fmt.Sprintf("%s did not answer OSCQuery JSON%s: %v", e.URL, ct, e.Err)
}

func (e *BodyError) Unwrap() error { return e.Err }

// answer is one HTTP answer.
type answer struct {
	url         string
	code        int
	contentType string
	body        []byte
}

func (c *Client) httpClient() *http.Client {
	if c.HTTP != nil {
		return c.HTTP
	}
	return &http.Client{
		// Redirects to another host would take the query elsewhere.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

func (c *Client) timeout() time.Duration {
	if c.Timeout > 0 {
		return c.Timeout
	}
	return DefaultTimeout
}

// URLFor is the URL of an OSC address with an attribute query (attr "":
// none). Characters a URL cannot hold are escaped.
func (c *Client) URLFor(path, attr string) string {
	u := url.URL{Scheme: c.Base.Scheme, Host: c.Base.Host, Path: path, RawQuery: attr}
	if u.Path == "" {
		u.Path = "/"
	}
	return u.String()
}

// get fetches an OSC address (and attribute) and reads the body, up to
// the limit.
func (c *Client) get(ctx context.Context, path, attr string) (*answer, error) {
	u := c.URLFor(path, attr)
	ctx, cancel := context.WithTimeout(ctx, c.timeout())
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, &RequestError{URL: u, Err: err}
	}
	req.Header.Set("Accept", "application/json")
	resp, err := c.httpClient().Do(req)
	if err != nil {
		var rec tls.RecordHeaderError
		switch {
		case ctx.Err() != nil:
		case errors.As(err, &rec) || strings.Contains(err.Error(), "server gave HTTP response to HTTPS client"):
			return nil, &RequestError{URL: u, Err: errNoTLS}
		case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || strings.Contains(err.Error(), "malformed HTTP"):
			return nil, &RequestError{URL: u, Err: ErrNoHTTP}
		}
		return nil, c.requestError(ctx, u, err)
	}
	defer resp.Body.Close()
	lim := c.Limits.orDefault()
	body, err := io.ReadAll(io.LimitReader(resp.Body, lim.MaxBody+1))
	if err != nil {
		return nil, c.requestError(ctx, u, err)
	}
	if int64(len(body)) > lim.MaxBody {
		return nil, &BodyError{URL: u, Err: fmt.Errorf("%w: more than %d bytes", ErrTooBig, lim.MaxBody)}
	}
	return &answer{url: u, code: resp.StatusCode, contentType: resp.Header.Get("Content-Type"), body: body}, nil
}

func (c *Client) requestError(ctx context.Context, u string, err error) error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return &RequestError{URL: u, Err: err, Timeout: c.timeout()}
	}
	if errors.Is(err, context.Canceled) {
		return context.Canceled
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Err != nil {
		err = oe.Err
		var se *os.SyscallError
		if errors.As(err, &se) {
			err = se.Err
		}
	}
	return &RequestError{URL: u, Err: err}
}

// HostInfo asks for HOST_INFO. A server without it (an error status, or
// a node where HOST_INFO was due) gives ErrNoHostInfo; the caller then
// assumes the proposal's defaults.
func (c *Client) HostInfo(ctx context.Context) (*HostInfo, []byte, error) {
	a, err := c.get(ctx, "/", keyHostInfo)
	if err != nil {
		return nil, nil, err
	}
	if a.code != http.StatusOK {
		return nil, nil, fmt.Errorf("%w (%d from %s)", ErrNoHostInfo, a.code, a.url)
	}
	h, err := ParseHostInfo(a.body, c.Limits)
	if err != nil {
		if errors.Is(err, ErrNotJSON) {
			return nil, nil, &BodyError{URL: a.url, ContentType: a.contentType, Err: err}
		}
		return nil, nil, fmt.Errorf("%w: %v", ErrNoHostInfo, err)
	}
	return h, a.body, nil
}

// ErrNoHostInfo is a server that does not answer HOST_INFO.
var ErrNoHostInfo = errors.New("no HOST_INFO")

// Node fetches the node at an OSC address with the tree under it, and
// the body as the server sent it.
func (c *Client) Node(ctx context.Context, path string) (*Node, []byte, error) {
	a, err := c.get(ctx, path, "")
	if err != nil {
		return nil, nil, err
	}
	if a.code != http.StatusOK {
		return nil, nil, &StatusError{URL: a.url, Code: a.code, Path: path}
	}
	n, err := ParseNode(a.body, path, c.Limits)
	if err != nil {
		return nil, nil, &BodyError{URL: a.url, ContentType: a.contentType, Err: err}
	}
	return n, a.body, nil
}

// Attr asks for one attribute of an OSC address (?VALUE, ?TYPE, …). The
// proposal answers {"ATTR": value}, or {} when the node has none; a server
// that ignores attribute queries (VRChat) answers the whole node, which
// is then returned as node, with the attribute read from it. A server
// that refuses the query (204, 400) gets the node asked for instead.
// present reports whether the attribute was there; raw is the server's
// body for it.
func (c *Client) Attr(ctx context.Context, path, attr string) (v any, present bool, node *Node, raw []byte, err error) {
	a, err := c.get(ctx, path, attr)
	if err != nil {
		return nil, false, nil, nil, err
	}
	switch a.code {
	case http.StatusOK:
	case http.StatusNoContent, http.StatusBadRequest, http.StatusNotImplemented:
		n, body, err := c.Node(ctx, path)
		if err != nil {
			return nil, false, nil, nil, err
		}
		v, present := n.Attr(attr)
		return v, present, n, body, nil
	default:
		return nil, false, nil, nil, &StatusError{URL: a.url, Code: a.code, Path: path}
	}
	if len(strings.TrimSpace(string(a.body))) == 0 {
		return nil, false, nil, a.body, nil // 200 with nothing: no value
	}
	doc, err := decodeJSON(a.body)
	if err != nil {
		return nil, false, nil, nil, &BodyError{URL: a.url, ContentType: a.contentType, Err: err}
	}
	obj, ok := doc.(map[string]any)
	if !ok {
		return nil, false, nil, nil, &BodyError{URL: a.url, ContentType: a.contentType, Err: fmt.Errorf("%w: the answer is %s, not an object", ErrNotNode, jsonKind(doc))}
	}
	_, full := obj[keyFullPath]
	_, contents := obj[keyContents]
	if full || contents || len(obj) > 1 {
		// The whole node, as VRChat answers any query.
		n, err := ParseNode(a.body, path, c.Limits)
		if err != nil {
			return nil, false, nil, nil, &BodyError{URL: a.url, ContentType: a.contentType, Err: err}
		}
		v, present := n.Attr(attr)
		return v, present, n, a.body, nil
	}
	v, present = obj[attr]
	return v, present, nil, a.body, nil
}

// Attr returns one attribute of the node as JSON, and whether it has it.
func (n *Node) Attr(attr string) (any, bool) {
	switch attr {
	case keyFullPath:
		return n.FullPath, true
	case keyType:
		return n.Type, n.Type != ""
	case keyDescription:
		return n.Description, n.Description != ""
	case keyAccess:
		return json.Number(strconv.Itoa(n.Access)), n.Access != AccessUnknown
	case keyValue:
		return n.Value, n.HasValue
	case keyRange:
		return n.Range, n.Range != nil
	case keyUnit:
		return n.Unit, n.Unit != nil
	case keyExtended:
		return n.Extended, n.Extended != nil
	case keyClipMode:
		return n.ClipMode, n.ClipMode != nil
	case keyTags:
		return n.Tags, n.Tags != nil
	case keyCritical:
		return n.Critical, n.Critical != nil
	}
	v, ok := n.Extra[attr]
	return v, ok
}
