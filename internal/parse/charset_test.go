package parse_test

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestCharsets(t *testing.T) {
	tests := []struct {
		name, file, contentType, title string
	}{
		{"latin-1 declared in the prolog", "latin1-declared.rss.xml", "", "Café crème à Paris"},
		{"latin-1 declared, http charset agrees (decoded once)", "latin1-declared.rss.xml", "application/rss+xml; charset=iso-8859-1", "Café crème à Paris"},
		{"latin-1 declared, http says utf-8 (prolog wins)", "latin1-declared.rss.xml", "text/xml; charset=utf-8", "Café crème à Paris"},
		{"latin-1 undeclared, http charset", "latin1-undeclared.rss.xml", "application/xml; charset=ISO-8859-1", "Café crème à Paris"},
		{"latin-1 undeclared, no charset: windows-1252 fallback", "latin1-undeclared.rss.xml", "", "Café crème à Paris"},
		{"windows-1252 undeclared: smart quotes and euro", "cp1252-undeclared.rss.xml", "text/xml", "“Café” costs 5€"},
		{"utf-8 under a wrong latin-1 header (decoded once)", "utf16.rss.xml", "text/xml; charset=iso-8859-1", "Café 東京"},
		{"utf-16be without bom, declared", "utf16be-nobom.rss.xml", "", "Café 東京 😀"},
		{"utf-16le without bom or declaration", "utf16le-nodecl.rss.xml", "", "Café 東京 😀"},
		{"utf-16 under an http charset saying utf-8", "utf16le-nodecl.rss.xml", "text/xml; charset=utf-8", "Café 東京 😀"},
		{"utf-32be with bom", "utf32be-bom.rss.xml", "", "Café 東京 😀"},
		{"utf-32le with bom (not read as utf-16le)", "utf32le-bom.rss.xml", "", "Café 東京 😀"},
		{"utf-32le without bom, declared", "utf32le-nobom.rss.xml", "", "Café 東京 😀"},
		{"declares utf-16, written in utf-8", "utf16-decl-utf8-bytes.rss.xml", "", "Café 東京 😀"},
		{"declares iso-8859-1, written in utf-8", "latin1-decl-utf8-bytes.rss.xml", "", "Café 東京 😀"},
		{"declares an unknown charset, written in utf-8", "bogus-charset.rss.xml", "", "Café 東京 😀"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := parseFile(t, tt.file, tt.contentType)
			if len(f.Stories) != 1 {
				t.Fatalf("got %d stories, want 1", len(f.Stories))
			}
			s := f.Stories[0]
			if s.Title != tt.title {
				t.Errorf("Title = %q, want %q", s.Title, tt.title)
			}
			all := s.Title + s.Summary + s.SummaryText + f.Title
			for _, bad := range []string{"Ã", "ÿþ", "þÿ", "\uFFFD", "\x00"} {
				if strings.Contains(all, bad) {
					t.Errorf("%q in %q", bad, all)
				}
			}
			if strings.Contains(s.SummaryText, "Ü") && s.SummaryText != "Ünïcödé “quotes” – 東京 😀" {
				t.Errorf("SummaryText = %q", s.SummaryText)
			}
		})
	}
}

func TestUTF8Repair(t *testing.T) {
	tests := []struct {
		name  string
		doc   []byte
		title string
	}{
		{"mostly utf-8 with one bad byte keeps the utf-8",
			rssItems("<item><title>Café \xff bar</title></item>"), "Café \uFFFD bar"},
		{"utf-8 declared but latin-1 bytes",
			[]byte("<?xml version=\"1.0\" encoding=\"utf-8\"?><rss version=\"2.0\"><channel><title>t</title><item><title>Caf\xe9</title></item></channel></rss>"), "Café"},
		{"utf-8 bom with a contradicting declaration",
			append([]byte("\xef\xbb\xbf"), `<?xml version="1.0" encoding="ISO-8859-1"?><rss version="2.0"><channel><title>t</title><item><title>Café</title></item></channel></rss>`...), "Café"},
		{"isolated bad bytes in utf-8 become U+FFFD, the rest is kept",
			rssItems("<item><title>Ünïcödé \xe9t\xe9 – “ok”</title></item>"), "Ünïcödé \uFFFDt\uFFFD – “ok”"},
		{"legacy text with one stray utf-8 sequence is read as windows-1252",
			[]byte("<rss version=\"2.0\"><channel><title>t \xc2\xa9</title><item><title>\xc9t\xe9 \xe0 l\x92h\xf4tel, d\xe9j\xe0 vu</title></item></channel></rss>"),
			"Été à l’hôtel, déjà vu"},
		{"json with latin-1 bytes",
			[]byte("{\"version\":\"https://jsonfeed.org/version/1.1\",\"title\":\"t\",\"items\":[{\"id\":\"1\",\"title\":\"Caf\xe9\"}]}"), "Café"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := parseBytes(t, tt.doc, "")
			if got := f.Stories[0].Title; got != tt.title || !utf8.ValidString(got) {
				t.Errorf("Title = %q, want %q", got, tt.title)
			}
		})
	}
}
