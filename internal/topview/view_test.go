package topview

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/oscli/oscli/internal/clock"
	"github.com/oscli/oscli/internal/format"
	"github.com/oscli/oscli/internal/osc"
	"github.com/oscli/oscli/internal/top"
)

var update = flag.Bool("update", false, "rewrite the golden frames in testdata/")

var t0 = time.Date(2026, 11, 21, 18, 0, 0, 0, time.UTC)

const me = "127.0.0.1:5000"

// world is a model fed on a fake clock, and a view of it.
type world struct {
	t    *testing.T
	clk  *clock.Fake
	m    *top.Model
	v    *view
	quit []string
}

func newWorld(t *testing.T, color bool, width, height int) *world {
	w := &world{t: t, clk: clock.NewFake(t0)}
	w.m = top.New(top.Config{}, t0)
	w.v = newView(t.Context(), Config{
		Model: w.m, Clock: w.clk, Color: color, Sort: top.ByAddress, Refresh: DefaultRefresh,
		Title: "udp://0.0.0.0:9000", Target: "127.0.0.1:9000", Width: width, Height: height,
		Quit: func(key string) { w.quit = append(w.quit, key) },
	})
	return w
}

// send adds a message arriving now.
func (w *world) send(from, addr string, args ...osc.Arg) {
	w.t.Helper()
	raw, err := osc.AppendMessage(nil, &osc.Message{Address: addr, Args: args})
	if err != nil {
		w.t.Fatal(err)
	}
	w.packet(from, raw)
}

func (w *world) packet(from string, raw []byte) {
	ev := &format.Event{Time: w.clk.Now(), From: from, Proto: "udp", Raw: raw}
	ev.Packet, ev.Err = osc.Decode(raw)
	_ = w.m.Render(ev)
}

// refresh moves the clock one refresh on and lets the view take its
// snapshot, as its tick does.
func (w *world) refresh() {
	w.clk.Advance(DefaultRefresh)
	w.update(refreshMsg{})
}

func (w *world) update(msg tea.Msg) tea.Cmd {
	_, cmd := w.v.Update(msg)
	return cmd
}

// keys types each key of s ("enter", "esc" and the like by name, after
// a space; single characters as they are).
func (w *world) keys(names ...string) tea.Cmd {
	var cmd tea.Cmd
	for _, n := range names {
		k := tea.KeyPressMsg{Text: n, Code: []rune(n)[0]}
		switch n {
		case "enter":
			k = tea.KeyPressMsg{Code: tea.KeyEnter}
		case "esc":
			k = tea.KeyPressMsg{Code: tea.KeyEscape}
		case "backspace":
			k = tea.KeyPressMsg{Code: tea.KeyBackspace}
		case "down":
			k = tea.KeyPressMsg{Code: tea.KeyDown}
		case "ctrl+c":
			k = tea.KeyPressMsg{Code: 'c', Mod: tea.ModCtrl}
		}
		cmd = w.update(k)
	}
	return cmd
}

// frame is the screen as text, with the selected line (reverse video)
// marked by '>' in a first column of its own.
func (w *world) frame() string {
	content := w.v.View().Content
	var b strings.Builder
	for _, line := range strings.Split(content, "\n") {
		mark := " "
		if strings.Contains(line, "\x1b[7m") || strings.Contains(line, ";7m") {
			mark = ">"
		}
		b.WriteString(strings.TrimRight(mark+ansi.Strip(line), " ") + "\n")
	}
	return b.String()
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".txt")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test -update writes it)", err)
	}
	if got != string(want) {
		t.Errorf("frame %s differs:\n--- got\n%s--- want\n%s", name, got, want)
	}
}

// traffic: a fader moving over 2 s, an XY pad, a label that turns from
// a number to a string, a malformed packet and a bundle.
func (w *world) traffic() {
	for i := range 20 {
		w.send(me, "/1/fader1", osc.Float32(float32(i)/20))
		if i%4 == 0 {
			w.send("127.0.0.1:5001", "/1/xy", osc.Float32(0.5), osc.Float32(float32(i)/10))
		}
		if i == 5 {
			w.send(me, "/label", osc.Int32(3))
		}
		w.clk.Advance(100 * time.Millisecond)
	}
	w.send(me, "/label", osc.String("two words\x1b[2J"))
	w.packet(me, []byte("/bad\x00\x00\x00\x00,x\x00\x00"))
	raw, _ := osc.AppendBundle(nil, &osc.Bundle{Timetag: osc.Immediately, Elements: []osc.Packet{
		&osc.Message{Address: "/b/go", Args: []osc.Arg{osc.Int32(1)}},
	}})
	w.packet(me, raw)
}

