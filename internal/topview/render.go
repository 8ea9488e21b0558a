package topview

import (
	"strconv"
	"strings"

	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/oscli/oscli/internal/hexdump"
	"github.com/oscli/oscli/internal/osc"
	"github.com/oscli/oscli/internal/termsafe"
	"github.com/oscli/oscli/internal/top"
)

// styles are the screen's looks: without colour, bold and reverse video
// only.
type styles struct {
	title, head, sel, addr, mark, bad, dim, key lipgloss.Style
}

func newStyles(color bool) styles {
	s := styles{
		title: lipgloss.NewStyle().Bold(true),
		head:  lipgloss.NewStyle().Bold(true).Underline(true),
		sel:   lipgloss.NewStyle().Reverse(true),
		addr:  lipgloss.NewStyle(),
		mark:  lipgloss.NewStyle().Bold(true),
		bad:   lipgloss.NewStyle().Bold(true),
		dim:   lipgloss.NewStyle(),
		key:   lipgloss.NewStyle().Bold(true),
	}
	if color {
		s.title = s.title.Foreground(lipgloss.Cyan)
		s.addr = s.addr.Foreground(lipgloss.Green)
		s.mark = s.mark.Foreground(lipgloss.Yellow)
		s.bad = s.bad.Foreground(lipgloss.Red)
		s.dim = s.dim.Faint(true)
	}
	return s
}

// column is one column of the table.
type column struct {
	head  string
	width int
	right bool
	// drop orders the columns let go on a narrow screen (1 first); 0:
	// never dropped.
	drop int
}

// The columns, in the order drawn. ADDRESS and LAST share what is left.
const (
	colMark = iota
	colAddr
	colFrom
	colTypes
	colLast
	colCount
	colRate
	colMin
	colMax
	colSpark
	colAge
	colSenders
	ncols
)

func columns(bySender bool) [ncols]column {
	c := [ncols]column{
		colMark:    {"", 1, false, 0},
		colAddr:    {"ADDRESS", 0, false, 0},
		colFrom:    {"FROM", 21, false, 5},
		colTypes:   {"TYPES", 5, false, 7},
		colLast:    {"LAST", 0, false, 0},
		colCount:   {"COUNT", 8, true, 9},
		colRate:    {"RATE/S", 8, true, 8},
		colMin:     {"MIN", 7, false, 3},
		colMax:     {"MAX", 7, false, 4},
		colSpark:   {"SPARKLINE", 16, false, 6},
		colAge:     {"AGE", 6, true, 2},
		colSenders: {"SNDR", 4, true, 1},
	}
	if !bySender {
		c[colFrom].width = -1
	}
	return c
}

const (
	minAddr = 12
	minLast = 10
)

// screenDigits is the significant digits of the table's MIN and MAX
// (the detail pane shows six).
const screenDigits = 3

// layout fits the columns to width: ADDRESS as wide as the widest
// address shown (up to half the width), LAST the rest; the least useful
// columns go first when that leaves too little.
func layout(width, addrWant int, bySender bool) [ncols]column {
	cols := columns(bySender)
	fixed := func() int {
		n := 0
		for _, c := range cols {
			if c.width >= 0 {
				n += c.width + 1
			}
		}
		return n
	}
	for fixed()+minAddr+minLast > width {
		at := -1
		for i, c := range cols {
			if c.width >= 0 && c.drop > 0 && (at < 0 || c.drop < cols[at].drop) {
				at = i
			}
		}
		if at < 0 {
			break
		}
		cols[at].width = -1
	}
	rest := max(width-fixed(), minAddr+minLast)
	addr := min(max(addrWant, minAddr), max(rest/2, minAddr), rest-minLast)
	cols[colAddr].width = max(addr, minAddr)
	cols[colLast].width = max(rest-cols[colAddr].width, 1)
	return cols
}

func (v *view) View() tea.View {
	var view tea.View
	// No window title: terminals cannot give the old one back.
	view.AltScreen = true
	view.SetContent(v.render())
	return view
}

// render draws the screen as text, one line per row of the terminal.
func (v *view) render() string {
	w, h := max(v.width, 20), max(v.height, 4)
	st := newStyles(v.cfg.Color)
	var lines []string
	lines = append(lines, fit(st.title.Render(v.titleLine()), w))
	body := h - 2
	if v.detail {
		lines = append(lines, v.detailLines(st, w, body)...)
	} else {
		lines = append(lines, v.tableLines(st, w, body)...)
	}
	for len(lines) < h-1 {
		lines = append(lines, "")
	}
	lines = append(lines[:h-1], v.bottomLine(st, w))
	return strings.Join(lines, "\n")
}

