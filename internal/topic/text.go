package topic

import (
	"encoding/binary"
	"html"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// normalizeText turns one plain-text field of a story (a title, SummaryText,
// ContentText, a category) into the text every clause matches against: NFKC,
// odd spaces folded to one ASCII space, curly quotes and dashes folded to
// ASCII, whitespace collapsed and trimmed. It never reads markup or entities:
// plain text is matched as it is, so "a<b" and "<asylum>" keep their words
// and "AT&amp;T" stays what the feed said. Rule terms go through the same
// function, so a term and the text it should match always agree (rssguard
// #277: an NBSP made a correct regex miss).
func normalizeText(s string) string {
	if s == "" {
		return ""
	}
	// Most text is ASCII: valid UTF-8 that NFKC leaves as it is (no ASCII
	// character decomposes, and none composes with another), so only the
	// spaces need folding, and printable ASCII with single spaces not even
	// that.
	if plain(s) {
		return s
	}
	if isASCII(s) {
		return foldText(s)
	}
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	// Fold first: it removes the NBSPs and odd spaces that would send
	// NFKC down its slow, allocating path. NFKC can bring new spaces
	// ("¨" is " ̈"), so a changed string is folded again.
	s = foldText(s)
	if n := norm.NFKC.String(s); n != s {
		s = foldText(n)
	}
	return s
}

// normalizeHTML is normalizeText for an HTML field (Summary or Content when
// parse gave no plain text): tags stripped, entities decoded once, then
// normalized as text.
func normalizeHTML(s string) string {
	if strings.IndexByte(s, '<') >= 0 {
		s = stripTags(s)
	}
	if strings.IndexByte(s, '&') >= 0 {
		s = html.UnescapeString(s)
	}
	return normalizeText(s)
}

// foldText folds spaces, quotes and dashes and collapses whitespace.
func foldText(s string) string {
	if plain(s) {
		return s
	}
	// A []byte and not a strings.Builder: appends to a local slice header
	// need no GC write barrier, which showed up in BenchmarkClassify.
	b := make([]byte, 0, len(s))
	space := false // a space is pending: written only before the next visible rune
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf { // ASCII fast path: copy printable runs whole
			if c <= ' ' || c == 0x7f {
				space = true
				i++
				continue
			}
			j := i + 1
			for j < len(s) && s[j] > ' ' && s[j] < 0x7f {
				j++
			}
			if space && len(b) > 0 {
				b = append(b, ' ')
			}
			space = false
			b = append(b, s[i:j]...)
			i = j
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		switch f := fold(r); {
		case f == ' ':
			space = true
			continue
		case f < 0:
			continue // invisible: dropped so it cannot split a word
		default:
			r = f
		}
		if space && len(b) > 0 {
			b = append(b, ' ')
		}
		space = false
		b = utf8.AppendRune(b, r)
	}
	return string(b)
}

// plain reports whether s is printable ASCII with single inner spaces,
// which normalize would return unchanged (most titles are).
func plain(s string) bool {
	if s == "" || s[0] == ' ' || s[len(s)-1] == ' ' {
		return false
	}
	// Eight bytes at a time: is one below 0x20, or above 0x7e?
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	i := 0
	for ; i+8 <= len(s); i += 8 {
		x := binary.LittleEndian.Uint64([]byte(s[i : i+8]))
		if ((x-0x20*ones)&^x|(x+ones|x))&highs != 0 {
			return false
		}
	}
	for ; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f {
			return false
		}
	}
	return !strings.Contains(s, "  ")
}

// fold maps one non-ASCII rune: ' ' for any kind of space or control
// character, -1 for invisible marks that should vanish, an ASCII stand-in
// for typographic quotes and dashes, else r itself.
func fold(r rune) rune {
	switch r {
	case '\u00AD', '\u200E', '\u200F', '\u202A', '\u202B', '\u202C', '\u202D', '\u202E',
		'\u2066', '\u2067', '\u2068', '\u2069':
		return -1 // soft hyphen and bidi controls live inside words
	case '\u200B', '\u200C', '\u200D', '\u2060', '\uFEFF':
		return ' '
	case '\u2018', '\u2019', '\u201A', '\u201B', '\u2032', '\u02BC':
		return '\''
	case '\u201C', '\u201D', '\u201E', '\u201F', '\u2033', '\u00AB', '\u00BB':
		return '"'
	case '\u2010', '\u2011', '\u2012', '\u2013', '\u2014', '\u2015', '\u2212':
		return '-'
	}
	if unicode.IsSpace(r) || unicode.IsControl(r) {
		return ' '
	}
	return r
}

