//go:build unix

package transport

import (
	"context"
	"errors"
	"net"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// fullListener returns the address of a loopback TCP socket that listens
// with the smallest backlog and never accepts, once connections fill its
// queue: the next connect gets no answer, as from a host that is down.
func fullListener(t *testing.T) string {
	t.Helper()
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Close(fd) })
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Listen(fd, 0); err != nil {
		t.Fatal(err)
	}
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		t.Fatal(err)
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(sa.(*syscall.SockaddrInet4).Port))
	// The queue takes a connection or two; the one that times out shows
	// it full. A generous timeout: a busy machine still connects in time.
	for range 16 {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				return addr
			}
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
	}
	t.Fatal("the listen queue never filled")
	return ""
}

// A TCP target that does not answer is given up after the connect
// timeout, with a message naming it and the time waited; a context
// ending sooner ends the wait sooner.
func TestDialTCPNoAnswer(t *testing.T) {
	addr := fullListener(t)
	host, port, _ := net.SplitHostPort(addr)
	p, _ := strconv.Atoi(port)
	ep := Endpoint{Proto: TCP, Host: host, Port: p}
	_, err := Dial(context.Background(), ep, DialConfig{ConnectTimeout: 50 * time.Millisecond})
	if !errors.Is(err, ErrNoAnswer) || err.Error() != "cannot connect to tcp "+addr+": no answer within 50ms" {
		t.Errorf("Dial: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err = Dial(ctx, ep, DialConfig{})
	if !errors.Is(err, ErrNoAnswer) || !strings.HasPrefix(err.Error(), "cannot connect to tcp "+addr+": no answer within ") {
		t.Errorf("Dial with a context deadline: %v", err)
	}
}
