package bench

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// Report is the outcome of a run.
type Report struct {
	Target     string
	Proto      string
	Mode       string // "one-way", "round-trip" or "none"
	Size       int
	Rate       float64 // asked for; 0 = as fast as possible
	Duration   time.Duration
	Sent       int64
	Received   int64
	Lost       int64
	Reordered  int64
	Duplicates int64
	SentRate   float64
	RecvRate   float64
	MBPerSec   float64
	P50        time.Duration
	P90        time.Duration
	P99        time.Duration
	Max        time.Duration
}

// Fill computes the derived numbers from the counter.
func (r *Report) Fill(sent int64, d time.Duration, c *Counter) {
	r.Sent, r.Duration = sent, d
	r.Received, r.Duplicates, r.Reordered = c.Received, c.Duplicates, c.Reordered
	r.Lost = max(sent-c.Received, 0)
	if s := d.Seconds(); s > 0 {
		r.SentRate = float64(sent) / s
		r.RecvRate = float64(c.Received) / s
		r.MBPerSec = float64(c.Bytes) / s / 1e6
	}
	h := &c.Latency
	r.P50, r.P90, r.P99, r.Max = h.Quantile(0.50), h.Quantile(0.90), h.Quantile(0.99), h.Max()
}

// LossPercent is the share of sent packets that never came back.
func (r *Report) LossPercent() float64 {
	if r.Sent == 0 {
		return 0
	}
	return 100 * float64(r.Lost) / float64(r.Sent)
}

// lostText is the table's loss: a count and a share, or unknown when
// nothing came back to count (a target that does not echo).
func (r *Report) lostText() string {
	if r.Mode == "none" {
		return "unknown (no echoes came back)"
	}
	return fmt.Sprintf("%d (%.3f%%)", r.Lost, r.LossPercent())
}

// WriteTable prints the report as an aligned table.
func (r *Report) WriteTable(w io.Writer) error {
	rows := [][2]string{
		{"target", r.Target + " (" + r.Proto + ")"},
		{"duration", r.Duration.Round(time.Millisecond).String()},
		{"packet", strconv.Itoa(r.Size) + " bytes"},
		{"sent", fmt.Sprintf("%d (%.0f msgs/s)", r.Sent, r.SentRate)},
		{"received", fmt.Sprintf("%d (%.0f msgs/s, %.2f MB/s)", r.Received, r.RecvRate, r.MBPerSec)},
		{"lost", r.lostText()},
		{"reordered", strconv.FormatInt(r.Reordered, 10)},
		{"duplicates", strconv.FormatInt(r.Duplicates, 10)},
	}
	if r.Mode != "none" && r.Received > 0 {
		rows = append(rows, [2]string{"latency (" + r.Mode + ")", fmt.Sprintf("p50 %s  p90 %s  p99 %s  max %s",
			fmtDur(r.P50), fmtDur(r.P90), fmtDur(r.P99), fmtDur(r.Max))})
	}
	width := 0
	for _, row := range rows {
		width = max(width, len(row[0]))
	}
	var b strings.Builder
	for _, row := range rows {
		fmt.Fprintf(&b, "%-*s  %s\n", width, row[0], row[1])
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func fmtDur(d time.Duration) string {
	switch {
	case d >= time.Second:
		return d.Round(time.Millisecond).String()
	case d >= time.Millisecond:
		return d.Round(10 * time.Microsecond).String()
	}
	return d.Round(100 * time.Nanosecond).String()
}

// JSON returns the report as one JSON object, durations in microseconds;
// lost and loss_percent are null when the loss is unknown.
func (r *Report) JSON() string {
	us := func(d time.Duration) string { return strconv.FormatFloat(float64(d)/1e3, 'f', 1, 64) }
	lost, pct := strconv.FormatInt(r.Lost, 10), strconv.FormatFloat(r.LossPercent(), 'f', 4, 64)
	if r.Mode == "none" {
		lost, pct = "null", "null"
	}
	return fmt.Sprintf(`{"target":%q,"proto":%q,"latency":%q,"packet_bytes":%d,"rate":%g,"duration_s":%.3f,`+
		`"sent":%d,"received":%d,"lost":%s,"loss_percent":%s,"reordered":%d,"duplicates":%d,`+
		`"sent_per_sec":%.0f,"msgs_per_sec":%.0f,"mb_per_sec":%.3f,"p50_us":%s,"p90_us":%s,"p99_us":%s,"max_us":%s}`,
		r.Target, r.Proto, r.Mode, r.Size, r.Rate, r.Duration.Seconds(),
		r.Sent, r.Received, lost, pct, r.Reordered, r.Duplicates,
		r.SentRate, r.RecvRate, r.MBPerSec, us(r.P50), us(r.P90), us(r.P99), us(r.Max))
}
