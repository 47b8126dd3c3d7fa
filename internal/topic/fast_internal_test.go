package topic

import (
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// normalizeTextPlain is normalizeText without its ASCII shortcuts: every
// text validated, folded and put in NFKC.
func normalizeTextPlain(s string) string {
	if s == "" {
		return ""
	}
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	s = foldText(s)
	if n := norm.NFKC.String(s); n != s {
		s = foldText(n)
	}
	return s
}

// plainBytewise is plain, byte by byte.
func plainBytewise(s string) bool {
	prev := byte(' ')
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c >= 0x7f || c == ' ' && prev == ' ' {
			return false
		}
		prev = c
	}
	return prev != ' '
}

// FuzzTextShortcuts holds the shortcuts of text preparation to the plain
// code on arbitrary text: plain's eight bytes at a time to a byte-by-byte
// loop, normalizeText's ASCII paths to validating, folding and NFKC, and
// asciiWords to the words of any script.
func FuzzTextShortcuts(f *testing.F) {
	f.Add("Border Patrol, U.S.")
	f.Add("  two  spaces\tand\na newline ")
	f.Add("the coast the shipping high demand minister while drills lanes")
	f.Add("Zürich ÉMIGRÉS 尖閣 a\u00a0b \xff")
	f.Add("2026-11 v2 ABC abc Z9 9Z @[`{")
	f.Add("\u212Aelvin KELVIN") // the Kelvin sign folds to an ASCII k
	f.Add("0123456789abcdef~\x7f")
	f.Add("a\x1fbcdefgh  ijklmnop")
	f.Fuzz(func(t *testing.T, text string) {
		if got, want := plain(text), plainBytewise(text); got != want {
			t.Fatalf("plain(%q) = %v, byte by byte %v", text, got, want)
		}
		if got, want := normalizeText(text), normalizeTextPlain(text); got != want {
			t.Fatalf("normalizeText(%q) = %q, the plain code says %q", text, got, want)
		}
		for _, s := range []string{text, normalizeText(text)} {
			ascii := !slices.ContainsFunc([]byte(s), func(c byte) bool { return c >= utf8.RuneSelf })
			if isASCII(s) != ascii {
				t.Fatalf("isASCII(%q) = %v", s, !ascii)
			}
			if !ascii {
				continue
			}
			lower, ws := asciiWords(s, 3, []byte("x"), []word{{}})
			wantLower, wantWs := anyWords(s, 3, []byte("x"), []word{{}})
			if string(lower) != string(wantLower) || !slices.Equal(ws, wantWs) {
				t.Fatalf("asciiWords(%q) = %q %v, anyWords says %q %v", s, lower, ws, wantLower, wantWs)
			}
		}
	})
}
