package parse

import (
	"bytes"
	"cmp"
	"io"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	xhtml "golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// simpleHTML is what htmlFragment gets from parsing s into a tree, walking
// it and rendering it back, in one tokenizer pass: the HTML to sanitize with
// URLs resolved against base, the text, and the first image. For the tree
// builder it skips, that pass costs as much again as sanitizing.
//
// It handles only fragments for which the tree builder would build exactly
// the tags written: elements of simpleElems, properly nested, with no
// end-tag omission the parser would repair, no comment, no raw text element
// and none of the start tags that implicitly close an open element. On
// anything else it reports false and htmlFragment parses the tree as before,
// so the output never differs.
func simpleHTML(s, base string) (raw, text, image string, ok bool) {
	f, ok := simpleFragment(s, base, false)
	return f.raw, f.text, f.image, ok
}

// simple is what simpleFragment makes of a fragment.
type simple struct {
	raw, text, image string
	// safe is what sanitizer() makes of raw (see safeWriter), when
	// simpleFragment was asked to sanitize; "" with unsafe set when the
	// markup holds what safeWriter does not model, and raw is then unset.
	safe   string
	unsafe bool
	// final says text is already what htmlFragment and plain make of
	// it, collapse(clean(text)): tagScanner read the fragment, which
	// decodes no character clean would drop, and the words were
	// collapsed as they were written.
	final bool
}

// simpleFragment is simpleHTML. With sanitize set it writes, instead of
// raw, what the sanitizer would make of raw, or reports unsafe. It reads
// s with tagScanner, and again with x/net/html's Tokenizer when the
// scanner meets syntax it does not read.
func simpleFragment(s, base string, sanitize bool) (simple, bool) {
	return simpleFragmentAt(s, newResolver(base), sanitize)
}

// simpleFragmentAt is simpleFragment against links.
func simpleFragmentAt(s string, links resolver, sanitize bool) (simple, bool) {
	return simpleFragmentWith(s, links, sanitize, nil)
}

// simpleFragmentWith is simpleFragmentAt scanning with z, when not nil,
// so that the fragments of one document reuse one buffer.
func simpleFragmentWith(s string, links resolver, sanitize bool, z *tagScanner) (simple, bool) {
	if z == nil {
		z = &tagScanner{}
	}
	z.reset(s)
	f, ok, err := simpleTokens(z, len(s), links, sanitize, true)
	if err != errUnscanned {
		return f, ok
	}
	f, ok, _ = simpleTokens(xhtml.NewTokenizer(strings.NewReader(s)), len(s), links, sanitize, false)
	return f, ok
}

// simpleTokens is simpleFragment over the tokens of a fragment of size
// bytes; err is z's error when it ended the fragment early. With
// collapse set it writes the words collapsed (and sets simple.final).
func simpleTokens(z tokens, size int, links resolver, sanitize, collapse bool) (simple, bool, error) {
	var (
		raw   strings.Builder
		words = wordWriter{collapse: collapse}
		safe  safeWriter
		stack = make([]atom.Atom, 0, 16)
		attrs = make([]rawAttr, 0, 8)
		image string
		// afterPre is set when the previous token opened a <pre>
		afterPre bool
	)
	out := &raw // where text goes: raw and safe write it alike
	if sanitize {
		safe.ok, out = true, &safe.b
	}
	out.Grow(size + size/4) // absolute links, rel attributes
	words.b.Grow(size)
	for {
		tt := z.Next()
		wasPre := afterPre
		afterPre = false
		switch tt {
		case xhtml.ErrorToken:
			if err := z.Err(); err != io.EOF {
				return simple{}, false, err
			}
			// Render closes what the fragment left open.
			for i := len(stack) - 1; i >= 0; i-- {
				closeTag(&raw, &safe, &words, stack[i], sanitize)
			}
			f := simple{text: words.String(), image: image, final: collapse}
			if sanitize {
				f.safe = safe.b.String()
			} else {
				f.raw = raw.String()
			}
			return f, true, nil
		case xhtml.TextToken:
			d := z.Text()
			if wasPre && len(d) > 0 && d[0] == '\n' {
				return simple{}, false, nil // the parser drops that newline
			}
			if words.collapse {
				textTo(out, &words, d)
			} else {
				words.write(d)
				escapeTo(out, d)
			}
		case xhtml.StartTagToken, xhtml.SelfClosingTagToken:
			name, more := z.TagName()
			a := atom.Lookup(name)
			fl := elemFlags[a]
			void := fl&isVoid != 0
			if fl&isSimple == 0 || (tt == xhtml.SelfClosingTagToken && !void) || closesOpen(stack, a, fl) {
				return simple{}, false, nil
			}
			// The slices stay valid until z.Next: TagAttr unescapes each
			// value in place within its own span of the buffer.
			attrs = attrs[:0]
			for more {
				var at rawAttr
				at.key, at.val, more = z.TagAttr()
				attrs = append(attrs, at)
			}
			if fl&isFormatting != 0 && len(attrs) > 1 {
				// The parser sorts a formatting element's attributes
				// (for its Noah's Ark clause), so Render writes them sorted.
				slices.SortFunc(attrs, func(x, y rawAttr) int {
					return cmp.Or(bytes.Compare(x.key, y.key), bytes.Compare(x.val, y.val))
				})
			}
			if sanitize {
				safe.start(a, fl)
			} else {
				raw.WriteByte('<')
				raw.WriteString(a.String())
			}
			for _, at := range attrs {
				key := string(at.key) // no allocation: map lookups and comparisons
				if !urlAttrs[key] {
					if sanitize {
						safe.attr(a, key, at.val)
					} else {
						raw.WriteByte(' ')
						raw.Write(at.key)
						raw.WriteString(`="`)
						escapeTo(&raw, at.val)
						raw.WriteByte('"')
					}
					continue
				}
				if origin, ok := plainOrigin(links, at.val); ok {
					// abs is origin + at.val, which safeURL keeps as it is.
					if a == atom.Img && key == "src" && image == "" {
						image = origin + string(at.val)
					}
					if sanitize {
						safe.plainURLAttr(a, key, origin, at.val)
					} else {
						raw.WriteByte(' ')
						raw.Write(at.key)
						raw.WriteString(`="`)
						escapeStringTo(&raw, origin)
						escapeTo(&raw, at.val)
						raw.WriteByte('"')
					}
					continue
				}
				val := string(at.val)
				abs := links.abs(val, key == "href")
				if abs != "" {
					val = abs
				}
				if a == atom.Img && key == "src" && image == "" {
					image = abs
				}
				switch {
				case sanitize:
					safe.urlAttr(a, key, val)
				default:
					raw.WriteByte(' ')
					raw.Write(at.key)
					raw.WriteString(`="`)
					escapeStringTo(&raw, val)
					raw.WriteByte('"')
				}
			}
			if sanitize {
				if safe.end(a, fl, void); !safe.ok {
					return simple{unsafe: true}, true, nil
				}
			} else if void {
				raw.WriteString("/>")
			} else {
				raw.WriteByte('>')
			}
			if fl&isBlock != 0 {
				words.space()
			}
			if void {
				if fl&isBlock != 0 {
					words.space()
				}
				continue
			}
			if len(stack) >= maxSimpleDepth {
				return simple{}, false, nil // let the parser refuse or accept it
			}
			stack = append(stack, a)
			afterPre = a == atom.Pre
		case xhtml.EndTagToken:
			name, _ := z.TagName()
			if len(stack) == 0 || atom.Lookup(name) != stack[len(stack)-1] {
				return simple{}, false, nil // the parser would repair or ignore it
			}
			closeTag(&raw, &safe, &words, stack[len(stack)-1], sanitize)
			stack = stack[:len(stack)-1]
		default: // comments and doctypes
			return simple{}, false, nil
		}
	}
}

// wordWriter gathers a fragment's words: as they come, or collapsed as
// collapse would make them (see collapseTo).
type wordWriter struct {
	b        strings.Builder
	collapse bool
	gap      bool // collapsing: white space since the last word written
}

func (w *wordWriter) write(d []byte) {
	if !w.collapse {
		w.b.Write(d)
		return
	}
	w.gap = collapseTo(&w.b, d, w.gap)
}

// space is the word break a block element makes.
func (w *wordWriter) space() {
	if !w.collapse {
		w.b.WriteByte(' ')
		return
	}
	w.gap = true
}

func (w *wordWriter) String() string { return w.b.String() }

// textTo writes text d to out as escapeTo does and to w, collapsing, as
// w.write does, in one pass. It copies runs of plain bytes (printable
// ASCII that needs no escape, single spaces included) whole; a run with
// white space it must fold goes through collapseTo.
func textTo(out *strings.Builder, w *wordWriter, d []byte) {
	esc := 0 // d[esc:i] is yet to be written to out
	gap := w.gap
	for i := 0; i < len(d); {
		j := i
		var double, prev uint8 // two spaces in a row; the last byte was a space
		for j < len(d) && textClass[d[j]] == textPlain {
			var sp uint8
			if d[j] == ' ' {
				sp = 1
			}
			double |= sp & prev
			prev = sp
			j++
		}
		if j > i {
			// The run's words, without one space before and one after,
			// are written as they are when single spaces part them.
			run := d[i:j]
			words, lead, trail := run, run[0] == ' ', false
			if lead {
				words = words[1:]
			}
			if n := len(words); n > 0 && words[n-1] == ' ' {
				words, trail = words[:n-1], true
			}
			switch {
			case len(words) == 0:
				gap = true
			case double == 0:
				if (gap || lead) && w.b.Len() > 0 {
					w.b.WriteByte(' ')
				}
				w.b.Write(words)
				gap = trail
			default:
				gap = collapseTo(&w.b, run, gap)
			}
			i = j
			continue
		}
		c, size := d[i], 1
		word := true
		switch textClass[c] {
		case textEscaped:
			out.Write(d[esc:i])
			out.WriteString(escapes[c])
			esc = i + 1
		case textSpace:
			if c == '\r' {
				out.Write(d[esc:i])
				out.WriteString(escapes[c])
				esc = i + 1
			}
			word = false
		case textHigh:
			var r rune
			r, size = utf8.DecodeRune(d[i:])
			word = !unicode.IsSpace(r)
		}
		if word {
			if gap && w.b.Len() > 0 {
				w.b.WriteByte(' ')
			}
			w.b.Write(d[i : i+size])
			gap = false
		} else {
			gap = true
		}
		i += size
	}
	out.Write(d[esc:])
	w.gap = gap
}

// textClass sorts the bytes of a text for textTo.
const (
	textPlain   = iota // printable ASCII and the space, written as they are
	textEscaped        // printable ASCII that escapeTo escapes
	textSpace          // ASCII white space but the space
	textHigh           // a byte of a character beyond ASCII
	textControl        // another ASCII control: a word byte, not escaped
)

var textClass = func() (t [256]uint8) {
	for c := range 256 {
		switch {
		case c >= utf8.RuneSelf:
			t[c] = textHigh
		case escByte[c] && c != '\r':
			t[c] = textEscaped
		case c != ' ' && asciiSpace[c]:
			t[c] = textSpace
		case c < ' ':
			t[c] = textControl
		}
	}
	return t
}()

// maxSimpleDepth keeps simpleHTML well below the 512 open elements beyond
// which x/net/html refuses a document (htmlFragment then keeps the words
// only), so that that decision stays the parser's.
const maxSimpleDepth = 256

// escapeTo writes s escaped as x/net/html's Render escapes text and
// attribute values.
func escapeTo(out *strings.Builder, s []byte) {
	last := 0
	for i := 0; i < len(s); i++ {
		if escByte[s[i]] {
			out.Write(s[last:i])
			out.WriteString(escapes[s[i]])
			last = i + 1
		}
	}
	out.Write(s[last:])
}

// escByte are the bytes escapeTo escapes, and escapes what it writes for them.
var (
	escByte = [256]bool{'&': true, '\'': true, '<': true, '>': true, '"': true, '\r': true}
	escapes = [256]string{'&': "&amp;", '\'': "&#39;", '<': "&lt;", '>': "&gt;", '"': "&#34;", '\r': "&#13;"}
)

// escapeStringTo is escapeTo for a string, which seldom needs escaping.
func escapeStringTo(out *strings.Builder, s string) {
	if !strings.ContainsAny(s, "&'<>\"\r") {
		out.WriteString(s)
		return
	}
	escapeTo(out, []byte(s))
}

// rawAttr is one attribute as the tokenizer holds it.
type rawAttr struct{ key, val []byte }

// closeTag writes the end tag of a to raw, or to safe when sanitizing,
// and the word break it makes.
func closeTag(raw *strings.Builder, safe *safeWriter, words *wordWriter, a atom.Atom, sanitize bool) {
	fl := elemFlags[a]
	if sanitize {
		safe.close(a, fl)
	} else {
		raw.WriteString("</")
		raw.WriteString(a.String())
		raw.WriteByte('>')
	}
	if fl&isBlock != 0 {
		words.space()
	}
}

// closesOpen reports whether the tree builder, seeing start tag a with stack
// open, would close an open element first (or run the adoption agency for
// a nested <a>), which simpleHTML does not model.
func closesOpen(stack []atom.Atom, a atom.Atom, fl elemFlag) bool {
	if fl&isClosesP != 0 && containsAtom(stack, atom.P) {
		return true
	}
	if a == atom.A && containsAtom(stack, atom.A) {
		return true
	}
	if fl&isHeading != 0 && len(stack) > 0 && headings[stack[len(stack)-1]] {
		return true
	}
	if a == atom.Li {
		for i := len(stack) - 1; i >= 0; i-- {
			switch stack[i] {
			case atom.Ul, atom.Ol:
				return false
			case atom.Li:
				return true
			}
		}
	}
	return false
}

func containsAtom(stack []atom.Atom, a atom.Atom) bool {
	for _, s := range stack {
		if s == a {
			return true
		}
	}
	return false
}

// simpleElems are the elements simpleHTML handles: the HTML articles are
// made of, none of them parsed specially beyond what closesOpen checks.
var simpleElems = map[atom.Atom]bool{
	atom.A: true, atom.Abbr: true, atom.B: true, atom.Bdi: true, atom.Bdo: true, atom.Blockquote: true,
	atom.Br: true, atom.Cite: true, atom.Code: true, atom.Del: true, atom.Dfn: true, atom.Div: true,
	atom.Em: true, atom.Figcaption: true, atom.Figure: true, atom.H1: true, atom.H2: true, atom.H3: true,
	atom.H4: true, atom.H5: true, atom.H6: true, atom.Hr: true, atom.I: true, atom.Img: true, atom.Ins: true,
	atom.Kbd: true, atom.Li: true, atom.Mark: true, atom.Ol: true, atom.P: true, atom.Pre: true, atom.Q: true,
	atom.S: true, atom.Samp: true, atom.Small: true, atom.Span: true, atom.Strong: true, atom.Sub: true,
	atom.Sup: true, atom.Time: true, atom.U: true, atom.Ul: true, atom.Var: true, atom.Wbr: true,
	atom.Article: true, atom.Section: true, atom.Aside: true, atom.Header: true, atom.Footer: true,
	atom.Nav: true, atom.Main: true,
}

// formatting are the simpleElems the parser keeps in its list of active
// formatting elements.
var formatting = map[atom.Atom]bool{
	atom.A: true, atom.B: true, atom.Code: true, atom.Em: true, atom.I: true, atom.S: true,
	atom.Small: true, atom.Strong: true, atom.U: true,
}

// voidElems are the simpleElems with no end tag, rendered as <x/>.
var voidElems = map[atom.Atom]bool{atom.Br: true, atom.Hr: true, atom.Img: true, atom.Wbr: true}

// closesP are the simpleElems whose start tag closes an open <p>.
var closesP = map[atom.Atom]bool{
	atom.Div: true, atom.P: true, atom.Blockquote: true, atom.Figure: true, atom.Figcaption: true,
	atom.Article: true, atom.Section: true, atom.Aside: true, atom.Header: true, atom.Footer: true,
	atom.Nav: true, atom.Main: true, atom.Ul: true, atom.Ol: true, atom.H1: true, atom.H2: true,
	atom.H3: true, atom.H4: true, atom.H5: true, atom.H6: true, atom.Pre: true, atom.Hr: true, atom.Li: true,
}

var headings = map[atom.Atom]bool{atom.H1: true, atom.H2: true, atom.H3: true, atom.H4: true, atom.H5: true, atom.H6: true}

// elemFlag says what the tables above and elemTreatments say of an
// element, so that simpleFragment looks an element up once, not in each.
type elemFlag uint16

const (
	isSimple elemFlag = 1 << iota
	isVoid
	isFormatting
	isBlock
	isClosesP
	isHeading
	isDropped   // elemTreatments: elemDropped
	isNeedsAttr // elemTreatments: elemNeedsAttr
)

var elemFlags = func() map[atom.Atom]elemFlag {
	m := map[atom.Atom]elemFlag{}
	for _, t := range []struct {
		set  map[atom.Atom]bool
		flag elemFlag
	}{{simpleElems, isSimple}, {voidElems, isVoid}, {formatting, isFormatting}, {blocks, isBlock},
		{closesP, isClosesP}, {headings, isHeading}} {
		for a, ok := range t.set {
			if ok {
				m[a] |= t.flag
			}
		}
	}
	for a, t := range elemTreatments {
		switch t {
		case elemDropped:
			m[a] |= isDropped
		case elemNeedsAttr:
			m[a] |= isNeedsAttr
		}
	}
	return m
}()
