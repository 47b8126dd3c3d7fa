package render

import (
	"strings"
	"testing"
)

func TestClean(t *testing.T) {
	long := strings.Repeat("abcdefgh", 3) // exercises the eight-bytes-at-a-time path
	tests := []struct {
		name, in, want string
	}{
		{"plain ASCII untouched", long, long},
		{"tab, newline and CR are legal", "a\tb\nc\r\n" + long, "a\tb\nc\r\n" + long},
		{"vertical tab dropped", "a\x0bb", "ab"},
		{"control char inside a long ASCII run", long + "\x01" + long, long + long},
		{"control char at a word boundary", long[:8] + "\x1f" + long[:7], long[:8] + long[:7]},
		{"NUL dropped", "\x00" + long, long},
		{"emoji and CJK kept", "🛂 入国 " + long, "🛂 入国 " + long},
		{"U+FFFE and U+FFFF dropped", "a\uFFFEb\uFFFFc", "abc"},
		{"U+FFFD kept", "a\uFFFDb", "a\uFFFDb"},
		{"invalid UTF-8 becomes U+FFFD, as parse stores it", "a\xffb\xc3", "a\uFFFDb\uFFFD"},
		{"DEL is legal XML", "a\x7fb", "a\x7fb"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := clean(tt.in); got != tt.want {
				t.Errorf("clean(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}
