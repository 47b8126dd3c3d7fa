package parse

import (
	"math/rand/v2"
	"strings"
	"testing"
)

// bothSafe runs the fast path on s and fails when it claims s yet writes
// other bytes than the sanitizer makes of simpleHTML's output.
func bothSafe(t *testing.T, s string) (handled bool) {
	t.Helper()
	s = clean(s)
	f, ok := simpleFragment(s, simpleBase, true)
	r, rok := simpleFragment(s, simpleBase, false)
	if !ok || f.unsafe {
		return false // simpleHTML refuses it, or the sanitizer's turn
	}
	if !rok || f.text != r.text || f.image != r.image || f.final != r.final {
		t.Fatalf("on %q the fast path read other words or another image: %q %q, want %v %q %q",
			s, f.text, f.image, rok, r.text, r.image)
	}
	if want := sanitizer().Sanitize(r.raw); f.safe != want {
		t.Fatalf("on %q (raw %q)\nfast:      %q\nsanitizer: %q", s, r.raw, f.safe, want)
	}
	return true
}

func TestSafeMatchesSanitizer(t *testing.T) {
	tests := []struct {
		name, html string
		handled    bool
	}{
		{"article: paragraphs, links, an image", `<p>Words <a href="/story/1">a link</a> more.</p><p><img src="/img/1.jpg" alt="the lead"></p>`, true},
		{"text only", `Tom & Jerry's "show" > 3`, true},
		{"kept elements", `<h2>T</h2><blockquote><p><b>b</b> <i>i</i> <em>e</em> <strong>s</strong> <code>c</code></p></blockquote><ul><li>x</li></ul><hr><br>`, true},
		{"dropped elements keep their words", `<header><nav>menu</nav></header><main><p>x <kbd>K</kbd></p></main><footer>f</footer>`, true},
		{"absolute link with query and fragment", `<a href="https://o.example/a?b=1&amp;c=2#f">x</a>`, true},
		{"mailto link", `<a href="mailto:desk@news.example">mail</a>`, true},
		{"class, style, target and rel are dropped", `<p class="lead" style="color:red"><a href="/x" target="_blank" rel="me" class="c">x</a></p>`, true},
		{"data and event attributes are dropped", `<div data-id="3" onclick="evil()">x</div>`, true},
		{"title kept when it reads as a paragraph", `<p title="A plain title">x</p><abbr title="North Atlantic Treaty Organization">NATO</abbr>`, true},
		{"title dropped when it does not", `<p title="what? <b>">x</p>`, true},
		{"image size kept or dropped by its form", `<img src="/a.png" width="640" height="50%"><img src="/b.png" width="wide">`, true},
		{"alt dropped when it does not read as a paragraph", `<img src="/a.png" alt="a &lt;b&gt; c">`, true},
		{"cite dropped where not allowed", `<p cite="/x">x</p>`, true},
		{"duplicate attributes", `<p title="a" title="b">x</p><a href="/1" href="/2">y</a>`, true},
		{"uppercase markup", `<P CLASS="x">A<BR>b <A HREF="/y">y</A></P>`, true},
		{"javascript link: the sanitizer decides", `<a href="javascript:alert(1)">x</a>`, false},
		{"relative link base cannot resolve: the sanitizer decides", `<a href="">x</a>`, false},
		{"a without href: the sanitizer decides", `<a name="top">x</a>`, false},
		{"a with a title only", `<a title="t">x</a>`, true},
		{"img with an alt only", `<img alt="x">`, true},
		{"img with nothing it keeps: the sanitizer decides", `<img class="x">`, false},
		{"bdo: the sanitizer decides", `<bdo dir="rtl">x</bdo>`, false},
		{"id: the sanitizer decides", `<p id="x">y</p>`, false},
		{"lang: the sanitizer decides", `<p lang="en">y</p>`, false},
		{"blockquote cite: the sanitizer decides", `<blockquote cite="/src">q</blockquote>`, false},
		{"time datetime: the sanitizer decides", `<time datetime="2026-01-01">d</time>`, false},
		{"list type: the sanitizer decides", `<ol type="a"><li>x</li></ol>`, false},
		{"unclosed elements", `<div><p><a href="/x">x`, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := bothSafe(t, tt.html); got != tt.handled {
				t.Errorf("fast path handled = %v, want %v", got, tt.handled)
			}
		})
	}
}

// TestSafeEveryElementAndAttribute tries every element simpleHTML handles
// with every attribute UGCPolicy names anywhere (and some it names nowhere),
// each with a value its check accepts and one it refuses: the table of
// treatments in safe.go must be bluemonday's.
func TestSafeEveryElementAndAttribute(t *testing.T) {
	keys := []string{"", "href", "src", "cite", "poster", "longdesc", "title", "alt", "width", "height",
		"dir", "lang", "id", "class", "style", "name", "rel", "target", "type", "value", "datetime", "align",
		"usemap", "open", "coords", "shape", "span", "valign", "colspan", "headers", "scope", "summary", "abbr",
		"min", "max", "data-x", "onclick", "srcset", "loading", "hidden", "nowrap"}
	values := []string{"/x", "https://o.example/y", "640", "ltr", "en", "A plain value", "2026-01-30", "a b?<", ""}
	handled := 0
	for a := range simpleElems {
		for _, key := range keys {
			for _, v := range values {
				attr := ""
				if key != "" {
					attr = " " + key + `="` + strings.ReplaceAll(v, "<", "&lt;") + `"`
				}
				s := "<" + a.String() + attr + ">x"
				if !voidElems[a] {
					s += "</" + a.String() + ">"
				}
				if bothSafe(t, s) {
					handled++
				}
			}
		}
	}
	if handled < len(simpleElems)*len(keys) {
		t.Errorf("the fast path handled only %d cases: the comparison tested little", handled)
	}
}

