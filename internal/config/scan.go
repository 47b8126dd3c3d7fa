package config

import (
	"bytes"
	"fmt"
	"unicode/utf8"
)

// Limits on what Parse reads. goccy/go-yaml's parser needs memory quadratic
// in nesting depth (100k nested `[` took over 6 GB) and time quadratic in the
// keys of one block map, and some 30-100 bytes per byte of text, so a config
// is measured with a byte-level scan before the parser sees it. Each bound is
// far above any real config: the bundled one, with its tuned topics, is
// some 6,200 nodes of 10 levels on average in 1,400 lines; 100,000 nodes is
// some 12,000 sources.
const (
	MaxFileSize = 16 << 20 // bytes in the file
	maxLines    = 200_000  // the parser spends ~30 bytes on a blank line, ~300 on a comment
	maxDepth    = 128      // nesting of maps and lists
	maxWritten  = 100_000  // nodes as written, before aliases expand
	maxMapKeys  = 200      // keys of one block map (the parser is quadratic in them)
	maxText     = 2 << 20  // bytes of text in values
	// maxBlankRun bounds blank lines inside a block scalar (| or >): the
	// parser is quadratic in the blank lines that end one (100 KiB of them
	// took minutes).
	maxBlankRun = 1_000
	// maxWeight bounds the sum over all nodes of their depth: the parser
	// keeps a path per node, so 800 lists nested 120 deep cost 250 MB
	// though each is within maxDepth.
	maxWeight = 2_000_000
)

// mark is a place in the source, 1-based.
type mark struct{ line, col int }

// scanResult is what the scan learned. prob is a limit the file exceeds: the
// parser must not see it. unclosed and stray explain a syntax error the
// parser reports less clearly (at the end of the file, or far away): the
// innermost `[` or `{` never closed, or a closer that does not match.
// comments are the spans of every comment, from its '#' to the end of its
// line.
type scanResult struct {
	prob     *Problem
	unclosed *opener
	stray    *stray
	comments [][2]int
}

// withoutComments returns src with the text of every comment removed (each
// '#' and line break kept), so that every line and column the parser reports
// is the same as in src. The parser spends some 12 bytes of memory on each
// byte of a comment, which it then throws away.
func (r scanResult) withoutComments(src []byte) []byte {
	n := 0
	for _, c := range r.comments {
		n += c[1] - c[0]
	}
	if n == 0 {
		return src
	}
	out := make([]byte, 0, len(src)-n)
	at := 0
	for _, c := range r.comments {
		out = append(out, src[at:c[0]]...)
		at = c[1]
	}
	return append(out, src[at:]...)
}

// opener is a '[' or '{', kept as offsets: its column is counted only when
// it is reported (counting at every bracket would be quadratic on one line).
type opener struct {
	ch              byte
	line, lineStart int
	off             int
}

type stray struct {
	closer, opener opener
}

// at is where o is, as a line and a column in characters.
func (o opener) at(src []byte) mark {
	return mark{o.line, utf8.RuneCount(src[o.lineStart:o.off]) + 1}
}

// scanner is a YAML lexer reduced to what the limits need: where a node
// starts, how deep it is, how many keys a block map holds, how much text the
// values carry. It is conservative where YAML is subtle: when unsure whether
// a byte starts a node, it counts one. It never decides validity: the parser
// does, and the scan's findings only replace a parser message by a clearer
// one.
type scanner struct {
	src       []byte
	pos       int
	line      int // 1-based
	lineStart int // offset of the current line
	nodes     int
	text      int
	weight    int      // sum of the depths of the nodes so far
	indents   []level  // open block collections, by indentation
	block     int      // the collections indents hold
	dashes    int      // "- " indicators opening the current line
	flow      []opener // open flow collections
	res       scanResult
}

// level is one block indentation in use, and the keys seen at it. It holds
// one collection, or two when a key's list starts at the key's own column
// ("key:\n- item").
type level struct {
	col, keys int
	dash      bool // a "- " entry starts at col
}

func (l level) depth() int {
	if l.dash && l.keys > 0 {
		return 2
	}
	return 1
}

// scan measures src against the limits.
func scan(src []byte) scanResult {
	s := &scanner{src: src, line: 1}
	if len(src) > MaxFileSize {
		p := tooLarge("")
		s.res.prob = &p
		return s.res
	}
	if len(src) >= 3 && src[0] == 0xEF && src[1] == 0xBB && src[2] == 0xBF {
		s.pos = 3 // byte order mark
	}
	s.lines()
	return s.res
}

