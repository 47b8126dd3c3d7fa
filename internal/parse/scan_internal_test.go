package parse

import (
	"math/rand/v2"
	"net/url"
	"strings"
	"testing"

	"github.com/microcosm-cc/bluemonday"
	xhtml "golang.org/x/net/html"

	"github.com/newsdesk/newsdesk/internal/story"
)

// bothScans runs simpleFragment's token loop on s with tagScanner and with
// x/net/html's Tokenizer, sanitizing and not, and fails when the scanner
// reads s yet the two differ in any output; false when the scanner leaves
// s to the Tokenizer.
func bothScans(t *testing.T, s string) (scanned bool) {
	t.Helper()
	s = clean(s)
	links := newResolver(simpleBase)
	for _, sanitize := range []bool{false, true} {
		var z tagScanner
		z.reset(s)
		f, ok, err := simpleTokens(&z, len(s), links, sanitize, true)
		if err == errUnscanned {
			return false
		}
		g, gok, _ := simpleTokens(xhtml.NewTokenizer(strings.NewReader(s)), len(s), links, sanitize, false)
		if ok != gok {
			t.Fatalf("on %q (sanitize %v): scanner ok %v, Tokenizer ok %v", s, sanitize, ok, gok)
		}
		if !ok {
			continue
		}
		if f.unsafe != g.unsafe {
			t.Fatalf("on %q: unsafe %v, Tokenizer %v", s, f.unsafe, g.unsafe)
		}
		if f.unsafe {
			continue
		}
		if sanitize && !story.IsClean(f.safe) {
			t.Fatalf("on %q: the scanner's sanitized HTML %q is not clean, which htmlFragment takes it to be", s, f.safe)
		}
		if !f.final || g.final {
			t.Fatalf("on %q: final %v %v", s, f.final, g.final)
		}
		if want := collapse(clean(g.text)); f.raw != g.raw || f.safe != g.safe || f.unsafe != g.unsafe || f.image != g.image || f.text != want {
			t.Fatalf("on %q (sanitize %v)\nscanner:   %q %q %v %q %q\ntokenizer: %q %q %v %q %q",
				s, sanitize, f.raw, f.safe, f.unsafe, f.image, f.text, g.raw, g.safe, g.unsafe, g.image, want)
		}
	}
	return true
}

func TestScannerMatchesTokenizer(t *testing.T) {
	tests := []struct {
		name, html string
		scanned    bool
	}{
		{"article", `<p>Words <a href="/story/1">a link</a> more.</p><p><img src="/img/1.jpg" alt="the lead"></p>`, true},
		{"text only", "just words", true},
		{"entities", `a &amp; b &lt;c&gt; &quot;d&quot; &#39;e&#39; &#x263A; &#233; &nbsp;f&mdash;g &hellip;`, true},
		{"bare ampersands", `Tom & Jerry, AT&T, a&b; &#; &#x; & `, true},
		{"legacy reference without ';'", `&amp &copy2024`, false},
		{"unknown named reference", `&bogus; &zz; &x1;`, true},
		{"reference the scanner does not decode", `&notit; &notin; &Alpha;`, false},
		{"numeric references the Tokenizer replaces", `&#0; &#128; &#x92;`, false},
		{"numeric reference without ';'", `&#65 &#x42z`, true},
		{"control character reference", `&#1;`, false},
		{"CR LF", "a\r\nb\rc\n\r\nd", true},
		{"CR in an attribute", "<p title=\"a\r\nb\">x</p>", true},
		{"less-than as text", `1 < 2, a <3 and <`, true},
		{"uppercase markup", `<P CLASS="x">A<BR>b <A HREF="/y">y</A></P>`, true},
		{"single quotes and no values", `<p title='a "b"' hidden>x</p><input disabled/>`, true},
		{"self-closing forms", `<div>a<br/>b<br />c<img src="/i.png" alt=""/>d<hr  /></div>`, true},
		{"attributes without space between", `<p title="a"class="b">x</p>`, true},
		{"white space around '='", "<a href = \"/x\"\ttitle\n=\n'y'>x</a>", true},
		{"query in a link", `<a href="/x?a=1&b=2&amp;c=3">x</a>`, true},
		{"unquoted value", `<p class=x>y</p>`, false},
		{"duplicate attribute", `<p title="a" title="b">x</p>`, false},
		{"comment", `a<!-- c -->b`, false},
		{"doctype", `<!DOCTYPE html>x`, false},
		{"processing instruction", `<?xml version="1.0"?>x`, false},
		{"end tag with space", `<p>x</p >`, false},
		{"tag cut off", `<p>x<a href="/y"`, false},
		{"unknown element: the loop stops either way", `<o:p>x</o:p>`, false},
		{"table: the loop stops either way", `<table><tr><td>x</td></tr></table>`, true},
		{"javascript link", `<a href="javascript:alert(1)">x</a>`, true},
		{"unicode spaces", "a\u00a0b\u2003 c\u3000\u3000d &nbsp; e", true},
		{"pre", "<pre>a\n  b</pre><pre>\nc</pre>", true},
		{"NUL", "a\x00b", true}, // clean drops it first
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := bothScans(t, tt.html); got != tt.scanned {
				t.Errorf("scanned = %v, want %v", got, tt.scanned)
			}
		})
	}
}

