// Package suggest finds what a user may have meant by a word oscli does
// not know (a mistyped flag, command or variable): the known words within
// a small edit distance. It does not phrase messages.
package suggest

import "strings"

// Closest returns the candidates nearest to word, case-insensitively, in
// the order given: those at the smallest edit distance (a swap of two
// letters is one edit), when it is
// at most max(1, len(word)/4) (two typos in an eight-letter word), plus
// any candidate that starts with word when word has at least three
// letters (--verb for --verbose). It returns nil when none is that close.
func Closest(word string, candidates []string) []string {
	w := strings.ToLower(word)
	limit := max(1, len(w)/4)
	best := limit + 1
	var out []string
	for _, c := range candidates {
		lc := strings.ToLower(c)
		if lc == w {
			continue
		}
		d := distance(w, lc)
		if len(w) >= 3 && strings.HasPrefix(lc, w) {
			d = min(d, limit) // a prefix is as good as the closest typo
		}
		switch {
		case d < best:
			best, out = d, []string{c}
		case d == best:
			out = append(out, c)
		}
	}
	return out
}

// distance is the edit distance between a and b, counting an insertion,
// a deletion, a substitution or a swap of two neighbours as one edit
// (optimal string alignment), in bytes: flag, command and variable names
// are ASCII.
func distance(a, b string) int {
	d := make([][]int, len(a)+1)
	for i := range d {
		d[i] = make([]int, len(b)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(a)][len(b)]
}