// utf8BOM is UTF-8's byte order mark.
var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// encoding refuses a file that is not UTF-8 text, at the first byte that
// shows it: goccy reads any bytes, so a UTF-16 file (Notepad's "Unicode")
// came out as a puzzling key, a NUL byte or Latin-1 text as a value no feed
// can carry. src has no UTF-8 byte order mark.
func encoding(src []byte) *Problem {
	hint := "save the file as UTF-8 (newsdesk reads YAML in UTF-8 only)"
	switch {
	case bytes.HasPrefix(src, []byte{0xFF, 0xFE, 0, 0}), bytes.HasPrefix(src, []byte{0, 0, 0xFE, 0xFF}):
		return &Problem{Line: 1, Col: 1, Msg: "the config is UTF-32 text", Hint: hint}
	case bytes.HasPrefix(src, []byte{0xFF, 0xFE}), bytes.HasPrefix(src, []byte{0xFE, 0xFF}):
		return &Problem{Line: 1, Col: 1, Msg: "the config is UTF-16 text", Hint: hint}
	}
	line, lineStart := 1, 0
	for i := 0; i < len(src); {
		c := src[i]
		if c < utf8.RuneSelf {
			switch c {
			case 0:
				col := utf8.RuneCount(src[lineStart:i]) + 1
				return &Problem{Line: line, Col: col, Msg: "the config holds a NUL byte here: it is not UTF-8 text (UTF-16, or not text at all)", Hint: hint}
			case '\n':
				line, lineStart = line+1, i+1
			}
			i++
			continue
		}
		r, n := utf8.DecodeRune(src[i:])
		if r == utf8.RuneError && n <= 1 {
			col := utf8.RuneCount(src[lineStart:i]) + 1
			return &Problem{Line: line, Col: col, Msg: fmt.Sprintf("the config is not UTF-8 here (a byte 0x%02X): Latin-1 or another legacy encoding?", c), Hint: hint}
		}
		i += n
	}
	return nil
}

// tooLarge is the problem of a file over MaxFileSize.
func tooLarge(file string) Problem {
	return Problem{File: file, Msg: fmt.Sprintf("the config is larger than %s, the most newsdesk reads", mib(MaxFileSize)),
		Hint: "a config needs a few hundred KiB even for thousands of sources; check that this is the right file"}
}

func mib(n int) string { return fmt.Sprintf("%g MiB", float64(n)/(1<<20)) }

// fail records the first limit exceeded and stops the scan.
func (s *scanner) fail(at mark, msg, hint string) {
	if s.res.prob == nil {
		s.res.prob = &Problem{Line: at.line, Col: at.col, Msg: msg, Hint: hint}
	}
	s.pos = len(s.src)
}

func (s *scanner) here() mark {
	return mark{s.line, utf8.RuneCount(s.src[s.lineStart:min(s.pos, len(s.src))]) + 1}
}

func (s *scanner) node() {
	s.nodes++
	s.weight += s.block + s.dashes + len(s.flow)
	if s.weight > maxWeight {
		s.fail(s.here(), fmt.Sprintf("the config nests too many values too deep (%d levels on average)", s.weight/s.nodes),
			"a topic rule needs a few levels of any/all/not, not dozens; flatten it")
	}
	if s.nodes > maxWritten {
		s.fail(s.here(), fmt.Sprintf("the config has more than %d YAML nodes", maxWritten),
			"newsdesk reads configs of up to that many (about 12,000 sources); check that this is the right file")
	}
}

func (s *scanner) addText(n int) {
	s.text += n
	if s.text > maxText {
		s.fail(s.here(), fmt.Sprintf("the config's values hold more than %s of text", mib(maxText)),
			"titles, descriptions and rules need far less; check that this is the right file")
	}
}

func (s *scanner) depth() {
	if d := s.block + s.dashes + len(s.flow); d > maxDepth {
		s.fail(s.here(), fmt.Sprintf("the config nests maps and lists deeper than %d levels", maxDepth),
			"a topic rule needs a few levels of any/all/not, not hundreds; flatten it")
	}
}

// newline moves past the line break at pos.
func (s *scanner) newline() {
	s.pos++
	s.line++
	s.lineStart = s.pos
	if s.line > maxLines {
		s.fail(mark{s.line, 1}, fmt.Sprintf("the config has more than %d lines", maxLines),
			"check that this is the right file")
	}
}

func (s *scanner) at(i int) byte {
	if i < len(s.src) {
		return s.src[i]
	}
	return '\n' // the end of the file ends a line
}

func space(c byte) bool { return c == ' ' || c == '\t' || c == '\r' }

func blankOrEnd(c byte) bool { return space(c) || c == '\n' }

// brk reports whether a line break is at i: YAML breaks lines at "\n", "\r"
// and "\r\n" (whose '\r' skipSpaces treats as a space).
func (s *scanner) brk(i int) bool {
	c := s.at(i)
	return c == '\n' || (c == '\r' && s.at(i+1) != '\n')
}

func (s *scanner) skipSpaces() {
	for s.pos < len(s.src) && space(s.src[s.pos]) && !s.brk(s.pos) {
		s.pos++
	}
}

