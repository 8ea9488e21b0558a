// Package bench generates numbered probe packets, accounts for what comes
// back (loss, reordering, duplicates, latency) and reports it. It does no
// I/O of its own: commands send and receive, this package counts.
package bench

import (
	"encoding/binary"
	"errors"
	"math"
	"math/bits"
	"time"

	"github.com/oscli/oscli/internal/osc"
)

// Probe is the message bench sends: /oscli/bench ,hhhb RUN SEQ SENT PAD.
// RUN tells this run's packets from any others; SENT is the sender's clock
// in Unix nanoseconds (one-way latency in loopback, round trip with an
// echoing target); PAD makes the packet --size bytes of payload.
type Probe struct {
	msg osc.Message
	buf []byte
}

// NewProbe prepares probes for a run; pad is the padding blob's size.
func NewProbe(address string, run int64, pad int) *Probe {
	p := &Probe{}
	p.msg.Address = address
	p.msg.Args = []osc.Arg{osc.Int64(run), osc.Int64(0), osc.Int64(0), osc.Blob(make([]byte, pad))}
	return p
}

// Encode returns the probe with sequence number seq sent at sent; the
// result is valid until the next call. It does not allocate.
func (p *Probe) Encode(seq int64, sent time.Time) []byte {
	p.buf = p.Append(p.buf[:0], seq, sent)
	return p.buf
}

// Append appends the probe to dst, for filling a batch of buffers.
func (p *Probe) Append(dst []byte, seq int64, sent time.Time) []byte {
	p.msg.Args[1].Bits = uint64(seq)
	p.msg.Args[2].Bits = uint64(sent.UnixNano())
	dst, _ = osc.AppendMessage(dst, &p.msg)
	return dst
}

// ErrNotProbe reports a packet that is not one of this run's probes.
var ErrNotProbe = errors.New("not a probe of this run")

// Parse reads a probe of run from a packet, without allocating: it checks
// the fixed layout that Encode writes rather than decoding in full.
func Parse(b []byte, address string, run int64) (seq int64, sent time.Time, err error) {
	// address, padded; ",hhhb\0\0\0"; 3×8 bytes; blob.
	alen := len(address) + 4 - len(address)%4
	if len(b) < alen+8+24+4 || string(b[:len(address)]) != address || b[len(address)] != 0 ||
		string(b[alen:alen+8]) != ",hhhb\x00\x00\x00" {
		return 0, time.Time{}, ErrNotProbe
	}
	d := b[alen+8:]
	if int64(binary.BigEndian.Uint64(d)) != run {
		return 0, time.Time{}, ErrNotProbe
	}
	seq = int64(binary.BigEndian.Uint64(d[8:]))
	sent = time.Unix(0, int64(binary.BigEndian.Uint64(d[16:])))
	return seq, sent, nil
}

// Counter accounts for received probes. It is not safe for concurrent use.
type Counter struct {
	seen       []uint64 // bitset of sequence numbers received
	max        int64    // highest sequence number received, -1 before any
	Received   int64    // unique probes received
	Bytes      int64
	Duplicates int64
	Reordered  int64 // arrived after a higher sequence number
	Latency    Histogram
}

// NewCounter returns an empty counter.
func NewCounter() *Counter { return &Counter{max: -1} }

// Add counts probe seq of size bytes that took latency to arrive.
func (c *Counter) Add(seq int64, size int, latency time.Duration) {
	if seq < 0 {
		return
	}
	w := int(seq / 64)
	for w >= len(c.seen) {
		c.seen = append(c.seen, 0)
	}
	mask := uint64(1) << (seq % 64)
	if c.seen[w]&mask != 0 {
		c.Duplicates++
		return
	}
	c.seen[w] |= mask
	c.Received++
	c.Bytes += int64(size)
	if seq < c.max {
		c.Reordered++
	} else {
		c.max = seq
	}
	c.Latency.Add(latency)
}

// Histogram records durations in log-linear buckets: 32 per power of two,
// so a percentile is within about 2% of the truth. The maximum is exact.
type Histogram struct {
	counts [64 * subBuckets]int64
	n      int64
	max    time.Duration
}

const subBits = 5
const subBuckets = 1 << subBits

func bucketOf(d time.Duration) int {
	v := uint64(max(d, 0))
	if v < subBuckets {
		return int(v)
	}
	e := bits.Len64(v) - 1 - subBits // v >> e is in [32, 64)
	return (e+1)*subBuckets + int(v>>uint(e)) - subBuckets
}

func bucketValue(i int) time.Duration {
	if i < subBuckets {
		return time.Duration(i)
	}
	e := i/subBuckets - 1
	m := i%subBuckets + subBuckets
	// The middle of the bucket.
	return time.Duration(uint64(m)<<uint(e) + (uint64(1)<<uint(e))/2)
}

// Add records one duration.
func (h *Histogram) Add(d time.Duration) {
	h.counts[bucketOf(d)]++
	h.n++
	if d > h.max {
		h.max = d
	}
}

// Max returns the largest duration recorded.
func (h *Histogram) Max() time.Duration { return h.max }

// Quantile returns the q-quantile (0 < q ≤ 1), 0 when empty.
func (h *Histogram) Quantile(q float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	rank := int64(math.Ceil(q * float64(h.n)))
	var acc int64
	for i, c := range h.counts {
		acc += c
		if acc >= rank {
			return min(bucketValue(i), h.max)
		}
	}
	return h.max
}

// Pacer spaces sends at a steady rate without drift: the n-th packet is
// due at start + n/rate, so a late wake-up is made up by sending the
// packets that are due at once.
type Pacer struct {
	rate  float64
	start time.Time
	n     int64
}

// NewPacer paces at rate packets per second from start; rate 0 means as
// fast as possible, and so does a rate above one packet a nanosecond
// (MaxRate), which no clock can space.
func NewPacer(rate float64, start time.Time) *Pacer {
	if rate > MaxRate {
		rate = 0
	}
	return &Pacer{rate: rate, start: start}
}

// MaxRate is the highest rate a Pacer spaces: one packet a nanosecond.
const MaxRate = 1e9

// Due returns how many packets may be sent now, and when to look again
// if none.
func (p *Pacer) Due(now time.Time) (int64, time.Time) {
	if p.rate <= 0 {
		return 1, now
	}
	el := now.Sub(p.start)
	if p.at(p.n) > el {
		return 0, p.start.Add(p.at(p.n))
	}
	// Packets n…k are due. Count them with the same rounding as the time
	// returned above, so that at that time one is due: estimating from
	// the elapsed seconds alone can round the other way, and a caller
	// would then sleep for nothing, again and again.
	k := max(int64(el.Seconds()*p.rate), p.n)
	for k > p.n && p.at(k) > el {
		k--
	}
	for p.at(k+1) <= el {
		k++
	}
	return k - p.n + 1, now
}

// at is when the k-th packet (from 0) is due, from the start; a time past
// what a Duration holds (a rate of one packet in centuries) is the
// longest Duration.
func (p *Pacer) at(k int64) time.Duration {
	d := float64(k) / p.rate * float64(time.Second)
	if d >= math.MaxInt64 {
		return math.MaxInt64
	}
	return time.Duration(d)
}

// Sent records that k packets went out.
func (p *Pacer) Sent(k int64) { p.n += k }
