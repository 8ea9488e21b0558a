// Command attack is the reproducible attack run of issue 11: it runs
// `oscli dump` as a hostile network and a careless user would treat it, on
// loopback, and prints a figure per scenario. Given a second binary (built
// from an earlier commit) it runs the same scenarios against it in the same
// run, so every figure has its before next to it.
//
//	go run ./bench/attack [-runs N] [-flood 20s] [-only NAME,...] OSCLI [OLD_OSCLI]
//
// Scenarios (each bounded in time; a binary that hangs is killed and says so):
//
//	silent     500 TCP clients connect and send nothing, then a new client
//	           sends one packet: is it printed, and how fast?
//	halfframe  500 TCP clients each send an unfinished 1 MiB SLIP frame, then
//	           a new client sends one packet; peak RSS, RSS after they leave.
//	storm      20,000 connect/reset cycles, one connection open at a time,
//	           with --max-conns 1: how many were refused or evicted?
//	shortlived 2,000 clients one after another, each connecting, sending one
//	           packet and closing, with --max-conns 1: how many printed?
//	echo       dump --echo, one client floods 60 KB frames and never reads
//	           its echoes, then a new client sends one packet.
//	recordfifo --record into a FIFO nobody reads, a flood, then SIGTERM:
//	           time to exit.
//	schedule   200,000 bundles an hour ahead into dump --schedule; peak RSS.
//	slowreader a UDP flood for -flood into a dump whose stdout is read slowly;
//	           peak RSS.
//	signals    -runs runs each of SIGTERM, SIGHUP, SIGINT after 200 packets:
//	           runs with a summary and every counted packet on stdout.
//	blocked    stdout a pipe nobody reads, a flood, then SIGINT: time to exit.
//
// It shares no code with oscli: packets are built by hand here, so a bug in
// oscli's encoder cannot hide one in its listener. Linux only (/proc).
package main

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

var (
	runs  = flag.Int("runs", 20, "runs per signal in the signals scenario")
	flood = flag.Duration("flood", 20*time.Second, "length of the slow-reader flood")
	only  = flag.String("only", "", "comma-separated scenarios to run (default: all)")
)

type scenario struct {
	name string
	run  func(bin string) []string // figures, in order of the header
	cols []string
}

func main() {
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: attack [-runs N] [-flood D] [-only NAME,...] OSCLI [OLD_OSCLI]")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() < 1 || flag.NArg() > 2 {
		flag.Usage()
		os.Exit(2)
	}
	bins := flag.Args()
	scenarios := []scenario{
		{"silent", silent, []string{"served", "latency"}},
		{"halfframe", halfFrame, []string{"served", "peak RSS", "RSS after"}},
		{"storm", storm, []string{"refused/evicted", "cycles"}},
		{"shortlived", shortLived, []string{"printed", "evicted"}},
		{"echo", echo, []string{"served", "latency"}},
		{"recordfifo", recordFIFO, []string{"exit after", "summary"}},
		{"schedule", func(bin string) []string { return schedule(bin, 200000, 0) }, []string{"peak RSS", "summary"}},
		{"schedbig", func(bin string) []string { return schedule(bin, 30000, 16000) }, []string{"peak RSS", "summary"}},
		{"diskfull", diskFull, []string{"on stdout", "summary"}},
		{"slowreader", slowReader, []string{"peak RSS", "summary"}},
		{"signals", signals, []string{"SIGTERM", "SIGHUP", "SIGINT"}},
		{"blocked", blocked, []string{"exit after", "summary"}},
	}
	want := map[string]bool{}
	for _, n := range strings.Split(*only, ",") {
		if n != "" {
			want[n] = true
		}
	}
	for _, s := range scenarios {
		if len(want) > 0 && !want[s.name] {
			continue
		}
		for i, bin := range bins {
			label := "new"
			if i == 1 {
				label = "old"
			}
			figs := s.run(bin)
			var b strings.Builder
			fmt.Fprintf(&b, "%-10s %-3s", s.name, label)
			for j, c := range s.cols {
				f := "-"
				if j < len(figs) {
					f = figs[j]
				}
				fmt.Fprintf(&b, "  %s: %s", c, f)
			}
			fmt.Println(b.String())
		}
	}
}

// --- a dump under attack -----------------------------------------------

