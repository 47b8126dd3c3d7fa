package parse

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"unicode"

	"github.com/newsdesk/newsdesk/internal/story"
)

// quickScan does scan's work with one pass over the bytes instead of
// encoding/xml's RawToken, which reads byte by byte through a bufio.Reader and
// copies every text run: on a feed carrying full articles that cost as much as
// a third of gofeed's own parse.
//
// It models RawToken exactly for the XML feeds are written in: UTF-8, quoted
// attributes, ASCII names, comments, CDATA and processing instructions. On
// anything else (a DOCTYPE, an unquoted attribute, a declared non-UTF-8
// encoding, a character reference RawToken would refuse, "]]>" in text,
// input ending inside a token, …) it reports handled=false having changed
// nothing, and scan runs RawToken from the start. Every error it returns is
// the one scan returns at the same token, since it has read exactly the
// tokens RawToken would have read without error before it.
func (doc *document) quickScan() (handled bool, err error) {
	b := doc.body
	if !story.IsClean(b) {
		return false, nil // RawToken refuses some of these; let it decide
	}
	s := quickScanner{b: b, lastLT: bytes.LastIndexByte(b, '<')}
	var (
		depth   int
		root    string
		fixBase bool
		entries entryTracker
	)
	for i := 0; i < len(b); {
		if b[i] != '<' {
			j, ok := s.text(i)
			if !ok {
				return false, nil
			}
			i = j
			continue
		}
		if i+1 >= len(b) {
			return false, nil
		}
		switch b[i+1] {
		case '/':
			_, _, j, ok := s.name(i + 2)
			if !ok {
				return false, nil
			}
			j = s.space(j)
			if j >= len(b) || b[j] != '>' {
				return false, nil
			}
			depth = max(depth-1, 0) // RawToken does not match end tags
			i = j + 1
		case '?':
			j, ok := s.procInst(i)
			if !ok {
				return false, nil
			}
			i = j
		case '!':
			j, ok := s.commentOrCDATA(i)
			if !ok {
				return false, nil
			}
			i = j
		default:
			t, ok := s.startTag(i)
			if !ok {
				return false, nil
			}
			i = t.end
			depth++
			if depth > maxDepth {
				return true, fmt.Errorf("%w (more than %d levels)", ErrTooDeep, maxDepth)
			}
			if t.fixBase {
				fixBase = true
			}
			if depth == 1 {
				root = strings.ToLower(string(t.local))
				switch root {
				case "rss", "rdf":
					entries.kind = kindRSS
				case "feed":
					entries.kind = kindAtom
				case "html":
					return true, fmt.Errorf("%w (looks like an HTML page)", ErrNotFeed)
				default:
					return true, fmt.Errorf("%w (root element <%s>)", ErrNotFeed, t.local)
				}
				entries.rootSpace = string(t.space)
			}
			entries.start(depth, string(t.space), string(t.local), t.typ, t.base, t.hasBase)
			if t.empty {
				depth = max(depth-1, 0) // RawToken's EndElement for <x/>
			}
		}
	}
	if root == "" {
		return true, fmt.Errorf("%w (no root element)", ErrNotFeed)
	}
	doc.kind, doc.entries = entries.kind, entries.result()
	if fixBase {
		doc.body = xmlBaseAttr.ReplaceAllFunc(doc.body, dirBase)
	}
	return true, nil
}

// quickScanner holds the document quickScan reads. Its methods take the
// offset of a token and return the offset just past it, with false when
// RawToken might read the token differently.
type quickScanner struct {
	b      []byte
	lastLT int // offset of the last '<': entities after it could run into EOF
}

// text skips character data starting at i.
func (s *quickScanner) text(i int) (int, bool) {
	b := s.b
	for j := i; j < len(b); j++ {
		switch b[j] {
		case '<':
			return j, true
		case '&':
			if j > s.lastLT || !legalCharRef(b[j:]) {
				return 0, false
			}
		case ']':
			if bytes.HasPrefix(b[j:], []byte("]]>")) {
				return 0, false // RawToken: unescaped ]]> not in CDATA section
			}
		}
	}
	return len(b), true
}

// legalCharRef reports whether RawToken accepts the entity or character
// reference at the start of b (b[0] is '&'). Outside non-strict mode's
// pass-through, only a well-formed numeric reference to a character XML
// forbids is an error; string(rune(n)) turns a surrogate into U+FFFD.
func legalCharRef(b []byte) bool {
	if len(b) < 2 || b[1] != '#' {
		return true
	}
	k, base := 2, 10
	if k < len(b) && b[k] == 'x' {
		k, base = k+1, 16
	}
	start := k
	for k < len(b) && (b[k] >= '0' && b[k] <= '9' || base == 16 && (b[k]|0x20 >= 'a' && b[k]|0x20 <= 'f')) {
		k++
	}
	if k >= len(b) || b[k] != ';' {
		return true
	}
	n, err := strconv.ParseUint(string(b[start:k]), base, 64)
	if err != nil || n > unicode.MaxRune {
		return true
	}
	r := rune(n)
	return story.XMLChar(r) || (r >= 0xD800 && r <= 0xDFFF)
}

// name reads an XML name at i as RawToken's nsname would split it, limited
// to ASCII names with at most one colon and none at either end.
func (s *quickScanner) name(i int) (space, local []byte, end int, ok bool) {
	b := s.b
	if i >= len(b) || !(b[i]|0x20 >= 'a' && b[i]|0x20 <= 'z' || b[i] == '_') {
		return nil, nil, 0, false
	}
	colon := -1
	j := i
	for ; j < len(b) && isNameByte(b[j]); j++ {
		if b[j] == ':' {
			if colon >= 0 {
				return nil, nil, 0, false
			}
			colon = j
		}
	}
	if j >= len(b) || b[j] >= 0x80 || colon == j-1 {
		return nil, nil, 0, false
	}
	if colon < 0 {
		return nil, b[i:j], j, true
	}
	return b[i:colon], b[colon+1 : j], j, true
}

