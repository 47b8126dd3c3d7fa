package parse

import (
	"math/rand/v2"
	"strings"
	"testing"
)

const simpleBase = "https://news.example/2026/01/story.html"

// bothHTML runs simpleHTML and treeHTML on s and fails when simpleHTML
// claims s yet differs from the tree in HTML, text or image.
func bothHTML(t *testing.T, s string) (handled bool) {
	t.Helper()
	s = clean(s)
	f, ok := simpleFragment(s, simpleBase, false)
	if !ok {
		return false
	}
	raw, text, image := f.raw, f.text, f.image
	traw, ttext, timage, err := treeHTML(s, simpleBase)
	if err != nil {
		t.Fatalf("simpleHTML accepted %q, which the parser refuses: %v", s, err)
	}
	if f.final { // the words as htmlFragment and plain keep them
		ttext = collapse(clean(ttext))
	}
	if raw != traw || text != ttext || image != timage {
		t.Fatalf("on %q\nsimple: %q %q %q\ntree:   %q %q %q", s, raw, text, image, traw, ttext, timage)
	}
	return true
}

func TestSimpleHTMLMatchesTree(t *testing.T) {
	tests := []struct {
		name    string
		html    string
		handled bool
	}{
		{"paragraphs, links and an image", `<p>Hello <a href="/rel?a=1&amp;b=2" title="x">rel</a> &amp; <img src="img/a.png" alt="a &quot;b&quot;"></p><p>two</p>`, true},
		{"unresolvable link kept for the sanitizer", `<p><a href="javascript:alert(1)">x</a><a href="mailto:a@b.example">m</a></p>`, true},
		{"self-closing void", `<p>a<br/>b<hr>c</p>`, false},
		{"void inside div", `<div>a<br/>b<hr/>c<wbr></div>`, true},
		{"unclosed elements", `<div><p><b>bold`, true},
		{"lists", `<ul><li>a<ul><li>b</li></ul></li><li>c</li></ul><ol><li>d</li></ol>`, true},
		{"end tag closing an open li", `<ol><li>d</ol>`, false},
		{"implicit li close", `<ul><li>a<li>b</ul>`, false},
		{"p closed by div", `<p>a<div>b</div></p>`, false},
		{"p closed by p", `<p>a<p>b`, false},
		{"nested a", `<a href="/a">x<a href="/b">y</a></a>`, false},
		{"nested headings", `<h1>a<h2>b</h2></h1>`, false},
		{"heading in b in heading", `<h1><b><h2>b</h2></b></h1>`, true},
		{"misnested formatting", `<b><i>x</b></i>`, false},
		{"stray end tag", `a</p>b`, false},
		{"end br", `a</br>b`, false},
		{"comment", `a<!-- c -->b`, false},
		{"script", `<p>a<script>alert(1)</script></p>`, false},
		{"table", `<table><tr><td>x</td></tr></table>`, false},
		{"unknown element", `<o:p>x</o:p>`, false},
		{"self-closing non-void", `<p/>x`, false},
		{"pre with leading newline", "<pre>\ncode</pre>", false},
		{"pre without leading newline", "<pre>code\n\nmore</pre>", true},
		{"entities and CRLF", "a &lt;b&gt; &#233; &bogus; \r\n c &#0;", true},
		{"attributes without values and duplicates", `<p hidden class=a class=b>x</p>`, true},
		{"formatting attributes sorted", `<a title="t" href="/x" class="b" class="a">x</a><b z=1 a=2>y</b>`, true},
		{"uppercase tags", `<P CLASS="x">A<BR>b</P>`, true},
		{"deep but fine", strings.Repeat("<div>", 100) + "x", true},
		{"deeper than the fast path goes", strings.Repeat("<div>", 300) + "x", false},
		{"text only", "just words", true},
		{"formatting across blocks", `<b><p>x</p></b><i><div>y</div></i>`, true},
		{"noah's ark", `<b><b><b><b>x</b></b></b></b>y`, true},
		{"figure", `<figure><img src="//cdn.example/a.jpg"><figcaption>c</figcaption></figure>`, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := bothHTML(t, tt.html); got != tt.handled {
				t.Errorf("simpleHTML handled = %v, want %v", got, tt.handled)
			}
		})
	}
}

