package opml_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/newsdesk/newsdesk/internal/opml"
)

// FuzzRead: any bytes are read or refused, never a panic; every outline
// read has a position inside the document, and writing what was read and
// reading it again gives the same subscriptions.
func FuzzRead(f *testing.F) {
	f.Add([]byte(sample))
	f.Add([]byte("<opml><body><outline text='a'><outline xmlUrl='http://x/'/></outline></body></opml>"))
	f.Add([]byte("<?xml version='1.0' encoding='ISO-8859-1'?><opml><body><outline text='\xe9'/></body></opml>"))
	f.Fuzz(func(t *testing.T, doc []byte) {
		outlines, err := opml.Read(bytes.NewReader(doc))
		if err != nil {
			if _, ok := errors.AsType[*opml.SyntaxError](err); !ok {
				t.Fatalf("error of type %T: %v", err, err)
			}
			return
		}
		lines := bytes.Count(doc, []byte("\n")) + 1
		for _, o := range outlines {
			if o.Line < 1 || o.Line > lines || o.Col < 1 {
				t.Fatalf("outline at %d:%d in a %d-line document", o.Line, o.Col, lines)
			}
		}
		var buf bytes.Buffer
		if err := opml.Write(&buf, opml.Document{Outlines: outlines}); err != nil {
			t.Fatalf("write what was read: %v", err)
		}
		again, err := opml.Read(&buf)
		if err != nil {
			t.Fatalf("read what was written: %v\n%s", err, buf.Bytes())
		}
		if len(again) != len(outlines) {
			t.Fatalf("%d outlines, %d after a round trip", len(outlines), len(again))
		}
		for i := range again {
			a, b := outlines[i], again[i]
			if a.XMLURL != b.XMLURL || a.Text != b.Text || a.Title != b.Title {
				t.Fatalf("outline %d: %+v, after a round trip %+v", i, a, b)
			}
		}
	})
}
