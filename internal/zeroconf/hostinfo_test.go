package zeroconf

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
)

func serve(t *testing.T, h http.HandlerFunc) netip.AddrPort {
	t.Helper()
	s := httptest.NewServer(h)
	t.Cleanup(s.Close)
	return netip.MustParseAddrPort(strings.TrimPrefix(s.URL, "http://"))
}

func TestFetchHostInfo(t *testing.T) {
	// A proxy from the environment must not be used for the local network.
	t.Setenv("HTTP_PROXY", "http://192.0.2.1:1")
	t.Setenv("http_proxy", "http://192.0.2.1:1")
	// VRChat answers any path that holds HOST_INFO, with OSC_PORT a number.
	vrchat := serve(t, func(w http.ResponseWriter, r *http.Request) {
		if !strings.Contains(r.URL.String(), "HOST_INFO") {
			http.NotFound(w, r)
			return
		}
		w.Write([]byte(`{"NAME":"VRChat-Client-A1B2C3","OSC_IP":"127.0.0.1","OSC_PORT":9000,"OSC_TRANSPORT":"UDP","EXTENSIONS":{"ACCESS":true}}`))
	})
	h, err := FetchHostInfo(context.Background(), vrchat)
	if err != nil {
		t.Fatal(err)
	}
	if *h != (HostInfo{Name: "VRChat-Client-A1B2C3", OSCIP: "127.0.0.1", OSCPort: 9000, OSCTransport: "UDP"}) {
		t.Errorf("HOST_INFO %+v", h)
	}

	tests := []struct {
		name, body, want string
		status           int
	}{
		{"port as a string", `{"NAME":"x","OSC_PORT":"9001"}`, "", 200},
		{"lower-case keys", `{"name":"x","osc_port":9001}`, "", 200},
		{"port out of range", `{"NAME":"x","OSC_PORT":70000}`, "OSC_PORT 70000 is not a port", 200},
		{"not JSON", `<html>`, "not a JSON object", 200},
		{"too large", `{"NAME":"` + strings.Repeat("x", maxHostInfo) + `"}`, "over 64 KiB", 200},
		{"an error status", `{}`, "HTTP 500", 500},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			at := serve(t, func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(tt.status)
				w.Write([]byte(tt.body))
			})
			h, err := FetchHostInfo(context.Background(), at)
			switch {
			case tt.want == "" && (err != nil || h.OSCPort != 9001 || h.Name != "x"):
				t.Errorf("%+v, %v", h, err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("error %v, want %q", err, tt.want)
			}
		})
	}

	t.Run("a redirect is not followed", func(t *testing.T) {
		at := serve(t, func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "http://192.0.2.1/", http.StatusFound)
		})
		if _, err := FetchHostInfo(context.Background(), at); err == nil || !strings.Contains(err.Error(), "302") {
			t.Errorf("error %v, want the 302 itself", err)
		}
	})
	t.Run("a server that never answers", func(t *testing.T) {
		release := make(chan struct{})
		arrived := make(chan struct{})
		at := serve(t, func(w http.ResponseWriter, r *http.Request) {
			close(arrived)
			<-release
		})
		defer close(release)
		ctx, cancel := context.WithCancel(context.Background())
		go func() { <-arrived; cancel() }() // the caller's deadline, reached
		if _, err := FetchHostInfo(ctx, at); err == nil {
			t.Error("no error")
		}
	})
}
