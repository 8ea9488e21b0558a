package zeroconf

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"time"
)

// HostInfo is what an OSCQuery server says about itself at /?HOST_INFO
// (Vidvox OSCQueryProposal): its name and where it takes OSC.
type HostInfo struct {
	Name         string
	OSCIP        string // "" when the server leaves it out: its own address
	OSCPort      int    // 0 when left out
	OSCTransport string // "UDP" or "TCP"; "" when left out
	// Err says why HOST_INFO could not be had; the other fields are empty.
	Err string
}

// maxHostInfo bounds the HOST_INFO reply read: real ones are a few
// hundred bytes.
const maxHostInfo = 64 << 10

// HostInfoTimeout bounds a HOST_INFO fetch, connection included.
const HostInfoTimeout = 2 * time.Second

// FetchHostInfo asks the OSCQuery server at addr for its HOST_INFO with a
// plain HTTP GET: no proxy (the server is on the local network), no
// redirects, a reply of at most 64 KiB. ctx bounds the time.
func FetchHostInfo(ctx context.Context, addr netip.AddrPort) (*HostInfo, error) {
	tr := &http.Transport{
		Proxy:                  nil,
		DialContext:            (&net.Dialer{}).DialContext,
		DisableKeepAlives:      true,
		MaxResponseHeaderBytes: 16 << 10,
	}
	defer tr.CloseIdleConnections()
	client := &http.Client{
		Transport:     tr,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr.String()+"/?HOST_INFO", nil)
	if err != nil {
		return nil, err
	}
	resp, err := client.Do(req)
	if err != nil {
		var ue interface{ Unwrap() error }
		if errors.As(err, &ue) && ue.Unwrap() != nil {
			err = ue.Unwrap() // "dial tcp …: connection refused", not the URL again
		}
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("HTTP %s", resp.Status)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxHostInfo+1))
	if err != nil {
		return nil, err
	}
	if len(body) > maxHostInfo {
		return nil, fmt.Errorf("HOST_INFO is over %d KiB", maxHostInfo>>10)
	}
	return parseHostInfo(body)
}

// parseHostInfo reads a HOST_INFO object. NAME, OSC_IP, OSC_PORT and
// OSC_TRANSPORT are read (their case ignored); a port given as a string of
// digits is taken too.
func parseHostInfo(body []byte) (*HostInfo, error) {
	var raw struct {
		Name         *string         `json:"NAME"`
		OSCIP        *string         `json:"OSC_IP"`
		OSCPort      json.RawMessage `json:"OSC_PORT"`
		OSCTransport *string         `json:"OSC_TRANSPORT"`
	}
	if err := json.Unmarshal(body, &raw); err != nil {
		return nil, fmt.Errorf("HOST_INFO is not a JSON object: %v", err)
	}
	h := &HostInfo{}
	if raw.Name != nil {
		h.Name = *raw.Name
	}
	if raw.OSCIP != nil {
		h.OSCIP = *raw.OSCIP
	}
	if raw.OSCTransport != nil {
		h.OSCTransport = *raw.OSCTransport
	}
	if len(raw.OSCPort) > 0 && string(raw.OSCPort) != "null" {
		s := string(raw.OSCPort)
		if uq, err := strconv.Unquote(s); err == nil {
			s = uq
		}
		p, err := strconv.Atoi(s)
		if err != nil || p < 1 || p > 65535 {
			return nil, fmt.Errorf("HOST_INFO's OSC_PORT %.20s is not a port", raw.OSCPort)
		}
		h.OSCPort = p
	}
	return h, nil
}
