package story

import (
	"strings"
	"unicode/utf8"
)

// Clean returns s as valid UTF-8 holding only characters XML 1.0 allows, the
// form every text field of a Story is kept in, so that every output format
// can carry it (one stray \x0b makes an RSS document malformed). Invalid
// UTF-8 bytes become U+FFFD; characters XML cannot carry are dropped. Clean
// input, the usual case, is returned as is without allocating.
func Clean(s string) string {
	if IsClean(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i, r := range s {
		if r == utf8.RuneError {
			if _, size := utf8.DecodeRuneInString(s[i:]); size == 1 {
				b.WriteRune(utf8.RuneError)
				continue
			}
		}
		if XMLChar(r) {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// IsClean reports whether s is valid UTF-8 holding only XML 1.0 characters.
// Text is mostly ASCII, so it checks eight bytes at a time and decodes runes
// only past ASCII or near a control character.
func IsClean[T string | []byte](s T) bool {
	const (
		lo = 0x2020202020202020 // every byte 0x20: bytes below it are controls
		hi = 0x8080808080808080 // the high bit of every byte
	)
	for i := 0; i < len(s); {
		if i+8 <= len(s) {
			w := uint64(s[i]) | uint64(s[i+1])<<8 | uint64(s[i+2])<<16 | uint64(s[i+3])<<24 |
				uint64(s[i+4])<<32 | uint64(s[i+5])<<40 | uint64(s[i+6])<<48 | uint64(s[i+7])<<56
			// (w-lo)&^w&hi is zero when no byte is below 0x20 and none has
			// its high bit set: eight printable ASCII bytes.
			if w&hi == 0 && (w-lo)&^w&hi == 0 {
				i += 8
				continue
			}
		}
		c := s[i]
		if c < utf8.RuneSelf {
			if c < 0x20 && c != '\t' && c != '\n' && c != '\r' {
				return false
			}
			i++
			continue
		}
		var buf [utf8.UTFMax]byte
		r, size := utf8.DecodeRune(buf[:copy(buf[:], s[i:])])
		if (r == utf8.RuneError && size == 1) || !XMLChar(r) {
			return false
		}
		i += size
	}
	return true
}

// XMLChar reports whether r is a Char in the XML 1.0 grammar:
// #x9 | #xA | #xD | [#x20-#xD7FF] | [#xE000-#xFFFD] | [#x10000-#x10FFFF].
func XMLChar(r rune) bool {
	return r == 0x9 || r == 0xA || r == 0xD ||
		(r >= 0x20 && r <= 0xD7FF) || (r >= 0xE000 && r <= 0xFFFD) || (r >= 0x10000 && r <= 0x10FFFF)
}