func (v *view) titleLine() string {
	s := v.snap
	var b strings.Builder
	b.WriteString("oscli top")
	if v.cfg.Title != "" {
		b.WriteString(" " + v.cfg.Title)
	}
	if v.paused {
		b.WriteString("  PAUSED (counting goes on)")
	}
	b.WriteString("  ")
	b.WriteString(strconv.Itoa(len(s.Rows)))
	b.WriteString(plural(len(s.Rows), " address  ", " addresses  "))
	b.WriteString(strconv.FormatInt(s.Messages, 10))
	b.WriteString(plural(s.Messages, " msg  ", " msgs  "))
	b.WriteString(strconv.FormatFloat(s.Rate, 'f', 1, 64))
	b.WriteString("/s  ")
	if s.Bundles > 0 {
		b.WriteString(strconv.FormatInt(s.Bundles, 10))
		b.WriteString(plural(s.Bundles, " bundle  ", " bundles  "))
	}
	b.WriteString("by ")
	b.WriteString(string(v.sort))
	if v.filter != nil {
		b.WriteString("  filter ")
		b.WriteString(termsafe.String(v.filterText))
		b.WriteString(" (" + strconv.Itoa(v.shownRows()) + " shown)")
	}
	return b.String()
}

// shownRows counts the address rows that pass the filter.
func (v *view) shownRows() int {
	n := 0
	for _, r := range v.order {
		if r >= 0 {
			n++
		}
	}
	return n
}

func (v *view) tableLines(st styles, w, body int) []string {
	addrWant := len("ADDRESS")
	rows := body - 1 // the head line
	if rows < 1 {
		rows = 1
	}
	// Keep the selection in view.
	if v.sel < v.scroll {
		v.scroll = v.sel
	}
	if v.sel >= v.scroll+rows {
		v.scroll = v.sel - rows + 1
	}
	v.scroll = max(min(v.scroll, len(v.order)-rows), 0)
	end := min(v.scroll+rows, len(v.order))
	for _, r := range v.order[v.scroll:end] {
		if r >= 0 {
			v.buf = osc.AppendWord(v.buf[:0], v.snap.Rows[r].Key.Address)
			addrWant = max(addrWant, ansi.StringWidth(string(v.buf)))
		}
	}
	cols := layout(w, addrWant, v.snap.BySender)
	var lines []string
	var head [ncols]string
	for i, c := range cols {
		head[i] = c.head
	}
	lines = append(lines, st.head.Render(joinCells(cols, head)))
	if len(v.order) == 0 {
		msg := "waiting for messages…"
		if v.filter != nil && len(v.snap.Rows) > 0 {
			msg = "no address matches the filter (/ to change it)"
		}
		lines = append(lines, st.dim.Render(fit(msg, w)))
	}
	plain := newStyles(false)
	for i := v.scroll; i < end; i++ {
		if i == v.sel {
			// Inner styles would end the reverse video part way.
			cells, _ := v.rowCells(plain, v.order[i])
			lines = append(lines, st.sel.Render(padRight(ansi.Strip(joinCells(cols, cells)), w)))
			continue
		}
		cells, style := v.rowCells(st, v.order[i])
		line := joinCells(cols, cells)
		if style != nil {
			line = style.Render(line)
		}
		lines = append(lines, line)
	}
	return lines
}

