// Command flood is the independent sender of bench/throughput.sh: it sends
// RATE copies of a 20-byte OSC message (/1/fader f:0.5) per second to
// 127.0.0.1:PORT for SECONDS, up to 64 per sendmmsg system call, and prints
// how many it sent and over how long. It shares no code with oscli, so
// dump's loss is measured against a sender that is not itself under test,
// and it is lighter than `oscli bench` (no probes to stamp, no echoes to
// read), so it reaches rates bench does not on a 2-core machine.
//
//	go run ./bench/flood PORT RATE SECONDS
package main

import (
	"fmt"
	"net"
	"os"
	"strconv"
	"time"

	"golang.org/x/net/ipv4"
)

func main() {
	if len(os.Args) != 4 {
		fmt.Fprintln(os.Stderr, "usage: flood PORT RATE SECONDS")
		os.Exit(2)
	}
	port, err1 := strconv.Atoi(os.Args[1])
	rate, err2 := strconv.ParseFloat(os.Args[2], 64)
	secs, err3 := strconv.ParseFloat(os.Args[3], 64)
	if err1 != nil || err2 != nil || err3 != nil || rate <= 0 || secs <= 0 {
		fmt.Fprintln(os.Stderr, "flood: PORT is a number, RATE and SECONDS are positive numbers")
		os.Exit(2)
	}
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		fmt.Fprintln(os.Stderr, "flood:", err)
		os.Exit(1)
	}
	pc := ipv4.NewPacketConn(c)
	to := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: port}
	pkt := []byte("/1/fader\x00\x00\x00\x00,f\x00\x00?\x00\x00\x00")
	msgs := make([]ipv4.Message, 64)
	for i := range msgs {
		msgs[i] = ipv4.Message{Buffers: [][]byte{pkt}, Addr: to}
	}
	total := int64(rate * secs)
	start := time.Now()
	var sent int64
	for sent < total {
		// Paced from the start, so late wake-ups do not add up.
		due := min(int64(time.Since(start).Seconds()*rate)+1, total)
		if due <= sent {
			time.Sleep(100 * time.Microsecond)
			continue
		}
		n, err := pc.WriteBatch(msgs[:min(due-sent, int64(len(msgs)))], 0)
		if err != nil {
			continue // ENOBUFS and the like: try again
		}
		sent += int64(n)
	}
	fmt.Println(sent, time.Since(start).Seconds())
}
