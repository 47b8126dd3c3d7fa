// Package opml reads and writes OPML subscription lists (OPML 2.0,
// opml.org/spec2.opml; 1.0 reads the same): the file feed readers export
// and import.
//
// Read returns every outline that is not a folder, with the line and column
// of its tag and the folders around it, and leaves judging them (a missing
// xmlUrl, a URL of the wrong scheme, a duplicate) to the caller. Write
// produces the list newsdesk publishes at /topics.opml.
package opml

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Outline is one subscription (or any outline with no children) of a list.
type Outline struct {
	Text, Title, Type     string
	XMLURL, HTMLURL       string
	Description, Language string
	Line, Col             int      // where its <outline> tag starts, 1-based
	Folders               []string // the text of the outlines it sits in, outermost first
}

// Name is the outline's title, else its text: what a reader shows.
func (o Outline) Name() string {
	if t := strings.TrimSpace(o.Title); t != "" {
		return t
	}
	return strings.TrimSpace(o.Text)
}

// SyntaxError is a document that is not OPML: malformed XML, another root,
// an unsupported encoding, nesting beyond MaxDepth.
type SyntaxError struct {
	Line, Col int // 1-based; where the decoder stopped
	Msg       string
}

func (e *SyntaxError) Error() string { return fmt.Sprintf("%d:%d: %s", e.Line, e.Col, e.Msg) }

// MaxDepth bounds how deep outlines may nest: folders in folders are a
// handful deep in every reader's export; a document nested thousands deep
// is an attack or an accident.
const MaxDepth = 64

// Read returns the outlines of the OPML document r that have no children,
// in document order. Outlines with children are folders: their text names
// the folder of the outlines inside. Errors are *SyntaxError, except when r
// fails.
func Read(r io.Reader) ([]Outline, error) {
	src := &readErr{r: r}
	d := xml.NewDecoder(src)
	d.CharsetReader = charsetReader
	// Entities beyond XML's five are not defined in OPML; HTML's (&nbsp;)
	// appear in hand-written files and are read as their characters.
	d.Entity = xml.HTMLEntity
	type open struct {
		o        Outline
		children bool
	}
	var (
		stack           []open // the outlines open now
		sawRoot, inBody bool
		out             []Outline
	)
	fail := func(line, col int, format string, args ...any) error {
		return &SyntaxError{Line: line, Col: col, Msg: fmt.Sprintf(format, args...)}
	}
	for {
		line, col := d.InputPos()
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			if se, ok := errors.AsType[*xml.SyntaxError](err); ok {
				l, c := d.InputPos()
				if se.Line > 0 {
					l = se.Line
				}
				return nil, fail(l, c, "%s", se.Msg)
			}
			if src.err != nil && errors.Is(err, src.err) {
				return nil, err // r failed, not the document
			}
			// Anything else the decoder refuses is the document's fault too:
			// an unknown charset, an XML declaration of another version.
			return nil, fail(line, col, "%s", strings.TrimPrefix(err.Error(), "xml: "))
		}
		switch t := tok.(type) {
		case xml.StartElement:
			switch {
			case !sawRoot:
				if t.Name.Local != "opml" {
					return nil, fail(line, col, "the document is <%s>, not an OPML list (<opml>)", t.Name.Local)
				}
				sawRoot = true
			case len(stack) == 0 && !inBody && t.Name.Local == "body":
				inBody = true
			case inBody && t.Name.Local == "outline":
				if len(stack) == MaxDepth {
					return nil, fail(line, col, "outlines nest more than %d deep", MaxDepth)
				}
				if len(stack) > 0 {
					stack[len(stack)-1].children = true
				}
				o := Outline{Line: line, Col: col}
				for _, a := range t.Attr {
					// Attribute names are case-sensitive in XML, but
					// exporters disagree (xmlUrl, xmlURL, xmlurl).
					switch strings.ToLower(a.Name.Local) {
					case "text":
						o.Text = a.Value
					case "title":
						o.Title = a.Value
					case "type":
						o.Type = a.Value
					case "xmlurl":
						o.XMLURL = strings.TrimSpace(a.Value)
					case "htmlurl":
						o.HTMLURL = strings.TrimSpace(a.Value)
					case "description":
						o.Description = a.Value
					case "language":
						o.Language = a.Value
					}
				}
				for _, f := range stack {
					o.Folders = append(o.Folders, f.o.Name())
				}
				stack = append(stack, open{o: o})
			default:
				if err := d.Skip(); err != nil { // an element OPML does not define (head, or an extension)
					l, c := d.InputPos()
					return nil, fail(l, c, "%v", err)
				}
			}
		case xml.EndElement:
			switch {
			case len(stack) > 0:
				top := stack[len(stack)-1]
				stack = stack[:len(stack)-1]
				if !top.children {
					out = append(out, top.o)
				}
			case inBody && t.Name.Local == "body":
				inBody = false
			}
		}
	}
	if !sawRoot {
		return nil, fail(1, 1, "the document is empty: no <opml> element")
	}
	return out, nil
}

