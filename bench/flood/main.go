// Command flood is the independent sender of bench/throughput.sh: it sends
// RATE copies of a 20-byte OSC message (/1/fader f:0.5) per second to
// 127.0.0.1:PORT for SECONDS, up to 64 per sendmmsg system call, and prints
// how many it sent and over how long. It shares no code with oscli, so
// dump's loss is measured against a sender that is not itself under test,
// and it is lighter than `oscli bench` (no probes to stamp, no echoes to
// read), so it reaches rates bench does not on a 2-core machine.
//
// With ADDRESSES (at most 100000), the messages go round that many
// addresses instead, /f/00000 f:0.5 to /f/NNNNN f:0.5, also 20 bytes each
// (bench/top.sh: a table of 10,000 rows).
//
//	go run ./bench/flood PORT RATE SECONDS [ADDRESSES]
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
	if len(os.Args) != 4 && len(os.Args) != 5 {
		fmt.Fprintln(os.Stderr, "usage: flood PORT RATE SECONDS [ADDRESSES]")
		os.Exit(2)
	}
	port, err1 := strconv.Atoi(os.Args[1])
	rate, err2 := strconv.ParseFloat(os.Args[2], 64)
	secs, err3 := strconv.ParseFloat(os.Args[3], 64)
	addrs, err4 := 0, error(nil)
	if len(os.Args) == 5 {
		addrs, err4 = strconv.Atoi(os.Args[4])
	}
	if err1 != nil || err2 != nil || err3 != nil || err4 != nil || rate <= 0 || secs <= 0 || addrs < 0 || addrs > 100000 {
		fmt.Fprintln(os.Stderr, "flood: PORT is a number, RATE and SECONDS are positive numbers, ADDRESSES 0 to 100000")
		os.Exit(2)
	}
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		fmt.Fprintln(os.Stderr, "flood:", err)
		os.Exit(1)
	}
	pc := ipv4.NewPacketConn(c)
	to := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: port}
	pkts := [][]byte{[]byte("/1/fader\x00\x00\x00\x00,f\x00\x00?\x00\x00\x00")}
	if addrs > 0 {
		pkts = make([][]byte, addrs)
		for i := range pkts {
			pkts[i] = fmt.Appendf(nil, "/f/%05d\x00\x00\x00\x00,f\x00\x00?\x00\x00\x00", i)
		}
	}
	msgs := make([]ipv4.Message, 64)
	for i := range msgs {
		msgs[i] = ipv4.Message{Buffers: [][]byte{pkts[0]}, Addr: to}
	}
	next := 0 // the next packet of pkts
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
		batch := msgs[:min(due-sent, int64(len(msgs)))]
		for i := range batch {
			batch[i].Buffers[0] = pkts[(next+i)%len(pkts)]
		}
		n, err := pc.WriteBatch(batch, 0)
		if err != nil {
			continue // ENOBUFS and the like: try again
		}
		sent += int64(n)
		next = (next + n) % len(pkts)
	}
	fmt.Println(sent, time.Since(start).Seconds())
}
