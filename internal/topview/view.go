package topview

import (
	"context"
	"strings"
	"sync"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/oscli/oscli/internal/match"
	"github.com/oscli/oscli/internal/osc"
	"github.com/oscli/oscli/internal/termsafe"
	"github.com/oscli/oscli/internal/top"
)

// Rows of the table that are not addresses.
const (
	malformedRow = -1
	overflowRow  = -2
)

// view is the Bubble Tea model: the screen's state.
type view struct {
	ctx context.Context
	cfg Config

	width, height int

	snap   *top.Snapshot // one: it is taken and drawn on the same goroutine
	order  []int32       // rows shown: indexes into snap.Rows, then malformedRow, overflowRow
	every  time.Duration // the wait for the next snapshot
	sort   top.Sort
	paused bool

	filter     *match.Pattern
	filterText string
	editing    bool   // the filter is being typed
	input      []rune // what is typed

	sel    int     // index into order
	selKey top.Key // the row selected, kept across snapshots
	selSp  int     // or the special row selected (malformedRow, overflowRow), 0 for none
	scroll int     // index into order of the first row drawn

	detail     bool
	detailData top.Detail
	detailOK   bool

	help   bool
	note   string    // a message for the bottom line (copied, bad pattern)
	noteAt time.Time // when it was set
	status string    // the last stderr line

	mu     sync.Mutex
	copied []string

	msg osc.Message // scratch for decoding
	buf []byte
}

// refreshMsg asks for a new snapshot.
type refreshMsg struct{}

func newView(ctx context.Context, cfg Config) *view {
	v := &view{ctx: ctx, cfg: cfg, sort: cfg.Sort, snap: &top.Snapshot{}, every: cfg.Refresh, width: cfg.Width, height: cfg.Height}
	v.takeSnapshot()
	return v
}

func (v *view) Init() tea.Cmd { return v.tick() }

// tick waits until the next snapshot on the clock, then asks for it.
func (v *view) tick() tea.Cmd {
	every := v.every
	return func() tea.Msg {
		if v.cfg.Clock.Sleep(v.ctx, every) != nil {
			return nil
		}
		return refreshMsg{}
	}
}

// perRow is how much a row lengthens the wait between snapshots past
// rowsAtRefresh rows: copying and sorting 10,000 rows takes a few
// milliseconds, done every 500 ms rather than every 100.
const (
	perRow        = 50 * time.Microsecond
	rowsAtRefresh = 2000
)

// takeSnapshot copies the model and orders the rows.
func (v *view) takeSnapshot() {
	now := v.cfg.Clock.Now()
	v.cfg.Model.Snapshot(now, v.snap)
	v.every = max(v.cfg.Refresh, time.Duration(len(v.snap.Rows))*perRow)
	if v.detail && v.selSp == 0 {
		v.detailOK = v.cfg.Model.Detail(v.selKey, &v.detailData)
	}
	if v.cfg.Status != nil {
		v.status = v.cfg.Status()
	}
	if v.note != "" && now.Sub(v.noteAt) > 5*time.Second {
		v.note = ""
	}
	v.reorder()
}

// reorder sorts and filters the snapshot's rows, keeping the selection
// on the row it was on.
func (v *view) reorder() {
	var keep func(top.Key) bool
	if v.filter != nil {
		keep = func(k top.Key) bool { return v.filter.Match(k.Address) }
	}
	v.order = v.snap.Order(v.sort, keep, v.order)
	if v.snap.Malformed.Count > 0 {
		v.order = append(v.order, malformedRow)
	}
	if v.snap.Overflow.Count > 0 {
		v.order = append(v.order, overflowRow)
	}
	found := false
	for i, r := range v.order {
		if r < 0 && int(r) == v.selSp || r >= 0 && v.selSp == 0 && v.snap.Rows[r].Key == v.selKey {
			v.sel, found = i, true
			break
		}
	}
	if !found {
		v.selectIndex(v.sel)
	}
}

// selectIndex selects the row at index i of order (clamped).
func (v *view) selectIndex(i int) {
	i = min(i, len(v.order)-1)
	i = max(i, 0)
	v.sel = i
	v.selKey, v.selSp = top.Key{}, 0
	if i < len(v.order) {
		if r := v.order[i]; r < 0 {
			v.selSp = int(r)
		} else {
			v.selKey = v.snap.Rows[r].Key
		}
	}
}

// tableRows is how many table rows fit on the screen.
func (v *view) tableRows() int { return max(v.height-3, 1) }

func (v *view) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		v.width, v.height = msg.Width, msg.Height
	case refreshMsg:
		if !v.paused {
			v.takeSnapshot()
		} else if v.cfg.Status != nil {
			v.status = v.cfg.Status()
		}
		return v, v.tick()
	case tea.KeyPressMsg:
		if v.editing {
			return v, v.editKey(msg)
		}
		return v, v.key(msg)
	}
	return v, nil
}

