package top

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/oscli/oscli/internal/osc"
)

// Snapshot is the table at one moment, copied out of the model: a view
// sorts, filters and draws it without holding up Render. Snapshots are
// reused: Model.Snapshot overwrites one, keeping its memory.
type Snapshot struct {
	Time  time.Time // when it was taken
	Start time.Time // when counting began (the model's start, or its last Clear)

	Packets  int64   // shown by the pipeline, malformed ones included
	Messages int64   // counted in rows (bundles count their messages) and in Overflow
	Bundles  int64   // packets that were bundles
	Rate     float64 // messages a second, all rows and Overflow
	MaxRows  int
	BySender bool

	Rows      []Row   // in order of first arrival
	Malformed Special // malformed packets
	Overflow  Special // messages of addresses past MaxRows

	arena []byte
}

// Row is one row of a snapshot.
type Row struct {
	Key      Key
	Count    int64
	Rate     float64 // messages a second over the last RateSlots complete slots
	LastSeen time.Time
	Age      time.Duration // from LastSeen to the snapshot

	Types      [MaxTypes]byte // the last message's type tags (the first MaxTypes)
	NTypes     int            // how many it had
	NoTypeTags bool           // it had no type tag string at all
	PrevTypes  [MaxTypes]byte // what they were before the last change
	NPrev      int
	Changes    int64 // how often the type tags changed

	NumArgs  int   // numeric arguments in the last message
	Seen     uint8 // bit k: Min[k] and Max[k] hold values
	Min, Max [MaxNumeric]float64

	// Spark holds the mean of the first numeric argument in each of the
	// last Slots slots, the current one last; bit i of SparkHas says
	// slot i had a value.
	Spark    [Slots]float32
	SparkHas uint32

	Senders     int  // distinct senders (at least, when MoreSenders)
	MoreSenders bool // more than MaxSenders
	From        string

	// Msg is the last message as it came, when it fit MaxKeep bytes;
	// else MsgText is its arguments' text, cut. MsgSize is its size.
	Msg     []byte
	MsgText []byte
	MsgSize int
}

// Special is the malformed or the overflow row of a snapshot.
type Special struct {
	Count    int64
	Rate     float64
	LastSeen time.Time // zero when Count is 0
	Age      time.Duration
	From     string
	Err      error  // Malformed: why the last one was refused
	Address  string // Overflow: the last address not given a row
	Packet   []byte // Malformed: the last packet's first MaxKeep bytes
	Size     int    // and its size
}

// TypesChanged reports whether the row's type tags changed since it
// first came.
func (r *Row) TypesChanged() bool { return r.Changes > 0 }

// AppendTypes appends the type tags ("ff", "-" for none, "(none)" for a
// message without a type tag string), with "…" when there were more
// than MaxTypes.
func (r *Row) AppendTypes(b []byte) []byte { return appendTypes(b, r.Types[:], r.NTypes, r.NoTypeTags) }

// AppendPrevTypes appends the type tags before the last change.
func (r *Row) AppendPrevTypes(b []byte) []byte { return appendTypes(b, r.PrevTypes[:], r.NPrev, false) }

func appendTypes(b, tags []byte, n int, noTags bool) []byte {
	switch {
	case noTags:
		return append(b, "(none)"...)
	case n == 0:
		return append(b, '-')
	}
	b = append(b, tags[:min(n, MaxTypes)]...)
	if n > MaxTypes {
		b = append(b, "…"...)
	}
	return b
}

// Message decodes the row's last message into m; false when it did not
// fit MaxKeep (MsgText has its text then).
func (r *Row) Message(m *osc.Message) bool {
	if len(r.Msg) == 0 {
		return false
	}
	return osc.DecodeMessage(r.Msg, m) == nil
}

// AppendLast appends the last message's arguments in the text syntax
// (what `oscli send` reads after the address), cut when it was longer
// than MaxKeep bytes.
func (r *Row) AppendLast(b []byte, m *osc.Message) []byte {
	if !r.Message(m) {
		return append(b, r.MsgText...)
	}
	for i, a := range m.Args {
		if i > 0 {
			b = append(b, ' ')
		}
		b = a.AppendText(b)
	}
	return b
}

// Snapshot copies the table as it is at now into s.
func (m *Model) Snapshot(now time.Time, s *Snapshot) {
	m.mu.Lock()
	defer m.mu.Unlock()
	nowAt, cur := m.since(now)
	s.Time, s.Start = now, m.start
	s.Packets, s.Messages, s.Bundles = m.packets, m.messages, m.bundles
	s.Rate = m.slots.rate(cur)
	s.MaxRows, s.BySender = m.cfg.MaxRows, m.cfg.BySender
	s.arena = s.arena[:0]
	if cap(s.Rows) < len(m.list) {
		s.Rows = make([]Row, len(m.list), len(m.list)+len(m.list)/4)
	}
	s.Rows = s.Rows[:len(m.list)]
	for i, r := range m.list {
		d := &s.Rows[i]
		d.Key, d.Count = r.key, r.count
		d.Rate = r.slots.rate(cur)
		d.LastSeen = m.start.Add(time.Duration(r.lastAt))
		d.Age = time.Duration(max(nowAt-r.lastAt, 0))
		d.Types, d.NTypes, d.NoTypeTags = r.types, r.ntypes, r.noTags
		d.PrevTypes, d.NPrev, d.Changes = r.prevTypes, r.nprev, r.changes
		d.NumArgs, d.Seen, d.Min, d.Max = r.nnum, r.seen, r.min, r.max
		d.Spark, d.SparkHas = [Slots]float32{}, 0
		for j := uint32(0); j < Slots && j < cur; j++ {
			idx := cur - j
			if sl := &r.slots[idx%Slots]; sl.idx == idx && sl.num > 0 {
				k := Slots - 1 - j
				d.Spark[k] = sl.sum / float32(sl.num)
				d.SparkHas |= 1 << k
			}
		}
		d.Senders, d.MoreSenders, d.From = len(r.senders), r.moreSend, r.lastFrom
		d.MsgSize = r.msgSize
		d.Msg, d.MsgText = s.keep(r.lastMsg()), nil
		if r.lastBig == cutText {
			d.MsgText = s.keep(r.msgText)
		}
	}
	s.Malformed = s.special(&m.malformed, cur, nowAt, m.start)
	s.Overflow = s.special(&m.overflow, cur, nowAt, m.start)
}

