package parse

import (
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/microcosm-cc/bluemonday"
	"golang.org/x/net/html/atom"
)

// safeWriter writes, beside simpleHTML's output, what sanitizer() makes of
// that output, for the tags and attributes whose treatment by the policy it
// knows; on anything else it gives up (ok false) and htmlFragment runs the
// sanitizer as before. Sanitizing an article is a second tokenizer pass
// over it, and for the markup articles are made of the policy changes
// little: it drops a few elements and attributes, re-serializes URLs and
// adds rel to links. TestSafeMatchesSanitizer and FuzzSafe hold this to the
// sanitizer's own output.
//
// What it models is bluemonday's Policy.sanitize over simpleHTML's output
// (well-formed, lowercase tags of simpleElems, every attribute quoted and
// escaped as x/net/html renders it): text and kept tags are written as the
// tokenizer's Token.String writes them, which is how simpleHTML wrote them.
type safeWriter struct {
	b  strings.Builder
	ok bool
	// The start tag being written: the policy drops it whole, or the
	// attributes it kept, and whether one of them is an <a>'s href.
	drop bool
	kept int
	href bool
}

// elemTreatment is what the policy does with an element of simpleElems.
type elemTreatment uint8

const (
	elemKept      elemTreatment = iota // kept, whatever attributes it keeps
	elemDropped                        // its tags removed, its content kept
	elemNeedsAttr                      // kept only with an attribute the policy allows
)

// elemTreatments lists the simpleElems the policy does not keep as they
// are: UGCPolicy allows header, footer, nav, main and kbd nowhere, and
// a, bdo and img only with an attribute it allows.
var elemTreatments = map[atom.Atom]elemTreatment{
	atom.Header: elemDropped, atom.Footer: elemDropped, atom.Nav: elemDropped, atom.Main: elemDropped,
	atom.Kbd: elemDropped,
	atom.A:   elemNeedsAttr, atom.Bdo: elemNeedsAttr, atom.Img: elemNeedsAttr,
}

// start begins the start tag of a, unless the policy drops it.
func (w *safeWriter) start(a atom.Atom, fl elemFlag) {
	w.kept, w.href, w.drop = 0, false, fl&isDropped != 0
	if !w.drop {
		w.b.WriteByte('<')
		w.b.WriteString(a.String())
	}
}

// attr writes attribute key of element a with value val (unescaped) as the
// policy has it, or nothing when the policy drops it. Attributes the policy
// keeps only after a check this writer does not make (dir, lang, id, cite,
// datetime, …) end the fast path.
func (w *safeWriter) attr(a atom.Atom, key string, val []byte) {
	if !w.ok || w.drop {
		return
	}
	keep := false
	switch key {
	case "title": // allowed on every element, when it reads as a paragraph
		keep = paragraph(val)
	case "alt":
		keep = a == atom.Img && paragraph(val)
	case "width", "height":
		keep = a == atom.Img && bluemonday.NumberOrPercent.Match(val)
	case "dir", "lang", "id":
		w.ok = false // allowed on every element after a check not modelled here
		return
	default:
		// Allowed on some elements (blockquote, q, del, ins, time, lists,
		// img) after checks not modelled here; dropped on the others.
		if elemAttrs[a][key] {
			w.ok = false
			return
		}
	}
	// Any other attribute (class, style, target, rel, data-*, on*, …) is
	// one UGCPolicy allows on no element of simpleElems: dropped.
	if keep {
		w.kept++
		w.b.WriteByte(' ')
		w.b.WriteString(key)
		w.b.WriteString(`="`)
		escapeTo(&w.b, val)
		w.b.WriteByte('"')
	}
}

// urlAttr is attr for the attributes simpleHTML resolves (urlAttrs), with
// val as resolved: the policy keeps an <a>'s href and an <img>'s src if
// safeURL does, re-serialized.
func (w *safeWriter) urlAttr(a atom.Atom, key, val string) {
	if !w.ok || w.drop {
		return
	}
	if !(a == atom.A && key == "href" || a == atom.Img && key == "src") {
		w.attr(a, key, nil) // cite on a blockquote ends the fast path; the rest are dropped
		return
	}
	u, ok := safeURL(val)
	if !ok {
		w.ok = false // dropped, and then perhaps the element too: let the sanitizer say
		return
	}
	w.kept++
	w.href = w.href || a == atom.A
	w.b.WriteByte(' ')
	w.b.WriteString(key)
	w.b.WriteString(`="`)
	escapeStringTo(&w.b, u)
	w.b.WriteByte('"')
}

