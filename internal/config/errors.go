package config

import (
	"bytes"
	"fmt"
	"strings"
	"unicode/utf8"
)

// Problem is one mistake in a config file, located at the YAML node that
// causes it so an admin can jump straight to it.
type Problem struct {
	File      string // the config path as given to Load (relative stays relative)
	Line, Col int    // 1-based; 0 when the problem has no single place (an unreadable file)
	Path      string // YAML path, e.g. "topics[1].rule.any[2].regex"; "" for the whole file
	Msg       string // what is wrong, naming the field
	Hint      string // how to fix it
	Snippet   string // the offending source line with a caret under Col
}

// String formats p as "file:line:col: msg (hint: …)", the form editors and
// terminals turn into a link.
func (p Problem) String() string {
	var b strings.Builder
	b.WriteString(p.File)
	if p.Line > 0 {
		fmt.Fprintf(&b, ":%d:%d", p.Line, p.Col)
	}
	b.WriteString(": ")
	b.WriteString(p.Msg)
	if p.Hint != "" {
		b.WriteString(" (hint: ")
		b.WriteString(p.Hint)
		b.WriteString(")")
	}
	return b.String()
}

// Errors is every problem found in one config file. Load returns it as a
// *Errors so that one run shows the admin all mistakes, not just the first.
type Errors []Problem

// Error prints one "file:line:col: msg (hint: …)" line per problem, each
// followed by its snippet.
func (e *Errors) Error() string {
	var b strings.Builder
	for i, p := range *e {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(p.String())
		if p.Snippet != "" {
			b.WriteByte('\n')
			b.WriteString(p.Snippet)
		}
	}
	return b.String()
}

// lineStarts returns the offset of every line of src.
func lineStarts(src []byte) []int {
	starts := []int{0}
	for i, c := range src {
		if c == '\n' {
			starts = append(starts, i+1)
		}
	}
	return starts
}

// snippet is snippetAt for a file read once, such as an OPML file of
// sources_from.
func snippet(src []byte, line, col int) string {
	return snippetAt(src, lineStarts(src), line, col)
}

// snippetAt renders line of src with a caret under col, in the shape goccy's
// AnnotateSource uses, so decode and semantic errors look alike. starts are
// src's lineStarts.
func snippetAt(src []byte, starts []int, line, col int) string {
	if line <= 0 || line > len(starts) {
		return ""
	}
	end := len(src)
	if line < len(starts) {
		end = starts[line] - 1
	}
	raw := bytes.TrimRight(src[starts[line-1]:end], "\r")
	prefix := fmt.Sprintf("> %3d | ", line)
	col = max(col, 1)
	// A long line (a hostile one can be megabytes) shows the part around
	// the column, cut from the bytes before anything is copied.
	const window = 60
	var before, after string
	if len(raw) > 2*window {
		at := 0 // the column's byte offset
		for i := 1; i < col && at < len(raw); i++ {
			_, n := utf8.DecodeRune(raw[at:])
			at += n
		}
		from := at
		for n := 0; n < window && from > 0; n++ {
			_, size := utf8.DecodeLastRune(raw[:from])
			from -= size
		}
		to := at
		for n := 0; n < window && to < len(raw); n++ {
			_, size := utf8.DecodeRune(raw[to:])
			to += size
		}
		if from > 0 {
			before = "…"
		}
		if to < len(raw) {
			after = "…"
		}
		col = utf8.RuneCount(raw[from:at]) + 1 + utf8.RuneCountInString(before)
		raw = raw[from:to]
	}
	text := []rune(before + string(raw) + after)
	// Control characters are shown as their pictures (NUL as ␀): printed
	// as they are, a file's escape sequences would drive the terminal.
	for i, r := range text {
		switch {
		case r < 0x20 && r != '\t':
			text[i] = 0x2400 + r // U+2400 Control Pictures
		case r == 0x7f:
			text[i] = 0x2421
		}
	}
	// Keep tabs in the padding so the caret lines up under tab-indented text.
	pad := make([]rune, 0, col)
	for i := 0; i < col-1 && i < len(text); i++ {
		if text[i] == '\t' {
			pad = append(pad, '\t')
		} else {
			pad = append(pad, ' ')
		}
	}
	return prefix + string(text) + "\n" + strings.Repeat(" ", len(prefix)) + string(pad) + "^"
}

// closest returns the candidate nearest to word by edit distance, or "" when
// nothing is close enough to be a plausible typo.
func closest(word string, candidates []string) string {
	best, bestDist := "", len(word)/2+2
	for _, c := range candidates {
		d := distance(strings.ToLower(word), c)
		if d < bestDist {
			best, bestDist = c, d
		}
	}
	if bestDist > 2 && bestDist*3 > len(word) {
		return ""
	}
	return best
}

// distance is the Damerau-Levenshtein (optimal string alignment) distance,
// so transpositions like "titel" → "title" count as one edit.
func distance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	d := make([][]int, len(ra)+1)
	for i := range d {
		d[i] = make([]int, len(rb)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(ra); i++ {
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(ra)][len(rb)]
}
