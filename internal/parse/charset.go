package parse

import (
	"bytes"
	"encoding/binary"
	"io"
	"mime"
	"regexp"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/html/charset"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/unicode"

	"github.com/newsdesk/newsdesk/internal/story"
)

var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

func hasUTF16BOM(b []byte) bool {
	return bytes.HasPrefix(b, []byte{0xFE, 0xFF}) || bytes.HasPrefix(b, []byte{0xFF, 0xFE})
}

// encodingDecl matches the encoding pseudo-attribute of an XML declaration.
var encodingDecl = regexp.MustCompile(`^\s*<\?xml[^>]*?\sencoding\s*=\s*["']([A-Za-z0-9._:-]+)["']`)

// toUTF8 returns XML bytes gofeed can read, decoding them at most once.
//
// gofeed honours a BOM and the XML declaration's encoding but ignores the
// HTTP charset, and fails on bytes that are not UTF-8. So: a declared
// non-UTF-8 encoding is left for gofeed (converting it here as well would
// decode twice: "Café" becomes "CafÃ©"); otherwise the HTTP charset is
// applied to bytes that are not already UTF-8; otherwise broken UTF-8 is
// repaired (see repairUTF8).
func toUTF8(body []byte, contentType string) []byte {
	if bytes.HasPrefix(body, utf8BOM) {
		// The BOM outranks the declaration (XML 1.0 appendix F).
		return declareUTF8(repairUTF8(body[len(utf8BOM):]))
	}
	if hasUTF16BOM(body) {
		return fromUTF16(body)
	}
	if m := encodingDecl.FindSubmatch(body[:min(len(body), 512)]); m != nil {
		if !isUTF8Label(string(m[1])) {
			return body
		}
		return repairUTF8(body)
	}
	if utf8.Valid(body) {
		// Valid UTF-8 under a Latin-1 (or other) HTTP charset is a
		// mislabelled server far more often than Latin-1 text that happens
		// to form valid multi-byte sequences.
		return body
	}
	if label := httpCharset(contentType); label != "" && !isUTF8Label(label) {
		r, err := charset.NewReaderLabel(label, bytes.NewReader(body))
		if err == nil {
			if out, err := io.ReadAll(r); err == nil {
				return out
			}
		}
	}
	return repairUTF8(body)
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

// repairUTF8 makes b valid UTF-8. Text with some valid multi-byte sequences is
// UTF-8 with damage, so only the bad bytes are replaced; text with none is
// taken as windows-1252, the usual undeclared legacy encoding (a superset of
// Latin-1 for printable characters).
func repairUTF8(b []byte) []byte {
	if utf8.Valid(b) {
		return b
	}
	if hasMultibyte(b) {
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
		r, n := utf8.DecodeRune(b)
		if n > 1 && r != utf8.RuneError {
			return true
		}
		b = b[n:]
	}
	return false
}

// fromUTF16 converts a UTF-16 document with a BOM to UTF-8 and makes its XML
// declaration say so; gofeed cannot read UTF-16 at all.
func fromUTF16(b []byte) []byte {
	out, err := unicode.UTF16(unicode.BigEndian, unicode.ExpectBOM).NewDecoder().Bytes(b)
	if err != nil {
		return b
	}
	return declareUTF8(out)
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
