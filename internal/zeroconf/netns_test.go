package zeroconf

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/oscli/oscli/internal/clock"
)

// Multicast DNS on a real network, inside a network namespace made for
// the test (its loopback carries multicast), never on the machine's
// interfaces. The test re-runs itself inside the namespace.
func TestMDNSInNetns(t *testing.T) {
	if os.Getenv("OSCLI_IN_NETNS") != "1" {
		reexecInNetns(t, "TestMDNSInNetns")
		return
	}
	for _, args := range [][]string{
		{"link", "set", "lo", "up"},
		{"link", "set", "lo", "multicast", "on"},
		{"route", "add", "224.0.0.0/4", "dev", "lo"},
	} {
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			t.Fatalf("ip %v: %v %s", args, err, out)
		}
	}
	m := &MDNS{Clock: clock.Real, Notice: func(s string) { t.Logf("notice: %s", s) }}

	// VRChat's responder (MeaMod.DNS): the PTR record alone as the answer,
	// SRV, TXT and an A record of 127.0.0.1 in the additional section, and
	// an OSCQuery server whose HOST_INFO answers any URL holding HOST_INFO.
	// This fixture also puts another host's address first.
	t.Run("browse finds a VRChat-style responder", func(t *testing.T) {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if strings.Contains(r.URL.String(), "HOST_INFO") {
				w.Write([]byte(`{"NAME":"VRChat-Client-A1B2C3","OSC_IP":"127.0.0.1","OSC_PORT":9000,"OSC_TRANSPORT":"UDP"}`))
			}
		}))
		defer srv.Close()
		httpPort := netip.MustParseAddrPort(strings.TrimPrefix(srv.URL, "http://")).Port()
		stop := vrchatResponder(t, map[string]uint16{OSCJSON: httpPort, OSCUDP: 9000})
		ctx, cancel := context.WithCancel(context.Background())
		got := map[string]Service{}
		var gone []string
		err := m.Browse(ctx, []string{OSCUDP, OSCJSON}, func(ev Event) {
			switch ev.Kind {
			case Found, Updated:
				got[ev.Service.Type] = ev.Service
				if len(got) == 2 {
					stop() // VRChat quits: goodbyes
				}
			case Gone:
				gone = append(gone, ev.Service.Type+" "+ev.Reason)
				if len(gone) == 2 {
					cancel()
				}
			}
		})
		if err != context.Canceled {
			t.Fatalf("Browse: %v", err)
		}
		q, o := got[OSCJSON], got[OSCUDP]
		if q.Instance != "VRChat-Client-A1B2C3" || q.Port != int(httpPort) || len(q.Addrs) != 1 || q.Addrs[0] != netip.MustParseAddr("127.0.0.1") {
			t.Errorf("OSCQuery service %+v", q)
		}
		if h := q.HostInfo; h == nil || h.Name != "VRChat-Client-A1B2C3" || h.OSCPort != 9000 || h.OSCTransport != "UDP" {
			t.Errorf("HOST_INFO %+v", q.HostInfo)
		}
		if best, ok := o.Best(); o.Port != 9000 || !ok || best != netip.MustParseAddr("127.0.0.1") {
			t.Errorf("OSC service %+v", o)
		}
		if len(gone) != 2 || !strings.HasSuffix(gone[0], " goodbye") {
			t.Errorf("gone %q", gone)
		}
	})

	// VRChat's browser takes a service only from a response whose answers
	// hold the PTR record, takes the first A record of the additional
	// section then the answers, whatever its name, and drops a service
	// whose SRV record comes with a time to live of 0.
	t.Run("a VRChat-style browser finds dump's advertisement", func(t *testing.T) {
		announced := make(chan string, 1)
		ad, err := m.Advertise(context.Background(), Advert{
			Instance:  "oscli test",
			Services:  []AdvertService{{Type: OSCUDP, Port: 9100, TXT: OSCTXT(false, "")}},
			Announced: func(n string) { announced <- n },
		})
		if err != nil {
			t.Fatal(err)
		}
		if n := <-announced; n != "oscli test" {
			t.Fatalf("announced %q", n)
		}
		c, pkts := fixtureConn(t)
		q, _ := appendMessage(nil, &message{Questions: []question{{Name: splitDots("_osc._udp.local"), Type: typePTR, Class: classIN}}})
		if err := c.sendAll(q); err != nil {
			t.Fatal(err)
		}
		found := vrchatSees(t, pkts, func(s vrcService) bool { return s.ttl > 0 })
		if found.instance != "oscli test" || found.port != 9100 || found.addr != netip.MustParseAddr("127.0.0.1") {
			t.Errorf("VRChat's browser found %+v", found)
		}
		go ad.Close()
		vrchatSees(t, pkts, func(s vrcService) bool { return s.ttl == 0 && s.instance == "oscli test" })
	})

	t.Run("a name taken by another oscli becomes NAME (2)", func(t *testing.T) {
		first := make(chan string, 1)
		a, err := m.Advertise(context.Background(), Advert{Instance: "dup", Services: []AdvertService{{Type: OSCUDP, Port: 9200}},
			Announced: func(n string) { first <- n }})
		if err != nil {
			t.Fatal(err)
		}
		defer a.Close()
		<-first
		second := make(chan string, 1)
		b, err := m.Advertise(context.Background(), Advert{Instance: "dup", Services: []AdvertService{{Type: OSCUDP, Port: 9201}},
			Announced: func(n string) { second <- n }})
		if err != nil {
			t.Fatal(err)
		}
		defer b.Close()
		select {
		case n := <-second:
			if n != "dup (2)" {
				t.Errorf("second advertisement is %q", n)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("second advertisement never announced")
		}
	})

	// Browse's timing runs on its clock: questions at 0, 1 s, 3 s (with
	// the answers known), a refresh at 80 % of a record's life, and a
	// service gone when its records expire.
	t.Run("browse's questions and expiry on a fake clock", func(t *testing.T) {
		clk := clock.NewFake(time.Date(2026, 11, 21, 18, 0, 0, 0, time.UTC))
		fm := &MDNS{Clock: clk}
		c, pkts := fixtureConn(t)
		typ := splitDots("_timed._udp.local")
		inst := append(name{"ticker"}, typ...)
		// question waits for the next question about name (none: any).
		question := func(n name) *message {
			t.Helper()
			deadline := time.After(10 * time.Second)
			for {
				select {
				case p := <-pkts:
					m, err := parseMessage(p.data)
					if err != nil || m.isResponse() || len(m.Questions) == 0 {
						continue
					}
					for _, q := range m.Questions {
						if n == nil || q.Name.equal(n) {
							return m
						}
					}
				case <-deadline:
					t.Fatalf("no question about %s within 10s", n)
				}
			}
		}
		evs := make(chan Event, 10)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		go fm.Browse(ctx, []string{"_timed._udp"}, func(ev Event) { evs <- ev })
		question(typ)
		answer, _ := appendMessage(nil, &message{Flags: flagResponse, Answers: []record{
			{Name: typ, Type: typePTR, Class: classIN, TTL: 10, Target: inst},
			{Name: inst, Type: typeSRV, Class: classIN, TTL: 10, Target: name{"tick", "local"}, Port: 7},
			{Name: name{"tick", "local"}, Type: typeA, Class: classIN, TTL: 10, Addr: netip.MustParseAddr("127.0.0.1")},
		}})
		_ = c.sendAll(answer)
		if ev := <-evs; ev.Kind != Found || ev.Service.Instance != "ticker" {
			t.Fatalf("event %+v", ev)
		}
		clk.Advance(time.Second)
		if q := question(typ); len(q.Answers) != 1 || !q.Answers[0].Target.equal(inst) || q.Answers[0].TTL != 9 {
			t.Errorf("second question's known answers: %+v", q.Answers)
		}
		clk.Advance(2 * time.Second) // the third question, 2 s after the second
		question(typ)
		clk.Advance(5 * time.Second) // 8 s: 80 % of the records' 10 s
		question(inst)
		clk.Advance(2 * time.Second) // 10 s: they expire
		select {
		case ev := <-evs:
			if ev.Kind != Gone || ev.Reason != "expired" || !ev.Time.Equal(clk.Now()) {
				t.Errorf("event %+v at %v", ev, clk.Now())
			}
		case <-time.After(10 * time.Second):
			t.Fatal("not gone when its records expired")
		}
	})

	t.Run("an address of no interface", func(t *testing.T) {
		_, err := m.Advertise(context.Background(), Advert{Instance: "x", Services: []AdvertService{{Type: OSCUDP, Port: 1}},
			Addr: netip.MustParseAddr("10.1.2.3")})
		if err == nil || !strings.Contains(err.Error(), "10.1.2.3 is not an address of an interface") {
			t.Errorf("error %v", err)
		}
	})
}