// TestScannerRandom compares the scanner with the Tokenizer on random tag
// soup with attributes, references and line ends.
func TestScannerRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	pieces := []string{
		"<p>", "</p>", "<div class=\"x\">", "</div>", "<b>", "</b>", "<i title='a b'>", "</i>", "<P>", "</P>", "<B>",
		"<a href=\"/x\">", "<a href='http://o.example/y?q=1&amp;r=2'>", "<a href=\"javascript:x\">", "<a>", "<A HREF=\"/z\">",
		"<a href=\"/z\" title=\"t\" rel=\"nofollow\">", "</a>", "<ul>", "</ul>", "<li>", "</li>", "<h2>", "</h2>",
		"<br>", "<br/>", "<hr />", "<img src=\"i.png\" alt=\"lead\">", "<img src=\"//cdn.example/j.jpg\" width=\"10\">",
		"<img>", "<span style='x'>", "</span>", "<header>", "</header>", "<kbd>", "</kbd>", "<pre>", "</pre>",
		"<blockquote cite=\"/c\">", "</blockquote>", "<p id=\"a\">", "<q>", "</q>", "<time datetime=\"2026\">", "</time>",
		"text", " ", "  ", "\n", "\r\n", "\r", "\t", "\u00a0", "é", "日本", "&amp;", "&lt;", "&gt;", "&quot;", "&#39;",
		"&#65;", "&#x263A;", "&#0;", "&nbsp;", "&mdash;", "&bogus;", "&amp", "& ", "&", "&#", "AT&T", "<", " < ", ">",
		"\"", "'", "=", "/", "<!-- c -->", "<table>", "<script>", "</p >", "<p class=x>", "<p hidden>", "<p a=\"1\"b=\"2\">",
		"<a href=\"/x?a=1&b=2\">", "<img src=\"/x.png\"/>", "<em>", "</em>", "<code>", "</code>",
	}
	scanned := 0
	for range 30000 {
		var b strings.Builder
		for range r.IntN(16) {
			b.WriteString(pieces[r.IntN(len(pieces))])
		}
		if bothScans(t, b.String()) {
			scanned++
		}
	}
	if scanned < 3000 {
		t.Errorf("the scanner read only %d random fragments: the comparison tested little", scanned)
	}
}

// FuzzScanner holds tagScanner to the Tokenizer on any input. Run longer
// with: go test -fuzz FuzzScanner ./internal/parse
func FuzzScanner(f *testing.F) {
	f.Add(`<p>Hello <a href="/rel" title="t">rel</a> &amp; <img src="a.png" alt="x" width="3"></p>`)
	f.Add("<P CLASS='x'>a\r\nb &#233; &nbsp; AT&T 1 < 2<BR/></P>")
	f.Add(`<a href="https://o.example/?a=1&b=2#f">x</a><img src="/i.png" alt=""/>`)
	f.Fuzz(func(t *testing.T, s string) {
		bothScans(t, s)
	})
}