// inlineTags are the elements whose tags vanish without leaving a space, so
// "<b>asy</b>lum" stays one word; every other tag (p, div, header, footer,
// aside, nav, main, li, td, …) becomes a space, so "<p>border</p><p>patrol</p>"
// is not the phrase "border patrol" glued together.
var inlineTags = map[string]bool{
	"a": true, "abbr": true, "b": true, "bdi": true, "bdo": true, "cite": true, "code": true,
	"del": true, "dfn": true, "em": true, "font": true, "i": true, "ins": true, "kbd": true,
	"mark": true, "q": true, "s": true, "samp": true, "small": true, "span": true,
	"strong": true, "sub": true, "sup": true, "time": true, "u": true, "var": true, "wbr": true,
}

// stripTags removes HTML tags and comments. A '<' that does not open a tag
// (not followed by a letter, '/', '!' or '?') is text, as in "2 < 3".
func stripTags(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for {
		i := strings.IndexByte(s, '<')
		if i < 0 || i+1 >= len(s) {
			b.WriteString(s)
			return b.String()
		}
		c := s[i+1]
		if !(c == '/' || c == '!' || c == '?' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z') {
			b.WriteString(s[:i+1])
			s = s[i+1:]
			continue
		}
		b.WriteString(s[:i])
		end := ">"
		if strings.HasPrefix(s[i:], "<!--") {
			end = "-->"
		}
		j := strings.Index(s[i:], end)
		if j < 0 {
			return b.String() // an unclosed tag swallows the rest, as a browser would
		}
		if !inlineTags[tagName(s[i+1:i+j])] {
			b.WriteByte(' ')
		}
		s = s[i+j+len(end):]
	}
}

// tagName returns the lowercased element name of the tag body "/b class=x".
func tagName(tag string) string {
	tag = strings.TrimPrefix(tag, "/")
	n := 0
	for n < len(tag) && (tag[n] >= 'a' && tag[n] <= 'z' || tag[n] >= 'A' && tag[n] <= 'Z' || tag[n] >= '0' && tag[n] <= '9') {
		n++
	}
	return strings.ToLower(tag[:n])
}

// isWord reports whether r is part of a word: letters, digits and
// combining marks. Everything else (space, punctuation, hyphen, apostrophe)
// is a boundary.
func isWord(r rune) bool {
	if r < utf8.RuneSelf {
		return asciiWord[r]
	}
	return unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r)
}

// isCJK reports whether r is a letter of a script written without spaces
// between words (Han, Hiragana, Katakana) or, for Korean, with particles
// glued to the noun. Each such letter is a word of its own, so a term
// written in them matches inside a run of them: 尖閣 in 尖閣諸島の周辺.
func isCJK(r rune) bool {
	switch {
	case r < 0x2E80:
		return false
	case r <= 0x9FFF, // radicals, CJK symbols, kana, bopomofo, compatibility jamo, CJK ideographs
		0xAC00 <= r && r <= 0xD7AF,   // Hangul syllables
		0xF900 <= r && r <= 0xFAFF,   // CJK compatibility ideographs
		0x20000 <= r && r <= 0x3FFFF: // CJK extensions B and later
		return true
	}
	return false
}

// foldRune is the simple Unicode case folding of r, so that every case of a
// letter compares equal: Σ, σ and the final ς all fold to σ, where
// lowercasing alone leaves ς apart.
func foldRune(r rune) rune {
	return unicode.ToLower(unicode.ToUpper(r))
}

// foldString case-folds s rune by rune, as words folds the words of a field.
func foldString(s string) string {
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			b = append(b, c)
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		b = utf8.AppendRune(b, foldRune(r))
		i += size
	}
	return string(b)
}

// asciiWord[c] says whether the ASCII byte c is a letter or digit.
var asciiWord = func() (t [utf8.RuneSelf]bool) {
	for c := range t {
		t[c] = 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
	}
	return t
}()

// word is one word of normalized text: [start, end) in the original-case
// text of its field and [lstart, lend) in the case-folded word buffer.
type word struct {
	start, end, lstart, lend int32
	field                    uint8
	letters                  bool // ASCII letters only: the words the English stemmer reads
}