// rowCells returns the cells of a row (network text escaped) and the
// style of the whole row, if it has one.
func (v *view) rowCells(st styles, r int32) ([ncols]string, *lipgloss.Style) {
	var c [ncols]string
	switch r {
	case malformedRow:
		s := &v.snap.Malformed
		c[colMark] = "!"
		c[colAddr] = "(malformed)"
		c[colCount] = strconv.FormatInt(s.Count, 10)
		c[colRate] = strconv.FormatFloat(s.Rate, 'f', 1, 64)
		c[colAge] = string(top.AppendAge(nil, s.Age))
		if s.Err != nil {
			c[colLast] = termsafe.String(s.Err.Error())
		}
		return c, &st.bad
	case overflowRow:
		s := &v.snap.Overflow
		c[colAddr] = "(past --max-rows " + strconv.Itoa(v.snap.MaxRows) + ")"
		c[colCount] = strconv.FormatInt(s.Count, 10)
		c[colRate] = strconv.FormatFloat(s.Rate, 'f', 1, 64)
		c[colAge] = string(top.AppendAge(nil, s.Age))
		c[colLast] = "last " + string(osc.AppendWord(nil, s.Address))
		return c, &st.dim
	}
	row := &v.snap.Rows[r]
	if row.TypesChanged() {
		c[colMark] = st.mark.Render("!")
	}
	c[colAddr] = st.addr.Render(string(osc.AppendWord(nil, row.Key.Address)))
	c[colFrom] = string(osc.AppendWord(nil, row.Key.From))
	c[colTypes] = string(row.AppendTypes(nil))
	c[colLast] = string(row.AppendLast(nil, &v.msg))
	c[colCount] = strconv.FormatInt(row.Count, 10)
	c[colRate] = strconv.FormatFloat(row.Rate, 'f', 1, 64)
	c[colMin] = string(top.AppendNumbers(nil, &row.Min, row.Seen, row.NumArgs, screenDigits))
	c[colMax] = string(top.AppendNumbers(nil, &row.Max, row.Seen, row.NumArgs, screenDigits))
	c[colSpark] = sparkline(row)
	c[colAge] = string(top.AppendAge(nil, row.Age))
	c[colSenders] = strconv.Itoa(row.Senders)
	if row.MoreSenders {
		c[colSenders] += "+"
	}
	return c, nil
}

// sparkBars are the sparkline's bars, lowest first, three bytes each.
const sparkBars = "▁▂▃▄▅▆▇█"

const sparkLevels = len(sparkBars) / 3

// sparkline draws the first numeric argument's mean per slot, scaled
// from its minimum to its maximum; a slot without a value is blank.
func sparkline(r *top.Row) string {
	if r.SparkHas == 0 || r.Seen&1 == 0 {
		return ""
	}
	lo, hi := r.Min[0], r.Max[0]
	var b strings.Builder
	for k := range top.Slots {
		if r.SparkHas&(1<<k) == 0 {
			b.WriteByte(' ')
			continue
		}
		level := sparkLevels / 2
		if hi > lo {
			f := (float64(r.Spark[k]) - lo) / (hi - lo)
			level = int(f*float64(sparkLevels-1) + 0.5)
			level = min(max(level, 0), sparkLevels-1)
		}
		b.WriteString(sparkBars[3*level : 3*level+3])
	}
	return b.String()
}

// joinCells lays cells out in the columns: cut to fit ("…"), padded.
// A sparkline keeps its most recent end.
func joinCells(cols [ncols]column, cells [ncols]string) string {
	var b strings.Builder
	first := true
	for i, c := range cols {
		if c.width < 0 {
			continue
		}
		if !first {
			b.WriteByte(' ')
		}
		first = false
		cell := cells[i]
		if i == colSpark {
			cell = ansi.TruncateLeft(cell, ansi.StringWidth(cell)-c.width, "")
		}
		cell = fit(cell, c.width)
		pad := c.width - ansi.StringWidth(cell)
		if c.right {
			b.WriteString(strings.Repeat(" ", pad))
			b.WriteString(cell)
		} else {
			b.WriteString(cell)
			if i != colSenders {
				b.WriteString(strings.Repeat(" ", pad))
			}
		}
	}
	return strings.TrimRight(b.String(), " ")
}

// fit cuts s to width cells, ending in "…" when cut.
func fit(s string, width int) string {
	if ansi.StringWidth(s) <= width {
		return s
	}
	return ansi.Truncate(s, width, "…")
}

func padRight(s string, width int) string {
	if n := width - ansi.StringWidth(s); n > 0 {
		return s + strings.Repeat(" ", n)
	}
	return s
}

