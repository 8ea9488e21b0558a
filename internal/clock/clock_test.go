package clock

import (
	"context"
	"testing"
	"time"
)

var t0 = time.Date(2026, 11, 21, 18, 0, 0, 0, time.UTC)

func TestFakeFiresInDueOrder(t *testing.T) {
	c := NewFake(t0)
	var got []time.Duration
	for _, d := range []time.Duration{3 * time.Second, time.Second, 2 * time.Second, time.Second} {
		c.AfterFunc(d, func() { got = append(got, c.Now().Sub(t0)) })
	}
	stopped := c.AfterFunc(1500*time.Millisecond, func() { t.Error("stopped timer fired") })
	if !stopped.Stop() {
		t.Fatal("Stop of a pending timer reported false")
	}
	c.Advance(2 * time.Second)
	want := []time.Duration{time.Second, time.Second, 2 * time.Second}
	if len(got) != len(want) {
		t.Fatalf("after 2s fired at %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("fired at %v, want %v", got, want)
		}
	}
	if c.Now() != t0.Add(2*time.Second) {
		t.Fatalf("now %v", c.Now())
	}
	c.Advance(time.Hour)
	if len(got) != 4 || got[3] != 3*time.Second {
		t.Fatalf("fired at %v", got)
	}
}

func TestFakeResetAndSleep(t *testing.T) {
	c := NewFake(t0)
	fired := 0
	tm := c.AfterFunc(time.Second, func() { fired++ })
	tm.Reset(5 * time.Second)
	c.Advance(4 * time.Second)
	if fired != 0 {
		t.Fatal("reset timer fired early")
	}
	c.Advance(time.Second)
	if fired != 1 {
		t.Fatal("reset timer did not fire")
	}

	done := make(chan time.Time)
	go func() {
		_ = c.Sleep(context.Background(), 10*time.Second)
		done <- c.Now()
	}()
	if !c.BlockUntil(1, 10*time.Second) {
		t.Fatal("sleeper never waited")
	}
	c.Advance(10 * time.Second)
	if at := <-done; at != t0.Add(15*time.Second) {
		t.Fatalf("woke at %v", at)
	}

	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error)
	go func() { errc <- c.Sleep(ctx, time.Hour) }()
	c.BlockUntil(1, 10*time.Second)
	cancel()
	if err := <-errc; err != context.Canceled {
		t.Fatalf("cancelled sleep returned %v", err)
	}
	if n := c.Waiters(); n != 0 {
		t.Fatalf("%d waiters left after a cancelled sleep", n)
	}
}
