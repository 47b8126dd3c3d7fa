package story_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/newsdesk/newsdesk/internal/story"
)

func TestClean(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"ascii is kept", "Border talks resume", "Border talks resume"},
		{"tab newline return kept", "a\tb\nc\rd", "a\tb\nc\rd"},
		{"vertical tab dropped", "a\x0bb", "ab"},
		{"nul and escape dropped", "\x00a\x1bb", "ab"},
		{"non-ascii kept", "São Paulo, 東京, 🛂", "São Paulo, 東京, 🛂"},
		{"invalid utf-8 becomes U+FFFD", "Caf\xe9", "Caf\uFFFD"},
		{"noncharacter FFFE dropped", "a\uFFFEb", "ab"},
		{"control after a clean block", "12345678\x01", "12345678"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := story.Clean(tt.in)
			if got != tt.want {
				t.Errorf("Clean(%q) = %q, want %q", tt.in, got, tt.want)
			}
			if !story.IsClean(got) || !utf8.ValidString(got) {
				t.Errorf("Clean(%q) = %q is not clean", tt.in, got)
			}
			if story.IsClean(tt.in) != (tt.in == tt.want) {
				t.Errorf("IsClean(%q) = %v", tt.in, story.IsClean(tt.in))
			}
		})
	}
}

func FuzzClean(f *testing.F) {
	for _, s := range []string{"", "plain", "a\x0bb", "Caf\xe9", strings.Repeat("x", 17) + "\x01"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c := story.Clean(s)
		if !story.IsClean(c) || story.Clean(c) != c {
			t.Fatalf("Clean(%q) = %q, which is not clean or not stable", s, c)
		}
		if story.IsClean(s) && c != s {
			t.Fatalf("Clean changed clean input %q to %q", s, c)
		}
	})
}

func BenchmarkClean(b *testing.B) {
	s := strings.Repeat("<p>The minister said on Tuesday that border agents would expand patrols.</p>", 1000)
	for b.Loop() {
		story.Clean(s)
	}
}