// The screen through the keys a user presses, frame by frame (goldens in
// testdata/; go test -update rewrites them, review the diff).
func TestFrames(t *testing.T) {
	w := newWorld(t, false, 100, 16)
	golden(t, "empty", w.frame())
	w.traffic()
	w.refresh()
	golden(t, "table", w.frame())
	w.keys("j")
	golden(t, "select-second", w.frame())
	w.keys("enter")
	golden(t, "detail", w.frame())
	w.keys("esc", "r")
	golden(t, "by-rate", w.frame())
	w.keys("G", "enter")
	golden(t, "detail-malformed", w.frame())
	w.keys("esc", "a", "/", "f", "a", "d")
	golden(t, "filter-typing", w.frame())
	w.keys("enter")
	golden(t, "filtered", w.frame())
	w.keys("/", "backspace", "backspace", "backspace", "enter", "p")
	w.send(me, "/new/while/paused", osc.Int32(1))
	w.refresh()
	golden(t, "paused", w.frame())
	w.keys("p")
	golden(t, "resumed", w.frame())
	w.keys("c")
	golden(t, "cleared", w.frame())
}

// A narrow terminal drops the least useful columns first; ADDRESS and
// LAST stay.
func TestNarrow(t *testing.T) {
	w := newWorld(t, false, 60, 8)
	w.traffic()
	w.refresh()
	golden(t, "narrow", w.frame())
}

// y copies the selected row as a send line (OSC 52 through Bubble Tea)
// and keeps it for printing at the end; a malformed row has nothing to
// copy.
func TestCopy(t *testing.T) {
	w := newWorld(t, false, 100, 16)
	w.send(me, "/1/fader1", osc.Float32(0.5), osc.String("a b"))
	w.packet(me, []byte("/bad\x00\x00\x00\x00,x\x00\x00"))
	w.refresh()
	cmd := w.keys("y")
	if cmd == nil {
		t.Fatal("no clipboard command")
	}
	const want = `oscli send 127.0.0.1:9000 /1/fader1 f:0.5 s:"a b"`
	if got := fmt.Sprint(cmd()); got != want {
		t.Errorf("clipboard %q, want %q", got, want)
	}
	if !strings.Contains(w.frame(), "copied (OSC 52; printed again on exit): "+want) {
		t.Errorf("no note:\n%s", w.frame())
	}
	if cmd := w.keys("down", "y"); cmd != nil {
		t.Errorf("copied the malformed row: %v", cmd())
	}
	if got := w.v.copiedLines(); len(got) != 1 || got[0] != want {
		t.Errorf("copied lines %q", got)
	}
	// The note goes after a while.
	w.clk.Advance(6 * time.Second)
	w.update(refreshMsg{})
	if strings.Contains(w.frame(), "copied") {
		t.Errorf("note still there:\n%s", w.frame())
	}
}

// q and Ctrl-C quit and say which; a bad pattern is reported and the
// filter keeps being typed.
func TestQuitAndBadFilter(t *testing.T) {
	w := newWorld(t, false, 100, 16)
	w.keys("/", "[", "enter")
	if f := w.frame(); !strings.Contains(f, `[█  bad pattern "//*[*" at offset 3`) || !w.v.editing {
		t.Errorf("bad pattern:\n%s", f)
	}
	w.keys("esc")
	for _, k := range []string{"q", "ctrl+c"} {
		cmd := w.keys(k)
		if cmd == nil {
			t.Fatalf("%s: no command", k)
		}
		if _, ok := cmd().(tea.QuitMsg); !ok {
			t.Errorf("%s does not quit", k)
		}
	}
	if strings.Join(w.quit, ",") != "q,Ctrl-C" {
		t.Errorf("quit with %q", w.quit)
	}
}

var colourSGR = regexp.MustCompile(`\x1b\[[0-9;]*(3[0-7]|9[0-7]|38;[0-9;]+)m`)

// Without colour (NO_COLOR and friends, decided by cmd) the screen uses
// no colour at all, only bold, underline and reverse video; with it,
// addresses are green as in dump.
func TestColour(t *testing.T) {
	for _, color := range []bool{false, true} {
		w := newWorld(t, color, 100, 16)
		w.traffic()
		w.refresh()
		content := w.v.View().Content
		if got := colourSGR.MatchString(content); got != color {
			t.Errorf("colour %v: colour sequences %v:\n%q", color, got, content)
		}
		if color && !strings.Contains(content, "\x1b[32m/1/xy") {
			t.Errorf("address not green: %q", content)
		}
	}
}

// Network text reaches the screen escaped, in every part of it.
func TestEscapes(t *testing.T) {
	w := newWorld(t, true, 120, 20)
	w.send("127.0.0.1:1", "/evil\u202e\x1b[31m", osc.String("\x1b]52;c;aGk=\x07"), osc.Symbol("\x9b2J"))
	w.refresh()
	w.keys("enter")
	for _, f := range []string{w.v.View().Content, w.v.render()} {
		plain := ansi.Strip(f)
		if strings.ContainsAny(plain, "\x1b\x07\x9b\u202e") {
			t.Errorf("raw control characters on the screen: %q", plain)
		}
	}
}

