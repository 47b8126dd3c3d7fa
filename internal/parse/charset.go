package parse

import (
	"bytes"
	"encoding/binary"
	"mime"
	"regexp"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/html/charset"
	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/encoding/unicode/utf32"

	"github.com/newsdesk/newsdesk/internal/story"
)

var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// encodingDecl matches the encoding pseudo-attribute of an XML declaration.
var encodingDecl = regexp.MustCompile(`^\s*<\?xml[^>]*?\sencoding\s*=\s*["']([A-Za-z0-9._:-]+)["']`)

// fromWide converts a UTF-16 or UTF-32 document to UTF-8 and makes its XML
// declaration say so; ok is false for every other document. The encoding
// comes from the byte order mark or, without one, from the zero bytes
// around the first ASCII characters ("<?xml", white space), as XML 1.0
// appendix F describes: gofeed reads neither, and encoding/xml knows no
// UTF-32 at all. Byte sequences that are not valid in the encoding become
// U+FFFD.
func fromWide(b []byte) (out []byte, ok bool) {
	if len(b) < 4 {
		return nil, false
	}
	var enc encoding.Encoding
	bom := 0
	switch {
	case b[0] == 0 && b[1] == 0 && b[2] == 0xFE && b[3] == 0xFF:
		enc, bom = utf32.UTF32(utf32.BigEndian, utf32.IgnoreBOM), 4
	case b[0] == 0xFF && b[1] == 0xFE && b[2] == 0 && b[3] == 0:
		enc, bom = utf32.UTF32(utf32.LittleEndian, utf32.IgnoreBOM), 4
	case b[0] == 0xFE && b[1] == 0xFF:
		enc, bom = unicode.UTF16(unicode.BigEndian, unicode.IgnoreBOM), 2
	case b[0] == 0xFF && b[1] == 0xFE:
		enc, bom = unicode.UTF16(unicode.LittleEndian, unicode.IgnoreBOM), 2
	case b[0] == 0 && b[1] == 0 && b[2] == 0 && b[3] != 0 && b[3] < 0x80:
		enc = utf32.UTF32(utf32.BigEndian, utf32.IgnoreBOM)
	case b[0] != 0 && b[0] < 0x80 && b[1] == 0 && b[2] == 0 && b[3] == 0:
		enc = utf32.UTF32(utf32.LittleEndian, utf32.IgnoreBOM)
	case b[0] == 0 && b[1] != 0 && b[1] < 0x80 && b[2] == 0 && b[3] != 0:
		enc = unicode.UTF16(unicode.BigEndian, unicode.IgnoreBOM)
	case b[0] != 0 && b[0] < 0x80 && b[1] == 0 && b[2] != 0 && b[3] == 0:
		enc = unicode.UTF16(unicode.LittleEndian, unicode.IgnoreBOM)
	default:
		return nil, false
	}
	out, err := enc.NewDecoder().Bytes(b[bom:])
	if err != nil {
		return nil, false
	}
	return declareUTF8(out), true
}

// toUTF8 returns XML bytes (not UTF-16 or UTF-32: fromWide has run) as
// UTF-8 whose declaration, if any, says UTF-8, decoding them exactly once.
//
// The byte order mark outranks the declaration (XML 1.0 appendix F), and
// the declaration outranks the HTTP charset, which servers get wrong more
// often than documents do. Two declarations are known to lie: one naming a
// legacy charset over bytes that are valid UTF-8 with multi-byte
// characters (text in a legacy charset hardly ever forms those), read as
// UTF-8 so that "Café" does not become "CafÃ©"; and one naming UTF-16 or
// UTF-32 over single bytes. Those, and an unknown charset name, are read as
// if undeclared.
func toUTF8(body []byte, contentType string) []byte {
	if bytes.HasPrefix(body, utf8BOM) {
		return declareUTF8(repairUTF8(body[len(utf8BOM):]))
	}
	m := encodingDecl.FindSubmatch(body[:min(len(body), 512)])
	if m == nil {
		return undeclared(body, contentType)
	}
	label := string(m[1])
	if isUTF8Label(label) {
		return repairUTF8(body)
	}
	enc := legacyCharset(label)
	if enc == nil || (utf8.Valid(body) && hasMultibyte(body)) {
		return declareUTF8(undeclared(body, contentType))
	}
	out, err := enc.NewDecoder().Bytes(body)
	if err != nil {
		return declareUTF8(repairUTF8(body))
	}
	return declareUTF8(out)
}

// undeclared returns body, which declares no encoding, as UTF-8: valid
// UTF-8 as it is (under a Latin-1 or other HTTP charset too: that is a
// mislabelled server far more often than Latin-1 text that happens to form
// valid multi-byte sequences), else decoded by the HTTP charset when it
// names a legacy one, else repaired (see repairUTF8).
func undeclared(body []byte, contentType string) []byte {
	if utf8.Valid(body) {
		return body
	}
	if enc := legacyCharset(httpCharset(contentType)); enc != nil {
		if out, err := enc.NewDecoder().Bytes(body); err == nil {
			return out
		}
	}
	return repairUTF8(body)
}

// legacyCharset returns the encoding a charset label names (WHATWG labels:
// "iso-8859-1" is windows-1252), or nil when the label is unknown, UTF-8,
// or a UTF-16 or UTF-32 form (which an ASCII-compatible document cannot be).
func legacyCharset(label string) encoding.Encoding {
	if label == "" || isUTF8Label(label) {
		return nil
	}
	l := strings.ToLower(label)
	for _, wide := range []string{"utf-16", "utf16", "utf-32", "utf32", "ucs-2", "ucs2", "ucs-4", "ucs4", "iso-10646-ucs", "unicode"} {
		if strings.HasPrefix(l, wide) {
			return nil
		}
	}
	enc, _ := charset.Lookup(label)
	if enc == encoding.Replacement {
		return nil // WHATWG's label for charsets that must not be decoded
	}
	return enc
}