func isNameByte(c byte) bool {
	return c|0x20 >= 'a' && c|0x20 <= 'z' || c >= '0' && c <= '9' || c == '_' || c == ':' || c == '.' || c == '-'
}

// space skips XML white space as RawToken does.
func (s *quickScanner) space(i int) int {
	for i < len(s.b) && (s.b[i] == ' ' || s.b[i] == '\t' || s.b[i] == '\r' || s.b[i] == '\n') {
		i++
	}
	return i
}

// procInst skips <?target …?>; the XML declaration must declare version
// 1.0 (or none) and UTF-8 (or nothing), as the body has been made UTF-8.
func (s *quickScanner) procInst(i int) (int, bool) {
	_, local, j, ok := s.name(i + 2)
	if !ok || bytes.ContainsRune(local, ':') {
		return 0, false
	}
	target := s.b[i+2 : j]
	end := bytes.Index(s.b[j:], []byte("?>"))
	if end < 0 {
		return 0, false
	}
	if string(target) == "xml" {
		content := string(s.b[s.space(j) : j+end])
		if ver := procInstParam("version", content); ver != "" && ver != "1.0" {
			return 0, false
		}
		if enc := procInstParam("encoding", content); enc != "" && !strings.EqualFold(enc, "utf-8") {
			return 0, false
		}
	}
	return j + end + 2, true
}

// procInstParam is encoding/xml's procInst: the value of param="…" in s.
func procInstParam(param, s string) string {
	param += "="
	lenp := len(param)
	i := 0
	var sep byte
	for i < len(s) {
		sub := s[i:]
		k := strings.Index(sub, param)
		if k < 0 || lenp+k >= len(sub) {
			return ""
		}
		i += lenp + k + 1
		if c := sub[lenp+k]; c == '\'' || c == '"' {
			sep = c
			break
		}
	}
	if sep == 0 {
		return ""
	}
	j := strings.IndexByte(s[i:], sep)
	if j < 0 {
		return ""
	}
	return s[i : i+j]
}

// commentOrCDATA skips <!--…--> or <![CDATA[…]]>; any other <! (a DOCTYPE
// with its internal subset) is left to RawToken.
func (s *quickScanner) commentOrCDATA(i int) (int, bool) {
	b := s.b[i:]
	switch {
	case bytes.HasPrefix(b, []byte("<!--")):
		k := bytes.Index(b[4:], []byte("--"))
		if k < 0 || 4+k+2 >= len(b) || b[4+k+2] != '>' {
			return 0, false // RawToken: "--" not allowed in comments
		}
		return i + 4 + k + 3, true
	case bytes.HasPrefix(b, []byte("<![CDATA[")):
		k := bytes.Index(b[9:], []byte("]]>"))
		if k < 0 {
			return 0, false
		}
		return i + 9 + k + 3, true
	}
	return 0, false
}

// startTag is what quickScan needs of one start tag.
type startTag struct {
	space, local []byte
	typ          string // type="…" lowercased and trimmed, as attr returns it
	base         string // xml:base="…", when hasBase
	hasBase      bool
	fixBase      bool // an xml:base gofeed would mis-resolve
	empty        bool // <x/>
	end          int
}

// startTag reads the start tag at i. Attribute values must be quoted; the
// two quickScan reads (xml:base and type) must hold no reference or CR,
// which RawToken would decode or rewrite.
func (s *quickScanner) startTag(i int) (startTag, bool) {
	b := s.b
	var t startTag
	var ok, haveType bool
	var j int
	if t.space, t.local, j, ok = s.name(i + 1); !ok {
		return t, false
	}
	for {
		j = s.space(j)
		if j >= len(b) {
			return t, false
		}
		if b[j] == '/' {
			if j+1 >= len(b) || b[j+1] != '>' {
				return t, false
			}
			t.empty, t.end = true, j+2
			return t, true
		}
		if b[j] == '>' {
			t.end = j + 1
			return t, true
		}
		space, local, k, ok := s.name(j)
		if !ok {
			return t, false
		}
		k = s.space(k)
		if k >= len(b) || b[k] != '=' {
			return t, false
		}
		k = s.space(k + 1)
		if k >= len(b) || (b[k] != '"' && b[k] != '\'') {
			return t, false
		}
		n := bytes.IndexByte(b[k+1:], b[k])
		if n < 0 {
			return t, false
		}
		val := b[k+1 : k+1+n]
		if !legalAttrValue(val) {
			return t, false
		}
		isBase := string(space) == "xml" && string(local) == "base"
		isType := space == nil && string(local) == "type" && !haveType
		if (isBase || isType) && bytes.ContainsAny(val, "&\r") {
			return t, false
		}
		if isBase {
			t.base, t.hasBase = string(val), true
			t.fixBase = fileLikeBase(t.base)
		}
		if isType {
			t.typ, haveType = strings.ToLower(strings.TrimSpace(string(val))), true
		}
		j = k + 1 + n + 1
	}
}

// legalAttrValue reports whether RawToken reads the quoted value v without
// error: no '<' and no reference to a forbidden character.
func legalAttrValue(v []byte) bool {
	if bytes.IndexByte(v, '<') >= 0 {
		return false
	}
	for {
		a := bytes.IndexByte(v, '&')
		if a < 0 {
			return true
		}
		if !legalCharRef(v[a:]) {
			return false
		}
		v = v[a+1:]
	}
}
