package sender

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/oscli/oscli/internal/argparse"
	"github.com/oscli/oscli/internal/format"
	"github.com/oscli/oscli/internal/osc"
	"github.com/oscli/oscli/internal/transport"
)

func msg(addr string, args ...osc.Arg) *osc.Message { return &osc.Message{Address: addr, Args: args} }

func encode(t *testing.T, p osc.Packet) []byte {
	t.Helper()
	b, err := osc.AppendPacket(nil, p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// receiver listens on loopback and delivers copies of what arrives.
func receiver(t *testing.T, ep transport.Endpoint) (transport.Endpoint, <-chan []byte) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	l, err := transport.Listen(ctx, ep, transport.ListenConfig{})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	ch := make(chan []byte, 64)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = l.Serve(func(p *transport.Packet) { ch <- bytes.Clone(p.Data) })
	}()
	t.Cleanup(func() { cancel(); l.Close(); <-done })
	return l.Addr(), ch // the listener is bound: its address is the ready signal
}

// arrive waits for the next n packets.
func arrive(t *testing.T, ch <-chan []byte, n int) [][]byte {
	t.Helper()
	var got [][]byte
	for range n {
		select {
		case p := <-ch:
			got = append(got, p)
		case <-time.After(10 * time.Second):
			t.Fatalf("%d of %d packets arrived in 10s", len(got), n)
		}
	}
	return got
}

// nothingYet fails if a packet has already arrived. (Loopback delivers
// before the send returns, so a packet sent too early is there.)
func nothingYet(t *testing.T, ch <-chan []byte, when string) {
	t.Helper()
	select {
	case p := <-ch:
		t.Fatalf("%s: %q arrived", when, p)
	default:
	}
}

// Queue (and QueuePacket) copy packets into a batch that goes out when
// Batch are queued, Flush sends the rest, Send goes after what is
// queued; every byte arrives as queued, in order; Sent counts what went
// out. Over each transport once.
func TestQueueFlushLoopback(t *testing.T) {
	for _, tt := range []struct {
		name string
		ep   func(t *testing.T) transport.Endpoint
	}{
		{"udp", func(*testing.T) transport.Endpoint {
			return transport.Endpoint{Proto: transport.UDP, Host: "127.0.0.1"}
		}},
		{"tcp", func(*testing.T) transport.Endpoint {
			return transport.Endpoint{Proto: transport.TCP, Host: "127.0.0.1"}
		}},
		{"unix", func(t *testing.T) transport.Endpoint {
			return transport.Endpoint{Proto: transport.Unix, Path: filepath.Join(t.TempDir(), "osc.sock")}
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			target, ch := receiver(t, tt.ep(t))
			s, err := Open(context.Background(), Options{Target: target, Batch: 3})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			pkts := []osc.Packet{
				msg("/q/1", osc.Int32(1)), msg("/q/2", osc.String("two")), msg("/q/3"),
				msg("/q/4", osc.Float32(0.5)), msg("/q/5", osc.Blob([]byte{1, 2, 3})),
				&osc.Bundle{Timetag: osc.Immediately, Elements: []osc.Packet{msg("/q/6")}},
				msg("/q/7"),
			}
			var want [][]byte
			for _, p := range pkts {
				want = append(want, encode(t, p))
			}
			queue := func(i int) {
				t.Helper()
				if i%2 == 0 {
					buf := bytes.Clone(want[i])
					if err := s.Queue(buf); err != nil {
						t.Fatal(err)
					}
					clear(buf) // Queue keeps a copy
				} else if err := s.QueuePacket(pkts[i]); err != nil {
					t.Fatal(err)
				}
			}
			var got [][]byte
			// 1, 2: queued; 3 fills the batch.
			queue(0)
			queue(1)
			if s.Sent() != 0 {
				t.Fatalf("sent %d before the batch was full", s.Sent())
			}
			nothingYet(t, ch, "two queued")
			queue(2)
			if s.Sent() != 3 {
				t.Fatalf("sent %d once the batch was full, want 3", s.Sent())
			}
			got = append(got, arrive(t, ch, 3)...)
			// 4, 5 queued; Flush sends them.
			queue(3)
			queue(4)
			nothingYet(t, ch, "two more queued")
			if err := s.Flush(); err != nil {
				t.Fatal(err)
			}
			if s.Sent() != 5 {
				t.Fatalf("sent %d after Flush, want 5", s.Sent())
			}
			got = append(got, arrive(t, ch, 2)...)
			// 6 queued, 7 sent now: 6 goes first.
			queue(5)
			if err := s.Send(want[6]); err != nil {
				t.Fatal(err)
			}
			if s.Sent() != 7 {
				t.Fatalf("sent %d after Send, want 7", s.Sent())
			}
			got = append(got, arrive(t, ch, 2)...)
			for i := range want {
				if !bytes.Equal(got[i], want[i]) {
					t.Errorf("packet %d: %x, want %x", i, got[i], want[i])
				}
			}
			if err := s.Flush(); err != nil || s.Sent() != 7 {
				t.Errorf("an empty Flush: %v, sent %d", err, s.Sent())
			}
		})
	}
}

