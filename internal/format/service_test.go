package format

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestServiceText(t *testing.T) {
	base := Service{
		Time: time.Date(2026, 11, 21, 18, 0, 0, 5, time.UTC), Event: "found",
		Name: "TouchOSC on iPad", Type: "_osc._udp", Host: "ipad.local.", Port: 9000,
		Addrs: []string{"192.168.1.40", "fe80::1%en0"}, From: "192.168.1.40", Target: "udp://192.168.1.40:9000",
		TXT: []TXTPair{{"txtvers", "1", true}, {"flag", "", false}, {"uri", "two words", true}},
	}
	tests := []struct {
		name string
		edit func(*Service)
		want string
	}{
		{"found", func(*Service) {},
			`+ "TouchOSC on iPad"  _osc._udp  udp://192.168.1.40:9000  host ipad.local. (192.168.1.40, fe80::1%en0)  txtvers=1 flag "uri=two words"`},
		{"in a final list", func(s *Service) { s.Event = "" },
			`"TouchOSC on iPad"  _osc._udp  udp://192.168.1.40:9000  host ipad.local. (192.168.1.40, fe80::1%en0)  txtvers=1 flag "uri=two words"`},
		{"gone", func(s *Service) { s.Event, s.Gone, s.Reason = "gone", true, "goodbye" },
			`- "TouchOSC on iPad"  _osc._udp  gone (goodbye)`},
		{"unreachable", func(s *Service) {
			s.Event, s.Target, s.Unreachable, s.Addrs, s.TXT = "updated", "", "127.0.0.1 is the loopback of 192.168.1.50", []string{"127.0.0.1"}, nil
		}, `~ "TouchOSC on iPad"  _osc._udp  port 9000 (unreachable: 127.0.0.1 is the loopback of 192.168.1.50)  host ipad.local. (127.0.0.1)`},
		{"HOST_INFO", func(s *Service) {
			s.Type, s.Target, s.TXT = "_oscjson._tcp", "http://127.0.0.1:9001/", nil
			s.HostInfo = &HostInfo{Name: "VRChat-Client-A1B2C3", OSC: "udp://127.0.0.1:9000"}
		}, `+ "TouchOSC on iPad"  _oscjson._tcp  http://127.0.0.1:9001/  host ipad.local. (192.168.1.40, fe80::1%en0)  HOST_INFO name=VRChat-Client-A1B2C3 osc=udp://127.0.0.1:9000`},
		{"OSCQuery: the command that asks it", func(s *Service) {
			s.Type, s.Target, s.TXT, s.Query = "_oscjson._tcp", "http://127.0.0.1:9001/", nil, true
			s.HostInfo = &HostInfo{Name: "oscli", OSC: "udp://127.0.0.1:9001"}
		}, `+ "TouchOSC on iPad"  _oscjson._tcp  http://127.0.0.1:9001/  host ipad.local. (192.168.1.40, fe80::1%en0)  HOST_INFO name=oscli osc=udp://127.0.0.1:9001  → oscli query @"TouchOSC on iPad"`},
		{"HOST_INFO error", func(s *Service) { s.TXT, s.HostInfo = nil, &HostInfo{Err: "dial tcp: connection refused"} },
			`+ "TouchOSC on iPad"  _osc._udp  udp://192.168.1.40:9000  host ipad.local. (192.168.1.40, fe80::1%en0)  HOST_INFO error: dial tcp: connection refused`},
		// Everything from the network is escaped: no escape sequence, no
		// newline, no bidi override reaches the terminal.
		{"hostile", func(s *Service) {
			s.Name, s.Host, s.Addrs = "\x1b[2Jevil\nline", "h\u202e.local.", nil
			s.TXT = []TXTPair{{"k", "\x9b31m", true}}
		}, `+ $'\x1b[2Jevil\nline'  _osc._udp  udp://192.168.1.40:9000  host $'h\u202e.local.'  $'k=\x9b31m'`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := base
			tt.edit(&s)
			if got := string(AppendServiceText(nil, &s)); got != tt.want {
				t.Errorf("\n got %s\nwant %s", got, tt.want)
			}
		})
	}
}

func TestServiceJSON(t *testing.T) {
	s := &Service{
		Time: time.Date(2026, 11, 21, 18, 0, 0, 5, time.UTC), Event: "found",
		Name: "x\u202ey", Type: "_oscjson._tcp", Host: "h.local.", Port: 9001, Addrs: []string{"127.0.0.1"},
		From: "127.0.0.1", Target: "http://127.0.0.1:9001/",
		TXT: []TXTPair{{"txtvers", "1", true}, {"flag", "", false}}, OSC: []TXTPair{{"txtvers", "1", true}},
		HostInfo: &HostInfo{Name: "VRChat", OSCIP: "127.0.0.1", OSCPort: 9000, OSCTransport: "UDP", OSC: "udp://127.0.0.1:9000"},
	}
	line := string(AppendServiceJSON(nil, s))
	want := `{"time":"2026-11-21T18:00:00.000000005Z","event":"found","name":"x\u202ey","type":"_oscjson._tcp","host":"h.local.","port":9001,` +
		`"addresses":["127.0.0.1"],"from":"127.0.0.1","target":"http://127.0.0.1:9001/","txt":{"txtvers":"1","flag":true},"osc":{"txtvers":"1"},` +
		`"host_info":{"name":"VRChat","osc_ip":"127.0.0.1","osc_port":9000,"osc_transport":"UDP","osc":"udp://127.0.0.1:9000"}}`
	if line != want {
		t.Errorf("\n got %s\nwant %s", line, want)
	}
	var v map[string]any
	if err := json.Unmarshal([]byte(line), &v); err != nil || v["name"] != "x\u202ey" {
		t.Errorf("not JSON that decodes to the name: %v %v", err, v["name"])
	}
	gone := &Service{Event: "gone", Gone: true, Reason: "expired", Name: "x", Type: "_osc._udp", HostInfo: &HostInfo{Err: "refused"}}
	if got := string(AppendServiceJSON(nil, gone)); !strings.Contains(got, `"event":"gone","name":"x","type":"_osc._udp","reason":"expired"`) ||
		!strings.Contains(got, `"host_info":{"error":"refused"}`) {
		t.Errorf("gone: %s", got)
	}
}