type dump struct {
	cmd    *exec.Cmd
	addr   string
	stdout *bytes.Buffer // nil when the caller took stdout
	stderr *lockedBuffer
	done   chan struct{} // closed when it exited
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// startDump runs BIN dump ARGS on a free loopback port with --ready-file and
// waits until it listens. out, when set, is its stdout.
func startDump(bin string, out io.Writer, args ...string) (*dump, error) {
	dir, err := os.MkdirTemp("", "attack")
	if err != nil {
		return nil, err
	}
	ready := filepath.Join(dir, "ready")
	args = append([]string{"dump", "-H", "127.0.0.1", "-p", "0", "--ready-file", ready}, args...)
	d := &dump{cmd: exec.Command(bin, args...), stderr: &lockedBuffer{}, done: make(chan struct{})}
	// No user config: the defaults are what is under attack.
	d.cmd.Env = append(os.Environ(), "XDG_CONFIG_HOME="+dir, "OSCLI_CONFIG=")
	if out == nil {
		d.stdout = &bytes.Buffer{}
		out = d.stdout
	}
	d.cmd.Stdout, d.cmd.Stderr = out, d.stderr
	if err := d.cmd.Start(); err != nil {
		return nil, err
	}
	go func() { d.cmd.Wait(); os.RemoveAll(dir); close(d.done) }()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if b, err := os.ReadFile(ready); err == nil && len(b) > 0 {
			d.addr = strings.TrimSpace(string(b))
			if _, a, ok := strings.Cut(d.addr, "://"); ok { // tcp://127.0.0.1:PORT
				d.addr = a
			}
			return d, nil
		}
		select {
		case <-d.done:
			return nil, fmt.Errorf("dump exited before listening: %s", d.stderr.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
	d.kill()
	return nil, errors.New("dump did not listen within 10 s")
}

func (d *dump) kill() {
	d.cmd.Process.Kill()
	<-d.done
}

// stop sends sig and waits up to limit for the exit; it reports how long
// the exit took, or kills the process and says it hung.
func (d *dump) stop(sig os.Signal, limit time.Duration) (time.Duration, bool) {
	start := time.Now()
	d.cmd.Process.Signal(sig)
	select {
	case <-d.done:
		return time.Since(start), true
	case <-time.After(limit):
		d.cmd.Process.Kill()
		<-d.done
		return time.Since(start), false
	}
}

// kib reads a VmHWM/VmRSS-style field of the process's status in MB.
func (d *dump) mem(field string) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", d.cmd.Process.Pid))
	if err != nil {
		return "?"
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, field+":") {
			f := strings.Fields(line)
			kb, _ := strconv.Atoi(f[1])
			return fmt.Sprintf("%d MB", (kb+512)/1024)
		}
	}
	return "?"
}

var summaryRE = regexp.MustCompile(`(?m)^oscli: .*\b(\d+) packets?, .*$`)

// summary returns dump's summary line (without "oscli: ") and its packet
// count, or "" and -1.
func summary(stderr string) (string, int) {
	m := summaryRE.FindStringSubmatch(stderr)
	if m == nil {
		return "", -1
	}
	n, _ := strconv.Atoi(m[1])
	return strings.TrimPrefix(m[0], "oscli: "), n
}

// --- packets, built by hand ---------------------------------------------

func pad4(b []byte) []byte {
	b = append(b, 0)
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	return b
}

// message is /attack/ADDR ,i N.
func message(addr string, n int32) []byte {
	b := pad4([]byte("/attack/" + addr))
	b = append(b, pad4([]byte(",i"))...)
	return binary.BigEndian.AppendUint32(b, uint32(n))
}

// bundle wraps msg in a bundle due at NTP time tt.
func bundle(tt uint64, msg []byte) []byte {
	b := append([]byte("#bundle\x00"), make([]byte, 8)...)
	binary.BigEndian.PutUint64(b[8:], tt)
	b = binary.BigEndian.AppendUint32(b, uint32(len(msg)))
	return append(b, msg...)
}

func ntp(t time.Time) uint64 {
	const epoch = 2208988800
	secs := uint64(t.Unix() + epoch)
	frac := uint64(t.Nanosecond()) << 32 / 1e9
	return secs<<32 | frac
}

func slipFrame(p []byte) []byte {
	out := []byte{0xc0}
	for _, c := range p {
		switch c {
		case 0xc0:
			out = append(out, 0xdb, 0xdc)
		case 0xdb:
			out = append(out, 0xdb, 0xdd)
		default:
			out = append(out, c)
		}
	}
	return append(out, 0xc0)
}

// probe connects a new TCP client, sends one SLIP-framed message and
// waits for it on dump's stdout (lines, a pipe reader) for up to limit.
func probe(addr string, lines <-chan string, limit time.Duration) (time.Duration, bool) {
	start := time.Now()
	c, err := net.DialTimeout("tcp", addr, limit)
	if err != nil {
		fmt.Fprintln(os.Stderr, "attack: probe:", err)
		return 0, false
	}
	defer c.Close()
	c.Write(slipFrame(message("probe", 42)))
	timeout := time.After(limit - time.Since(start))
	for {
		select {
		case l := <-lines:
			if strings.Contains(l, "/attack/probe") {
				return time.Since(start), true
			}
		case <-timeout:
			return time.Since(start), false
		}
	}
}

// pipeLines gives dump a stdout pipe whose lines arrive on a channel.
func pipeLines() (*os.File, <-chan string) {
	r, w, _ := os.Pipe()
	ch := make(chan string, 1024)
	go func() {
		sc := bufio.NewScanner(r)
		sc.Buffer(make([]byte, 1<<20), 16<<20)
		for sc.Scan() {
			select {
			case ch <- sc.Text():
			default: // nobody waiting: drop
			}
		}
		r.Close()
	}()
	return w, ch
}

func served(d time.Duration, ok bool) []string {
	if !ok {
		return []string{"no", fmt.Sprintf("none within %s", d.Round(time.Millisecond))}
	}
	return []string{"yes", d.Round(time.Millisecond).String()}
}

// --- scenarios ------------------------------------------------------------

func silent(bin string) []string {
	w, lines := pipeLines()
	d, err := startDump(bin, w, "--proto", "tcp")
	w.Close()
	if err != nil {
		return []string{err.Error()}
	}
	defer d.kill()
	var conns []net.Conn
	for range 500 {
		c, err := net.Dial("tcp", d.addr)
		if err != nil {
			fmt.Fprintln(os.Stderr, "attack: silent client:", err)
			break
		}
		conns = append(conns, c)
	}
	defer closeAll(conns)
	return served(probe(d.addr, lines, 3*time.Second))
}

func halfFrame(bin string) []string {
	w, lines := pipeLines()
	d, err := startDump(bin, w, "--proto", "tcp")
	w.Close()
	if err != nil {
		return []string{err.Error()}
	}
	defer d.kill()
	chunk := append([]byte{0xc0}, bytes.Repeat([]byte{'a'}, 1<<20-64)...)
	var conns []net.Conn
	var wg sync.WaitGroup
	var mu sync.Mutex
	for range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 50 {
				c, err := net.Dial("tcp", d.addr)
				if err != nil {
					return
				}
				c.SetWriteDeadline(time.Now().Add(5 * time.Second))
				c.Write(chunk) // an evicted connection fails here: fine
				mu.Lock()
				conns = append(conns, c)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	figs := served(probe(d.addr, lines, 3*time.Second))
	peak := d.mem("VmHWM")
	closeAll(conns)
	time.Sleep(2 * time.Second) // a figure of the run, not a test: let the GC see they left
	return []string{figs[0] + " (" + figs[1] + ")", peak, d.mem("VmRSS")}
}

func storm(bin string) []string {
	d, err := startDump(bin, io.Discard, "--proto", "tcp", "--max-conns", "1")
	if err != nil {
		return []string{err.Error()}
	}
	defer d.kill()
	const cycles = 20000
	for range cycles {
		c, err := net.Dial("tcp", d.addr)
		if err != nil {
			continue
		}
		c.(*net.TCPConn).SetLinger(0) // close sends RST
		c.Close()
	}
	// Every cycle was one connection at a time: nothing should have been
	// refused or evicted. Wait until dump has seen the last of them.
	time.Sleep(500 * time.Millisecond)
	d.stop(syscall.SIGINT, 5*time.Second)
	bad := strings.Count(d.stderr.String(), "too many connections") + strings.Count(d.stderr.String(), "evict")
	return []string{strconv.Itoa(bad), strconv.Itoa(cycles)}
}

// schedule sends n bundles an hour ahead, each with a message padded by
// pad bytes of blob.
func shortLived(bin string) []string {
	out := &lockedBuffer{}
	d, err := startDump(bin, out, "--proto", "tcp", "--max-conns", "1", "--time", "none")
	if err != nil {
		return []string{err.Error()}
	}
	defer d.kill()
	const n = 2000
	for i := range n {
		c, err := net.Dial("tcp", d.addr)
		if err != nil {
			continue
		}
		c.Write(slipFrame(message("short", int32(i))))
		c.Close()
	}
	time.Sleep(time.Second) // a figure, not a test: let dump read the last ones
	d.stop(syscall.SIGINT, 5*time.Second)
	return []string{fmt.Sprintf("%d of %d", strings.Count(out.String(), "/attack/short"), n),
		strconv.Itoa(strings.Count(d.stderr.String(), "evict"))}
}

func echo(bin string) []string {
	w, lines := pipeLines()
	d, err := startDump(bin, w, "--proto", "tcp", "--echo")
	w.Close()
	if err != nil {
		return []string{err.Error()}
	}
	defer d.kill()
	c, err := net.Dial("tcp", d.addr)
	if err != nil {
		return []string{err.Error()}
	}
	defer c.Close()
	big := slipFrame(padded(message("big", 0), 60000))
	go func() { // never reads its echoes
		c.SetWriteDeadline(time.Now().Add(10 * time.Second))
		for range 200 {
			if _, err := c.Write(big); err != nil {
				return
			}
		}
	}()
	time.Sleep(2 * time.Second) // let the echoes fill its window
	return served(probe(d.addr, lines, 3*time.Second))
}

func recordFIFO(bin string) []string {
	dir, _ := os.MkdirTemp("", "attack")
	defer os.RemoveAll(dir)
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		return []string{err.Error()}
	}
	// Hold the read end open without reading, so writes block.
	r, err := os.OpenFile(fifo, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return []string{err.Error()}
	}
	defer r.Close()
	d, err := startDump(bin, io.Discard, "--record", fifo)
	if err != nil {
		return []string{err.Error()}
	}
	udpFlood(d.addr, time.Second)
	took, ok := d.stop(syscall.SIGTERM, 10*time.Second)
	if !ok {
		return []string{fmt.Sprintf("hung (killed after %s)", took.Round(time.Millisecond)), "none"}
	}
	s, _ := summary(d.stderr.String())
	if s == "" {
		s = "none"
	}
	return []string{took.Round(time.Millisecond).String(), s}
}

func schedule(bin string, n, pad int) []string {
	d, err := startDump(bin, io.Discard, "--proto", "tcp", "--framing", "len", "--schedule")
	if err != nil {
		return []string{err.Error()}
	}
	defer d.kill()
	c, err := net.Dial("tcp", d.addr)
	if err != nil {
		return []string{err.Error()}
	}
	tt := ntp(time.Now().Add(time.Hour))
	bw := bufio.NewWriterSize(c, 1<<16)
	for i := range n {
		p := bundle(tt, padded(message("later", int32(i)), pad))
		bw.Write(binary.BigEndian.AppendUint32(nil, uint32(len(p))))
		bw.Write(p)
	}
	bw.Flush()
	c.Close()
	// Wait for dump to have read it all: its summary counts what it took.
	time.Sleep(2 * time.Second)
	peak := d.mem("VmHWM")
	d.stop(syscall.SIGINT, 5*time.Second)
	s, _ := summary(d.stderr.String())
	return []string{peak, s}
}

// padded turns /attack/X ,i N into /attack/X ,ib N BLOB of pad bytes.
func padded(msg []byte, pad int) []byte {
	if pad == 0 {
		return msg
	}
	i := bytes.Index(msg, []byte(",i\x00\x00"))
	out := append([]byte{}, msg[:i]...)
	out = append(out, pad4([]byte(",ib"))...)
	out = append(out, msg[i+4:]...)
	out = binary.BigEndian.AppendUint32(out, uint32(pad))
	out = append(out, make([]byte, pad)...)
	return pad4(out)[:len(out)+(4-pad%4)%4]
}

// diskFull records to /dev/full while 200 packets arrive over TCP: every
// packet dump counted must still reach stdout, and a summary must say why
// it stopped.
func diskFull(bin string) []string {
	out := &lockedBuffer{}
	d, err := startDump(bin, out, "--proto", "tcp", "--time", "none", "--record", "/dev/full")
	if err != nil {
		return []string{err.Error()}
	}
	defer d.kill()
	c, err := net.Dial("tcp", d.addr)
	if err != nil {
		return []string{err.Error()}
	}
	for i := range 200 {
		c.Write(slipFrame(message("full", int32(i))))
	}
	c.Close()
	select {
	case <-d.done:
	case <-time.After(5 * time.Second):
		d.stop(syscall.SIGINT, 5*time.Second)
	}
	s, n := summary(d.stderr.String())
	if s == "" {
		s = "none: " + strings.TrimSpace(d.stderr.String())
	}
	return []string{fmt.Sprintf("%d of %d counted", strings.Count(out.String(), "/attack/full"), n), s}
}

func slowReader(bin string) []string {
	r, w, _ := os.Pipe()
	go func() { // 4 KiB every 10 ms: 400 KB/s, far below the flood
		buf := make([]byte, 4096)
		for {
			if _, err := r.Read(buf); err != nil {
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
	}()
	d, err := startDump(bin, w)
	w.Close()
	if err != nil {
		return []string{err.Error()}
	}
	defer d.kill()
	udpFlood(d.addr, *flood)
	peak := d.mem("VmHWM")
	d.stop(syscall.SIGINT, 5*time.Second)
	r.Close()
	s, _ := summary(d.stderr.String())
	return []string{peak, s}
}

// udpFlood sends /attack/flood messages to addr as fast as one socket can
// for d.
func udpFlood(addr string, d time.Duration) int {
	c, err := net.Dial("udp", addr)
	if err != nil {
		return 0
	}
	defer c.Close()
	n := 0
	end := time.Now().Add(d)
	for time.Now().Before(end) {
		for range 256 {
			c.Write(message("flood", int32(n)))
			n++
		}
	}
	return n
}

func signals(bin string) []string {
	var out []string
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGHUP, syscall.SIGINT} {
		ok := 0
		var why string
		for range *runs {
			good, w := signalRun(bin, sig)
			if good {
				ok++
			} else if why == "" {
				why = w
			}
		}
		f := fmt.Sprintf("%d/%d", ok, *runs)
		if why != "" {
			f += " (" + why + ")"
		}
		out = append(out, f)
	}
	return out
}

// signalRun sends 200 packets over TCP (so none is lost on the way), waits
// until dump has printed some, signals it, and checks the summary and that
// every packet it counted is on stdout.
func signalRun(bin string, sig syscall.Signal) (bool, string) {
	out := &lockedBuffer{}
	d, err := startDump(bin, out, "--proto", "tcp", "--time", "none")
	if err != nil {
		return false, err.Error()
	}
	c, err := net.Dial("tcp", d.addr)
	if err != nil {
		d.kill()
		return false, err.Error()
	}
	for i := range 200 {
		c.Write(slipFrame(message("sig", int32(i))))
	}
	c.Close()
	for start := time.Now(); !strings.Contains(out.String(), "/attack/sig") && time.Since(start) < 5*time.Second; {
		time.Sleep(time.Millisecond)
	}
	if _, ok := d.stop(sig, 5*time.Second); !ok {
		return false, "hung"
	}
	s, n := summary(d.stderr.String())
	if s == "" {
		return false, "no summary"
	}
	got := strings.Count(out.String(), "/attack/sig")
	if got != n {
		return false, fmt.Sprintf("%d on stdout, %d counted", got, n)
	}
	return true, ""
}

func blocked(bin string) []string {
	r, w, _ := os.Pipe() // nobody reads r
	defer r.Close()
	d, err := startDump(bin, w)
	w.Close()
	if err != nil {
		return []string{err.Error()}
	}
	udpFlood(d.addr, time.Second)
	took, ok := d.stop(syscall.SIGINT, 10*time.Second)
	if !ok {
		return []string{fmt.Sprintf("hung (killed after %s)", took.Round(time.Millisecond)), "none"}
	}
	s, _ := summary(d.stderr.String())
	if s == "" {
		s = "none"
	}
	return []string{took.Round(time.Millisecond).String(), s}
}

func closeAll(cs []net.Conn) {
	for _, c := range cs {
		c.Close()
	}
}