// fixtureConn is a test's own multicast DNS socket and what arrives on it.
func fixtureConn(t *testing.T) (*conn, <-chan packet) {
	t.Helper()
	all, _ := net.Interfaces()
	c, err := openConn(multicastInterfaces(all), mdnsPort)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	pkts := make(chan packet, 64)
	go c.readLoop(pkts, done)
	t.Cleanup(func() { close(done); c.Close() })
	return c, pkts
}

// vrchatResponder answers PTR questions for the types as VRChat does,
// until the returned function sends its goodbyes.
func vrchatResponder(t *testing.T, ports map[string]uint16) (stop func()) {
	t.Helper()
	c, pkts := fixtureConn(t)
	records := func(typ string, ttl uint32) *message {
		label := strings.TrimPrefix(strings.Split(typ, ".")[0], "_")
		inst := join("VRChat-Client-A1B2C3", typ+".local")
		host := name{"VRChat-Client-A1B2C3", label, "local"}
		return &message{Flags: flagResponse | flagAuthoritative,
			Answers: []record{{Name: splitDots(typ + ".local"), Type: typePTR, Class: classIN, TTL: ttl, Target: inst}},
			Additionals: []record{
				{Name: name{"other-box", "local"}, Type: typeA, Class: classIN, TTL: ttl, Addr: netip.MustParseAddr("10.9.9.9")},
				{Name: inst, Type: typeSRV, Class: classIN, TTL: ttl, Target: host, Port: ports[typ]},
				{Name: inst, Type: typeTXT, Class: classIN, TTL: ttl, TXT: []string{"txtvers=1"}},
				{Name: host, Type: typeA, Class: classIN, TTL: ttl, Addr: netip.MustParseAddr("127.0.0.1")},
			}}
	}
	quit := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-quit:
				return
			case p := <-pkts:
				m, err := parseMessage(p.data)
				if err != nil || m.isResponse() {
					continue
				}
				for _, q := range m.Questions {
					for typ := range ports {
						if q.Type == typePTR && q.Name.equal(splitDots(typ+".local")) {
							b, _ := appendMessage(nil, records(typ, 4500))
							_ = c.sendAll(b)
						}
					}
				}
			}
		}
	}()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			close(quit)
			wg.Wait()
			for typ := range ports {
				b, _ := appendMessage(nil, records(typ, 0))
				_ = c.sendAll(b)
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

// vrcService is what VRChat's browser makes of a response.
type vrcService struct {
	instance string
	port     uint16
	ttl      uint32
	addr     netip.Addr
}

// vrchatSees reads responses as VRChat's browser does until one gives a
// service that want accepts (10 s at most). Every response it takes must
// have the service's own address first: VRChat would use any other.
func vrchatSees(t *testing.T, pkts <-chan packet, want func(vrcService) bool) vrcService {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case p := <-pkts:
			m, err := parseMessage(p.data)
			if err != nil || !m.isResponse() {
				continue
			}
			ptrAnswer := false
			for _, r := range m.Answers {
				if r.Name.equal(splitDots("_osc._udp.local")) {
					ptrAnswer = true
				}
			}
			if !ptrAnswer {
				continue
			}
			var firstA *record
			for _, r := range append(append([]record(nil), m.Additionals...), m.Answers...) {
				if r.Type == typeA && firstA == nil {
					firstA = &r
				}
			}
			for _, r := range append(append([]record(nil), m.Additionals...), m.Answers...) {
				if r.Type != typeSRV {
					continue
				}
				s := vrcService{instance: r.Name[0], port: r.Port, ttl: r.TTL}
				if firstA != nil {
					s.addr = firstA.Addr
					if !firstA.Name.equal(r.Target) {
						t.Errorf("the first A record names %s, not the service's host %s", firstA.Name, r.Target)
					}
				}
				if want(s) {
					return s
				}
			}
		case <-deadline:
			t.Fatal("VRChat's browser saw nothing it wanted within 10s")
		}
	}
}

// reexecInNetns runs the named test again inside a new network namespace.
func reexecInNetns(t *testing.T, name string) {
	t.Helper()
	unshare, err := exec.LookPath("unshare")
	if err == nil {
		_, err = exec.LookPath("ip")
	}
	require := os.Getenv("OSCLI_REQUIRE_PEERS") == "1"
	if err != nil {
		if require {
			t.Fatalf("unshare and ip are needed (util-linux, iproute2): %v", err)
		}
		t.Skip("unshare or ip missing")
	}
	if out, err := exec.Command(unshare, "-n", "true").CombinedOutput(); err != nil {
		if require {
			t.Fatalf("cannot create a network namespace: %v %s", err, out)
		}
		t.Skipf("cannot create a network namespace here: %s", strings.TrimSpace(string(out)))
	}
	cmd := exec.Command(unshare, "-n", "--", os.Args[0], "-test.run=^"+name+"$", "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), "OSCLI_IN_NETNS=1")
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS: "+name) {
		t.Fatalf("in the namespace: %v\n%s", err, out)
	}
	t.Logf("in the namespace:\n%s", out)
}