// TestRefTextMatchesTokenizer: every reference the scanner decodes itself
// is what x/net/html decodes it to.
func TestRefTextMatchesTokenizer(t *testing.T) {
	for name, r := range refText {
		if got := xhtml.UnescapeString("&" + name + ";"); got != string(r) {
			t.Errorf("&%s; is %q, x/net/html says %q", name, string(r), got)
		}
	}
}

// bothAbs fails when plainAbs resolves raw against base otherwise than
// abs does by parsing, or to a URL safeURL would rewrite.
func bothAbs(t *testing.T, raw, base string) (plain bool) {
	t.Helper()
	r := newResolver(base)
	got, ok := r.plainAbs(raw)
	if !ok {
		return false
	}
	for _, mail := range []bool{false, true} {
		if want := r.parsedAbs(raw, mail); got != want {
			t.Fatalf("plainAbs(%q) against %q = %q, abs says %q", raw, base, got, want)
		}
	}
	if origin, ok := plainOrigin(r, []byte(raw)); !ok || origin+raw != got {
		t.Fatalf("plainOrigin(%q) as bytes = %q, %v; as a string %q", raw, origin, ok, got)
	}
	if safe, ok := safeURL(got); !ok || safe != got {
		t.Fatalf("safeURL(%q) = %q, %v", got, safe, ok)
	}
	return true
}

var absBases = []string{simpleBase, "http://127.0.0.1:8080/feed/3", "https://User:pw@Example.COM:8443/a/b?q=1#f",
	"https://news.example", "https://bücher.example/x", "file:///feeds/a.xml", "", "/relative/base", "mailto:a@b.example"}

func TestPlainAbsMatchesAbs(t *testing.T) {
	links := []string{"/story/1", "/img/1-2.jpg", "/a/b/c?x=1&y=2", "/a#frag", "/a#", "/a?", "/a?#", "//cdn.example/x",
		"/a/./b", "/a/../b", "/.", "/..", "/a/.hidden", "/a/b.", "https://o.example", "https://o.example/", "http://o.example:8080/x",
		"https://o.example:/x", "https://O.example/x", "https://o.example?x", "https://o.example#x", "https://-o.example/",
		"https://o..example/", "https://o.example/a%20b", "https://o.example/a b", " /a", "/a ", "https://o.example/~u/p_q-r.s",
		"HTTPS://o.example/", "https://o.example:123456/", "https://o.example:0/", "https://o.example/a?b=c;d@e:f+g,h",
		"/", "//", "/a//b", "https://o.example//a", "https://o.example/a#b/c.d", "story/1", "?q", "#f", "mailto:x@y.example"}
	plain := 0
	for _, base := range absBases {
		for _, l := range links {
			if bothAbs(t, l, base) {
				plain++
			}
		}
	}
	if plain < 40 {
		t.Errorf("plainAbs took only %d links", plain)
	}
	r := rand.New(rand.NewPCG(13, 14))
	pieces := []string{"https://", "http://", "/", "//", "a", "B", "0", "-", ".", "..", "_", "~", ":", ":80", "?", "#", "=",
		"&", "+", ",", ";", "@", "%", "%20", " ", "é", "o.example", "x.y", "!", "*", "(", "'"}
	for range 50000 {
		var b strings.Builder
		for range r.IntN(10) {
			b.WriteString(pieces[r.IntN(len(pieces))])
		}
		bothAbs(t, b.String(), absBases[r.IntN(len(absBases))])
	}
}

// FuzzPlainAbs holds plainAbs to abs on any link and base. Run longer
// with: go test -fuzz FuzzPlainAbs ./internal/parse
func FuzzPlainAbs(f *testing.F) {
	f.Add("/story/1-2", simpleBase)
	f.Add("https://o.example:8080/a/b?c=d&e=f#g", "http://127.0.0.1:8080/feed/3")
	f.Fuzz(func(t *testing.T, raw, base string) {
		if _, err := url.Parse(base); err != nil {
			return
		}
		bothAbs(t, raw, base)
	})
}