// isASCII reports whether s is all ASCII, eight bytes at a time.
func isASCII(s string) bool {
	i := 0
	for ; i+8 <= len(s); i += 8 {
		if binary.LittleEndian.Uint64([]byte(s[i:i+8]))&0x8080808080808080 != 0 {
			return false
		}
	}
	for ; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// words splits normalized text (of field) into words, appending their
// case-folded forms to lower. Folding is rune by rune, so it never changes
// where words start or end. A CJK letter is a word on its own.
func words(text string, field uint8, lower []byte, out []word) ([]byte, []word) {
	if isASCII(text) {
		return asciiWords(text, field, lower, out)
	}
	return anyWords(text, field, lower, out)
}

// anyWords is words for text of any script.
func anyWords(text string, field uint8, lower []byte, out []word) ([]byte, []word) {
	in := false
	var cur word
	for i := 0; i < len(text); {
		c := text[i]
		r, size := rune(c), 1
		if c >= utf8.RuneSelf {
			r, size = utf8.DecodeRuneInString(text[i:])
		}
		if !isWord(r) {
			if in {
				cur.end, cur.lend = int32(i), int32(len(lower))
				out = append(out, cur)
				in = false
			}
			i += size
			continue
		}
		if c >= utf8.RuneSelf && isCJK(r) {
			if in {
				cur.end, cur.lend = int32(i), int32(len(lower))
				out = append(out, cur)
				in = false
			}
			w := word{start: int32(i), end: int32(i + size), lstart: int32(len(lower)), field: field}
			lower = utf8.AppendRune(lower, foldRune(r))
			w.lend = int32(len(lower))
			out = append(out, w)
			i += size
			continue
		}
		if !in {
			cur = word{start: int32(i), lstart: int32(len(lower)), field: field, letters: true}
			in = true
		}
		if c >= utf8.RuneSelf {
			lower = utf8.AppendRune(lower, foldRune(r))
			cur.letters = false
			i += size
			continue
		}
		// A run of ASCII letters and digits, copied and lowercased in bulk.
		j := i + 1
		for j < len(text) && text[j] < utf8.RuneSelf && asciiWord[text[j]] {
			j++
		}
		n := len(lower)
		lower = append(lower, text[i:j]...)
		for k := n; k < len(lower); k++ {
			switch b := lower[k]; {
			case 'A' <= b && b <= 'Z':
				lower[k] += 'a' - 'A'
			case b <= '9':
				cur.letters = false
			}
		}
		i = j
	}
	if in {
		cur.end, cur.lend = int32(len(text)), int32(len(lower))
		out = append(out, cur)
	}
	return lower, out
}

// asciiWords is words for ASCII text: a word is a run of letters and
// digits, its folded form the run in lower case.
func asciiWords(text string, field uint8, lower []byte, out []word) ([]byte, []word) {
	base := len(lower)
	lower = slices.Grow(lower, len(text))
	buf := lower[base : base+len(text)] // the folded words take at most the text's bytes
	k := 0
	for i := 0; i < len(text); {
		if asciiClass[text[i]] == 0 {
			i++
			continue
		}
		start, lstart := i, k
		var class uint8
		for ; i < len(text) && k < len(buf); i, k = i+1, k+1 {
			c := text[i]
			cl := asciiClass[c]
			if cl == 0 {
				break
			}
			class |= cl
			buf[k] = c | (cl&classUpper)<<3 // an upper-case letter plus 0x20 is its lower case
		}
		out = append(out, word{start: int32(start), end: int32(i), lstart: int32(base + lstart), lend: int32(base + k),
			field: field, letters: class&classDigit == 0})
	}
	return lower[:base+k], out
}

// The classes of ASCII bytes asciiWords tells apart, as bits: 0 is a byte
// that is no part of a word.
const (
	classLower uint8 = 1 << iota
	classDigit
	classUpper // 4: shifted by 3 it is 0x20, the bit between upper and lower case
)

// asciiClass[c] is the class of the byte c (0 for every non-ASCII byte).
var asciiClass = func() (t [256]uint8) {
	for c := range t {
		switch {
		case 'a' <= c && c <= 'z':
			t[c] = classLower
		case 'A' <= c && c <= 'Z':
			t[c] = classUpper
		case '0' <= c && c <= '9':
			t[c] = classDigit
		}
	}
	return t
}()

// softGap reports whether the text between two words is a space, a hyphen or
// nothing (between CJK letters): the gaps a phrase treats as one, so that
// "nuclear-powered" matches "nuclear powered" and "Border-Patrol" matches
// "Border Patrol".
func softGap(g string) bool { return g == " " || g == "-" || g == "" }

// caseless reports whether text carries no case information: it has no
// lower-case letter, or no upper-case one (ALL-CAPS or all-lower-case
// headlines), so a case-sensitive comparison can tell nothing from it.
func caseless(text string) bool {
	upper, lower := false, false
	for i := 0; i < len(text); {
		c := text[i]
		if c < utf8.RuneSelf {
			switch {
			case 'a' <= c && c <= 'z':
				lower = true
			case 'A' <= c && c <= 'Z':
				upper = true
			}
			i++
		} else {
			r, size := utf8.DecodeRuneInString(text[i:])
			switch {
			case unicode.IsLower(r):
				lower = true
			case unicode.IsUpper(r), unicode.IsTitle(r):
				upper = true
			}
			i += size
		}
		if upper && lower {
			return false
		}
	}
	return true
}
