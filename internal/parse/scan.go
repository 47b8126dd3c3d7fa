package parse

import (
	"bytes"
	"errors"
	"io"
	"unicode/utf8"

	xhtml "golang.org/x/net/html"
)

// tokens is what simpleFragment reads markup through: x/net/html's
// Tokenizer, or tagScanner where it can.
type tokens interface {
	Next() xhtml.TokenType
	Err() error
	Text() []byte
	TagName() (name []byte, hasAttr bool)
	TagAttr() (key, val []byte, moreAttr bool)
}

// errUnscanned is what tagScanner stops with on syntax it does not read.
var errUnscanned = errors.New("markup the tag scanner does not read")

// tagScanner tokenizes the markup articles are written in, in one pass
// over the fragment and without copying it again, giving the tokens
// x/net/html's Tokenizer gives: text with CR LF folded and character
// references decoded, start, self-closing and end tags with lowercase
// names, attributes with lowercase keys and decoded values. It reads only
// a subset of HTML syntax, the one whose tokenization is plain: tags of
// ASCII letters and digits, attribute keys of a few characters, quoted
// or absent values, no duplicate keys, the character references of
// refText (and numeric ones for characters XML allows), '&' or '<' standing
// for themselves where the Tokenizer reads them so. On anything else
// (comments, doctypes, unquoted values, a legacy reference without its
// ';', a tag cut off by the end) it stops with errUnscanned, which is not
// io.EOF: simpleFragment then reads the fragment again with the
// Tokenizer. TestScannerMatchesTokenizer and FuzzScanner hold the two to
// the same output.
type tagScanner struct {
	b   []byte // the fragment; text and values are decoded in place
	pos int
	tt  xhtml.TokenType
	err error

	text  []byte    // TextToken
	name  []byte    // tag name, lowercased in place
	attrs []rawAttr // the start tag's attributes
	next  int       // the next attribute TagAttr returns
}

// reset makes z scan s, reusing its buffers.
func (z *tagScanner) reset(s string) {
	*z = tagScanner{b: append(z.b[:0], s...), attrs: z.attrs[:0]}
}

func (z *tagScanner) Err() error {
	if z.tt != xhtml.ErrorToken {
		return nil
	}
	return z.err
}

func (z *tagScanner) Text() []byte { return z.text }

func (z *tagScanner) TagName() ([]byte, bool) { return z.name, z.next < len(z.attrs) }

func (z *tagScanner) TagAttr() (key, val []byte, more bool) {
	if z.next >= len(z.attrs) {
		return nil, nil, false
	}
	a := z.attrs[z.next]
	z.next++
	return a.key, a.val, z.next < len(z.attrs)
}

func (z *tagScanner) fail() xhtml.TokenType {
	z.err, z.tt = errUnscanned, xhtml.ErrorToken
	return z.tt
}

func (z *tagScanner) Next() xhtml.TokenType {
	z.text, z.name, z.attrs, z.next = nil, nil, z.attrs[:0], 0
	if z.err != nil {
		z.tt = xhtml.ErrorToken
		return z.tt
	}
	b := z.b
	if z.pos >= len(b) {
		z.err, z.tt = io.EOF, xhtml.ErrorToken
		return z.tt
	}
	if b[z.pos] == '<' && z.pos+1 < len(b) {
		switch c := b[z.pos+1]; {
		case letter(c):
			return z.startTag()
		case c == '/':
			return z.endTag()
		case c == '!' || c == '?':
			return z.fail() // comments, doctypes, processing instructions
		}
	}
	// Text runs to the next '<' that begins a tag, comment or doctype; a
	// '<' before anything else (or at the end) is text, as the Tokenizer
	// reads it.
	start, end := z.pos, len(b)
	for i := start; i < len(b); {
		j := bytes.IndexByte(b[i:], '<')
		if j < 0 {
			break
		}
		i += j
		if i > start && i+1 < len(b) {
			if c := b[i+1]; letter(c) || c == '/' || c == '!' || c == '?' {
				end = i
				break
			}
		}
		i++
	}
	z.pos = end
	t, ok := decodeRefs(b[start:end], false)
	if !ok {
		return z.fail()
	}
	z.text, z.tt = t, xhtml.TextToken
	return z.tt
}