// TestCollapseToMatchesCollapse: words written in parts, with block
// breaks between some, are what collapse makes of the whole.
func TestCollapseToMatchesCollapse(t *testing.T) {
	r := rand.New(rand.NewPCG(15, 16))
	pieces := []string{"a", "word", "é", "日本", " ", "  ", "\n", "\t", "\r", "\v", "\f", "\u00a0", "\u0085", "\u2003",
		"\u3000", "\u200b", "\ufeff", "x y", " z ", "\xff"}
	for range 30000 {
		var whole strings.Builder
		w := wordWriter{collapse: true}
		for range r.IntN(12) {
			if r.IntN(4) == 0 {
				w.space()
				whole.WriteByte(' ')
				continue
			}
			var p strings.Builder
			for range r.IntN(5) {
				p.WriteString(pieces[r.IntN(len(pieces))])
			}
			w.write([]byte(p.String()))
			whole.WriteString(p.String())
		}
		if got, want := w.String(), collapse(whole.String()); got != want {
			t.Fatalf("on %q: collapseTo wrote %q, collapse says %q", whole.String(), got, want)
		}
	}
}

// TestParagraphMatchesBluemonday holds paragraph to the policy's regular
// expression.
func TestParagraphMatchesBluemonday(t *testing.T) {
	r := rand.New(rand.NewPCG(17, 18))
	pieces := []string{"a", "Z", "0", " ", "\t", "\n", "\v", "\f", "\r", "-", "_", "'", ",", "[", "]", "!", ".", "/", "\\",
		"(", ")", "\"", "<", ">", "&", "?", ":", ";", "é", "日本", "٣", "Ⅻ", "½", "\u00a0", "\u2003", "\u0300", "🛂",
		"\ufffd", "\xff", "\xe6\x97", "$", "*", "+", "=", "#", "%", "@", "~", "`", "{", "^"}
	for range 50000 {
		var b strings.Builder
		for range r.IntN(6) {
			b.WriteString(pieces[r.IntN(len(pieces))])
		}
		if got, want := paragraph([]byte(b.String())), bluemonday.Paragraph.MatchString(b.String()); got != want {
			t.Fatalf("paragraph(%q) = %v, the policy says %v", b.String(), got, want)
		}
	}
	for c := range 256 {
		s := string([]byte{byte(c)})
		if got, want := paragraph([]byte(s)), bluemonday.Paragraph.MatchString(s); got != want {
			t.Fatalf("paragraph(%q) = %v, the policy says %v", s, got, want)
		}
	}
}

func FuzzParagraph(f *testing.F) {
	f.Add([]byte("A plain title, (with) [brackets] and é"))
	f.Fuzz(func(t *testing.T, b []byte) {
		if got, want := paragraph(b), bluemonday.Paragraph.Match(b); got != want {
			t.Fatalf("paragraph(%q) = %v, the policy says %v", b, got, want)
		}
	})
}

// TestTextToMatchesParts: textTo writes what escapeTo and a collapsing
// wordWriter write, on texts in parts with block breaks between some.
func TestTextToMatchesParts(t *testing.T) {
	r := rand.New(rand.NewPCG(19, 20))
	pieces := []string{"a", "word", "é", "日本", " ", "  ", "\n", "\t", "\r", "\r\n", "\u00a0", "\u2003", "\u3000", "&", "'",
		"<", ">", "\"", "x y", " z ", "a&b", "\u0085", "\ufffd", "\x01", "\v", "\f", "\x7f", "a  b", "a   b c"}
	for range 30000 {
		var out, want strings.Builder
		w, parts := wordWriter{collapse: true}, wordWriter{collapse: true}
		for range r.IntN(10) {
			if r.IntN(4) == 0 {
				w.space()
				parts.space()
				continue
			}
			var p strings.Builder
			for range r.IntN(6) {
				p.WriteString(pieces[r.IntN(len(pieces))])
			}
			d := []byte(p.String())
			textTo(&out, &w, d)
			escapeTo(&want, d)
			parts.write(d)
		}
		if out.String() != want.String() || w.String() != parts.String() {
			t.Fatalf("textTo wrote %q and %q, escapeTo and write %q and %q", out.String(), w.String(), want.String(), parts.String())
		}
	}
}