// TestSafeTreatmentsCoverSimpleElems checks the treatment table against
// the sanitizer directly: a kept element keeps its bare tags, a dropped one
// loses them even with an allowed attribute, one that needs an attribute
// keeps them only with one.
func TestSafeTreatmentsCoverSimpleElems(t *testing.T) {
	for a := range simpleElems {
		name := a.String()
		bare := sanitizer().Sanitize("<" + name + ">x</" + name + ">")
		titled := sanitizer().Sanitize("<" + name + ` title="t">x</` + name + ">")
		var got elemTreatment
		switch {
		case bare != "x":
			got = elemKept
		case titled == "x":
			got = elemDropped
		default:
			got = elemNeedsAttr
		}
		if want := elemTreatments[a]; got != want {
			t.Errorf("<%s>: the sanitizer treats it as %d, safe.go as %d", name, got, want)
		}
	}
}

// TestSafeRandom compares the fast path with the sanitizer on random tag
// soup with attributes.
func TestSafeRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	pieces := []string{
		"<p>", "</p>", "<div class=x>", "</div>", "<b>", "</b>", "<i title='a b'>", "</i>",
		"<a href=\"/x\">", "<a href='http://o.example/y?q=1&amp;r=2'>", "<a href=\"javascript:x\">", "<a>",
		"<a href=\"/z\" title=\"t\" rel=nofollow>", "</a>", "<ul>", "</ul>", "<li>", "</li>", "<h2>", "</h2>",
		"<br>", "<hr/>", "<img src=\"i.png\" alt=\"lead\">", "<img src=\"//cdn.example/j.jpg\" width=10>", "<img>",
		"<span style='x'>", "</span>", "<header>", "</header>", "<nav>", "</nav>", "<kbd>", "</kbd>",
		"<blockquote>", "<blockquote cite=\"/c\">", "</blockquote>", "<p id=a>", "<bdo dir=ltr>", "</bdo>",
		"<time datetime=2026>", "</time>", "<q>", "</q>", "text", " ", "&amp;", "&lt;", "&#65;", "\"", "'",
		"<!-- c -->", "<table>", "<script>", "é", "\r\n",
	}
	handled := 0
	for range 20000 {
		var b strings.Builder
		for range r.IntN(14) {
			b.WriteString(pieces[r.IntN(len(pieces))])
		}
		if bothSafe(t, b.String()) {
			handled++
		}
	}
	if handled < 2000 {
		t.Errorf("the fast path handled only %d random fragments: the comparison tested little", handled)
	}
}

// FuzzSafe holds the fast path to the sanitizer on any input. Run longer
// with: go test -fuzz FuzzSafe ./internal/parse
func FuzzSafe(f *testing.F) {
	f.Add(`<p>Hello <a href="/rel" title="t">rel</a> <img src="a.png" alt="x" width="3"></p>`)
	f.Add(`<header>h</header><a href="https://o.example/?a=1&amp;b=%20">x</a><span class="c" style="d">s</span>`)
	f.Add(`<a href="mailto:x@y.example">m</a><a href=" https://o.example/ ">sp</a>`)
	f.Fuzz(func(t *testing.T, s string) {
		bothSafe(t, s)
	})
}

// BenchmarkSanitize compares the fast path (a simpleHTML pass that also
// writes the sanitized HTML) with simpleHTML followed by the sanitizer, on
// an article of the shape the ingest benchmark carries.
func BenchmarkSanitize(b *testing.B) {
	var article strings.Builder
	for i := range 40 {
		article.WriteString(`<p>Words of an ordinary paragraph &amp; more words <a href="/story/` + strings.Repeat("x", i%7) +
			`">a link</a> and then the rest of the sentence.</p>`)
	}
	article.WriteString(`<p><img src="/img/1.jpg" alt="lead"></p>`)
	s := article.String()
	b.Run("fast", func(b *testing.B) {
		b.SetBytes(int64(len(s)))
		b.ReportAllocs()
		for b.Loop() {
			if f, ok := simpleFragment(s, simpleBase, true); !ok || f.unsafe {
				b.Fatal("not handled")
			}
		}
	})
	b.Run("sanitizer", func(b *testing.B) {
		b.SetBytes(int64(len(s)))
		b.ReportAllocs()
		for b.Loop() {
			f, _ := simpleFragment(s, simpleBase, false)
			_ = sanitizer().Sanitize(f.raw)
		}
	})
}