// plainURLAttr is urlAttr for a value safeURL keeps as it is: an http(s)
// URL plainOrigin read, origin + val.
func (w *safeWriter) plainURLAttr(a atom.Atom, key, origin string, val []byte) {
	if !w.ok || w.drop {
		return
	}
	if !(a == atom.A && key == "href" || a == atom.Img && key == "src") {
		w.attr(a, key, nil)
		return
	}
	w.kept++
	w.href = w.href || a == atom.A
	w.b.WriteByte(' ')
	w.b.WriteString(key)
	w.b.WriteString(`="`)
	escapeStringTo(&w.b, origin)
	escapeTo(&w.b, val)
	w.b.WriteByte('"')
}

// paragraph is bluemonday.Paragraph.Match, the policy's check of a title
// or alt, without the regular expression:
// ^[\p{L}\p{N}\s\-_',\[\]!\./\\\(\)]*$ (TestParagraphMatchesBluemonday).
func paragraph(b []byte) bool {
	for i := 0; i < len(b); {
		if c := b[i]; c < utf8.RuneSelf {
			if !paragraphASCII[c] {
				return false
			}
			i++
			continue
		}
		r, size := utf8.DecodeRune(b[i:])
		if !unicode.IsLetter(r) && !unicode.IsNumber(r) {
			return false // U+FFFD, which an invalid byte reads as, is neither
		}
		i += size
	}
	return true
}

// paragraphASCII are the ASCII characters paragraph allows: \s is RE2's
// (tab, newline, form feed, carriage return, space).
var paragraphASCII = func() (t [utf8.RuneSelf]bool) {
	for c := range utf8.RuneSelf {
		t[c] = letter(byte(c)) || digit(byte(c)) || strings.IndexByte("\t\n\f\r -_',[]!./\\()", byte(c)) >= 0
	}
	return t
}()

// elemAttrs are the attributes UGCPolicy allows on particular simpleElems
// that attr does not model.
var elemAttrs = map[atom.Atom]map[string]bool{ // see UGCPolicy
	atom.Blockquote: {"cite": true}, atom.Q: {"cite": true},
	atom.Del: {"cite": true, "datetime": true}, atom.Ins: {"cite": true, "datetime": true},
	atom.Time: {"datetime": true},
	atom.Ol:   {"type": true}, atom.Ul: {"type": true}, atom.Li: {"type": true, "value": true},
	atom.Img: {"align": true, "usemap": true},
}

// end ends the start tag begun by start: an element that needs an
// attribute and kept none would be dropped with its end tag, which this
// writer does not model.
func (w *safeWriter) end(a atom.Atom, fl elemFlag, void bool) {
	if !w.ok || w.drop {
		return
	}
	if fl&isNeedsAttr != 0 && w.kept == 0 {
		w.ok = false
		return
	}
	if w.href {
		// RequireNoFollowOnLinks (UGCPolicy) and RequireNoReferrerOnLinks
		// (ours): an <a> has no rel of its own, since the policy drops it.
		w.b.WriteString(` rel="nofollow noreferrer"`)
	}
	if void {
		w.b.WriteString("/>")
	} else {
		w.b.WriteByte('>')
	}
}

// close writes the end tag of a.
func (w *safeWriter) close(a atom.Atom, fl elemFlag) {
	if fl&isDropped == 0 {
		w.b.WriteString("</")
		w.b.WriteString(a.String())
		w.b.WriteByte('>')
	}
}

// safeURL is the policy's check of a URL attribute (bluemonday's validURL
// with RequireParseableURLs, relative URLs refused, http, https and mailto
// allowed): the value it writes, or false when it drops the attribute.
func safeURL(raw string) (string, bool) {
	v := strings.TrimSpace(raw)
	if strings.ContainsAny(v, " \t\n") {
		return "", false
	}
	u, err := url.Parse(v)
	if err != nil {
		return "", false
	}
	switch u.Scheme {
	case "http", "https", "mailto":
		return u.String(), true
	}
	return "", false
}
