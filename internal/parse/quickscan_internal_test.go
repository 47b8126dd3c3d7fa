package parse

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// scanBoth runs quickScan and rawScan on copies of one body and fails when
// quickScan claims the body yet disagrees with RawToken on anything.
func scanBoth(t *testing.T, body []byte) (handled bool) {
	t.Helper()
	quick := &document{body: body}
	handled, qerr := quick.quickScan()
	if !handled {
		if quick.kind != 0 || quick.entries != nil || &quick.body[0] != &body[0] {
			t.Fatalf("quickScan changed the document before giving up on %q", body)
		}
		return false
	}
	raw := &document{body: body}
	rerr := raw.rawScan()
	if (qerr == nil) != (rerr == nil) || (qerr != nil && qerr.Error() != rerr.Error()) {
		t.Fatalf("quickScan error %v, rawScan error %v, on %q", qerr, rerr, body)
	}
	if qerr == nil && (quick.kind != raw.kind || !reflect.DeepEqual(quick.entries, raw.entries) ||
		string(quick.body) != string(raw.body)) {
		t.Fatalf("quickScan %v %v, rawScan %v %v, on %q", quick.kind, quick.entries, raw.kind, raw.entries, body)
	}
	return true
}

func TestQuickScanMatchesRawToken(t *testing.T) {
	deep := strings.Repeat("<a>", maxDepth) + "<b/>" + strings.Repeat("</a>", maxDepth)
	tests := []struct {
		name    string
		body    string
		handled bool
	}{
		{"plain rss", `<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><item><title>a &amp; b &#233;</title></item></channel></rss>`, true},
		{"atom with types", `<feed xmlns="http://www.w3.org/2005/Atom"><entry><title type="HTML ">x</title><summary type='text'>y</summary></entry><entry><title>z</title></entry></feed>`, true},
		{"atom prefixed root", `<a:feed xmlns:a="http://www.w3.org/2005/Atom"><a:entry><a:title type="html">x</a:title><title type="html">no</title></a:entry></a:feed>`, true},
		{"rdf root", `<rdf:RDF xmlns:rdf="r"><item/></rdf:RDF>`, true},
		{"unknown root", `<opml><body/></opml>`, true},
		{"html root", "<!-- c --><HTML><body></body></HTML>", true},
		{"no root", "<!-- only a comment -->\n", true},
		{"empty root", `<rss/>`, true},
		{"depth at the limit", `<rss>` + deep[3*1:] + `</rss>`, true},
		{"too deep", `<rss>` + deep + `</rss>`, true},
		{"too deep self-closing", `<rss>` + strings.Repeat("<a>", maxDepth-1) + `<b/>`, true},
		{"cdata with markup", `<rss><channel><description><![CDATA[<p>a ]] > <b>x</b></p>]]></description></channel></rss>`, true},
		{"quoted > in attribute", `<rss a="x>y" b='<'><channel/></rss>`, false},
		{"quoted > only", `<rss a="x>y"><channel/></rss>`, true},
		{"file-like xml:base", `<feed xml:base="https://a.example/feeds/feed.xml"><entry xml:base='post/'><title>t</title></entry></feed>`, true},
		{"xml:base with entity", `<feed xml:base="https://a.example/feeds/feed.xml?a&amp;b"><entry/></feed>`, false},
		{"doctype", `<!DOCTYPE rss PUBLIC "-//Netscape" "x"><rss/>`, false},
		{"latin-1 declared", `<?xml version="1.0" encoding="ISO-8859-1"?><rss/>`, false},
		{"xml 1.1", `<?xml version="1.1"?><rss/>`, false},
		{"stylesheet pi", `<?xml version="1.0"?><?xml-stylesheet href="s.xsl" type="text/xsl"?><rss/>`, true},
		{"unquoted attribute", `<rss version=2.0><channel/></rss>`, false},
		{"attribute without value", `<rss hidden><channel/></rss>`, false},
		{"illegal char ref", `<rss><channel><title>&#1;</title></channel></rss>`, false},
		{"surrogate char ref", `<rss><channel><title>&#xD800;</title></channel></rss>`, true},
		{"huge char ref", `<rss><channel><title>&#99999999999;</title></channel></rss>`, true},
		{"unknown entity", `<rss><channel><title>&nbsp; &bogus &#x;</title></channel></rss>`, true},
		{"]]> in text", `<rss><channel><title>a]]>b</title></channel></rss>`, false},
		{"-- in comment", `<rss><!-- a -- b --><channel/></rss>`, false},
		{"truncated", `<rss><channel><title>abc</ti`, false},
		{"unclosed elements", `<rss><channel><item><title>abc`, true},
		{"entity at the end", `<rss></rss>&amp`, false},
		{"end tag with space", `<rss><channel></channel ></rss >`, true},
		{"garbage end tag", `<rss></rss x>`, false},
		{"non-ascii name", `<rss><chännel/></rss>`, false},
		{"invalid utf-8", "<rss><title>\xff</title></rss>", false},
		{"text before root", "junk text <rss/>", true},
		{"second root", `<rss/><feed/>`, true},
		{"no space between attributes", `<rss a="1"b="2"/>`, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := scanBoth(t, []byte(tt.body)); got != tt.handled {
				t.Errorf("quickScan handled = %v, want %v", got, tt.handled)
			}
		})
	}
}

// TestQuickScanMutations compares both scans on random edits of the test
// feeds: bytes dropped, duplicated and replaced by markup characters.
func TestQuickScanMutations(t *testing.T) {
	paths, _ := filepath.Glob(filepath.Join("testdata", "*.xml"))
	more, _ := filepath.Glob(filepath.Join("testdata", "*.rdf"))
	paths = append(paths, more...)
	r := rand.New(rand.NewPCG(3, 4))
	alphabet := []string{"<", ">", "/", "&", ";", "#", "x", "\"", "'", "=", " ", "-", "!", "?", "[", "]", ":", "a", "&#0;", "<!--", "-->", "<![CDATA[", "]]>", "<entry>", "</entry>", "<title type=\"html\">", "<summary type='text'>", "xml:base=\"a/b\""}
	handled := 0
	for _, p := range paths {
		body, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		for range 300 {
			b := []byte(string(body))
			for range 1 + r.IntN(3) {
				at := r.IntN(len(b))
				switch r.IntN(3) {
				case 0:
					b = append(b[:at], b[min(len(b), at+1+r.IntN(8)):]...)
				case 1:
					b = append(b[:at], append([]byte(alphabet[r.IntN(len(alphabet))]), b[at:]...)...)
				default:
					n := min(len(b)-at, r.IntN(40))
					b = append(b[:at+n], append([]byte(string(b[at:at+n])), b[at+n:]...)...)
				}
			}
			if len(b) > 0 && scanBoth(t, b) {
				handled++
			}
		}
	}
	if handled == 0 {
		t.Error("quickScan handled no mutated feed: the comparison tested nothing")
	}
}

func FuzzQuickScan(f *testing.F) {
	paths, _ := filepath.Glob(filepath.Join("testdata", "*"))
	for _, p := range paths {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		if len(body) > 0 {
			scanBoth(t, body)
		}
	})
}
