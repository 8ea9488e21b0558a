package argparse

import (
	"errors"
	"strings"
	"unicode/utf8"
)

// SplitLine splits a line into words the way a POSIX shell would, without
// expanding anything: blanks separate words; '…' quotes literally; "…"
// quotes with \ escaping only \ " $ and `; $'…' quotes with bash's escapes
// (\n \t \r \a \b \e \f \v \\ \' \" \xHH \uHHHH \UHHHHHHHH \NNN octal);
// outside quotes \ escapes the next character; an unquoted # at the start
// of a word begins a comment. This reads back exactly what osc's
// AppendWord writes.
func SplitLine(line string) ([]string, error) {
	var (
		words []string
		cur   strings.Builder
		in    bool // inside a word
	)
	i := 0
	for i < len(line) {
		c := line[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			if in {
				words = append(words, cur.String())
				cur.Reset()
				in = false
			}
			i++
		case c == '#' && !in:
			return words, nil
		case c == '\'':
			end := strings.IndexByte(line[i+1:], '\'')
			if end < 0 {
				return nil, errors.New("unterminated ' quote")
			}
			cur.WriteString(line[i+1 : i+1+end])
			i += end + 2
			in = true
		case c == '"':
			next, err := readDouble(line, i+1, &cur)
			if err != nil {
				return nil, err
			}
			i = next
			in = true
		case c == '$' && i+1 < len(line) && line[i+1] == '\'':
			next, err := readANSIC(line, i+2, &cur)
			if err != nil {
				return nil, err
			}
			i = next
			in = true
		case c == '\\':
			if i+1 < len(line) {
				cur.WriteByte(line[i+1])
				i += 2
			} else {
				i++
			}
			in = true
		default:
			cur.WriteByte(c)
			i++
			in = true
		}
	}
	if in {
		words = append(words, cur.String())
	}
	return words, nil
}

func readDouble(line string, i int, cur *strings.Builder) (int, error) {
	for i < len(line) {
		c := line[i]
		switch c {
		case '"':
			return i + 1, nil
		case '\\':
			if i+1 < len(line) && strings.IndexByte("\\\"$`\n", line[i+1]) >= 0 {
				cur.WriteByte(line[i+1])
				i += 2
				continue
			}
		}
		cur.WriteByte(c)
		i++
	}
	return 0, errors.New(`unterminated " quote`)
}

func readANSIC(line string, i int, cur *strings.Builder) (int, error) {
	for i < len(line) {
		c := line[i]
		if c == '\'' {
			return i + 1, nil
		}
		if c != '\\' || i+1 >= len(line) {
			cur.WriteByte(c)
			i++
			continue
		}
		e := line[i+1]
		i += 2
		switch e {
		case 'n':
			cur.WriteByte('\n')
		case 't':
			cur.WriteByte('\t')
		case 'r':
			cur.WriteByte('\r')
		case 'a':
			cur.WriteByte('\a')
		case 'b':
			cur.WriteByte('\b')
		case 'e', 'E':
			cur.WriteByte(0x1b)
		case 'f':
			cur.WriteByte('\f')
		case 'v':
			cur.WriteByte('\v')
		case '\\', '\'', '"', '?':
			cur.WriteByte(e)
		case 'x':
			v, n := hexDigits(line[i:], 2)
			if n == 0 {
				cur.WriteString(`\x`)
				continue
			}
			cur.WriteByte(byte(v))
			i += n
		case 'u', 'U':
			max := 4
			if e == 'U' {
				max = 8
			}
			v, n := hexDigits(line[i:], max)
			if n == 0 || v > utf8.MaxRune {
				cur.WriteByte('\\')
				cur.WriteByte(e)
				continue
			}
			cur.WriteRune(rune(v))
			i += n
		case '0', '1', '2', '3', '4', '5', '6', '7':
			v, n := int(e-'0'), 1
			for n < 3 && i < len(line) && line[i] >= '0' && line[i] <= '7' {
				v = v*8 + int(line[i]-'0')
				i++
				n++
			}
			cur.WriteByte(byte(v))
		default:
			cur.WriteByte('\\')
			cur.WriteByte(e)
		}
	}
	return 0, errors.New("unterminated $' quote")
}

func hexDigits(s string, max int) (uint32, int) {
	var v uint32
	n := 0
	for n < max && n < len(s) && isHex(s[n]) {
		c := s[n]
		switch {
		case c <= '9':
			v = v<<4 | uint32(c-'0')
		case c >= 'a':
			v = v<<4 | uint32(c-'a'+10)
		default:
			v = v<<4 | uint32(c-'A'+10)
		}
		n++
	}
	return v, n
}