// charsetError is an encoding the reader does not decode.
type charsetError struct{ name string }

func (e *charsetError) Error() string {
	return fmt.Sprintf("the document is encoded in %q; save it as UTF-8", e.name)
}

// charsetReader decodes the encodings OPML files come in besides UTF-8:
// US-ASCII (a subset) and ISO-8859-1, which old exporters declare.
func charsetReader(label string, r io.Reader) (io.Reader, error) {
	switch strings.ToLower(strings.TrimSpace(label)) {
	case "utf-8", "utf8", "us-ascii", "ascii":
		return r, nil
	case "iso-8859-1", "iso8859-1", "latin1", "latin-1", "l1":
		b, err := io.ReadAll(r)
		if err != nil {
			return nil, err
		}
		var u bytes.Buffer
		u.Grow(len(b) + len(b)/8)
		for _, c := range b {
			u.WriteRune(rune(c)) // Latin-1 is the first 256 code points
		}
		return &u, nil
	}
	return nil, &charsetError{name: label}
}

// Document is a list to write.
type Document struct {
	Title, OwnerID string
	Outlines       []Outline // written flat, in order; Line, Col and Folders are ignored
}

// Write writes doc as an OPML 2.0 document. Every outline is written with
// its text and title (the spec requires text) and version="RSS2" when its
// type is rss.
func Write(w io.Writer, doc Document) error {
	type outline struct {
		Text        string `xml:"text,attr"`
		Title       string `xml:"title,attr"`
		Type        string `xml:"type,attr,omitempty"`
		Version     string `xml:"version,attr,omitempty"`
		XMLURL      string `xml:"xmlUrl,attr,omitempty"`
		HTMLURL     string `xml:"htmlUrl,attr,omitempty"`
		Description string `xml:"description,attr,omitempty"`
		Language    string `xml:"language,attr,omitempty"`
	}
	type opml struct {
		XMLName xml.Name  `xml:"opml"`
		Version string    `xml:"version,attr"`
		Title   string    `xml:"head>title"`
		Owner   string    `xml:"head>ownerId,omitempty"`
		Docs    string    `xml:"head>docs"`
		Body    []outline `xml:"body>outline"`
	}
	out := opml{Version: "2.0", Title: doc.Title, Owner: doc.OwnerID, Docs: "https://opml.org/spec2.opml"}
	for _, o := range doc.Outlines {
		ol := outline{Text: o.Text, Title: o.Title, Type: o.Type, XMLURL: o.XMLURL, HTMLURL: o.HTMLURL,
			Description: o.Description, Language: o.Language}
		if o.Type == "rss" {
			ol.Version = "RSS2"
		}
		out.Body = append(out.Body, ol)
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(out); err != nil {
		return fmt.Errorf("write opml: %w", err)
	}
	_, err := io.WriteString(w, "\n")
	return err
}

// readErr remembers the error its reader returned, so Read can tell a
// failing reader from a document the decoder refuses.
type readErr struct {
	r   io.Reader
	err error
}

func (e *readErr) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	if err != nil && !errors.Is(err, io.EOF) {
		e.err = err
	}
	return n, err
}