func (v *view) key(k tea.KeyPressMsg) tea.Cmd {
	switch k.String() {
	case "q", "ctrl+c":
		name := "q"
		if k.String() == "ctrl+c" {
			name = "Ctrl-C"
		}
		if v.cfg.Quit != nil {
			v.cfg.Quit(name)
		}
		return tea.Quit
	case "ctrl+z":
		return tea.Suspend
	case "up", "k":
		v.selectIndex(v.sel - 1)
	case "down", "j":
		v.selectIndex(v.sel + 1)
	case "pgup", "ctrl+b":
		v.selectIndex(v.sel - v.tableRows())
	case "pgdown", "ctrl+f", "space":
		v.selectIndex(v.sel + v.tableRows())
	case "home", "g":
		v.selectIndex(0)
	case "end", "G":
		v.selectIndex(len(v.order) - 1)
	case "enter":
		v.detail = !v.detail
		v.refreshDetail()
	case "esc":
		v.detail, v.help = false, false
	case "a":
		v.setSort(top.ByAddress)
	case "r":
		v.setSort(top.ByRate)
	case "t":
		v.setSort(top.ByRecent)
	case "n":
		v.setSort(top.ByCount)
	case "s":
		for i, s := range top.Sorts {
			if s == v.sort {
				v.setSort(top.Sorts[(i+1)%len(top.Sorts)])
				break
			}
		}
	case "/":
		v.editing, v.input = true, []rune(v.filterText)
	case "p":
		v.paused = !v.paused
		if !v.paused {
			v.takeSnapshot()
		}
	case "c":
		v.cfg.Model.Clear(v.cfg.Clock.Now())
		v.takeSnapshot()
		v.selectIndex(0)
	case "y":
		return v.copyRow()
	case "?", "h":
		v.help = !v.help
	}
	return nil
}

func (v *view) setSort(s top.Sort) {
	v.sort = s
	v.reorder()
}

func (v *view) refreshDetail() {
	if v.detail && v.selSp == 0 {
		v.detailOK = v.cfg.Model.Detail(v.selKey, &v.detailData)
	}
}

// editKey handles a key while the filter is typed: enter applies it (an
// empty one shows every row), esc leaves it as it was.
func (v *view) editKey(k tea.KeyPressMsg) tea.Cmd {
	switch k.String() {
	case "enter":
		text := strings.TrimSpace(string(v.input))
		if text == "" {
			v.filter, v.filterText, v.editing = nil, "", false
			v.reorder()
			return nil
		}
		p, err := match.Compile(patternFor(text))
		if err != nil {
			v.setNote(termsafe.String(err.Error()))
			return nil
		}
		v.filter, v.filterText, v.editing, v.note = p, text, false, ""
		v.reorder()
		v.selectIndex(0)
	case "esc":
		v.editing = false
	case "backspace":
		if len(v.input) > 0 {
			v.input = v.input[:len(v.input)-1]
		}
	case "ctrl+u":
		v.input = v.input[:0]
	case "ctrl+c":
		return v.key(k)
	default:
		if k.Text != "" && len(v.input) < 256 {
			v.input = append(v.input, []rune(k.Text)...)
		}
	}
	return nil
}

// patternFor reads what was typed as a filter: an OSC address pattern,
// or, without a leading '/', text any part of the address's last part
// contains ("fader" is //*fader*).
func patternFor(text string) string {
	if strings.HasPrefix(text, "/") {
		return text
	}
	return "//*" + text + "*"
}

func (v *view) setNote(s string) {
	v.note, v.noteAt = s, v.cfg.Clock.Now()
}

// copyRow puts the selected row's last message on the clipboard as an
// `oscli send` line (OSC 52), and keeps it to print when top ends.
func (v *view) copyRow() tea.Cmd {
	line, why := v.sendLine()
	if line == "" {
		v.setNote("nothing to copy: " + why)
		return nil
	}
	v.mu.Lock()
	v.copied = append(v.copied, line)
	v.mu.Unlock()
	v.setNote("copied (OSC 52; printed again on exit): " + line)
	return tea.SetClipboard(line)
}

// sendLine is the selected row's last message as an `oscli send` line,
// or "" and why not.
func (v *view) sendLine() (string, string) {
	if v.sel >= len(v.order) || v.selSp != 0 {
		return "", "select an address"
	}
	r := &v.snap.Rows[v.order[v.sel]]
	if !r.Message(&v.msg) {
		return "", "the last message is too long to keep whole"
	}
	b := append(v.buf[:0], "oscli send "...)
	if v.cfg.Target != "" {
		b = osc.AppendWord(b, v.cfg.Target)
		b = append(b, ' ')
	}
	b = osc.AppendWord(b, v.msg.Address)
	for _, a := range v.msg.Args {
		b = append(b, ' ')
		b = a.AppendText(b)
	}
	v.buf = b
	return string(b), ""
}

func (v *view) copiedLines() []string {
	v.mu.Lock()
	defer v.mu.Unlock()
	return append([]string(nil), v.copied...)
}
