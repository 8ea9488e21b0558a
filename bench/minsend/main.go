// Command minsend is the baseline of bench/startup.sh: the smallest Go
// program that sends the datagram 'oscli send /x i:1' sends, to
// 127.0.0.1:8000 over UDP. It shares no code with oscli.
package main

import (
	"net"
	"os"
)

func main() {
	c, err := net.Dial("udp", "127.0.0.1:8000")
	if err != nil {
		os.Exit(1)
	}
	// "/x" ",i" int32 1, each padded to 4 bytes.
	if _, err := c.Write([]byte{'/', 'x', 0, 0, ',', 'i', 0, 0, 0, 0, 0, 1}); err != nil {
		os.Exit(1)
	}
	c.Close()
}