// tagSpace is the white space the Tokenizer skips in tags.
func tagSpace(c byte) bool { return c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == '\f' }

// tagName reads the name at z.pos, lowercased in place, and returns the
// position after it: at white space, '/' or '>'; -1 when the name holds
// other characters or the fragment ends.
func (z *tagScanner) tagName() int {
	b := z.b
	i := z.pos
	for i < len(b) && (letter(b[i]) || digit(b[i])) {
		b[i] |= 0x20 // lowercase: digits have the bit already
		i++
	}
	if i >= len(b) || !(tagSpace(b[i]) || b[i] == '/' || b[i] == '>') {
		return -1
	}
	z.name = b[z.pos:i]
	return i
}

func (z *tagScanner) startTag() xhtml.TokenType {
	b := z.b
	z.pos++ // '<'
	i := z.tagName()
	if i < 0 {
		return z.fail()
	}
	for {
		for i < len(b) && tagSpace(b[i]) {
			i++
		}
		if i >= len(b) {
			return z.fail()
		}
		switch b[i] {
		case '>':
			z.pos, z.tt = i+1, xhtml.StartTagToken
			return z.tt
		case '/':
			if i+1 < len(b) && b[i+1] == '>' {
				z.pos, z.tt = i+2, xhtml.SelfClosingTagToken
				return z.tt
			}
			return z.fail()
		}
		// key: a letter, then letters, digits and "-_:."; lowercased.
		k := i
		if !letter(b[i]) {
			return z.fail()
		}
		for i < len(b) && (letter(b[i]) || digit(b[i]) || b[i] == '-' || b[i] == '_' || b[i] == ':' || b[i] == '.') {
			if letter(b[i]) {
				b[i] |= 0x20
			}
			i++
		}
		key := b[k:i]
		j := i
		for j < len(b) && tagSpace(b[j]) {
			j++
		}
		if j >= len(b) {
			return z.fail()
		}
		var val []byte
		switch b[j] {
		case '=':
			j++
			for j < len(b) && tagSpace(b[j]) {
				j++
			}
			if j >= len(b) || (b[j] != '"' && b[j] != '\'') {
				return z.fail() // unquoted values end in ways not modelled here
			}
			q := bytes.IndexByte(b[j+1:], b[j])
			if q < 0 {
				return z.fail()
			}
			v, ok := decodeRefs(b[j+1:j+1+q], true)
			if !ok {
				return z.fail()
			}
			val, i = v, j+1+q+1
		case '/', '>':
			i = j
		default:
			if !tagSpace(b[i]) {
				return z.fail() // a key ending in a character the Tokenizer keeps in it
			}
			i = j // a key without a value, another key after it
		}
		for _, a := range z.attrs {
			if bytes.Equal(a.key, key) {
				return z.fail() // the Tokenizer keeps the first; rare enough to leave to it
			}
		}
		z.attrs = append(z.attrs, rawAttr{key: key, val: val})
	}
}

func (z *tagScanner) endTag() xhtml.TokenType {
	z.pos += 2 // "</"
	if z.pos >= len(z.b) || !letter(z.b[z.pos]) {
		return z.fail()
	}
	i := z.tagName()
	if i < 0 || z.b[i] != '>' {
		return z.fail() // white space or attributes in an end tag: left to the Tokenizer
	}
	z.pos, z.tt = i+1, xhtml.EndTagToken
	return z.tt
}

// refText are the named character references tagScanner decodes itself, each
// as the Tokenizer decodes it with its ';' (TestRefTextMatchesTokenizer).
var refText = map[string]rune{
	"amp": '&', "lt": '<', "gt": '>', "quot": '"', "apos": '\'', "nbsp": '\u00a0',
	"mdash": '—', "ndash": '–', "hellip": '…', "lsquo": '‘', "rsquo": '’', "ldquo": '“', "rdquo": '”',
	"laquo": '«', "raquo": '»', "middot": '·', "bull": '•', "copy": '©', "reg": '®', "trade": '™',
	"euro": '€', "pound": '£', "deg": '°', "times": '×', "eacute": 'é', "egrave": 'è', "aacute": 'á',
	"agrave": 'à', "iacute": 'í', "oacute": 'ó', "uacute": 'ú', "ntilde": 'ñ', "ccedil": 'ç',
	"auml": 'ä', "ouml": 'ö', "uuml": 'ü', "szlig": 'ß', "shy": '\u00ad', "thinsp": '\u2009',
	"ensp": '\u2002', "emsp": '\u2003', "zwj": '\u200d', "zwnj": '\u200c',
}

