package render

import (
	"encoding/xml"
	"io"
	"strings"
)

// writeHead writes what precedes an XML document's root: the declaration
// and, when ch.Stylesheet is set, the xml-stylesheet processing instruction
// (W3C "Associating Style Sheets with XML documents") that lets a browser
// show the feed as a page. Readers and validators skip the instruction: the
// document is the same feed.
func writeHead(w io.Writer, ch Channel) error {
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	if ch.Stylesheet == "" {
		return nil
	}
	var href strings.Builder
	xml.EscapeText(&href, []byte(ch.Stylesheet)) // writes to a Builder do not fail
	_, err := io.WriteString(w, `<?xml-stylesheet type="text/xsl" href="`+href.String()+`"?>`+"\n")
	return err
}
