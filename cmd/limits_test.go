package cmd

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// b:@FILE reads at most the largest packet to the target: a larger
// regular file is refused by its size before it is read; a message or
// bundle too big for the target is a usage error, and nothing is sent.
func TestSizeLimits(t *testing.T) {
	dir := t.TempDir()
	file := func(name string, n int) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, make([]byte, n), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	big, half := file("big.bin", 70000), file("half.bin", 40000)
	tests := []struct {
		args []string
		code int
		err  string
	}{
		{[]string{"send", "--dry-run", "/a", "b:@" + big}, 2,
			`oscli: error: argument 1 "b:@` + big + `": ` + big + " is 70000 bytes, more than 65507, the largest packet to udp://127.0.0.1:8000\n"},
		{[]string{"send", "--dry-run", "udp://[::1]:9", "/a", "b:@" + big}, 2,
			"is 70000 bytes, more than 65527, the largest packet to udp://[::1]:9\n"},
		{[]string{"send", "--dry-run", "/a", "b:@" + half, "b:@" + half}, 2,
			"oscli: error: packet is 80016 bytes; a UDP datagram carries at most 65507\n"},
		{[]string{"bundle", "--dry-run", "/a", "b:@" + half, "/b", "b:@" + half}, 2,
			"oscli: error: packet is 80048 bytes; a UDP datagram carries at most 65507\n"},
		{[]string{"send", "--dry-run", "tcp://127.0.0.1:9", "/a", "b:@" + big}, 0, ""},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args[:2], " "), func(t *testing.T) {
			r := run(t, "", nil, tt.args...)
			if r.code != tt.code || !strings.HasSuffix(r.err, tt.err) || tt.code != 0 && r.out != "" {
				t.Errorf("%d %q (stdout %d bytes)", r.code, r.err, len(r.out))
			}
		})
	}
	// bundle - stops reading once its bundle cannot go out.
	in := strings.Repeat("/a b:"+strings.Repeat("00", 20000)+"\n", 4)
	r := run(t, in, nil, "bundle", "--dry-run", "-")
	if r.code != 2 || r.out != "" || r.err != "oscli: error: line 4: the bundle reaches 80080 bytes, more than the largest packet to udp://127.0.0.1:8000 (65507): nothing sent\n" {
		t.Errorf("bundle -: %d %q", r.code, r.err)
	}
}

// send - with a 5 MiB line and a too-big packet in the middle sends every
// other line over UDP, batched or not, and says which lines it skipped.
func TestSendStdinSkipsTooBig(t *testing.T) {
	var in strings.Builder
	for i := 1; i <= 10; i++ {
		switch i {
		case 4:
			in.WriteString("/huge s:" + strings.Repeat("x", 5<<20) + "\n")
		case 8:
			in.WriteString("/big b:" + strings.Repeat("00", 70000) + "\n")
		default:
			fmt.Fprintf(&in, "/line i:%d\n", i)
		}
	}
	for _, batch := range []string{"1", "64"} {
		t.Run("batch "+batch, func(t *testing.T) {
			d := start(t, nil, "dump", "-H", "127.0.0.1", "-p", "0", "--time", "none", "-n", "8")
			r := run(t, in.String(), nil, "send", "--batch", batch, d.addr, "-")
			want := "oscli: error: line 4: 5242888 bytes, longer than the 589592 a line for one packet of at most 65507 bytes can need\n" +
				"oscli: error: line 8: packet is 70016 bytes; a UDP datagram carries at most 65507\n" +
				"oscli: error: 2 of 10 lines could not be sent\n"
			if r.code != 1 || r.err != want {
				t.Errorf("send: %d %q", r.code, r.err)
			}
			var got []string
			for _, l := range lines(d.wait(t).out) {
				got = append(got, l[strings.LastIndex(l, ":")+1:])
			}
			if strings.Join(got, " ") != "1 2 3 5 6 7 9 10" {
				t.Errorf("arrived: %q", got)
			}
		})
	}
}
