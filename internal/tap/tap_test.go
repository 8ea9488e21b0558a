package tap

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/oscli/oscli/internal/clock"
	"github.com/oscli/oscli/internal/filter"
	"github.com/oscli/oscli/internal/osc"
	"github.com/oscli/oscli/internal/transport"
)

var t0 = time.Date(2026, 11, 21, 18, 0, 0, 0, time.UTC)

// udpReceiver is a target: a UDP socket on loopback whose datagrams the
// test reads, and which can answer their sender.
type udpReceiver struct {
	pc net.PacketConn
	ep transport.Endpoint
}

func newUDPReceiver(t *testing.T) *udpReceiver {
	t.Helper()
	pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	return &udpReceiver{pc: pc, ep: transport.Endpoint{Proto: transport.UDP, Host: "127.0.0.1", Port: pc.LocalAddr().(*net.UDPAddr).Port}}
}

// next reads one datagram (up to 10 s: a deadline, not a wait).
func (u *udpReceiver) next(t *testing.T) ([]byte, net.Addr) {
	t.Helper()
	buf := make([]byte, 70000)
	_ = u.pc.SetReadDeadline(time.Now().Add(10 * time.Second))
	n, from, err := u.pc.ReadFrom(buf)
	if err != nil {
		t.Fatalf("target %v: %v", u.ep, err)
	}
	return buf[:n], from
}

// fakeSender is a sender as a listener would name it, whose replies the
// test collects.
type fakeSender struct {
	src     transport.Source
	mu      sync.Mutex
	replies [][]byte
	got     chan struct{}
}

func newFakeSender(name string) *fakeSender {
	f := &fakeSender{got: make(chan struct{}, 100)}
	f.src = transport.NewSource(transport.UDP, name, func(p []byte) error {
		f.mu.Lock()
		f.replies = append(f.replies, bytes.Clone(p))
		f.mu.Unlock()
		f.got <- struct{}{}
		return nil
	})
	return f
}

func (f *fakeSender) send(tp *Tap, data []byte) {
	tp.Forward(&transport.Packet{Data: data, Source: f.src})
}

