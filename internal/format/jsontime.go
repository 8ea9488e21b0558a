package format

import "time"

// jsonTime is RFC 3339 with all nine digits of nanoseconds.
const jsonTime = "2006-01-02T15:04:05.000000000Z07:00"

// The parts of jsonTime around its fraction: what stays the same for a
// whole second in one location.
const (
	jsonTimeHead = "2006-01-02T15:04:05"
	jsonTimeTail = "Z07:00"
)

// timeCache appends times as t.AppendFormat(b, jsonTime) does, byte for
// byte, for a fraction of the cost: a layout is interpreted on every call,
// while packets arriving within the same second share everything but the
// nanoseconds. The date and time of day and the zone offset are formatted
// (by AppendFormat itself) once per second and location; the offset cannot
// change within a second because zone transitions fall on whole seconds.
// A nil *timeCache formats every time afresh.
type timeCache struct {
	sec  int64          // Unix seconds that head and tail belong to
	loc  *time.Location // nil: nothing cached (t.Location() is never nil)
	head []byte         // "2006-01-02T15:04:05"
	tail []byte         // "Z07:00"
}

func (c *timeCache) append(b []byte, t time.Time) []byte {
	if c == nil {
		return t.AppendFormat(b, jsonTime)
	}
	sec, loc := t.Unix(), t.Location()
	if sec != c.sec || loc != c.loc {
		c.head = t.AppendFormat(c.head[:0], jsonTimeHead)
		c.tail = t.AppendFormat(c.tail[:0], jsonTimeTail)
		c.sec, c.loc = sec, loc
	}
	b = append(b, c.head...)
	b = appendNanos(b, t.Nanosecond())
	return append(b, c.tail...)
}

// appendNanos appends '.' and ns (0 to 999999999) as exactly nine digits,
// as the layout's ".000000000" does: two digits per division.
func appendNanos(b []byte, ns int) []byte {
	const pairs = "00010203040506070809" +
		"10111213141516171819" +
		"20212223242526272829" +
		"30313233343536373839" +
		"40414243444546474849" +
		"50515253545556575859" +
		"60616263646566676869" +
		"70717273747576777879" +
		"80818283848586878889" +
		"90919293949596979899"
	var d [10]byte
	d[0] = '.'
	u := uint(ns)
	for i := 8; i > 0; i -= 2 {
		p := u % 100 * 2
		u /= 100
		d[i], d[i+1] = pairs[p], pairs[p+1]
	}
	d[1] = byte('0' + u)
	return append(b, d[:]...)
}