// detailLines draws the selected row's detail pane.
func (v *view) detailLines(st styles, w, body int) []string {
	var lines []string
	add := func(s string) { lines = append(lines, fit(s, w)) }
	switch v.selSp {
	case malformedRow:
		s := &v.snap.Malformed
		add(st.bad.Render("(malformed)") + "  " + strconv.FormatInt(s.Count, 10) + plural(s.Count, " packet  ", " packets  ") +
			strconv.FormatFloat(s.Rate, 'f', 1, 64) + "/s  last from " + termsafe.String(s.From) + ", " + string(top.AppendAge(nil, s.Age)) + " ago")
		if s.Err != nil {
			add("error: " + termsafe.String(s.Err.Error()))
		}
		lines = append(lines, v.hexLines(s.Packet, s.Size, body-len(lines), w)...)
		return lines
	case overflowRow:
		s := &v.snap.Overflow
		add("(past --max-rows " + strconv.Itoa(v.snap.MaxRows) + ")  " + strconv.FormatInt(s.Count, 10) + " messages of addresses without a row")
		add("last " + string(osc.AppendWord(nil, s.Address)) + " from " + termsafe.String(s.From))
		return lines
	}
	if v.sel >= len(v.order) || !v.detailOK {
		add("no row selected (esc to go back)")
		return lines
	}
	r := &v.snap.Rows[v.order[v.sel]]
	d := &v.detailData
	add(st.addr.Render(string(osc.AppendWord(nil, r.Key.Address))) + "  " + strconv.FormatInt(r.Count, 10) + " messages  " +
		strconv.FormatFloat(r.Rate, 'f', 1, 64) + "/s  last seen " + string(top.AppendAge(nil, r.Age)) + " ago")
	types := "types " + string(r.AppendTypes(nil))
	if r.TypesChanged() {
		types += st.mark.Render("  changed " + strconv.FormatInt(r.Changes, 10) + "× (was " + string(r.AppendPrevTypes(nil)) + ")")
	}
	add(types + "  min " + string(top.AppendNumbers(nil, &r.Min, r.Seen, r.NumArgs, 6)) + "  max " + string(top.AppendNumbers(nil, &r.Max, r.Seen, r.NumArgs, 6)))
	senders := make([]string, 0, len(d.Senders))
	for _, s := range d.Senders {
		senders = append(senders, string(osc.AppendWord(nil, s)))
	}
	more := ""
	if r.MoreSenders {
		more = " and more"
	}
	add("from " + strings.Join(senders, ", ") + more)
	if sp := sparkline(r); sp != "" {
		add("last 8 s  " + sp)
	}
	add("")
	add(st.head.Render("recent messages, newest first"))
	for _, e := range d.History {
		text := ""
		if e.Msg != nil && osc.DecodeMessage(e.Msg, &v.msg) == nil {
			b := v.buf[:0]
			for i, a := range v.msg.Args {
				if i > 0 {
					b = append(b, ' ')
				}
				b = a.AppendText(b)
			}
			v.buf = b
			text = string(b)
		} else {
			text = string(e.Text) + " (" + strconv.Itoa(e.Size) + " bytes)"
		}
		add(e.At.Format("15:04:05.000000") + "  " + text)
	}
	add("")
	lines = append(lines, v.hexLines(d.Packet, d.Size, body-len(lines), w)...)
	return lines
}

// hexLines draws a packet's hexdump under a head, in at most n lines.
func (v *view) hexLines(pkt []byte, size, n, w int) []string {
	if n < 2 || size == 0 {
		return nil
	}
	head := "last packet, " + strconv.Itoa(size) + " bytes"
	dump := strings.Split(strings.TrimSuffix(string(hexdump.AppendDump(nil, pkt)), "\n"), "\n")
	cut := len(pkt) < size
	if len(dump) > n-1 {
		dump, cut = dump[:n-1], true
	}
	if cut {
		head += " (first " + strconv.Itoa(min(len(pkt), 16*len(dump))) + " shown)"
	}
	lines := []string{newStyles(v.cfg.Color).head.Render(head)}
	for _, l := range dump {
		lines = append(lines, fit(l, w))
	}
	return lines
}

// bottomLine is the filter being typed, a note, the last stderr line, or
// the keys.
func (v *view) bottomLine(st styles, w int) string {
	switch {
	case v.editing:
		line := "filter (OSC pattern; enter applies, esc cancels): " + termsafe.String(string(v.input)) + "█"
		if v.note != "" {
			line += "  " + v.note
		}
		return fit(line, w)
	case v.note != "":
		return fit(v.note, w)
	case v.help:
		return fit("↑↓ jk pgup pgdn g G move · enter detail · / filter · a r t n s sort (address rate time count, cycle) · p pause · c clear · y copy · q quit", w)
	case v.status != "":
		return st.bad.Render(fit(termsafe.String(v.status), w))
	}
	keys := []string{"enter", "detail", "/", "filter", "s", "sort", "p", "pause", "c", "clear", "y", "copy", "?", "keys", "q", "quit"}
	var b strings.Builder
	for i := 0; i < len(keys); i += 2 {
		if i > 0 {
			b.WriteString("  ")
		}
		b.WriteString(st.key.Render(keys[i]))
		b.WriteString(" " + keys[i+1])
	}
	return fit(b.String(), w)
}

func plural[N int | int64](n N, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