// decodeRefs folds CR LF and lone CR into LF and decodes character
// references in b, in place (the result is never longer), as the
// Tokenizer's Text and TagAttr do; false on a NUL, on a named reference
// outside refText, on a legacy one without its ';' and on a numeric one
// for a character that is not an XML character or that the Tokenizer
// replaces.
func decodeRefs(b []byte, attribute bool) ([]byte, bool) {
	i := 0
	if len(b) >= 32 { // long text mostly has nothing to decode: three vector scans say so
		if bytes.IndexByte(b, '&') < 0 && bytes.IndexByte(b, '\r') < 0 && bytes.IndexByte(b, 0) < 0 {
			return b, true
		}
	}
	for i < len(b) && b[i] != '&' && b[i] != '\r' && b[i] != 0 {
		i++
	}
	if i == len(b) {
		return b, true
	}
	out := b[:i]
	for i < len(b) {
		switch c := b[i]; c {
		case 0:
			return nil, false
		case '\r':
			out = append(out, '\n')
			i++
			if i < len(b) && b[i] == '\n' {
				i++
			}
		case '&':
			r, n, ok := charRef(b[i:], attribute)
			if !ok {
				return nil, false
			}
			if n == 1 {
				out = append(out, '&')
			} else {
				out = utf8.AppendRune(out, r)
			}
			i += n
		default:
			out = append(out, c)
			i++
		}
	}
	return out, true
}

// charRef reads the reference starting at b[0] == '&': the character and
// the bytes it spans, n == 1 for an '&' that stands for itself.
func charRef(b []byte, attribute bool) (r rune, n int, ok bool) {
	if len(b) < 2 {
		return '&', 1, true
	}
	if b[1] == '#' {
		i, hex := 2, false
		if i < len(b) && (b[i] == 'x' || b[i] == 'X') {
			hex = true
			i++
		}
		i0 := i
		var x rune
		for ; i < len(b); i++ {
			var d rune
			switch c := b[i]; {
			case '0' <= c && c <= '9':
				d = rune(c - '0')
			case hex && 'a' <= c|0x20 && c|0x20 <= 'f':
				d = rune(c|0x20-'a') + 10
			default:
				goto done
			}
			if x > 0x10FFFF {
				return 0, 0, false
			}
			if hex {
				x = x*16 + d
			} else {
				x = x*10 + d
			}
		}
	done:
		if i == i0 {
			return '&', 1, true // "&#" without digits stands for itself
		}
		if i < len(b) && b[i] == ';' {
			i++
		}
		if x < 0x20 && x != '\t' && x != '\n' && x != '\r' || 0x7f <= x && x <= 0x9f || !utf8.ValidRune(x) ||
			x >= 0xfffe && x <= 0xffff {
			return 0, 0, false // characters the Tokenizer replaces, or XML does not allow
		}
		return x, i, true
	}
	i := 1
	for i < len(b) && (letter(b[i]) || digit(b[i])) {
		i++
	}
	if i == 1 {
		return '&', 1, true // "& " and the like: no name
	}
	semi := i < len(b) && b[i] == ';'
	if semi {
		if r, ok := refText[string(b[1:i])]; ok {
			return r, i + 1, true
		}
		i++
	} else if attribute && i < len(b) && b[i] == '=' {
		return '&', 1, true // "?a=1&b=2": in a value, a name before '=' is no reference
	}
	// A name the Tokenizer leaves as it is, whichever of its rules
	// applies (it reads no further than the name and its ';'), is text;
	// any other is left to it.
	if ref := string(b[:i]); xhtml.UnescapeString(ref) == ref {
		return '&', 1, true
	}
	return 0, 0, false
}