// keep copies b into the snapshot's arena.
func (s *Snapshot) keep(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	start := len(s.arena)
	s.arena = append(s.arena, b...)
	return s.arena[start:len(s.arena):len(s.arena)]
}

func (s *Snapshot) special(sp *special, cur uint32, nowAt int64, start time.Time) Special {
	out := Special{Count: sp.count, Rate: sp.slots.rate(cur), From: sp.from, Err: sp.err, Address: sp.addr, Size: sp.size}
	if sp.count > 0 {
		out.LastSeen = start.Add(time.Duration(sp.lastAt))
		out.Age = time.Duration(max(nowAt-sp.lastAt, 0))
	}
	out.Packet = s.keep(sp.pkt)
	return out
}

// Sort is the order of a snapshot's rows.
type Sort string

// The orders: by address (then sender), by rate (highest first), by
// the time last seen (most recent first), by count (highest first).
const (
	ByAddress Sort = "address"
	ByRate    Sort = "rate"
	ByRecent  Sort = "recent"
	ByCount   Sort = "count"
)

// Sorts lists the orders, for help texts and flag checks.
var Sorts = []Sort{ByAddress, ByRate, ByRecent, ByCount}

// ParseSort reads a --sort value.
func ParseSort(s string) (Sort, error) {
	for _, x := range Sorts {
		if string(x) == s {
			return x, nil
		}
	}
	names := make([]string, len(Sorts))
	for i, x := range Sorts {
		names[i] = string(x)
	}
	return "", fmt.Errorf("invalid --sort %q (want %s)", s, strings.Join(names, ", "))
}

// Order appends to dst the indexes into s.Rows of the rows that keep
// accepts (all when nil), in the order by. Ties go by address, then
// sender, so the order is stable from one snapshot to the next.
func (s *Snapshot) Order(by Sort, keep func(Key) bool, dst []int32) []int32 {
	dst = dst[:0]
	for i := range s.Rows {
		if keep == nil || keep(s.Rows[i].Key) {
			dst = append(dst, int32(i))
		}
	}
	byKey := func(a, b *Row) int {
		if c := strings.Compare(a.Key.Address, b.Key.Address); c != 0 {
			return c
		}
		return strings.Compare(a.Key.From, b.Key.From)
	}
	slices.SortFunc(dst, func(i, j int32) int {
		a, b := &s.Rows[i], &s.Rows[j]
		c := 0
		switch by {
		case ByRate:
			c = cmp.Compare(b.Rate, a.Rate)
		case ByRecent:
			c = b.LastSeen.Compare(a.LastSeen)
		case ByCount:
			c = cmp.Compare(b.Count, a.Count)
		}
		if c != 0 {
			return c
		}
		return byKey(a, b)
	})
	return dst
}

// Detail is what the detail pane shows of one row beyond its snapshot:
// its recent messages and the last packet.
type Detail struct {
	Key     Key
	History []HistoryEntry // newest first
	Senders []string       // the first MaxSenders
	Packet  []byte         // the last packet's first MaxKeep bytes
	Size    int            // its size

	arena []byte
}

// HistoryEntry is one recent message of a row.
type HistoryEntry struct {
	At   time.Time
	Size int
	// Msg is the message as it came; when it was longer than the history
	// keeps, Msg is nil and Text is its arguments' text, cut.
	Msg  []byte
	Text []byte
}

// Detail copies the recent messages and the last packet of the row named
// k into d; false when there is no such row (any more).
func (m *Model) Detail(k Key, d *Detail) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	r := m.lookup(k)
	d.Key = k
	d.History, d.Senders, d.Packet, d.Size = d.History[:0], d.Senders[:0], nil, 0
	d.arena = d.arena[:0]
	if r == nil {
		return false
	}
	for i := int64(0); i < min(r.histN, History); i++ {
		h := &r.hist[(r.histN-1-i)%History]
		e := HistoryEntry{At: m.start.Add(time.Duration(h.at)), Size: int(h.size)}
		start := len(d.arena)
		d.arena = append(d.arena, h.data[:h.n]...)
		data := d.arena[start:len(d.arena):len(d.arena)]
		if h.text {
			e.Text = data
		} else {
			e.Msg = data
		}
		d.History = append(d.History, e)
	}
	d.Senders = append(d.Senders, r.senders...)
	start := len(d.arena)
	d.arena = append(d.arena, r.lastPacket()...)
	d.Packet, d.Size = d.arena[start:len(d.arena):len(d.arena)], r.pktSize
	return true
}
