package topic

import (
	"html"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// normalize turns one field of a story into the plain text every clause
// matches against: tags stripped, entities decoded, NFKC, odd spaces folded
// to one ASCII space, curly quotes and dashes folded to ASCII, whitespace
// collapsed and trimmed. Rule terms go through the same function, so a term
// and the text it should match always agree (rssguard #277: an NBSP made a
// correct regex miss).
func normalize(s string) string {
	if s == "" {
		return ""
	}
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	if strings.IndexByte(s, '<') >= 0 {
		s = stripTags(s)
	}
	if strings.IndexByte(s, '&') >= 0 {
		s = html.UnescapeString(s)
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
	prev := byte(' ')
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c >= 0x7f || c == ' ' && prev == ' ' {
			return false
		}
		prev = c
	}
	return prev != ' '
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
// "<b>asy</b>lum" stays one word; every other tag becomes a space, so
// "<p>border</p><p>patrol</p>" is not the phrase "border patrol" glued together.
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

// asciiWord[c] says whether the ASCII byte c is a letter or digit.
var asciiWord = func() (t [utf8.RuneSelf]bool) {
	for c := range t {
		t[c] = 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
	}
	return t
}()

// word is one word of normalized text: [start, end) in the original-case
// text of its field and [lstart, lend) in the lowercased word buffer.
type word struct {
	start, end, lstart, lend int32
	field                    uint8
}

// words splits normalized text (of field) into words, appending their
// lowercased forms to lower. Lowercasing is rune by rune (unicode.ToLower,
// simple folding), so it never changes where words start or end.
func words(text string, field uint8, lower []byte, out []word) ([]byte, []word) {
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
		if !in {
			cur = word{start: int32(i), lstart: int32(len(lower)), field: field}
			in = true
		}
		if c >= utf8.RuneSelf {
			lower = utf8.AppendRune(lower, unicode.ToLower(r))
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
			if 'A' <= lower[k] && lower[k] <= 'Z' {
				lower[k] += 'a' - 'A'
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
