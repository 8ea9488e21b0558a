package zeroconf

import (
	"encoding/binary"
	"errors"
	"net/netip"
	"reflect"
	"testing"
)

func TestMessageRoundTrip(t *testing.T) {
	inst := name{"Mixer 1.2 \\ left", "_osc", "_udp", "local"} // dots and a backslash in a label
	host := name{"studio", "local"}
	m := &message{
		ID: 7, Flags: flagResponse | flagAuthoritative,
		Questions: []question{{Name: name{"_osc", "_udp", "local"}, Type: typePTR, Class: classIN | classFlush}},
		Answers:   []record{{Name: name{"_osc", "_udp", "local"}, Type: typePTR, Class: classIN, TTL: 4500, Target: inst}},
		Authorities: []record{
			{Name: inst, Type: typeSRV, Class: classIN, TTL: 120, Target: host, Port: 9000, Priority: 1, Weight: 2},
		},
		Additionals: []record{
			{Name: inst, Type: typeSRV, Class: classIN | classFlush, TTL: 120, Target: host, Port: 9000},
			{Name: inst, Type: typeTXT, Class: classIN | classFlush, TTL: 4500, TXT: []string{"txtvers=1", "", "types=ifs"}},
			{Name: host, Type: typeA, Class: classIN | classFlush, TTL: 120, Addr: netip.MustParseAddr("192.168.1.40")},
			{Name: host, Type: typeAAAA, Class: classIN, TTL: 120, Addr: netip.MustParseAddr("fe80::1")},
		},
	}
	b, err := appendMessage(nil, m)
	if err != nil {
		t.Fatal(err)
	}
	got, err := parseMessage(b)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, m) {
		t.Errorf("round trip:\n got %+v\nwant %+v", got, m)
	}
	if got.Answers[0].Target.String() != `Mixer 1\.2 \\ left._osc._udp.local.` {
		t.Errorf("presentation form %q", got.Answers[0].Target.String())
	}
	// Compression: "_osc._udp.local" is written once, then pointed to.
	plain, _ := appendMessage(nil, &message{Answers: m.Answers[:1]})
	if want := 12 + len("\x04_osc\x04_udp\x05local\x00") + 10 + 1 + len(inst[0]) + 2; len(plain) != want {
		t.Errorf("message of one PTR record: %d bytes, want %d (its target's suffix a pointer)", len(plain), want)
	}
	// Names compare without ASCII case.
	if !inst.equal(name{"MIXER 1.2 \\ LEFT", "_OSC", "_udp", "LOCAL"}) {
		t.Error("names differing in case only are not equal")
	}
}

func TestParseRejects(t *testing.T) {
	header := func(qd, an uint16) []byte {
		b := make([]byte, 12)
		binary.BigEndian.PutUint16(b[4:], qd)
		binary.BigEndian.PutUint16(b[6:], an)
		return b
	}
	tests := []struct {
		name string
		pkt  []byte
		want error
	}{
		{"short header", []byte{0, 1, 2}, errTruncated},
		{"counts larger than the packet", header(0, 1000), errTruncated},
		{"pointer to itself", append(header(1, 0), 0xC0, 12, 0, 1, 0, 1), errBadName},
		{"pointer forwards", append(header(1, 0), 0xC0, 14, 0, 0, 1, 0, 1), errBadName},
		{"pointer loop through a label", append(header(1, 0), 1, 'a', 0xC0, 12, 0, 1, 0, 1), errBadName},
		{"reserved label type", append(header(1, 0), 0x40, 0, 1, 0, 1), errBadName},
		{"label past the end", append(header(1, 0), 9, 'a', 'b', 0, 1, 0, 1), errTruncated},
		{"A record of 3 bytes", append(header(0, 1), 0, 0, 1, 0, 1, 0, 0, 0, 1, 0, 3, 1, 2, 3), errBadRecord},
		{"record data past the end", append(header(0, 1), 0, 0, 1, 0, 1, 0, 0, 0, 1, 0, 9, 1), errTruncated},
		{"TXT string past its record", append(header(0, 1), 0, 0, 16, 0, 1, 0, 0, 0, 1, 0, 2, 5, 'a'), errBadRecord},
	}
	long := header(1, 0)
	for range 5 {
		long = append(long, 63)
		long = append(long, make([]byte, 63)...)
	}
	tests = append(tests, struct {
		name string
		pkt  []byte
		want error
	}{"name over 255 bytes", append(long, 0, 0, 1, 0, 1), errBadName})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseMessage(tt.pkt)
			var pe *parseError
			if !errors.Is(err, tt.want) || !errors.As(err, &pe) {
				t.Errorf("error %v, want %v with an offset", err, tt.want)
			}
		})
	}
}