// comment skips a comment that starts at pos, recording what follows its
// '#'. The '#' stays: a comment ends a plain scalar that the next line
// would otherwise continue, and a line left blank would join the blank lines
// that end a block scalar.
func (s *scanner) comment() {
	start := s.pos + 1
	s.skipLine()
	s.res.comments = append(s.res.comments, [2]int{start, s.pos})
}

func (s *scanner) skipLine() {
	for s.pos < len(s.src) && !s.brk(s.pos) {
		s.pos++
	}
}

// lines scans block context line by line; flow collections and quoted
// scalars may carry it across lines.
func (s *scanner) lines() {
	blockParent := -2 // indentation a block scalar's lines must exceed; -2: none open
	blanks := 0       // blank lines in a row inside the block scalar
	for s.pos < len(s.src) {
		start := s.pos
		s.skipSpaces()
		indent := s.pos - start
		if blockParent > -2 {
			if brk := s.brk(s.pos); brk || indent > blockParent {
				if blanks++; !brk {
					blanks = 0
				} else if blanks > maxBlankRun {
					s.fail(mark{s.line - blanks + 1, 1}, fmt.Sprintf("a block scalar (| or >) here holds more than %d blank lines in a row", maxBlankRun),
						"remove the blank lines")
				}
				s.skipLine()
				s.addText(s.pos - start)
				s.endLine()
				continue
			}
			blockParent, blanks = -2, 0
		}
		if brk, c := s.brk(s.pos), s.at(s.pos); brk || c == '#' {
			if !brk {
				s.comment()
			}
			s.endLine()
			continue
		}
		for len(s.indents) > 0 && s.indents[len(s.indents)-1].col > indent {
			s.pop()
		}
		if len(s.indents) == 0 || s.indents[len(s.indents)-1].col < indent {
			s.push(indent)
		}
		blockParent = s.blockLine(indent)
		s.endLine()
	}
}

func (s *scanner) endLine() {
	s.skipLine()
	if s.pos < len(s.src) {
		s.newline()
	}
}

// blockLine scans one line in block context from its first non-space byte.
// It returns the indentation a block scalar started on this line must
// exceed, or -2 when none starts.
func (s *scanner) blockLine(indent int) int {
	parent := indent // the column of the innermost collection this line's node is in
	s.dashes = 0
	indicator := false // a "- " or "? " opened the line
	for {
		c := s.at(s.pos)
		if (c == '-' || c == '?' || c == ':') && blankOrEnd(s.at(s.pos+1)) {
			if c == '-' {
				if s.dashes == 0 && s.pos-s.lineStart == indent {
					s.mark(false)
				} else {
					s.dashes++ // a compact list inside the first
				}
				s.node()
				s.depth()
			}
			parent, indicator = s.pos-s.lineStart, true
			s.pos++
			s.skipSpaces()
			continue
		}
		break
	}
	s.depth()
	keyOnLine := false
	for s.pos < len(s.src) && s.res.prob == nil {
		col := s.pos - s.lineStart
		switch c := s.at(s.pos); {
		case s.brk(s.pos):
			return -2
		case c == '#' && (s.pos == s.lineStart || space(s.src[s.pos-1])):
			s.comment()
			return -2
		case c == '|' || c == '>':
			if !keyOnLine && !indicator {
				// A block scalar on a line of its own belongs to the
				// collection around this line's indentation.
				parent = -1
				if len(s.indents) >= 2 {
					parent = s.indents[len(s.indents)-2].col
				}
			}
			return parent
		case c == '[' || c == '{':
			s.flowCollection()
		case c == '"' || c == '\'':
			s.quoted(c)
		case c == '&' || c == '!':
			s.skipToken()
			s.skipSpaces()
			continue
		case c == '*':
			s.node()
			s.skipToken()
		case col == 0 && (s.has("---") || s.has("...")) && blankOrEnd(s.at(s.pos+3)):
			s.pos += 3
			s.skipSpaces()
			continue
		case col == 0 && c == '%':
			return -2 // a directive
		default:
			s.plain(false)
		}
		s.skipSpaces()
		if s.at(s.pos) != ':' || !blankOrEnd(s.at(s.pos+1)) {
			switch c := s.at(s.pos); {
			case c == '#' && space(s.src[s.pos-1]):
				s.comment()
			case !s.brk(s.pos):
				s.plain(false) // text after a quoted scalar or collection: let the parser judge it
				continue
			}
			return -2
		}
		// What came before the ':' was a key.
		if !keyOnLine {
			keyOnLine = true
			s.key(col, indicator)
		}
		parent = col
		s.pos++
		s.skipSpaces()
	}
	return -2
}

func (s *scanner) push(col int) {
	s.indents = append(s.indents, level{col: col})
	s.block++
}

