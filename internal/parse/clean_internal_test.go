package parse

import (
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/newsdesk/newsdesk/internal/story"
)

// cleanReference is clean as first written: one rune at a time. The fast
// path must agree with it on every input.
func cleanReference(s string) string {
	var b strings.Builder
	for i, r := range s {
		if _, size := utf8.DecodeRuneInString(s[i:]); r == utf8.RuneError && size == 1 {
			b.WriteRune(utf8.RuneError)
			continue
		}
		if story.XMLChar(r) {
			b.WriteRune(r)
		}
	}
	return b.String()
}

func TestCleanMatchesReference(t *testing.T) {
	long := strings.Repeat("plain ascii text, ", 10)
	tests := []struct{ name, in string }{
		{"empty", ""},
		{"short ascii", "abc"},
		{"long ascii", long},
		{"tab newline and return kept", long + "\t\n\r" + long},
		{"control in the first word", "a\x0bbcdefghij"},
		{"control in a later word", long + "\x01" + long},
		{"control in the tail", long + "ab\x1f"},
		{"delete is allowed", long + "\x7f"},
		{"multibyte runes", long + "Café “quoted” 日本 😀" + long},
		{"invalid byte", long + "\xff" + long},
		{"truncated rune", long + "\xe2\x80"},
		{"surrogate encoding", long + "\xed\xa0\x80"},
		{"U+FFFE not allowed", long + "\uFFFE"},
		{"U+FFFD allowed", long + "\uFFFD"},
		{"U+0085 allowed", long + "\u0085"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got, want := clean(tt.in), cleanReference(tt.in); got != want {
				t.Errorf("clean(%q) = %q, want %q", tt.in, got, want)
			}
		})
	}
}

func TestCleanRandomMatchesReference(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	alphabet := []string{"a", "b", " ", "\t", "\n", "\r", "\x00", "\x0b", "\x1f", "\x7f", "é", "日", "\xff", "\xc3", "\uFFFE", "😀"}
	for range 5000 {
		var b strings.Builder
		for range r.IntN(40) {
			if r.IntN(4) == 0 {
				b.WriteString(alphabet[r.IntN(len(alphabet))])
			} else {
				b.WriteByte(byte(0x20 + r.IntN(0x5f)))
			}
		}
		s := b.String()
		if got, want := clean(s), cleanReference(s); got != want {
			t.Fatalf("clean(%q) = %q, want %q", s, got, want)
		}
	}
}

func TestCleanDoesNotAllocateOnCleanInput(t *testing.T) {
	s := strings.Repeat("<p>Clean text, Café.</p>\n", 100)
	if n := testing.AllocsPerRun(10, func() { _ = clean(s) }); n != 0 {
		t.Errorf("clean allocated %v times on clean input", n)
	}
}

func BenchmarkClean(b *testing.B) {
	s := strings.Repeat("<p>Ordinary paragraph of article text, with a link <a href=\"/x\">here</a>.</p>\n", 1000)
	b.SetBytes(int64(len(s)))
	for b.Loop() {
		_ = clean(s)
	}
}

func TestCollapseMatchesFields(t *testing.T) {
	tests := []struct{ name, in string }{
		{"empty", ""},
		{"only space", " \t\n "},
		{"already collapsed", "two words"},
		{"leading and trailing", "  a b  "},
		{"inner runs", "a \n\t b"},
		{"tab alone", "a\tb"},
		{"unicode spaces", "a\u00a0b\u2003\u2003c\u0085d\u3000"},
		{"invalid bytes kept", "a \xff  b\xc3"},
		{"single word", "word"},
		{"trailing single space", "word "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got, want := collapse(tt.in), strings.Join(strings.Fields(tt.in), " "); got != want {
				t.Errorf("collapse(%q) = %q, want %q", tt.in, got, want)
			}
		})
	}
	r := rand.New(rand.NewPCG(7, 8))
	alphabet := []string{"a", "b", " ", " ", "\t", "\n", "\v", "\u00a0", "\u2028", "é", "\xff", "\u0085"}
	for range 5000 {
		var b strings.Builder
		for range r.IntN(12) {
			b.WriteString(alphabet[r.IntN(len(alphabet))])
		}
		s := b.String()
		if got, want := collapse(s), strings.Join(strings.Fields(s), " "); got != want {
			t.Fatalf("collapse(%q) = %q, want %q", s, got, want)
		}
	}
}

func BenchmarkCollapse(b *testing.B) {
	s := strings.Repeat(" Ordinary paragraph of article text,  with a link here. \n", 1000)
	b.SetBytes(int64(len(s)))
	b.ReportAllocs()
	for b.Loop() {
		_ = collapse(s)
	}
}

// dropControlsReference is dropControls as first written, byte by byte.
func dropControlsReference(b []byte) []byte {
	var out []byte
	for i := 0; i < len(b); i++ {
		c := b[i]
		n := 0
		switch {
		case c < 0x20 && c != '\t' && c != '\n' && c != '\r':
			n = 1
		case c == '&' && i+2 < len(b) && b[i+1] == '#':
			n = badCharRef(b[i:])
		}
		if n == 0 {
			out = append(out, c)
			continue
		}
		i += n - 1
	}
	return out
}

func TestDropControlsMatchesReference(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	pieces := []string{"abcdefgh", "a", " ", "\t", "\n", "\r", "\x00", "\x01", "\x1f", "&", "&#", "&#1;", "&#x1;", "&#x41;", "&#65;",
		"&#xFFFE;", "&amp;", "é", "\xff", "\x80", "\xa0", "\xe2\x80\x9c", "\x7f", "%", "'", "\x9f"}
	for range 20000 {
		var b strings.Builder
		for range r.IntN(20) {
			b.WriteString(pieces[r.IntN(len(pieces))])
		}
		in := []byte(b.String())
		got, want := dropControls([]byte(string(in))), dropControlsReference(in)
		if string(got) != string(want) {
			t.Fatalf("dropControls(%q) = %q, want %q", in, got, want)
		}
	}
}

func BenchmarkDropControls(b *testing.B) {
	body := []byte(strings.Repeat("<p>Ordinary paragraph of article text, with a link <a href=\"/x\">here</a> &amp; more.</p>\n", 1000))
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		_ = dropControls(body)
	}
}
