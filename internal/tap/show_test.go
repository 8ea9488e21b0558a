package tap

import (
	"fmt"
	"testing"

	"github.com/oscli/oscli/internal/transport"
)

// Show prints in the order packets came, replies with their sender; a
// printer that blocks does not block Push: what does not fit is counted,
// and the rest is printed once the printer goes on.
func TestShowDecouples(t *testing.T) {
	gate := make(chan struct{})
	var got []string
	s := NewShow(4, 0, func(pk *transport.Packet, to string) {
		<-gate
		got = append(got, fmt.Sprintf("%s>%s:%s", pk.Source, to, pk.Data))
	})
	src := transport.NewSource(transport.UDP, "a:1", nil)
	target := transport.NewSource(transport.UDP, "t:2", nil)
	for i := range 10 { // the printer is blocked: 4 queued, the rest dropped
		if i == 1 {
			s.PushReply(&transport.Packet{Data: []byte("r"), Source: target}, "a:1")
			continue
		}
		s.Push(&transport.Packet{Data: []byte(fmt.Sprint(i)), Source: src})
	}
	close(gate)
	if dropped := s.Close(); dropped != 6 {
		t.Errorf("dropped %d, want 6", dropped)
	}
	if want := "[a:1>:0 t:2>a:1:r a:1>:2 a:1>:3]"; fmt.Sprint(got) != want {
		t.Errorf("printed %v, want %s", got, want)
	}
}
