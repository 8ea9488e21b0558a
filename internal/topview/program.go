// Package topview is `oscli top`'s screen: a full-screen table of a
// top.Model drawn with Bubble Tea and Lip Gloss, with keys to sort,
// filter by an OSC address pattern, pause, clear, open a row's detail
// pane and copy a row as an `oscli send` line (OSC 52). It reads the model
// by snapshots, at most every Config.Refresh, on its own goroutine, and
// Bubble Tea draws at most 30 frames a second: however slow the terminal,
// the model's Render is never held up by drawing.
//
// It is the one package that imports the Charm libraries. It does not
// listen, count or decide whether there is a terminal (cmd does).
package topview

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"

	"github.com/oscli/oscli/internal/clock"
	"github.com/oscli/oscli/internal/top"
)

// DefaultRefresh is how often the screen takes a snapshot.
const DefaultRefresh = 100 * time.Millisecond

// maxFPS caps the frames drawn a second.
const maxFPS = 30

// Config configures the screen.
type Config struct {
	Model *top.Model
	Clock clock.Clock
	// In is the terminal the keys come from; nil opens the process's
	// controlling terminal. Out is the terminal drawn on.
	In  io.Reader
	Out io.Writer
	// Environ is the environment (TERM, COLORTERM), for what the terminal
	// can do.
	Environ []string
	// Color says whether to colour (NO_COLOR and friends, decided by the
	// caller); without it the screen still uses bold and reverse video.
	Color bool
	Sort  top.Sort
	// Refresh is how often a snapshot is taken (DefaultRefresh when 0).
	Refresh time.Duration
	// Title names what is listened to ("udp://0.0.0.0:8000").
	Title string
	// Target is the word a copied line sends to ("" for send's default).
	Target string
	// Status, when set, returns the last line written to stderr while
	// the screen is up (a TCP peer closed), to show at the bottom.
	Status func() string
	// Quit is called when the user quits (with "q" or "Ctrl-C"), from
	// the screen's goroutine.
	Quit func(key string)
	// Width and Height, when set, fix the size (tests; the terminal's
	// otherwise).
	Width, Height int
}

// Program is a running screen.
type Program struct {
	p    *tea.Program
	v    *view
	done chan struct{}
	err  error
	tty  io.Closer // the terminal opened for keys, if any
	once sync.Once
	// stuck says Stop gave up on the terminal: pr.err may still be
	// written by the program's goroutine, so it is not read then.
	stuck bool
}

// Start puts the screen up and returns at once; ctx ending (a signal, the
// run stopping) takes it down as Stop does.
func Start(ctx context.Context, cfg Config) (*Program, error) {
	if cfg.Refresh <= 0 {
		cfg.Refresh = DefaultRefresh
	}
	if cfg.Sort == "" {
		cfg.Sort = top.ByAddress
	}
	v := newView(ctx, cfg)
	opts := []tea.ProgramOption{
		tea.WithOutput(cfg.Out),
		tea.WithEnvironment(append([]string{}, cfg.Environ...)),
		tea.WithFPS(maxFPS),
		// cmd catches SIGINT, SIGTERM and SIGHUP and ends ctx.
		tea.WithoutSignalHandler(),
	}
	if !cfg.Color {
		opts = append(opts, tea.WithColorProfile(colorprofile.ASCII))
	}
	if cfg.Width > 0 && cfg.Height > 0 {
		opts = append(opts, tea.WithWindowSize(cfg.Width, cfg.Height))
	}
	pr := &Program{v: v, done: make(chan struct{})}
	in := cfg.In
	if in == nil {
		tty, _, err := tea.OpenTTY()
		if err != nil {
			return nil, fmt.Errorf("cannot read keys from the terminal: %w", err)
		}
		in, pr.tty = tty, tty
	}
	opts = append(opts, tea.WithInput(in))
	pr.p = tea.NewProgram(v, opts...)
	go func() {
		defer close(pr.done)
		_, err := pr.p.Run()
		if err != nil && !errors.Is(err, tea.ErrProgramKilled) {
			pr.err = err
		}
	}()
	stop := context.AfterFunc(ctx, pr.p.Quit)
	go func() {
		<-pr.done
		stop()
	}()
	return pr, nil
}

// Done is closed once the screen is down (the user quit, or Stop).
func (pr *Program) Done() <-chan struct{} { return pr.done }

// ErrStuck is Stop's error when the terminal did not take the output
// that gives it back (a stalled SSH connection, a paused terminal).
var ErrStuck = errors.New("the terminal did not take output; it may need 'reset'")

// Stop takes the screen down, giving the terminal back as it was, and
// returns the lines the user copied, for printing (where the terminal
// did not take OSC 52, they are the only copy). A terminal that does not
// take output is waited for at most grace on clk, then abandoned
// (ErrStuck), so that a stop ends top whatever the terminal does.
func (pr *Program) Stop(clk clock.Clock, grace time.Duration) (copied []string, err error) {
	pr.once.Do(func() {
		go pr.p.Quit()
		expired := make(chan struct{})
		t := clk.AfterFunc(grace, func() { close(expired) })
		defer t.Stop()
		select {
		case <-pr.done:
		case <-expired:
			go pr.p.Kill()
			pr.stuck = true
		}
		if pr.tty != nil {
			_ = pr.tty.Close()
		}
	})
	if pr.stuck {
		return pr.v.copiedLines(), ErrStuck
	}
	return pr.v.copiedLines(), pr.err
}
