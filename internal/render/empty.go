package render

import (
	"encoding/xml"
	"strings"
)

// emptyElements writes elements that have attributes and no content as
// self-closing tags, for a struct field tagged ",innerxml". encoding/xml
// always writes an end tag (<link href="…"></link>), which is 6 to 18 bytes
// more for each of the several such elements an item has (links,
// categories, enclosure, thumbnail): about 30 bytes an RSS item and 80 an
// Atom entry. Values are escaped as encoding/xml escapes attributes.
type emptyElements struct{ b strings.Builder }

// add writes <name k="v" …/>, pairs giving attribute names and values; an
// attribute with an empty value is left out.
func (e *emptyElements) add(name string, pairs ...string) {
	e.b.WriteByte('<')
	e.b.WriteString(name)
	for i := 0; i+1 < len(pairs); i += 2 {
		if pairs[i+1] == "" {
			continue
		}
		e.b.WriteByte(' ')
		e.b.WriteString(pairs[i])
		e.b.WriteString(`="`)
		xml.EscapeText(&e.b, []byte(pairs[i+1])) // writes to a Builder: no error
		e.b.WriteByte('"')
	}
	e.b.WriteString("/>")
}

// link writes an Atom link.
func (e *emptyElements) link(href, rel, typ, length string) {
	e.add("link", "href", href, "rel", rel, "type", typ, "length", length)
}

func (e *emptyElements) String() string { return e.b.String() }

// thumbnail is the media:thumbnail of a lead image, "" for none.
func thumbnail(image string) string {
	if image == "" {
		return ""
	}
	var e emptyElements
	e.add("media:thumbnail", "url", image)
	return e.String()
}