// httpCharset returns the charset parameter of a Content-Type, or "".
func httpCharset(contentType string) string {
	if contentType == "" {
		return ""
	}
	_, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		return ""
	}
	return strings.TrimSpace(params["charset"])
}

func isUTF8Label(label string) bool {
	switch strings.ToLower(label) {
	case "utf-8", "utf8", "us-ascii", "ascii":
		return true
	}
	return false
}

// repairUTF8 makes b valid UTF-8. Text whose valid multi-byte sequences are
// at least as many as its invalid bytes is UTF-8 with damage: each run of
// bad bytes becomes U+FFFD. Text with fewer is a legacy single-byte
// document, taken as windows-1252 (the usual undeclared legacy encoding, a
// superset of ISO-8859-1's printable characters), so that neither a page
// of U+FFFD nor one stray "Â©" from a template decides how it reads.
func repairUTF8(b []byte) []byte {
	if utf8.Valid(b) {
		return b
	}
	good, bad := 0, 0
	for i := 0; i < len(b); {
		if b[i] < utf8.RuneSelf {
			i++
			continue
		}
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n == 1 {
			bad++
		} else {
			good++
		}
		i += n
	}
	if good >= bad {
		return bytes.ToValidUTF8(b, []byte("\uFFFD"))
	}
	out, err := charmap.Windows1252.NewDecoder().Bytes(b)
	if err != nil {
		return bytes.ToValidUTF8(b, []byte("\uFFFD"))
	}
	return out
}

// hasMultibyte reports whether b holds at least one valid multi-byte UTF-8
// sequence.
func hasMultibyte(b []byte) bool {
	for len(b) > 0 {
		i := 0
		for i < len(b) && b[i] < utf8.RuneSelf {
			i++
		}
		b = b[i:]
		if len(b) == 0 {
			return false
		}
		r, n := utf8.DecodeRune(b)
		if n > 1 && r != utf8.RuneError {
			return true
		}
		b = b[n:]
	}
	return false
}

// declareUTF8 rewrites the encoding named by b's XML declaration, if any, to
// UTF-8, so that gofeed does not decode bytes we already decoded.
func declareUTF8(b []byte) []byte {
	m := encodingDecl.FindSubmatchIndex(b[:min(len(b), 512)])
	if m == nil || isUTF8Label(string(b[m[2]:m[3]])) {
		return b
	}
	return append(append(b[:m[2]:m[2]], "UTF-8"...), b[m[3]:]...)
}

// dropControls removes what XML 1.0 forbids but feeds contain anyway: C0
// control bytes (gofeed filters them too, but our pre-scan reads first) and
// character references to them ("&#x1;"), which make encoding/xml reject the
// whole document. b must be ASCII-compatible (UTF-8 or a declared 8-bit
// encoding).
func dropControls(b []byte) []byte {
	var out []byte // allocated on the first removal
	last := 0      // b[last:i] not yet copied to out
	for i := 0; i < len(b); i++ {
		if i+8 <= len(b) && !mayDrop(binary.LittleEndian.Uint64(b[i:])) {
			i += 7 // eight bytes with neither a control byte nor '&'
			continue
		}
		c := b[i]
		n := 0 // bytes to drop at i
		switch {
		case c < 0x20 && c != '\t' && c != '\n' && c != '\r':
			n = 1
		case c == '&' && i+2 < len(b) && b[i+1] == '#':
			n = badCharRef(b[i:])
		}
		if n == 0 {
			continue
		}
		if out == nil {
			out = make([]byte, 0, len(b))
		}
		out = append(out, b[last:i]...)
		i += n - 1
		last = i + 1
	}
	if out == nil {
		return b
	}
	return append(out, b[last:]...)
}

// mayDrop reports whether the eight bytes of w hold a byte below 0x20 or an
// '&' (it may also flag bytes just after one): the SWAR tests for a byte
// below n, (w - n*ones) &^ w & highs, and for a zero byte after XOR.
func mayDrop(w uint64) bool {
	const (
		ones  = 0x0101010101010101
		highs = 0x8080808080808080
	)
	amps := w ^ ('&' * ones)
	return ((w-0x20*ones)&^w|(amps-ones)&^amps)&highs != 0
}

// badCharRef returns the length of the character reference at the start of b
// when it names a character XML 1.0 forbids, else 0.
func badCharRef(b []byte) int {
	end := bytes.IndexByte(b[:min(len(b), 12)], ';')
	if end < 3 {
		return 0
	}
	digits, base := b[2:end], 10
	if digits[0] == 'x' || digits[0] == 'X' {
		digits, base = digits[1:], 16
	}
	if len(digits) == 0 {
		return 0
	}
	var r rune
	for _, d := range digits {
		var v rune
		switch {
		case d >= '0' && d <= '9':
			v = rune(d - '0')
		case base == 16 && d >= 'a' && d <= 'f':
			v = rune(d-'a') + 10
		case base == 16 && d >= 'A' && d <= 'F':
			v = rune(d-'A') + 10
		default:
			return 0
		}
		r = r*rune(base) + v
	}
	if story.XMLChar(r) {
		return 0
	}
	return end + 1
}
