// Package top is the table model of `oscli top`: it aggregates the
// packets a pipeline shows into one row per address (or per address and
// sender), with the count, a smoothed rate, the last message, the types
// and whether they changed, the minimum and maximum of each numeric
// argument, a sparkline of the first one, when it was last seen and by
// how many senders; malformed packets and the addresses past the row
// limit are counted in rows of their own. Snapshots copy the table out for
// a view (package topview's screen) or for the text and JSON snapshots
// top prints when it is not on a terminal.
//
// Times come from the events (the pipeline stamps arrivals with its
// clock) and from the caller of Snapshot, so rates are exact on a fake
// clock. Adding a message in the steady state does not allocate: rows are
// found by their address without building a key, and the recent values
// live in fixed rings. It does not listen, decode, filter packets or draw
// anything.
package top

import (
	"math"
	"sync"
	"time"

	"github.com/oscli/oscli/internal/format"
	"github.com/oscli/oscli/internal/osc"
)

// Slot is the span of one time slot: rates and sparklines are counted per
// slot.
const Slot = 250 * time.Millisecond

// Slots is how many slots a row keeps: the sparkline's reach (8 s).
const Slots = 32

// RateSlots is how many complete slots the rate is averaged over (1 s).
const RateSlots = 4

// MaxNumeric is how many numeric arguments of a message have their
// minimum and maximum kept.
const MaxNumeric = 8

// MaxTypes is how many type tags a row keeps to tell a change; longer
// type tag strings are compared on these and on their length.
const MaxTypes = 32

// MaxSenders is how many distinct senders a row tells apart; past that
// it says "at least".
const MaxSenders = 16

// History is how many recent messages a row keeps for the detail pane.
const History = 8

// historyBytes is the most of one message a history entry keeps as it
// came (fader and meter messages fit: /1/fader1 f:0.5 is 20 bytes,
// /avatar/parameters/VelocityX f:0.5 40); a longer one keeps its text,
// cut. An entry is then 64 bytes, a cache line.
const historyBytes = 48

// MaxKeep is the most of the last message and of the last packet a row
// keeps: the last value of a longer message is kept as cut text (and
// cannot be copied), and the hexdump shows the packet's first MaxKeep
// bytes.
const MaxKeep = 1024

// DefaultMaxRows is --max-rows' default.
const DefaultMaxRows = 10000

// MaxAddress is the longest address given a row: a longer one (a UDP
// packet may carry a 64 KB address) is counted in the overflow row, so
// that MaxRows bounds memory whatever the addresses.
const MaxAddress = 1024

// Key names a row: its address and, when rows are kept per sender, the
// sender.
type Key struct {
	Address string
	From    string // "" unless Config.BySender
}

// Config configures a model.
type Config struct {
	// MaxRows bounds the rows (DefaultMaxRows when 0); the messages of
	// addresses beyond it, and of addresses longer than MaxAddress, are
	// counted in the overflow row.
	MaxRows int
	// BySender keeps a row per address and sender.
	BySender bool
	// Pass, when set, chooses the messages of a bundle that are counted
	// (the pipeline's filter passes a bundle whole when any of its
	// messages passes); nil counts them all.
	Pass func(address string) bool
}

// slot is one time slot of a row: how many messages came in it, and the
// sum and number of the first numeric argument's values, for the
// sparkline.
type slot struct {
	idx uint32 // the slot's number since the model's start, plus one; 0: empty
	n   uint32
	num uint32
	sum float32
}

type slots [Slots]slot

func (s *slots) add(idx uint32, v float64, numeric bool) {
	sl := &s[idx%Slots]
	if sl.idx != idx {
		*sl = slot{idx: idx}
	}
	sl.n++
	if numeric {
		sl.num++
		sl.sum += float32(v)
	}
}

// rate is the messages a second over the RateSlots complete slots
// before cur.
func (s *slots) rate(cur uint32) float64 {
	n := uint64(0)
	for i := uint32(1); i <= RateSlots && i < cur; i++ {
		if sl := &s[(cur-i)%Slots]; sl.idx == cur-i {
			n += uint64(sl.n)
		}
	}
	return float64(n) / (RateSlots * Slot).Seconds()
}

// historyEntry is one message of a row's history: the message as it
// came, or its text cut to fit.
type historyEntry struct {
	at   int64 // arrival, ns since the model's start
	size int32 // the message's size in bytes
	n    uint8 // bytes in data
	text bool  // data is the arguments' text, cut (the message did not fit)
	data [historyBytes]byte
}

// row is one address's (and maybe sender's) numbers. What every message
// touches comes first, so that a flood over many addresses costs few
// cache lines a message: the row's head, one slot, one history entry.
type row struct {
	count  int64
	lastAt int64 // ns since the model's start
	histN  int64

	ntypes   int // the whole type tag string's length
	nnum     int // numeric arguments in the last message
	seen     uint8
	noTags   bool
	lastBig  uint8 // where the last message is: inHistory, inMsg, cutText
	pktOwn   bool  // pkt holds the last packet (else it is the last message)
	types    [MaxTypes]byte
	min, max [MaxNumeric]float64
	lastFrom string
	key      Key

	slots slots
	hist  [History]historyEntry

	nprev     int
	changes   int64
	prevTypes [MaxTypes]byte

	senders  []string
	moreSend bool

	msgSize int
	msg     []byte // the last message, when longer than a history entry and at most MaxKeep
	msgText []byte // its arguments' text, cut, when longer than MaxKeep
	pktSize int
	pkt     []byte // the last packet's first MaxKeep bytes, when pktOwn
}

