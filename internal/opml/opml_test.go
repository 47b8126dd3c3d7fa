package opml_test

import (
	"bytes"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/newsdesk/newsdesk/internal/opml"
)

const sample = `<?xml version="1.0" encoding="UTF-8"?>
<opml version="2.0">
  <head><title>My feeds</title><outline text="not a feed: in head"/></head>
  <body>
    <outline text="World" title="World">
      <outline type="rss" text="BBC News" title="BBC News - World" xmlUrl="https://feeds.example.org/bbc/world.xml" htmlUrl="https://www.example.org/news/world"/>
      <outline text="Europe">
        <outline type="rss" text="Le Monde" xmlURL=" https://lemonde.example.fr/rss " language="fr"/>
      </outline>
    </outline>
    <outline type="rss" text="Top level" xmlurl="http://top.example.com/feed"/>
    <outline text="A note, not a feed"/>
    <outline text="Empty folder"></outline>
  </body>
</opml>
`

func TestRead(t *testing.T) {
	got, err := opml.Read(strings.NewReader(sample))
	if err != nil {
		t.Fatal(err)
	}
	type row struct {
		name, url string
		line, col int
		folders   string
	}
	var rows []row
	for _, o := range got {
		rows = append(rows, row{o.Name(), o.XMLURL, o.Line, o.Col, strings.Join(o.Folders, "/")})
	}
	want := []row{
		{"BBC News - World", "https://feeds.example.org/bbc/world.xml", 6, 7, "World"},
		{"Le Monde", "https://lemonde.example.fr/rss", 8, 9, "World/Europe"},
		{"Top level", "http://top.example.com/feed", 11, 5, ""},
		{"A note, not a feed", "", 12, 5, ""},
		{"Empty folder", "", 13, 5, ""},
	}
	if !slices.Equal(rows, want) {
		t.Errorf("Read =\n%v\nwant\n%v", rows, want)
	}
	if got[1].Language != "fr" || got[0].HTMLURL != "https://www.example.org/news/world" || got[0].Type != "rss" {
		t.Errorf("attributes: %+v %+v", got[0], got[1])
	}
}

func TestReadRefuses(t *testing.T) {
	deep := "<opml><body>" + strings.Repeat("<outline text='f'>", opml.MaxDepth+1) + strings.Repeat("</outline>", opml.MaxDepth+1) + "</body></opml>"
	for _, tc := range []struct {
		name, doc string
		line      int
		msg       string
	}{
		{"empty", "", 1, "empty"},
		{"not opml", "<?xml version='1.0'?>\n<rss version='2.0'><channel/></rss>", 2, "not an OPML list"},
		{"unclosed", "<opml>\n<body>\n<outline text='a'>\n</body></opml>", 4, "element <outline> closed by </body>"},
		{"bad attribute", "<opml><body>\n<outline text=a/></body></opml>", 2, "unquoted or missing attribute value"},
		{"unknown entity", "<opml><body><outline text='&bogus;'/></body></opml>", 1, "invalid character entity &bogus;"},
		{"encoding", "<?xml version='1.0' encoding='Shift_JIS'?><opml/>", 1, `encoded in "Shift_JIS"; save it as UTF-8`},
		{"too deep", deep, 1, "nest more than 64 deep"},
		{"truncated", "<opml><body><outline text='a'/>", 1, "unexpected EOF"},
		// encoding/xml refuses these with plain errors, not *xml.SyntaxError
		// (found by FuzzRead in CI's fuzz step).
		{"xml version", "<?xml version='0'?>", 1, `unsupported version "0"`},
		{"xml version later", "<opml>\n<body/><?xml version='2'?></opml>", 2, `unsupported version "2"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := opml.Read(strings.NewReader(tc.doc))
			se, ok := errors.AsType[*opml.SyntaxError](err)
			if !ok {
				t.Fatalf("Read = %v, want a *SyntaxError", err)
			}
			if se.Line != tc.line || !strings.Contains(se.Msg, tc.msg) {
				t.Errorf("error %q at line %d, want %q at line %d", se.Msg, se.Line, tc.msg, tc.line)
			}
		})
	}
}

// TestReadFailingReader: a reader that fails is the caller's error, not
// the document's, and comes back as it is.
func TestReadFailingReader(t *testing.T) {
	broken := errors.New("disk on fire")
	r := io.MultiReader(strings.NewReader("<opml><body>"), iotest.ErrReader(broken))
	if _, err := opml.Read(r); !errors.Is(err, broken) {
		t.Fatalf("Read = %v, want %v", err, broken)
	} else if _, ok := errors.AsType[*opml.SyntaxError](err); ok {
		t.Fatalf("Read = %T, a reader's failure is not a syntax error", err)
	}
}

func TestReadEncodings(t *testing.T) {
	latin1 := append([]byte("<?xml version='1.0' encoding='ISO-8859-1'?><opml><body><outline text='Caf"), 0xe9, '\'', '/', '>')
	latin1 = append(latin1, []byte("</body></opml>")...)
	got, err := opml.Read(bytes.NewReader(latin1))
	if err != nil || len(got) != 1 || got[0].Text != "Café" {
		t.Errorf("Latin-1: %v %+v", err, got)
	}
	got, err = opml.Read(strings.NewReader("<opml><body><outline text='a&nbsp;b &amp; c'/></body></opml>"))
	if err != nil || got[0].Text != "a\u00a0b & c" {
		t.Errorf("entities: %v %+v", err, got)
	}
}

// TestWriteRead: what Write writes, Read reads back.
func TestWriteRead(t *testing.T) {
	in := []opml.Outline{
		{Text: "Café & <News>", Title: `"Quoted"`, Type: "rss", XMLURL: "https://e.example/feed?a=1&b=2", HTMLURL: "https://e.example/", Language: "fr"},
		{Text: "Plain", Title: "Plain", XMLURL: "http://p.example/rss"},
	}
	var buf bytes.Buffer
	if err := opml.Write(&buf, opml.Document{Title: "t", Outlines: in}); err != nil {
		t.Fatal(err)
	}
	out, err := opml.Read(&buf)
	if err != nil {
		t.Fatal(err)
	}
	for i := range out {
		out[i].Line, out[i].Col = 0, 0
	}
	if !slices.EqualFunc(in, out, func(a, b opml.Outline) bool {
		return a.Text == b.Text && a.Title == b.Title && a.XMLURL == b.XMLURL && a.Type == b.Type && a.Language == b.Language && a.HTMLURL == b.HTMLURL
	}) {
		t.Errorf("round trip:\n%+v\n%+v", in, out)
	}
}
