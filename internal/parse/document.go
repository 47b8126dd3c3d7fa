package parse

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/url"
	"regexp"
	"strings"

	"github.com/mmcdole/gofeed/atom"
	"github.com/mmcdole/gofeed/json"
	"github.com/mmcdole/gofeed/rss"
	"golang.org/x/net/html/charset"
)

// maxDepth bounds XML nesting. Real feeds are about 10 levels deep; gofeed
// spends about 1.4 KB per level and overflows its stack near 4 million.
const maxDepth = 64

type kind int

const (
	kindRSS kind = iota // RSS 0.9x, 1.0 (RDF) and 2.0
	kindAtom
	kindJSON
)

// document is one upstream body made safe for gofeed, with what the pre-scan
// learned about it and, after decode, gofeed's typed view of it.
type document struct {
	kind kind
	body []byte // UTF-8, or XML whose prolog names its encoding

	// entries holds what the scan learnt of each entry, in gofeed's order
	// (see entryTracker).
	entries []entryMeta

	rss  *rss.Feed
	atom *atom.Feed
	json *json.Feed

	warnings []string // what decode skipped as malformed (see Feed.Warnings)
}

func (doc *document) reader() io.Reader { return bytes.NewReader(doc.body) }

// prepare detects body's format, fixes its charset and checks its nesting
// depth, before any of it reaches gofeed.
func prepare(body []byte, contentType string) (*document, error) {
	if out, ok := fromWide(body); ok {
		body = out
	}
	start := bytes.TrimLeft(body, " \t\r\n")
	start = bytes.TrimPrefix(start, utf8BOM)
	start = bytes.TrimLeft(start, " \t\r\n")
	switch {
	case len(start) == 0:
		return nil, fmt.Errorf("%w (empty body)", ErrNotFeed)
	case start[0] == '{':
		// JSON Feed is UTF-8 by definition; only repair broken bytes.
		return &document{kind: kindJSON, body: repairUTF8(start)}, nil
	case looksLikeHTML(start):
		return nil, fmt.Errorf("%w (looks like an HTML page)", ErrNotFeed)
	case start[0] != '<':
		return nil, fmt.Errorf("%w (neither XML nor JSON)", ErrNotFeed)
	}
	doc := &document{body: dropControls(toUTF8(body, contentType))}
	if err := doc.scan(); err != nil {
		return nil, err
	}
	return doc, nil
}

// looksLikeHTML reports whether b starts like an HTML page, which is what
// many sites serve at a dead feed URL.
func looksLikeHTML(b []byte) bool {
	head := strings.ToLower(string(b[:min(len(b), 15)]))
	return strings.HasPrefix(head, "<!doctype html") || strings.HasPrefix(head, "<html")
}

// scan walks doc's raw XML tokens once: it rejects nesting deeper than
// maxDepth before gofeed's recursive parser sees it, names the format from
// the root element wherever the root is (gofeed's detector gives up after 4
// KiB), records Atom text types, and works around gofeed's xml:base bug.
func (doc *document) scan() error {
	if handled, err := doc.quickScan(); handled {
		return err
	}
	return doc.rawScan()
}

// rawScan is scan by encoding/xml's RawToken, for what quickScan leaves.
func (doc *document) rawScan() error {
	d := xml.NewDecoder(bytes.NewReader(doc.body))
	d.Strict = false
	d.CharsetReader = charset.NewReaderLabel
	var (
		depth   int
		root    string
		fixBase bool
		entries entryTracker
	)
	for {
		tok, err := d.RawToken()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			if root == "" {
				return fmt.Errorf("%w (%v)", ErrNotFeed, err)
			}
			return fmt.Errorf("read xml: %w", err)
		}
		switch t := tok.(type) {
		case xml.Directive:
			if declaresEntities(t) {
				return ErrEntities
			}
		case xml.StartElement:
			depth++
			if depth > maxDepth {
				return fmt.Errorf("%w (more than %d levels)", ErrTooDeep, maxDepth)
			}
			var base string
			hasBase := false
			for _, a := range t.Attr {
				if a.Name.Space == "xml" && a.Name.Local == "base" && !hasBase {
					base, hasBase = a.Value, true
					fixBase = fixBase || fileLikeBase(a.Value)
				}
			}
			if depth == 1 {
				root = strings.ToLower(t.Name.Local)
				switch root {
				case "rss", "rdf":
					entries.kind = kindRSS
				case "feed":
					entries.kind = kindAtom
				case "html":
					return fmt.Errorf("%w (looks like an HTML page)", ErrNotFeed)
				default:
					return fmt.Errorf("%w (root element <%s>)", ErrNotFeed, t.Name.Local)
				}
				entries.rootSpace = t.Name.Space
			}
			entries.start(depth, t.Name.Space, t.Name.Local, attr(t, "type"), base, hasBase)
		case xml.EndElement:
			depth = max(depth-1, 0) // RawToken does not match end tags
		}
	}
	if root == "" {
		return fmt.Errorf("%w (no root element)", ErrNotFeed)
	}
	doc.kind, doc.entries = entries.kind, entries.result()
	if fixBase {
		doc.body = xmlBaseAttr.ReplaceAllFunc(doc.body, dirBase)
	}
	return nil
}

// declaresEntities reports whether a <!…> directive declares an entity: an
// <!ENTITY> in a DOCTYPE's internal subset (or, malformed, on its own).
// gofeed would leave every reference to it as literal text ("&lol9;" for a
// billion-laughs title) and an external one must never be fetched, so such
// a document is refused whole. A DOCTYPE that only names an external DTD
// (RSS 0.91's) declares nothing here; the HTML entities that DTD implies
// are read as HTML's.
func declaresEntities(d xml.Directive) bool {
	return bytes.Contains(bytes.ToUpper(d), []byte("<!ENTITY")) || bytes.HasPrefix(bytes.ToUpper(d), []byte("ENTITY"))
}

func attr(t xml.StartElement, name string) string {
	for _, a := range t.Attr {
		if a.Name.Space == "" && a.Name.Local == name {
			return strings.ToLower(strings.TrimSpace(a.Value))
		}
	}
	return ""
}

// xmlBaseAttr matches an xml:base attribute and its quoted value.
var xmlBaseAttr = regexp.MustCompile(`xml:base\s*=\s*("[^"]*"|'[^']*')`)

// fileLikeBase reports whether gofeed v1.4.2 would mis-resolve against base:
// it appends "/" to a base path that lacks one, so "post" against
// ".../feeds/feed.xml" gives ".../feed.xml/post" (fixed upstream after 1.4.2).
func fileLikeBase(base string) bool {
	u, err := url.Parse(strings.TrimSpace(base))
	return err == nil && u.Path != "" && !strings.HasSuffix(u.Path, "/")
}

// dirBase rewrites one xml:base attribute to the directory of its value.
// Resolving a relative reference against that directory gives what RFC 3986
// gives against the file, so gofeed's appended "/" becomes harmless.
func dirBase(m []byte) []byte {
	sub := xmlBaseAttr.FindSubmatch(m)
	quoted := sub[1]
	value := string(quoted[1 : len(quoted)-1])
	if !fileLikeBase(value) {
		return m
	}
	u, _ := url.Parse(strings.TrimSpace(value))
	u.Path = u.Path[:strings.LastIndex(u.Path, "/")+1]
	u.RawPath, u.RawQuery, u.ForceQuery, u.Fragment, u.RawFragment = "", "", false, "", ""
	dir := u.String()
	if dir == "" {
		dir = "./"
	}
	q := string(quoted[0])
	return []byte("xml:base=" + q + strings.ReplaceAll(dir, q, "") + q)
}
