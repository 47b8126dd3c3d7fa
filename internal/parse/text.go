package parse

import (
	"html"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/microcosm-cc/bluemonday"
	xhtml "golang.org/x/net/html"
	"golang.org/x/net/html/atom"

	"github.com/newsdesk/newsdesk/internal/story"
)

// summaryRunes is the length of a summary derived from content.
const summaryRunes = 300

// sanitizer is the one policy for upstream HTML, built on first use and never
// changed afterwards (bluemonday policies are safe for concurrent use only
// once built). Relative URLs are refused because sanitizeHTML has already
// made every resolvable one absolute.
var sanitizer = sync.OnceValue(func() *bluemonday.Policy {
	p := bluemonday.UGCPolicy()
	p.RequireNoReferrerOnLinks(true)
	p.AllowURLSchemes("http", "https", "mailto")
	p.RequireParseableURLs(true)
	p.AllowRelativeURLs(false)
	return p
})

// fragment is one upstream text field as newsdesk stores it.
type fragment struct {
	html  string // sanitized HTML, URLs absolute
	text  string // plain text: no tags, entities decoded, whitespace collapsed
	image string // absolute URL of the first <img>, "" if none
}

// textFragment treats s as plain text: it is escaped, never interpreted
// (Atom type="text", JSON content_text).
func textFragment(s string) fragment {
	s = strings.TrimSpace(clean(s))
	return fragment{html: html.EscapeString(s), text: collapse(s)}
}

// htmlFragment sanitizes s as HTML after resolving its links and image
// sources against base (bluemonday cannot resolve, only drop, relative URLs).
func htmlFragment(s, base string) fragment {
	return htmlFragmentAt(s, base, newResolver(base), nil)
}

// htmlFragmentAt is htmlFragment with base parsed as links, scanning with z
// (see simpleFragmentWith).
func htmlFragmentAt(s, base string, links resolver, z *tagScanner) fragment {
	s = clean(s)
	if strings.TrimSpace(s) == "" {
		return fragment{}
	}
	f, ok := simpleFragmentWith(s, links, true, z)
	sanitized := ok && !f.unsafe
	if ok && f.unsafe {
		f, ok = simpleFragmentWith(s, links, false, z) // markup the fast path does not model: the sanitizer's turn
	}
	if !ok {
		var err error
		f = simple{}
		if f.raw, f.text, f.image, err = treeHTML(s, base); err != nil {
			// x/net/html refuses pathological nesting; keep the words only.
			t := collapse(html.UnescapeString(stripTags(s)))
			return fragment{html: html.EscapeString(t), text: t}
		}
	}
	if !sanitized {
		f.safe = sanitizer().Sanitize(f.raw)
	}
	safe, text := strings.TrimSpace(f.safe), f.text
	if !sanitized || !f.final {
		// Clean already what tagScanner read and safeWriter wrote: the
		// scanner decodes no character clean would drop.
		safe, text = clean(safe), collapse(clean(text))
	}
	return fragment{html: safe, text: text, image: f.image}
}

// treeHTML parses s into a tree, resolves its URLs against base and renders
// it back, returning that HTML, its text and its first image.
func treeHTML(s, base string) (raw, text, image string, err error) {
	nodes, err := xhtml.ParseFragment(strings.NewReader(s), bodyContext())
	if err != nil {
		return "", "", "", err
	}
	var out, words strings.Builder
	for _, n := range nodes {
		walk(n, base, &words, &image)
		if err := xhtml.Render(&out, n); err != nil {
			continue // only writer errors, which strings.Builder never returns
		}
	}
	return out.String(), words.String(), image, nil
}

func bodyContext() *xhtml.Node {
	return &xhtml.Node{Type: xhtml.ElementNode, Data: "body", DataAtom: atom.Body}
}

// urlAttrs are the attributes, by element-agnostic name, that hold a URL the
// sanitizer may keep.
var urlAttrs = map[string]bool{"href": true, "src": true, "cite": true, "poster": true, "longdesc": true}

// hidden elements contribute no text: the sanitizer removes them entirely.
var hidden = map[atom.Atom]bool{
	atom.Script: true, atom.Style: true, atom.Noscript: true, atom.Template: true, atom.Iframe: true,
	atom.Object: true, atom.Embed: true, atom.Svg: true, atom.Math: true, atom.Head: true, atom.Title: true,
}

// blocks separate words: "<p>a</p><p>b</p>" reads "a b", not "ab". Every
// block element the sanitizer keeps or unwraps is here (header, footer and
// nav are unwrapped: their words stay, and must not glue to the next ones).
var blocks = map[atom.Atom]bool{
	atom.P: true, atom.Div: true, atom.Br: true, atom.Li: true, atom.Tr: true, atom.Td: true, atom.Th: true,
	atom.H1: true, atom.H2: true, atom.H3: true, atom.H4: true, atom.H5: true, atom.H6: true,
	atom.Blockquote: true, atom.Pre: true, atom.Section: true, atom.Article: true, atom.Figure: true,
	atom.Figcaption: true, atom.Table: true, atom.Ul: true, atom.Ol: true, atom.Hr: true, atom.Dd: true, atom.Dt: true,
	atom.Header: true, atom.Footer: true, atom.Aside: true, atom.Nav: true, atom.Main: true, atom.Address: true,
	atom.Details: true, atom.Summary: true, atom.Dl: true, atom.Hgroup: true, atom.Caption: true,
	atom.Thead: true, atom.Tbody: true, atom.Tfoot: true,
}