// Where a row's last message is kept.
const (
	inHistory = iota // whole, in the newest history entry
	inMsg            // whole, in msg
	cutText          // its text, cut, in msgText
)

// special is the malformed or the overflow row: counts, rate, and the
// last of them.
type special struct {
	count  int64
	lastAt int64
	slots  slots
	from   string
	err    error  // malformed: why
	addr   string // overflow: the last address not given a row
	pkt    []byte
	size   int
}

// Model is the table. Render may be called from one goroutine at a time
// (the pipeline's, under its lock) while others take snapshots.
type Model struct {
	cfg Config

	mu        sync.Mutex
	start     time.Time
	rows      map[string]*row // by address (without BySender)
	bySender  map[Key]*row    // by address and sender (BySender)
	list      []*row          // in order of first arrival
	packets   int64
	messages  int64
	bundles   int64
	slots     slots // every message
	malformed special
	overflow  special
	enc       []byte // a bundled message, encoded again
	text      []byte
}

// New returns an empty model whose time slots start at now.
func New(cfg Config, now time.Time) *Model {
	if cfg.MaxRows <= 0 {
		cfg.MaxRows = DefaultMaxRows
	}
	m := &Model{cfg: cfg, start: now}
	m.reset()
	return m
}

func (m *Model) reset() {
	m.rows, m.bySender = make(map[string]*row), make(map[Key]*row)
	m.list = nil
}

// lookup finds the row named k.
func (m *Model) lookup(k Key) *row {
	if m.cfg.BySender {
		return m.bySender[k]
	}
	if k.From != "" {
		return nil
	}
	return m.rows[k.Address]
}

// Clear empties the table and its counts, as if the model were new at now.
func (m *Model) Clear(now time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.start = now
	m.reset()
	m.packets, m.messages, m.bundles = 0, 0, 0
	m.slots = slots{}
	m.malformed, m.overflow = special{}, special{}
}

// since returns t as ns since the model's start, and its slot number.
func (m *Model) since(t time.Time) (int64, uint32) {
	d := t.Sub(m.start)
	if d < 0 {
		d = 0
	}
	return int64(d), uint32(d/Slot) + 1
}

// Render adds one shown packet: a format.Renderer, so that the pipeline
// feeds the model as it feeds dump's output. It never fails.
func (m *Model) Render(ev *format.Event) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	at, idx := m.since(ev.Time)
	m.packets++
	switch p := ev.Packet.(type) {
	case *osc.Message:
		m.addMessage(p, ev, ev.Raw, at, idx)
	case *osc.Bundle:
		m.bundles++
		m.addBundle(p, ev, at, idx)
	default:
		s := &m.malformed
		s.count++
		s.lastAt = at
		s.slots.add(idx, 0, false)
		s.from, s.err = ev.From, ev.Err
		s.pkt, s.size = keep(s.pkt, ev.Raw), len(ev.Raw)
	}
	return nil
}

func (m *Model) addBundle(b *osc.Bundle, ev *format.Event, at int64, idx uint32) {
	for _, e := range b.Elements {
		switch e := e.(type) {
		case *osc.Message:
			if m.cfg.Pass != nil && !m.cfg.Pass(e.Address) {
				continue
			}
			var err error
			m.enc, err = osc.AppendMessage(m.enc[:0], e)
			if err != nil {
				m.enc = m.enc[:0] // cannot happen for a decoded message
			}
			m.addMessage(e, ev, m.enc, at, idx)
		case *osc.Bundle:
			m.addBundle(e, ev, at, idx)
		}
	}
}

