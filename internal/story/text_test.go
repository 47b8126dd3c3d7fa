package story_test

import (
	"crypto/sha256"
	"encoding/hex"
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

// TestNewIDValues pins IDs as stored: a changed value would make every
// stored story look new after an upgrade.
func TestNewIDValues(t *testing.T) {
	for _, tt := range []struct{ source, key, want string }{
		{"feed-1", "https://a.example/x", "158d0d556b3d0d31f38b261977dd0a79"},
		{"", "", "6e340b9cffb37a989ca544e6bb780a2c"},
		{"src", strings.Repeat("k", 300), "a0292b641c3be555087925a6d89824b0"}, // past the stack buffer
		{"s\x00", "é", "aeb22ff57345be15952a3ca6b81a2f63"},
	} {
		if got := story.NewID(tt.source, tt.key); got != tt.want {
			t.Errorf("NewID(%q, %q) = %s, want %s", tt.source, tt.key, got, tt.want)
		}
	}
	for _, key := range []string{strings.Repeat("long key ", 100), "k"} { // past the stack buffer, and within it
		sum := sha256.Sum256([]byte("src\x00" + key))
		if got, want := story.NewID("src", key), hex.EncodeToString(sum[:16]); got != want {
			t.Errorf("NewID(src, %d bytes) = %s, want %s", len(key), got, want)
		}
	}
	if n := testing.AllocsPerRun(100, func() { story.NewID("feed-1", "https://a.example/story/1") }); n > 1 {
		t.Errorf("NewID allocates %v times, want 1", n)
	}
}