// The view takes a snapshot every Refresh of its clock, not more often,
// and less often when there are many rows.
func TestRefreshTick(t *testing.T) {
	w := newWorld(t, false, 100, 16)
	cmd := w.v.Init()
	got := make(chan tea.Msg, 1)
	go func() { got <- cmd() }()
	if !w.clk.BlockUntil(1, 10*time.Second) {
		t.Fatal("the tick does not wait on the clock")
	}
	w.clk.Advance(DefaultRefresh - time.Nanosecond)
	select {
	case m := <-got:
		t.Fatalf("tick before Refresh: %v", m)
	default:
	}
	w.clk.Advance(time.Nanosecond)
	if _, ok := (<-got).(refreshMsg); !ok {
		t.Fatal("no refresh after Refresh")
	}
	// With many rows, snapshots come less often: 50 µs a row.
	for i := range 4000 {
		w.send(me, fmt.Sprintf("/r/%d", i))
	}
	w.update(refreshMsg{})
	if w.v.every != 200*time.Millisecond {
		t.Errorf("refresh every %v with 4000 rows, want 200ms", w.v.every)
	}
}

// The program puts the alternate screen up and gives the terminal back
// (alternate screen left, cursor shown) when stopped, and q from the keys
// quits it: here over pipes, the real terminal is tested under tmux.
func TestProgramStopRestores(t *testing.T) {
	for _, how := range []string{"stop", "q"} {
		t.Run(how, func(t *testing.T) {
			m := top.New(top.Config{}, t0)
			inR, inW := io.Pipe()
			defer inW.Close()
			var out lockedBuffer
			quit := make(chan string, 1)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			p, err := Start(ctx, Config{Model: m, Clock: clock.Real, In: inR, Out: &out, Width: 80, Height: 10,
				Quit: func(k string) { quit <- k }})
			if err != nil {
				t.Fatal(err)
			}
			if how == "q" {
				if _, err := inW.Write([]byte("q")); err != nil {
					t.Fatal(err)
				}
				select {
				case k := <-quit:
					if k != "q" {
						t.Errorf("quit by %q", k)
					}
				case <-time.After(10 * time.Second):
					t.Fatal("q did not quit")
				}
				<-p.Done()
			}
			if _, err := p.Stop(clock.Real, time.Second); err != nil {
				t.Fatal(err)
			}
			s := out.String()
			enter, leave := strings.Index(s, "\x1b[?1049h"), strings.LastIndex(s, "\x1b[?1049l")
			if enter < 0 || leave < enter || !strings.Contains(s[leave:], "\x1b[?25h") {
				t.Errorf("alternate screen not entered and left, or cursor not shown: %q", s)
			}
		})
	}
}

// A terminal that takes no output (a stalled SSH connection) holds up
// neither the model's Render, which the pipeline calls for every packet,
// nor the stop: Stop gives up on it after the grace, on its clock.
func TestStuckTerminal(t *testing.T) {
	m := top.New(top.Config{}, t0)
	stuck := &stuckWriter{started: make(chan struct{}, 1), release: make(chan struct{})}
	defer close(stuck.release)
	inR, inW := io.Pipe()
	defer inW.Close()
	p, err := Start(t.Context(), Config{Model: m, Clock: clock.Real, Refresh: time.Millisecond, In: inR, Out: stuck, Width: 80, Height: 10})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-stuck.started:
	case <-time.After(10 * time.Second):
		t.Fatal("the screen never wrote")
	}
	raw, _ := osc.AppendMessage(nil, &osc.Message{Address: "/a", Args: []osc.Arg{osc.Int32(1)}})
	pk, _ := osc.Decode(raw)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range 100000 {
			_ = m.Render(&format.Event{Time: time.Now(), From: me, Raw: raw, Packet: pk})
		}
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Render held up by a terminal that takes no output")
	}
	clk := clock.NewFake(t0)
	stopped := make(chan error, 1)
	go func() {
		_, err := p.Stop(clk, time.Second)
		stopped <- err
	}()
	if !clk.BlockUntil(1, 10*time.Second) {
		t.Fatal("Stop does not wait on its clock")
	}
	clk.Advance(time.Second)
	select {
	case err := <-stopped:
		if !errors.Is(err, ErrStuck) {
			t.Errorf("Stop: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Stop held up by the terminal past its grace")
	}
}

// stuckWriter takes nothing until released.
type stuckWriter struct {
	once    sync.Once
	started chan struct{}
	release chan struct{}
}

func (s *stuckWriter) Write(p []byte) (int, error) {
	s.once.Do(func() { close(s.started) })
	<-s.release
	return 0, io.ErrClosedPipe
}

type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
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