// TestSimpleHTMLRandom compares both paths on random tag soup.
func TestSimpleHTMLRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	pieces := []string{
		"<p>", "</p>", "<div>", "</div>", "<b>", "</b>", "<i>", "</i>", "<a href=\"/x\">", "<a href='http://o.example/y'>", "</a>",
		"<ul>", "</ul>", "<ol>", "</ol>", "<li>", "</li>", "<h1>", "</h1>", "<h2>", "</h2>", "<br>", "<br/>", "<hr>",
		"<img src=\"i.png\">", "<img src=\"javascript:x\">", "<pre>", "</pre>", "\n", "<span class=x>", "</span>",
		"<blockquote>", "</blockquote>", "<em>", "</em>", "<strong>", "</strong>", "<section>", "</section>",
		"text", " ", "&amp;", "&lt;", "&#65;", "<", ">", "\"", "<!-- c -->", "<table>", "<td>", "<script>", "</script>",
		"<figure>", "</figure>", "<code>", "</code>", "<q>", "</q>",
	}
	handled := 0
	for range 20000 {
		var b strings.Builder
		for range r.IntN(14) {
			b.WriteString(pieces[r.IntN(len(pieces))])
		}
		if bothHTML(t, b.String()) {
			handled++
		}
	}
	if handled < 1000 {
		t.Errorf("simpleHTML handled only %d random fragments: the comparison tested little", handled)
	}
}

func FuzzSimpleHTML(f *testing.F) {
	f.Add(`<p>Hello <a href="/rel">rel</a> <img src="a.png"></p>`)
	f.Add("<ul><li>a</li></ul><pre>x\ny</pre>")
	f.Fuzz(func(t *testing.T, s string) {
		bothHTML(t, s)
	})
}

// BenchmarkHTMLFragmentPaths compares the tokenizer pass with the tree parse
// it replaces, on an article of the shape the ingest benchmark carries.
func BenchmarkHTMLFragmentPaths(b *testing.B) {
	var article strings.Builder
	for i := range 40 {
		article.WriteString(`<p>Words of an ordinary paragraph &amp; more words <a href="/story/` + strings.Repeat("x", i%7) +
			`">a link</a> and then the rest of the sentence.</p>`)
	}
	article.WriteString(`<p><img src="/img/1.jpg" alt="lead"></p>`)
	s := article.String()
	b.Run("simple", func(b *testing.B) {
		b.SetBytes(int64(len(s)))
		b.ReportAllocs()
		for b.Loop() {
			if _, _, _, ok := simpleHTML(s, simpleBase); !ok {
				b.Fatal("not simple")
			}
		}
	})
	b.Run("tree", func(b *testing.B) {
		b.SetBytes(int64(len(s)))
		b.ReportAllocs()
		for b.Loop() {
			if _, _, _, err := treeHTML(s, simpleBase); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("sanitize", func(b *testing.B) {
		raw, _, _, _ := simpleHTML(s, simpleBase)
		b.SetBytes(int64(len(s)))
		b.ReportAllocs()
		for b.Loop() {
			_ = sanitizer().Sanitize(raw)
		}
	})
}

// TestSanitizerKeepsText backs htmlFragment's shortcut: for input without
// '<', sanitizing simpleHTML's output changes nothing.
func TestSanitizerKeepsText(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	pieces := []string{"a", "word", " ", "\n", "\r\n", "\r", "\t", "&", "&amp;", "&lt;", "&gt;", "&quot;", "&#39;", "&#0;", "&#x1F600;",
		"&nbsp;", "&bogus;", "&amp", ">", "\"", "'", "é", "日本", "\u00a0", "=", "/", "]]>", "-->", "&#13;", "javascript:"}
	for i := range 20000 {
		var b strings.Builder
		for range r.IntN(12) {
			b.WriteString(pieces[r.IntN(len(pieces))])
		}
		s := clean(b.String())
		if i == 0 {
			s = `Tom & Jerry's "show" > 3 &amp; more`
		}
		raw, _, _, ok := simpleHTML(s, simpleBase)
		if !ok {
			t.Fatalf("simpleHTML refused text %q", s)
		}
		if got := sanitizer().Sanitize(raw); got != raw {
			t.Fatalf("on %q: Sanitize(%q) = %q", s, raw, got)
		}
	}
}
