package parse_test

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestSanitize(t *testing.T) {
	s := byTitle(t, parseFile(t, "sanitize.rss.xml", ""), "Markup in the title & entities")
	html := s.Summary + s.Content
	for _, bad := range []string{"<script", "alert(", "onclick", "javascript:", "<iframe", "evil.example", "<style", "style=", "display:none", "data:image", `target="_blank"`} {
		if strings.Contains(html, bad) {
			t.Errorf("sanitized HTML still contains %q:\n%s", bad, html)
		}
	}
	for _, good := range []string{
		`<a href="https://feeds.example/desk/more.html" rel="nofollow noreferrer">more</a>`,
		`<img src="https://feeds.example/img/lead.jpg" alt="lead"/>`,
		`<a href="https://other.example/x" rel="nofollow noreferrer">an absolute link</a>`,
		`<a href="mailto:desk@news.example"`,
		`&amp;`,
	} {
		if !strings.Contains(html, good) {
			t.Errorf("sanitized HTML lacks %s:\n%s", good, html)
		}
	}
	if want := "Read more & this."; s.SummaryText != want {
		t.Errorf("SummaryText = %q, want %q", s.SummaryText, want)
	}
	if want := "Body with and an absolute link, mail and ."; s.ContentText != want {
		t.Errorf("ContentText = %q, want %q", s.ContentText, want)
	}
	if s.Image != "https://feeds.example/img/lead.jpg" {
		t.Errorf("Image = %q", s.Image)
	}
}

func TestTextAndHTMLTypes(t *testing.T) {
	atom := parseFile(t, "xmlbase.atom.xml", "")
	json := parseFile(t, "feed.json", "")
	tests := []struct {
		name string
		got  string
		want string
	}{
		{"atom text title kept literally", byTitle(t, atom, "Plain <not html> title").Title, "Plain <not html> title"},
		{"atom text summary escaped", byTitle(t, atom, "Plain <not html> title").Summary,
			"Summary with &lt;b&gt;literal&lt;/b&gt; brackets &amp; an ampersand."},
		{"atom text summary plain", byTitle(t, atom, "Plain <not html> title").SummaryText,
			"Summary with <b>literal</b> brackets & an ampersand."},
		{"atom text content escaped", byTitle(t, atom, "Plain <not html> title").Content,
			"Content that is plain &lt;not html&gt; text."},
		{"atom html title flattened", byTitle(t, atom, "HTML title & more").Title, "HTML title & more"},
		{"atom html summary sanitized, link absolute", byTitle(t, atom, "HTML title & more").Summary,
			`<p>HTML <b>summary</b> with <a href="https://atom.example/feeds/rel/link" rel="nofollow noreferrer">a relative link</a>.</p>`},
		{"atom html content image absolute", byTitle(t, atom, "HTML title & more").Content,
			`<p>Body <img src="https://atom.example/feeds/img/pic.png"/></p>`},
		{"atom xhtml content", byTitle(t, atom, "XHTML content, no summary").Content,
			`<p>An <strong>xhtml</strong> body that is long enough to need a derived summary.</p>`},
		{"summary derived from content", byTitle(t, atom, "XHTML content, no summary").SummaryText,
			"An xhtml body that is long enough to need a derived summary."},
		{"json content_text escaped", byTitle(t, json, "Text content").Content,
			"Plain &lt;not html&gt; &amp; text\nover two lines."},
		{"json content_text plain", byTitle(t, json, "Text content").ContentText,
			"Plain <not html> & text over two lines."},
		{"json content_html sanitized", byTitle(t, json, "HTML content").Content,
			`<p>Hello <a href="https://feeds.example/rel" rel="nofollow noreferrer">rel</a></p>`},
		{"json summary kept", byTitle(t, json, "HTML content").Summary, "A short summary."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Errorf("got  %q\nwant %q", tt.got, tt.want)
			}
		})
	}
}

func TestPlainText(t *testing.T) {
	tests := []struct {
		name, title, want string
	}{
		{"entities decoded once", `AT&amp;T &amp;amp; Co`, "AT&T & Co"},
		{"tags stripped", `&lt;b&gt;Bold&lt;/b&gt; move`, "Bold move"},
		{"cdata markup stripped", `<![CDATA[<i>Italic</i> news]]>`, "Italic news"},
		{"white space collapsed", "  Two\n\t  lines  ", "Two lines"},
		{"numeric entities", `Caf&#233; &#8220;quoted&#8221;`, "Café “quoted”"},
		{"xml-illegal characters dropped", "Bell&#x7;\u0008 ok", "Bell ok"},
		{"a lone less-than kept", `1 &lt; 2`, "1 < 2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := parseBytes(t, rssItems(`<item><title>`+tt.title+`</title><guid>g</guid></item>`), "")
			if got := f.Stories[0].Title; got != tt.want {
				t.Errorf("Title = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestDerivedSummaryIsShort(t *testing.T) {
	body := strings.Repeat("word ", 200)
	f := parseBytes(t, rssItems(`<item><title>Long</title><content:encoded>&lt;p&gt;`+body+`&lt;/p&gt;</content:encoded></item>`), "")
	s := f.Stories[0]
	if n := utf8.RuneCountInString(s.SummaryText); n > 301 || n < 250 || !strings.HasSuffix(s.SummaryText, "…") {
		t.Errorf("SummaryText has %d runes: %q", n, s.SummaryText)
	}
	if s.Summary != s.SummaryText {
		t.Errorf("Summary %q differs from SummaryText with nothing to escape", s.Summary)
	}
	if s.ContentText != strings.TrimSpace(body) {
		t.Errorf("ContentText truncated too")
	}
}

// TestBlockElementsSeparateWords: every block element the sanitizer keeps
// or unwraps is a word boundary in the plain text topics match (issue 7:
// "<header>Migrants</header>detained" read "Migrantsdetained").
func TestBlockElementsSeparateWords(t *testing.T) {
	for _, el := range []string{"header", "footer", "aside", "nav", "main", "address", "details", "summary",
		"dl", "hgroup", "figure", "section", "article", "blockquote"} {
		t.Run(el, func(t *testing.T) {
			content := "<![CDATA[<" + el + ">Migrants</" + el + ">detained <" + el + ">at</" + el + "><" + el + ">border</" + el + ">]]>"
			f := parseBytes(t, rssItems(`<item><title>t</title><guid>g</guid><description>`+content+`</description></item>`), "")
			if got, want := f.Stories[0].SummaryText, "Migrants detained at border"; got != want {
				t.Errorf("SummaryText = %q, want %q", got, want)
			}
		})
	}
}

func TestBase64Content(t *testing.T) {
	f := parseFile(t, "base64.atom.xml", "")
	tests := []struct {
		title, content, text string
	}{
		{"Octet-stream HTML", `<p>Decoded <b>HTML</b> body with a <a href="https://feeds.example/rel" rel="nofollow noreferrer">relative link</a>.</p>`,
			"Decoded HTML body with a relative link."},
		{"Custom type text", "Plain decoded text with &lt;angle&gt; brackets &amp; an ampersand.",
			"Plain decoded text with <angle> brackets & an ampersand."},
		{"Binary image", "", ""},
		{"Not Base64 after all", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.title, func(t *testing.T) {
			s := byTitle(t, f, tt.title)
			if s.Content != tt.content || s.ContentText != tt.text {
				t.Errorf("Content %q / %q, want %q / %q", s.Content, s.ContentText, tt.content, tt.text)
			}
		})
	}
	if s := byTitle(t, f, "Binary image"); s.SummaryText != "The summary stays." {
		t.Errorf("SummaryText = %q", s.SummaryText)
	}
}