// addMessage counts one message; raw is the message's bytes.
func (m *Model) addMessage(msg *osc.Message, ev *format.Event, raw []byte, at int64, idx uint32) {
	m.messages++
	var r *row
	if m.cfg.BySender {
		r = m.bySender[Key{Address: msg.Address, From: ev.From}]
	} else {
		r = m.rows[msg.Address]
	}
	if r == nil {
		if len(m.list) >= m.cfg.MaxRows || len(msg.Address) > MaxAddress {
			o := &m.overflow
			o.count++
			o.lastAt = at
			o.slots.add(idx, 0, false)
			o.from, o.addr = ev.From, msg.Address
			m.slots.add(idx, 0, false)
			return
		}
		r = &row{key: Key{Address: msg.Address}}
		if m.cfg.BySender {
			r.key.From = ev.From
			m.bySender[r.key] = r
		} else {
			m.rows[msg.Address] = r
		}
		m.list = append(m.list, r)
	}
	v, numeric := r.addArgs(msg)
	m.slots.add(idx, 0, false)
	r.count++
	r.lastAt = at
	r.slots.add(idx, v, numeric)
	if ev.From != r.lastFrom {
		r.addSender(ev.From)
	}
	h := &r.hist[r.histN%History]
	r.histN++
	h.at, h.size = at, int32(len(raw))
	r.msgSize = len(raw)
	switch {
	case len(raw) <= historyBytes:
		h.n, h.text = uint8(copy(h.data[:], raw)), false
		r.lastBig = inHistory
	case len(raw) <= MaxKeep:
		r.msg = append(r.msg[:0], raw...)
		r.lastBig = inMsg
	default:
		r.msgText = appendArgsText(r.msgText[:0], msg.Args, MaxKeep)
		r.lastBig = cutText
	}
	if len(raw) > historyBytes {
		m.text = appendArgsText(m.text[:0], msg.Args, historyBytes)
		h.n, h.text = uint8(copy(h.data[:], m.text)), true
	}
	// The packet is the message itself unless it came in a bundle (or
	// was too long to keep whole).
	r.pktSize = len(ev.Raw)
	r.pktOwn = len(ev.Raw) != len(raw) || len(raw) > MaxKeep
	if r.pktOwn {
		r.pkt = keep(r.pkt, ev.Raw)
	}
}

// lastMsg returns the row's last message as it came, or nil when it was
// longer than MaxKeep.
func (r *row) lastMsg() []byte {
	switch {
	case r.count == 0:
		return nil
	case r.lastBig == inHistory:
		h := &r.hist[(r.histN-1)%History]
		return h.data[:h.n]
	case r.lastBig == inMsg:
		return r.msg
	}
	return nil
}

// lastPacket returns the first MaxKeep bytes of the packet the row's last
// message came in.
func (r *row) lastPacket() []byte {
	if r.pktOwn {
		return r.pkt
	}
	return r.lastMsg()
}

// addArgs takes the message's type tags and numeric values: a change of
// types is noted (and the minimum and maximum start again), and the first
// numeric value is returned for the sparkline.
func (r *row) addArgs(msg *osc.Message) (first float64, numeric bool) {
	n := len(msg.Args)
	same := r.count > 0 && n == r.ntypes && msg.NoTypeTags == r.noTags
	for i := 0; same && i < min(n, MaxTypes); i++ {
		same = r.types[i] == byte(msg.Args[i].Tag)
	}
	if !same {
		if r.count > 0 {
			r.changes++
			r.prevTypes, r.nprev = r.types, r.ntypes
		}
		for i := 0; i < min(n, MaxTypes); i++ {
			r.types[i] = byte(msg.Args[i].Tag)
		}
		r.ntypes, r.noTags = n, msg.NoTypeTags
		r.seen = 0
	}
	k := 0
	for _, a := range msg.Args {
		var v float64
		switch a.Tag {
		case osc.TagInt32:
			v = float64(a.Int32())
		case osc.TagInt64:
			v = float64(a.Int64())
		case osc.TagFloat32:
			v = float64(a.Float32())
		case osc.TagFloat64:
			v = a.Float64()
		default:
			continue
		}
		if k == 0 {
			first, numeric = v, !math.IsNaN(v)
		}
		if k < MaxNumeric && !math.IsNaN(v) {
			bit := uint8(1) << k
			switch {
			case r.seen&bit == 0:
				r.min[k], r.max[k] = v, v
				r.seen |= bit
			case v < r.min[k]:
				r.min[k] = v
			case v > r.max[k]:
				r.max[k] = v
			}
		}
		k++
	}
	r.nnum = k
	return first, numeric
}

func (r *row) addSender(from string) {
	r.lastFrom = from
	for _, s := range r.senders {
		if s == from {
			return
		}
	}
	if len(r.senders) < MaxSenders {
		r.senders = append(r.senders, from)
	} else {
		r.moreSend = true
	}
}

// keep copies the first MaxKeep bytes of b into dst's memory.
func keep(dst, b []byte) []byte {
	return append(dst[:0], b[:min(len(b), MaxKeep)]...)
}

// appendArgsText appends the arguments in the text syntax, cut to at
// most limit bytes (with "…" at the end when cut).
func appendArgsText(dst []byte, args []osc.Arg, limit int) []byte {
	start := len(dst)
	for i, a := range args {
		if i > 0 {
			dst = append(dst, ' ')
		}
		dst = a.AppendText(dst)
		if len(dst)-start > limit {
			break
		}
	}
	if len(dst)-start > limit {
		dst = cutUTF8(dst[:start+limit-len("…")], start)
		dst = append(dst, "…"...)
	}
	return dst
}

// cutUTF8 drops a partial UTF-8 sequence at the end of b[start:].
func cutUTF8(b []byte, start int) []byte {
	for i := len(b) - 1; i >= start && i >= len(b)-3; i-- {
		c := b[i]
		if c < 0x80 {
			return b
		}
		if c >= 0xc0 { // a lead byte: is its sequence whole?
			need := 2
			switch {
			case c >= 0xf0:
				need = 4
			case c >= 0xe0:
				need = 3
			}
			if len(b)-i < need {
				return b[:i]
			}
			return b
		}
	}
	return b
}