// Batch 1 sends each queued packet at once.
func TestQueueBatchOne(t *testing.T) {
	target, ch := receiver(t, transport.Endpoint{Proto: transport.UDP, Host: "127.0.0.1"})
	s, err := Open(context.Background(), Options{Target: target, Batch: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for i := range 3 {
		m := msg("/one", osc.Int32(int32(i)))
		if err := s.QueuePacket(m); err != nil {
			t.Fatal(err)
		}
		if s.Sent() != int64(i+1) {
			t.Fatalf("sent %d after %d queued", s.Sent(), i+1)
		}
		if got := arrive(t, ch, 1)[0]; !bytes.Equal(got, encode(t, m)) {
			t.Errorf("got %x", got)
		}
	}
}

// Close sends what is still queued.
func TestCloseFlushes(t *testing.T) {
	target, ch := receiver(t, transport.Endpoint{Proto: transport.UDP, Host: "127.0.0.1"})
	s, err := Open(context.Background(), Options{Target: target})
	if err != nil {
		t.Fatal(err)
	}
	m := encode(t, msg("/last"))
	if err := s.Queue(m); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if got := arrive(t, ch, 1)[0]; !bytes.Equal(got, m) || s.Sent() != 1 {
		t.Errorf("got %x, sent %d", got, s.Sent())
	}
}

// A dry run writes each packet's hexdump, a blank line between two, and
// sends nothing; Sent counts the dumps.
func TestDryRun(t *testing.T) {
	var out strings.Builder
	s, err := Open(context.Background(), Options{
		Target: transport.Endpoint{Proto: transport.UDP, Host: "127.0.0.1", Port: 9}, Batch: 3,
		DryRun: true, DryRunOut: &out,
	})
	if err != nil {
		t.Fatal(err)
	}
	if s.Client() != nil || s.String() != "dry run (udp://127.0.0.1:9)" {
		t.Errorf("client %v, %q", s.Client(), s)
	}
	if err := s.Send(encode(t, msg("/a"))); err != nil {
		t.Fatal(err)
	}
	if err := s.Queue(encode(t, msg("/b", osc.Int32(1)))); err != nil {
		t.Fatal(err)
	}
	if err := s.QueuePacket(msg("/c", osc.String("hi"))); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	want := "000:2f610000 2c000000                       /a.. ,...\n" +
		"\n" +
		"000:2f620000 2c690000 00000001              /b.. ,i.. ....\n" +
		"\n" +
		"000:2f630000 2c730000 68690000              /c.. ,s.. hi..\n"
	if out.String() != want {
		t.Errorf("dry run wrote:\n%s\nwant:\n%s", out.String(), want)
	}
	if s.Sent() != 3 {
		t.Errorf("sent %d, want 3", s.Sent())
	}
}

// SendLines skips a line that is too long or does not parse, names it,
// and still sends every other line.
func TestSendLinesSkipsBadLines(t *testing.T) {
	var out strings.Builder
	s, err := Open(context.Background(), Options{
		Target: transport.Endpoint{Proto: transport.UDP, Host: "127.0.0.1", Port: 9}, DryRun: true, DryRunOut: &out,
	})
	if err != nil {
		t.Fatal(err)
	}
	in := "/a\n/" + strings.Repeat("x", 100) + "\nbad\n\n/b\n"
	parse := func(line []byte) (osc.Packet, error) {
		switch {
		case len(line) == 0:
			return nil, nil
		case line[0] != '/':
			return nil, errors.New("no address")
		}
		return msg(string(line)), nil
	}
	var bad []string
	st, err := s.SendLines(context.Background(), format.NewLineReader(strings.NewReader(in), 50), parse,
		func(line int, err error) { bad = append(bad, fmt.Sprintf("%d: %v", line, err)) })
	if err != nil {
		t.Fatal(err)
	}
	if st != (LineStats{Packets: 2, Bad: 2}) || s.Sent() != 2 ||
		strings.Join(bad, "; ") != "2: 101 bytes, longer than the 50 a line for one packet of at most 65507 bytes can need; 3: no address" {
		t.Fatalf("stats %+v, sent %d, bad %q", st, s.Sent(), bad)
	}
	if !strings.Contains(out.String(), "/a..") || !strings.Contains(out.String(), "/b..") {
		t.Errorf("dumped:\n%s", out.String())
	}
}

// A packet too big for the target is refused with its size and the
// limit, before anything of it is sent, and the packets queued around it
// still go out in order, batched or not.
func TestTooBig(t *testing.T) {
	for _, batch := range []int{1, 3} {
		t.Run(fmt.Sprint("batch ", batch), func(t *testing.T) {
			target, ch := receiver(t, transport.Endpoint{Proto: transport.UDP, Host: "127.0.0.1"})
			s, err := Open(context.Background(), Options{Target: target, Batch: batch})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			big := msg("/big", osc.Blob(make([]byte, 65507-16)))
			if n := len(encode(t, big)); n != 65508 {
				t.Fatalf("big is %d bytes", n)
			}
			fits := msg("/fits", osc.Blob(make([]byte, 65507-20)))
			var want [][]byte
			check := func(err error) {
				t.Helper()
				var tb *TooBigError
				if !errors.As(err, &tb) || *tb != (TooBigError{Size: 65508, Max: 65507, Proto: "udp"}) ||
					err.Error() != "packet is 65508 bytes; a UDP datagram carries at most 65507" {
					t.Fatalf("got %v", err)
				}
			}
			for i, p := range []osc.Packet{msg("/1"), big, fits, big, msg("/2")} {
				raw := encode(t, p)
				var err error
				if i%2 == 0 {
					err = s.QueuePacket(p)
				} else {
					err = s.Queue(raw)
				}
				if p == big {
					check(err)
					continue
				}
				if err != nil {
					t.Fatal(err)
				}
				want = append(want, raw)
			}
			check(s.Send(encode(t, big)))
			check(s.SendPacket(big))
			if err := s.Flush(); err != nil {
				t.Fatal(err)
			}
			got := arrive(t, ch, 3)
			for i := range want {
				if !bytes.Equal(got[i], want[i]) {
					t.Errorf("packet %d: %d bytes, want %d", i, len(got[i]), len(want[i]))
				}
			}
			if s.Sent() != 3 {
				t.Errorf("sent %d, want 3", s.Sent())
			}
		})
	}
}

// The largest packet a target takes: a UDP datagram's payload (IPv4 or
// IPv6), what oscli reads from a Unix socket, osc.MaxPacket over TCP.
func TestMaxPacket(t *testing.T) {
	for ep, want := range map[transport.Endpoint]int{
		{Proto: transport.UDP, Host: "127.0.0.1"}:      65507,
		{Proto: transport.UDP, Host: "localhost"}:      65507,
		{Proto: transport.UDP, Host: "::1"}:            65527,
		{Proto: transport.UDP, Host: "::ffff:1.2.3.4"}: 65507,
		{Proto: transport.Unix, Path: "/tmp/x"}:        transport.MaxDatagram,
		{Proto: transport.TCP, Host: "127.0.0.1"}:      osc.MaxPacket,
	} {
		if got := MaxPacket(Options{Target: ep}); got != want {
			t.Errorf("%v: %d, want %d", ep, got, want)
		}
	}
}

// send - with a line too long for any packet to the target, and one whose
// packet is too big, in the middle: both are reported with their numbers
// and every other line arrives, batched or not.
func TestSendLinesTooBig(t *testing.T) {
	var in strings.Builder
	for i := 1; i <= 10; i++ {
		switch i {
		case 4:
			in.WriteString("/huge s:" + strings.Repeat("x", 5<<20) + "\n") // 5 MiB
		case 7:
			in.WriteString("/big b:" + strings.Repeat("00", 70000) + "\n") // a 140 kB line, a 70 kB packet
		default:
			fmt.Fprintf(&in, "/line i:%d\n", i)
		}
	}
	for _, batch := range []int{1, 64} {
		t.Run(fmt.Sprint("batch ", batch), func(t *testing.T) {
			target, ch := receiver(t, transport.Endpoint{Proto: transport.UDP, Host: "127.0.0.1"})
			s, err := Open(context.Background(), Options{Target: target, Batch: batch})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			parse := func(line []byte) (osc.Packet, error) {
				return format.ParsePacketLine(line, false, &argparse.Parser{}, time.Now())
			}
			var bad []string
			lr := format.NewLineReader(strings.NewReader(in.String()), format.LineLimit(s.MaxPacket()))
			st, err := s.SendLines(context.Background(), lr, parse, func(line int, err error) { bad = append(bad, fmt.Sprintf("%d: %v", line, err)) })
			if err != nil {
				t.Fatal(err)
			}
			if st != (LineStats{Packets: 8, Bad: 2}) || strings.Join(bad, "\n") !=
				"4: 5242888 bytes, longer than the 589592 a line for one packet of at most 65507 bytes can need\n"+
					"7: packet is 70016 bytes; a UDP datagram carries at most 65507" {
				t.Fatalf("stats %+v, bad:\n%s", st, strings.Join(bad, "\n"))
			}
			var got []string
			for _, p := range arrive(t, ch, 8) {
				m, err := osc.Decode(p)
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, fmt.Sprint(m.(*osc.Message).Args[0].Int32()))
			}
			if strings.Join(got, " ") != "1 2 3 5 6 8 9 10" {
				t.Errorf("arrived: %s", got)
			}
		})
	}
}

// blockingClient's Send blocks, as a write to a receiver that does not
// read does, until a write deadline in the past is set.
type blockingClient struct {
	transport.Client
	entered chan struct{}
	expired chan struct{}
}

func (c *blockingClient) Send([]byte) error {
	c.entered <- struct{}{}
	<-c.expired
	return fmt.Errorf("write: %w", os.ErrDeadlineExceeded)
}

func (c *blockingClient) SendBatch([][]byte) error { return c.Send(nil) }

func (c *blockingClient) SetWriteDeadline(t time.Time) error {
	if !t.IsZero() && t.Before(time.Now()) {
		close(c.expired)
	}
	return nil
}

func (c *blockingClient) Close() error { return nil }

// A send blocked on a receiver that does not read (a TCP or WebSocket
// peer that stopped reading) ends when the run's context does, with the
// context's error: Ctrl-C or SIGTERM stops send, bundle and replay at
// once (exit 130), not only after the peer reads.
func TestSendEndsWithContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	c := &blockingClient{entered: make(chan struct{}, 1), expired: make(chan struct{})}
	s := newSender(ctx, Options{Target: transport.Endpoint{Proto: transport.TCP}}, c)
	done := make(chan error, 1)
	go func() { done <- s.Send(encode(t, msg("/stuck"))) }()
	<-c.entered
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Send: %v, want context.Canceled", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Send still blocked 10s after the context ended")
	}
	s.Close()
}