func (s *scanner) pop() {
	s.block -= s.indents[len(s.indents)-1].depth()
	s.indents = s.indents[:len(s.indents)-1]
}

// mark notes a key or a "- " entry at the innermost level.
func (s *scanner) mark(key bool) {
	top := &s.indents[len(s.indents)-1]
	before := top.depth()
	if key {
		top.keys++
	} else {
		top.dash = true
	}
	s.block += top.depth() - before
}

// key counts a key at col of a block map; after a "- " it opens the map of
// that list item.
func (s *scanner) key(col int, afterDash bool) {
	if afterDash || s.indents[len(s.indents)-1].col != col {
		s.push(col)
	}
	s.mark(true)
	top := &s.indents[len(s.indents)-1]
	if top.keys > maxMapKeys {
		s.fail(s.here(), fmt.Sprintf("a map here has more than %d keys", maxMapKeys),
			"no newsdesk map has more than a dozen keys; check the indentation")
	}
}

func (s *scanner) has(prefix string) bool {
	return len(s.src)-s.pos >= len(prefix) && string(s.src[s.pos:s.pos+len(prefix)]) == prefix
}

// skipToken skips an anchor, tag or alias name.
func (s *scanner) skipToken() {
	for s.pos < len(s.src) && !blankOrEnd(s.src[s.pos]) && !(len(s.flow) > 0 && flowIndicator(s.src[s.pos])) {
		s.pos++
	}
}

func flowIndicator(c byte) bool { return c == ',' || c == '[' || c == ']' || c == '{' || c == '}' }

// plain scans a plain scalar up to a ": ", " #", the end of the line or, in
// flow context, a flow indicator. It always advances.
func (s *scanner) plain(inFlow bool) {
	s.node()
	start := s.pos
	for s.pos < len(s.src) {
		c := s.src[s.pos]
		if s.brk(s.pos) || (inFlow && flowIndicator(c)) {
			break
		}
		if c == ':' && s.pos > start {
			if n := s.at(s.pos + 1); blankOrEnd(n) || (inFlow && flowIndicator(n)) {
				break
			}
		}
		if c == '#' && s.pos > start && space(s.src[s.pos-1]) {
			break
		}
		s.pos++
	}
	if s.pos == start {
		s.pos++ // a lone indicator: step over it
	}
	s.addText(s.pos - start)
}

// quoted scans a single- or double-quoted scalar, which may span lines. An
// unterminated one runs to the end of the file, where the parser reports it.
func (s *scanner) quoted(q byte) {
	s.node()
	start := s.pos
	s.pos++
	for s.pos < len(s.src) && s.res.prob == nil {
		switch c := s.src[s.pos]; {
		case s.brk(s.pos):
			s.newline()
			continue
		case q == '"' && c == '\\':
			s.pos++
			if s.brk(s.pos) {
				continue
			}
		case c == q && q == '\'' && s.at(s.pos+1) == '\'':
			s.pos++
		case c == q:
			s.pos++
			s.addText(s.pos - start)
			return
		}
		s.pos++
	}
	s.addText(s.pos - start)
}

// flowCollection scans from a '[' or '{' to its matching closer, across
// lines if need be.
func (s *scanner) flowCollection() {
	base := len(s.flow)
	for s.pos < len(s.src) && s.res.prob == nil {
		c := s.src[s.pos]
		switch {
		case s.brk(s.pos):
			s.newline()
			continue
		case space(c) || c == ',':
		case c == '#' && (s.pos == s.lineStart || space(s.src[s.pos-1])):
			s.comment()
			continue
		case c == '[' || c == '{':
			s.node()
			s.flow = append(s.flow, opener{c, s.line, s.lineStart, s.pos})
			s.depth()
		case c == ']' || c == '}':
			if len(s.flow) == base {
				return // a closer with nothing open: the parser says so
			}
			top := s.flow[len(s.flow)-1]
			if (top.ch == '[') != (c == ']') && s.res.stray == nil {
				s.res.stray = &stray{closer: opener{c, s.line, s.lineStart, s.pos}, opener: top}
			}
			s.flow = s.flow[:len(s.flow)-1]
			if len(s.flow) == base {
				s.pos++
				return
			}
		case (c == ':' || c == '?') && (blankOrEnd(s.at(s.pos+1)) || flowIndicator(s.at(s.pos+1))):
		case c == '"' || c == '\'':
			s.quoted(c)
			continue
		case c == '&' || c == '!':
			s.skipToken()
			continue
		case c == '*':
			s.node()
			s.skipToken()
			continue
		default:
			s.plain(true)
			continue
		}
		s.pos++
	}
	if len(s.flow) > base && s.res.unclosed == nil && s.res.prob == nil {
		top := s.flow[len(s.flow)-1]
		s.res.unclosed = &top
	}
}