func TestAppendRejects(t *testing.T) {
	for _, m := range []*message{
		{Questions: []question{{Name: name{string(make([]byte, 64)), "local"}, Type: typePTR}}},
		{Questions: []question{{Name: name{"", "local"}, Type: typePTR}}},
		{Answers: []record{{Name: name{"x", "local"}, Type: typeA, Addr: netip.MustParseAddr("::1")}}},
		{Answers: []record{{Name: name{"x", "local"}, Type: typeTXT, TXT: []string{string(make([]byte, 256))}}}},
		{Answers: []record{{Name: name{"x", "local"}, Type: 99}}},
	} {
		if _, err := appendMessage(nil, m); err == nil {
			t.Errorf("%+v: no error", m)
		}
	}
}

// FuzzParseMessage: parsing never panics, and what parses and can be
// written again parses to the same message.
func FuzzParseMessage(f *testing.F) {
	seed, _ := appendMessage(nil, &message{Flags: flagResponse,
		Answers: []record{{Name: name{"_osc", "_udp", "local"}, Type: typePTR, Class: classIN, TTL: 1, Target: name{"a.b", "_osc", "_udp", "local"}}},
		Additionals: []record{
			{Name: name{"a.b", "_osc", "_udp", "local"}, Type: typeSRV, Class: classIN, TTL: 1, Target: name{"h", "local"}, Port: 1},
			{Name: name{"a.b", "_osc", "_udp", "local"}, Type: typeTXT, Class: classIN, TTL: 1, TXT: []string{"x=y"}},
			{Name: name{"h", "local"}, Type: typeA, Class: classIN, TTL: 1, Addr: netip.MustParseAddr("10.0.0.1")},
		}})
	f.Add(seed)
	f.Add([]byte{0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xC0, 12, 0, 1, 0, 1})
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := parseMessage(b)
		if err != nil {
			return
		}
		for _, sec := range [][]record{m.Answers, m.Authorities, m.Additionals} {
			for _, r := range sec {
				switch r.Type {
				case typeA, typeAAAA, typePTR, typeSRV, typeTXT:
				default:
					return // kept as a header only: cannot be written again
				}
			}
		}
		out, err := appendMessage(nil, m)
		if err != nil {
			return // e.g. an empty label another writer put in
		}
		again, err := parseMessage(out)
		if err != nil {
			t.Fatalf("rewritten message does not parse: %v", err)
		}
		normalizeTXT(m)
		normalizeTXT(again)
		if !reflect.DeepEqual(m, again) {
			t.Fatalf("round trip changed the message:\n%+v\n%+v", m, again)
		}
	})
}

// normalizeTXT makes an empty TXT record and one empty string the same
// (RFC 6763 §6.1 writes the former as the latter).
func normalizeTXT(m *message) {
	for _, sec := range [][]record{m.Answers, m.Authorities, m.Additionals} {
		for i := range sec {
			if sec[i].Type == typeTXT && len(sec[i].TXT) == 0 {
				sec[i].TXT = []string{""}
			}
		}
	}
}

// BenchmarkParseMessage reads a typical announcement (PTR, SRV, TXT, A):
// every mDNS packet on the network passes here while browsing.
func BenchmarkParseMessage(b *testing.B) {
	inst := name{"TouchOSC on iPad", "_osc", "_udp", "local"}
	pkt, err := appendMessage(nil, &message{Flags: flagResponse,
		Answers: []record{{Name: name{"_osc", "_udp", "local"}, Type: typePTR, Class: classIN, TTL: 4500, Target: inst}},
		Additionals: []record{
			{Name: inst, Type: typeSRV, Class: classIN | classFlush, TTL: 120, Target: name{"ipad", "local"}, Port: 9000},
			{Name: inst, Type: typeTXT, Class: classIN | classFlush, TTL: 4500, TXT: []string{"txtvers=1", "version=1.1"}},
			{Name: name{"ipad", "local"}, Type: typeA, Class: classIN | classFlush, TTL: 120, Addr: netip.MustParseAddr("192.168.1.40")},
		}})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(pkt)))
	for b.Loop() {
		if _, err := parseMessage(pkt); err != nil {
			b.Fatal(err)
		}
	}
}