func (f *fakeSender) awaitReplies(t *testing.T, n int) [][]byte {
	t.Helper()
	for range n {
		select {
		case <-f.got:
		case <-time.After(10 * time.Second):
			t.Fatalf("%s: fewer than %d replies", f.src, n)
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.replies
}

func msg(t *testing.T, addr string, args ...osc.Arg) []byte {
	t.Helper()
	b, err := osc.AppendMessage(nil, &osc.Message{Address: addr, Args: args})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// waitDrained waits until every target's writer has dealt with what was
// queued (sent it, or counted it as not sent): the counts are then final.
func waitDrained(t *testing.T, tp *Tap) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for _, tg := range tp.targets {
		for {
			n := tg.q.len()
			if n == 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%v: %d packets still queued after 10s", tg.cfg.Endpoint, n)
			}
			runtime.Gosched()
		}
	}
}

// Every packet reaches every target byte for byte, malformed ones and
// bundles included, in order, from one socket per sender and target.
func TestForwardUnchanged(t *testing.T) {
	a, b := newUDPReceiver(t), newUDPReceiver(t)
	tp := New(context.Background(), Config{Targets: []Target{{Endpoint: a.ep}, {Endpoint: b.ep}}})
	bundle, _ := osc.AppendBundle(nil, &osc.Bundle{Timetag: 5, Elements: []osc.Packet{&osc.Message{Address: "/in"}}})
	pkts := [][]byte{msg(t, "/a", osc.Int32(1)), []byte("not OSC!"), bundle, msg(t, "/b", osc.String("x"))}
	s := newFakeSender("127.0.0.1:5000")
	for _, p := range pkts {
		s.send(tp, p)
	}
	for _, r := range []*udpReceiver{a, b} {
		var from string
		for i, want := range pkts {
			got, src := r.next(t)
			if !bytes.Equal(got, want) {
				t.Errorf("%v packet %d: got %q, want %q", r.ep, i, got, want)
			}
			if from != "" && src.String() != from {
				t.Errorf("%v: packet %d came from %s, the others from %s", r.ep, i, src, from)
			}
			from = src.String()
		}
	}
	st := tp.Close()
	if st.Forwarded != 4 || st.Senders != 1 || st.Targets[0].Sent != 4 || st.Targets[1].Sent != 4 {
		t.Errorf("stats %+v", st)
	}
}

// A target's answers go back to the sender that asked, through that
// sender's own socket, with two senders talking at once; each reply is
// shown with the sender it went to.
func TestRepliesFindTheirSender(t *testing.T) {
	target := newUDPReceiver(t)
	var mu sync.Mutex
	shown := map[string]int{}
	tp := New(context.Background(), Config{Targets: []Target{{Endpoint: target.ep}},
		Reply: func(pk *transport.Packet, to transport.Source) {
			mu.Lock()
			shown[pk.Source.String()+" → "+to.String()+" "+string(pk.Data)]++
			mu.Unlock()
		}})
	defer tp.Close()
	s1, s2 := newFakeSender("127.0.0.1:1111"), newFakeSender("127.0.0.1:2222")
	sockets := map[string]string{} // sender → the port the target saw
	for i := range 3 {
		for _, s := range []*fakeSender{s1, s2} {
			s.send(tp, []byte(fmt.Sprintf("%s#%d", s.src, i)))
			got, from := target.next(t)
			if prev, ok := sockets[s.src.String()]; ok && prev != from.String() {
				t.Fatalf("%s came through %s, then %s", s.src, prev, from)
			}
			sockets[s.src.String()] = from.String()
			if _, err := target.pc.WriteTo(append([]byte("re:"), got...), from); err != nil {
				t.Fatal(err)
			}
		}
	}
	if sockets[s1.src.String()] == sockets[s2.src.String()] {
		t.Fatalf("both senders came through one socket %s", sockets[s1.src.String()])
	}
	for _, s := range []*fakeSender{s1, s2} {
		got := s.awaitReplies(t, 3)
		for i, r := range got {
			if want := fmt.Sprintf("re:%s#%d", s.src, i); string(r) != want {
				t.Errorf("%s reply %d: %q, want %q", s.src, i, r, want)
			}
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(shown) != 6 || shown[target.pc.LocalAddr().String()+" → 127.0.0.1:2222 re:127.0.0.1:2222#1"] != 1 {
		t.Errorf("replies shown: %v", shown)
	}
}

// dialer wraps transport.Dial: it fails while fail says so, and counts
// and announces each attempt.
type dialer struct {
	mu       sync.Mutex
	attempts int
	fail     bool
}

func (d *dialer) dial(ctx context.Context, ep transport.Endpoint, cfg transport.DialConfig) (transport.Client, error) {
	d.mu.Lock()
	d.attempts++
	fail := d.fail
	d.mu.Unlock()
	if fail {
		return nil, fmt.Errorf("cannot connect to %s: connection refused", ep)
	}
	return transport.Dial(ctx, ep, cfg)
}

func (d *dialer) set(fail bool) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.fail = fail
	return d.attempts
}

// A target that cannot be reached is reported once, its packets are
// counted as not sent without a dial while its backoff runs (100 ms, then
// 200 ms, on the injected clock), it is dialled again after, and its
// return is reported with what it missed. The other target gets every
// packet meanwhile.
func TestDownTargetBackoff(t *testing.T) {
	clk := clock.NewFake(t0)
	down, live := newUDPReceiver(t), newUDPReceiver(t)
	d := &dialer{fail: true}
	var mu sync.Mutex
	var events []Event
	tp := New(context.Background(), Config{Clock: clk, Dial: func(ctx context.Context, ep transport.Endpoint, cfg transport.DialConfig) (transport.Client, error) {
		if ep == down.ep {
			return d.dial(ctx, ep, cfg)
		}
		return transport.Dial(ctx, ep, cfg)
	}, Targets: []Target{{Endpoint: down.ep}, {Endpoint: live.ep}}, Event: func(e Event) {
		mu.Lock()
		events = append(events, e)
		mu.Unlock()
	}})
	s := newFakeSender("127.0.0.1:5000")
	steps := []struct {
		at       time.Duration // on the fake clock
		attempts int           // dials of the down target so far, after the packet
		up       bool          // the target is back before this packet
	}{
		{0, 1, false},                      // dialled, fails: backoff 100ms
		{50 * time.Millisecond, 1, false},  // within it: not dialled
		{100 * time.Millisecond, 2, false}, // dialled, fails: backoff 200ms
		{299 * time.Millisecond, 2, false}, // within it
		{300 * time.Millisecond, 3, true},  // dialled, and it works
		{301 * time.Millisecond, 3, true},  // the connection is kept
	}
	for i, st := range steps {
		clk.Set(t0.Add(st.at))
		if st.up {
			d.set(false)
		}
		p := []byte(fmt.Sprintf("/p%d", i))
		s.send(tp, p)
		waitDrained(t, tp)
		if got := d.set(!st.up); got != st.attempts {
			t.Fatalf("after packet %d at %v: %d dials, want %d", i, st.at, got, st.attempts)
		}
		if got, _ := live.next(t); !bytes.Equal(got, p) {
			t.Fatalf("the live target got %q, want %q", got, p)
		}
		if st.up {
			if got, _ := down.next(t); !bytes.Equal(got, p) {
				t.Fatalf("the target back up got %q, want %q", got, p)
			}
		}
	}
	stats := tp.Close()
	if got := stats.Targets[0]; got.NotSent != 4 || got.Sent != 2 || got.Err != nil {
		t.Errorf("down target: %+v", got)
	}
	if got := stats.Targets[1]; got.Sent != 6 || got.NotSent != 0 {
		t.Errorf("live target: %+v", got)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(events) != 2 || events[0].Kind != Down || events[0].Target != down.ep ||
		events[1].Kind != Up || events[1].Count != 4 {
		t.Errorf("events %+v, want Down once, then Up with 4 missed", events)
	}
}

// A real refused TCP connection is a Down event naming the refusal, and
// the tap goes on.
func TestTCPConnectRefused(t *testing.T) {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close() // nobody listens there now
	live := newUDPReceiver(t)
	var got []Event
	var mu sync.Mutex
	tp := New(context.Background(), Config{Targets: []Target{
		{Endpoint: transport.Endpoint{Proto: transport.TCP, Host: "127.0.0.1", Port: port}}, {Endpoint: live.ep}},
		Event: func(e Event) { mu.Lock(); got = append(got, e); mu.Unlock() }})
	s := newFakeSender("127.0.0.1:5000")
	for i := range 3 {
		s.send(tp, []byte(fmt.Sprintf("/p%d", i)))
		live.next(t)
	}
	st := tp.Close()
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 1 || got[0].Kind != Down || got[0].Err == nil || !strings.Contains(got[0].Err.Error(), "connection refused") {
		t.Fatalf("events %+v", got)
	}
	if st.Targets[0].NotSent != 3 || st.Targets[1].Sent != 3 {
		t.Errorf("stats %+v", st.Targets)
	}
}

// A UDP target where nobody listens refuses (ICMP port unreachable): the
// first refusal is reported, all are counted, and the tap keeps sending.
func TestUDPRefused(t *testing.T) {
	dead := newUDPReceiver(t)
	dead.pc.Close()
	live := newUDPReceiver(t)
	var mu sync.Mutex
	var events []Event
	tp := New(context.Background(), Config{Targets: []Target{{Endpoint: dead.ep}, {Endpoint: live.ep}},
		Event: func(e Event) { mu.Lock(); events = append(events, e); mu.Unlock() }})
	s := newFakeSender("127.0.0.1:5000")
	refused := func() int64 { return tp.targets[0].refused.Load() }
	for i := 0; refused() == 0; i++ {
		if i == 1000 {
			t.Fatal("no refusal seen after 1000 packets")
		}
		s.send(tp, []byte(fmt.Sprintf("/p%d", i)))
		live.next(t)
		waitDrained(t, tp)
		runtime.Gosched() // let the reader take the refusal
	}
	st := tp.Close()
	mu.Lock()
	defer mu.Unlock()
	if len(events) != 1 || events[0].Kind != Refused || !errors.Is(events[0].Err, transport.ErrRefused) {
		t.Errorf("events %+v, want one Refused", events)
	}
	if st.Targets[0].Refused == 0 || st.Targets[1].Sent != st.Forwarded {
		t.Errorf("stats %+v", st)
	}
}

// A TCP target that does not read never holds up the tap or the other
// targets: its queue fills, what does not fit is dropped and counted
// (reported once), and Close ends within StopGrace.
func TestStalledTarget(t *testing.T) {
	stall, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer stall.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		if c, err := stall.Accept(); err == nil {
			accepted <- c // never read
		}
	}()
	live, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer live.Close()
	var mu sync.Mutex
	var events []Event
	tp := New(context.Background(), Config{Queue: 8, StopGrace: 50 * time.Millisecond, Targets: []Target{
		{Endpoint: transport.Endpoint{Proto: transport.TCP, Host: "127.0.0.1", Port: stall.Addr().(*net.TCPAddr).Port}},
		{Endpoint: transport.Endpoint{Proto: transport.TCP, Host: "127.0.0.1", Port: live.Addr().(*net.TCPAddr).Port}}},
		Event: func(e Event) { mu.Lock(); events = append(events, e); mu.Unlock() }})
	s := newFakeSender("127.0.0.1:5000")
	big := make([]byte, 60000)
	copy(big, "/big\x00\x00\x00\x00,\x00\x00\x00")
	const n = 600 // 36 MB: more than the kernel buffers of a connection
	s.send(tp, big)
	lc, err := live.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer lc.Close()
	frame := make([]byte, len(big)+1) // SLIP: the first frame has no leading END
	for i := range n {
		if i > 0 {
			s.send(tp, big)
			frame = make([]byte, len(big)+2)
		}
		_ = lc.SetReadDeadline(time.Now().Add(10 * time.Second))
		if _, err := io.ReadFull(lc, frame); err != nil {
			t.Fatalf("the live target after %d packets: %v", i, err)
		}
	}
	st := tp.Close()
	if c := <-accepted; c != nil {
		c.Close()
	}
	if st.Targets[0].Dropped == 0 || st.Targets[1].Sent != n || st.Targets[1].Dropped != 0 {
		t.Errorf("stats %+v", st.Targets)
	}
	if got := st.Targets[0]; got.Sent+got.Dropped+got.NotSent != n {
		t.Errorf("stalled target: %d sent + %d dropped + %d not sent, want %d in all", got.Sent, got.Dropped, got.NotSent, n)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(events) != 1 || events[0].Kind != Stalled || events[0].Count != 8 {
		t.Errorf("events %+v, want one Stalled", events)
	}
}

// tcpTarget accepts connections and reports each one's end, for tests of
// when a sender's socket closes.
type tcpTarget struct {
	ep     transport.Endpoint
	opened chan struct{}
	closed chan struct{}
}

func newTCPTarget(t *testing.T) *tcpTarget {
	t.Helper()
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	tt := &tcpTarget{ep: transport.Endpoint{Proto: transport.TCP, Host: "127.0.0.1", Port: ln.Addr().(*net.TCPAddr).Port},
		opened: make(chan struct{}, 10), closed: make(chan struct{}, 10)}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			tt.opened <- struct{}{}
			go func() {
				_, _ = io.Copy(io.Discard, c)
				c.Close()
				tt.closed <- struct{}{}
			}()
		}
	}()
	return tt
}

func await(t *testing.T, c chan struct{}, what string) {
	t.Helper()
	select {
	case <-c:
	case <-time.After(10 * time.Second):
		t.Fatalf("no %s within 10s", what)
	}
}

// Senders' sockets are capped: at MaxSenders the sender idle longest is
// closed (reported once); a sender's sockets close between Idle and
// Idle*5/4 after its last packet; a sender that leaves (Gone) has its
// sockets closed at once.
func TestSendersIdleAndCapped(t *testing.T) {
	clk := clock.NewFake(t0)
	target := newTCPTarget(t)
	var events []Event
	var mu sync.Mutex
	tp := New(context.Background(), Config{Clock: clk, MaxSenders: 2, Idle: time.Minute,
		Targets: []Target{{Endpoint: target.ep}},
		Event:   func(e Event) { mu.Lock(); events = append(events, e); mu.Unlock() }})
	defer tp.Close()
	a, b, c := newFakeSender("10.0.0.1:1"), newFakeSender("10.0.0.2:2"), newFakeSender("10.0.0.3:3")
	a.send(tp, []byte("/a"))
	await(t, target.opened, "connection for a")
	clk.Advance(time.Second)
	b.send(tp, []byte("/b"))
	await(t, target.opened, "connection for b")
	clk.Advance(time.Second)
	c.send(tp, []byte("/c")) // a, idle longest, makes room
	await(t, target.closed, "a's connection closing")
	await(t, target.opened, "connection for c")
	if n := tp.Senders(); n != 2 {
		t.Fatalf("%d senders, want 2", n)
	}
	mu.Lock()
	if len(events) != 1 || events[0].Kind != Evicted || events[0].Sender != "10.0.0.1:1" {
		t.Errorf("events %+v", events)
	}
	mu.Unlock()

	tp.Gone(c.src)
	await(t, target.closed, "c's connection closing when c left")
	// Idle senders are looked for every Idle/4 (15 s): at 60 s b has
	// been idle 59 s, at 75 s 74 s.
	clk.Advance(time.Minute - 2*time.Second)
	if n := tp.Senders(); n != 1 {
		t.Fatalf("%d senders before b's idle limit, want 1", n)
	}
	clk.Advance(15 * time.Second)
	await(t, target.closed, "b's connection closing when idle")
	if n := tp.Senders(); n != 0 {
		t.Fatalf("%d senders after the idle limit, want 0", n)
	}
}

// --only and --drop choose what is forwarded; a packet that does not
// decode matches no pattern; a bundle goes whole when any of its
// messages passes; a truncated datagram never goes.
func TestForwardFilter(t *testing.T) {
	bundle, _ := osc.AppendBundle(nil, &osc.Bundle{Timetag: 1, Elements: []osc.Packet{
		&osc.Message{Address: "/x/1"}, &osc.Message{Address: "/keep/1"}}})
	tests := []struct {
		name       string
		only, drop []string
		forwarded  []string // addresses, "bad" for the malformed packet, "bundle"
	}{
		{"none", nil, nil, []string{"/keep/1", "/x/1", "bad", "bundle"}},
		{"only", []string{"/keep/*"}, nil, []string{"/keep/1", "bundle"}},
		{"drop", nil, []string{"/x/*"}, []string{"/keep/1", "bad", "bundle"}},
		{"drop all the bundle's", nil, []string{"/x/*", "/keep/*"}, []string{"bad"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &filter.Set{}
			for _, p := range tt.only {
				if err := f.Include(p); err != nil {
					t.Fatal(err)
				}
			}
			for _, p := range tt.drop {
				if err := f.Exclude(p); err != nil {
					t.Fatal(err)
				}
			}
			r := newUDPReceiver(t)
			tp := New(context.Background(), Config{Forward: f, Targets: []Target{{Endpoint: r.ep}}})
			s := newFakeSender("127.0.0.1:5000")
			in := map[string][]byte{"/keep/1": msg(t, "/keep/1"), "/x/1": msg(t, "/x/1"), "bad": []byte("bad!"), "bundle": bundle}
			for _, k := range []string{"/keep/1", "/x/1", "bad", "bundle"} {
				s.send(tp, in[k])
			}
			tp.Forward(&transport.Packet{Data: msg(t, "/keep/1"), Truncated: true, Source: s.src})
			for _, k := range tt.forwarded {
				if got, _ := r.next(t); !bytes.Equal(got, in[k]) {
					t.Fatalf("got %q, want %s", got, k)
				}
			}
			st := tp.Close()
			if st.Forwarded != int64(len(tt.forwarded)) || st.Filtered != int64(4-len(tt.forwarded)) || st.Truncated != 1 {
				t.Errorf("stats %+v", st)
			}
		})
	}
}

// A packet larger than a target takes is not sent to it (counted,
// reported once); the other targets get it.
func TestTooBig(t *testing.T) {
	small, big := newUDPReceiver(t), newUDPReceiver(t)
	var events []Event
	var mu sync.Mutex
	tp := New(context.Background(), Config{Targets: []Target{{Endpoint: small.ep, MaxPacket: 8}, {Endpoint: big.ep}},
		Event: func(e Event) { mu.Lock(); events = append(events, e); mu.Unlock() }})
	s := newFakeSender("127.0.0.1:5000")
	p := msg(t, "/long/address")
	s.send(tp, p)
	s.send(tp, p)
	s.send(tp, []byte("/ok\x00"))
	big.next(t)
	big.next(t)
	if got, _ := small.next(t); string(got) != "/ok\x00" {
		t.Errorf("the small target got %q", got)
	}
	st := tp.Close()
	if st.Targets[0].TooBig != 2 || st.Targets[0].Sent != 1 || st.Targets[1].Sent != 3 {
		t.Errorf("stats %+v", st.Targets)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(events) != 1 || events[0].Kind != TooBig || events[0].Count != int64(len(p)) {
		t.Errorf("events %+v", events)
	}
}

// A sender that leaves right after sending (a TCP client that sends and
// closes) has its packets forwarded first, then its connection closed.
func TestGoneAfterQueued(t *testing.T) {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	tp := New(context.Background(), Config{Targets: []Target{{Endpoint: transport.Endpoint{Proto: transport.TCP, Host: "127.0.0.1", Port: ln.Addr().(*net.TCPAddr).Port}}}})
	defer tp.Close()
	s := newFakeSender("127.0.0.1:5000")
	for range 100 {
		s.send(tp, []byte("/a\x00\x00,\x00\x00\x00"))
	}
	tp.Gone(s.src)
	c, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	all, err := io.ReadAll(c) // to the end: the connection closes after the packets
	if err != nil || bytes.Count(all, []byte("/a\x00\x00,\x00\x00\x00")) != 100 {
		t.Fatalf("read %d bytes, %v; want 100 packets then the end", len(all), err)
	}
}