// walk makes n's URLs absolute, appends its text to text and notes the first
// image.
func walk(n *xhtml.Node, base string, text *strings.Builder, image *string) {
	switch n.Type {
	case xhtml.TextNode:
		text.WriteString(n.Data)
		return
	case xhtml.ElementNode:
		if hidden[n.DataAtom] {
			return
		}
		for i, a := range n.Attr {
			if a.Namespace != "" || !urlAttrs[a.Key] {
				continue
			}
			abs := absURL(a.Val, base, a.Key == "href")
			if abs != "" {
				n.Attr[i].Val = abs
			}
			if n.DataAtom == atom.Img && a.Key == "src" && *image == "" {
				*image = abs
			}
		}
		if blocks[n.DataAtom] {
			text.WriteByte(' ')
			defer text.WriteByte(' ')
		}
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		walk(c, base, text, image)
	}
}

// plain returns s, which may hold markup and entities (RSS and Atom
// type="html" titles, author names), as plain text.
func plain(s string) string {
	s = clean(s)
	if !strings.ContainsAny(s, "<&") {
		return collapse(s)
	}
	if f, ok := simpleFragment(s, "", false); ok {
		if f.final {
			return f.text
		}
		return collapse(clean(f.text))
	}
	_, text, _, err := treeHTML(s, "")
	if err != nil {
		return collapse(html.UnescapeString(stripTags(s)))
	}
	return collapse(clean(text))
}

// stripTags drops everything between '<' and '>'; only for input the HTML
// parser refused.
func stripTags(s string) string {
	var b strings.Builder
	in := false
	for _, r := range s {
		switch {
		case r == '<':
			in = true
		case r == '>' && in:
			in = false
			b.WriteByte(' ')
		case !in:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// collapse trims s and folds every run of white space (unicode.IsSpace, as
// strings.Fields splits) into one space. Text already collapsed comes back
// as is; otherwise it is built in one pass with one allocation.
func collapse(s string) string {
	if isCollapsed(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	start := -1 // start of the current word, -1 between words
	for i := 0; i < len(s); {
		size, space := 1, false
		if c := s[i]; c < utf8.RuneSelf {
			space = asciiSpace[c]
		} else {
			var r rune
			r, size = utf8.DecodeRuneInString(s[i:])
			space = unicode.IsSpace(r)
		}
		switch {
		case space && start >= 0:
			if b.Len() > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(s[start:i])
			start = -1
		case !space && start < 0:
			start = i
		}
		i += size
	}
	if start >= 0 {
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(s[start:])
	}
	return b.String()
}

// collapseTo appends d to b folding white space as collapse does, as the
// next part of one text whose earlier parts b holds: gap says the text
// so far ends in white space, and the result says whether it does after d.
// Nothing is written for white space until a word follows it, and none
// before the first word.
func collapseTo(b *strings.Builder, d []byte, gap bool) bool {
	for i := 0; i < len(d); {
		if c := d[i]; !wordByte[c] {
			size, space := 1, true // an ASCII byte that is not a word byte is white space
			if c >= utf8.RuneSelf {
				var r rune
				r, size = utf8.DecodeRune(d[i:])
				space = unicode.IsSpace(r)
			}
			if space {
				gap = true
				i += size
				continue
			}
		}
		// A word begins at i: copy it, and the words after it that single
		// spaces separate, in one piece.
		if gap && b.Len() > 0 {
			b.WriteByte(' ')
		}
		gap = false
		j := i
		for j < len(d) {
			c := d[j]
			if wordByte[c] {
				j++
				continue
			}
			if c == ' ' && j+1 < len(d) && wordByte[d[j+1]] {
				j += 2
				continue
			}
			if c >= utf8.RuneSelf {
				if r, size := utf8.DecodeRune(d[j:]); !unicode.IsSpace(r) {
					j += size
					continue
				}
			}
			break
		}
		b.Write(d[i:j])
		i = j
	}
	return gap
}

// wordByte are the ASCII bytes that are not white space.
var wordByte = func() (t [256]bool) {
	for c := range utf8.RuneSelf {
		t[c] = !asciiSpace[c]
	}
	return t
}()

// isCollapsed reports whether collapse would return s unchanged: its only
// white space is single ASCII spaces between words.
func isCollapsed(s string) bool {
	prevSpace := true // no leading space either
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if asciiSpace[c] && (prevSpace || c != ' ') {
				return false
			}
			prevSpace = asciiSpace[c]
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if unicode.IsSpace(r) {
			return false
		}
		prevSpace = false
		i += size
	}
	return !prevSpace || s == ""
}

var asciiSpace = [utf8.RuneSelf]bool{'\t': true, '\n': true, '\v': true, '\f': true, '\r': true, ' ': true}

// truncate shortens text to about n runes, at a word boundary.
func truncate(text string, n int) string {
	if utf8.RuneCountInString(text) <= n {
		return text
	}
	cut := 0
	for i := range text {
		if n == 0 {
			cut = i
			break
		}
		n--
	}
	if sp := strings.LastIndexByte(text[:cut], ' '); sp > cut/2 {
		cut = sp
	}
	return strings.TrimRight(text[:cut], " ,;:") + "…"
}

// clean is story.Clean: every text field leaves parse valid UTF-8 holding
// only characters XML 1.0 allows.
func clean(s string) string { return story.Clean(s) }
