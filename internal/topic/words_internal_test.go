package topic

import (
	"slices"
	"testing"
)

func TestWords(t *testing.T) {
	tests := []struct {
		name, text string
		want       []string // lowercased words
	}{
		{"ascii", "Border Patrol, U.S.", []string{"border", "patrol", "u", "s"}},
		{"non-ASCII letters join ASCII ones", "Zürich ÉMIGRÉS", []string{"zürich", "émigrés"}},
		{"non-ASCII punctuation is a boundary", "a\u2026b \u00bfc?", []string{"a", "b", "c"}},
		{"combining mark stays in its word", "Cafe\u0301s", []string{"cafe\u0301s"}},
		{"digits", "2026-11 v2", []string{"2026", "11", "v2"}},
		{"no words", " -- \u2026 ", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lower, ws := words(tt.text, 0, nil, nil)
			var got []string
			for _, w := range ws {
				if w.end <= w.start {
					t.Errorf("empty word at %d", w.start)
				}
				got = append(got, string(lower[w.lstart:w.lend]))
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("words(%q) = %q, want %q", tt.text, got, tt.want)
			}
		})
	}
}

func TestNormalize(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"plain text unchanged", "Border patrol", "Border patrol"},
		{"whitespace collapsed and trimmed", "  a \t\n b  ", "a b"},
		{"odd spaces folded", "a\u00a0b\u2009c\u3000d\u200be", "a b c d e"},
		{"entities after tags", "<p>a&nbsp;&amp;&lt;b&gt;</p>", "a &<b>"},
		{"inline tags vanish, block tags space", "<b>asy</b>lum<br>x<p>y</p>", "asylum x y"},
		{"curly quotes and dashes", "\u201cSouth Korea\u2019s\u201d \u2014 ok", "\"South Korea's\" - ok"},
		{"NFKC folds fullwidth and ligatures", "\uff21\uff22 \ufb01", "AB fi"},
		{"NFKC spaces are collapsed again", "a\u00a8 b", "a \u0308 b"},
		{"soft hyphen removed", "immi\u00adgration", "immigration"},
		{"invalid UTF-8 replaced", "a\xffb", "a\ufffdb"},
		{"lone less-than is text", "2 < 3", "2 < 3"},
		{"unclosed tag drops the rest", "a <b", "a"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := normalizeHTML(tt.in); got != tt.want {
				t.Errorf("normalizeHTML(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}
