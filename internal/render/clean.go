package render

import (
	"strings"
	"unicode/utf8"

	"github.com/newsdesk/newsdesk/internal/story"
)

// xmlChar reports whether XML 1.0 allows r in character data:
// #x9 | #xA | #xD | [#x20-#xD7FF] | [#xE000-#xFFFD] | [#x10000-#x10FFFF].
func xmlChar(r rune) bool {
	switch {
	case r == '\t' || r == '\n' || r == '\r':
		return true
	case r < 0x20:
		return false
	case r <= 0xD7FF:
		return true
	case r < 0xE000:
		return false
	case r <= 0xFFFD:
		return true
	case r < 0x10000:
		return false
	}
	return r <= utf8.MaxRune
}

// clean drops characters XML 1.0 cannot carry and invalid UTF-8 from s.
// gorilla/feeds writes RSS content:encoded as unchecked CDATA (pitfall G1),
// so one \x0b from upstream would make the whole document malformed.
// Clean strings, the common case, are returned without allocating.
func clean(s string) string {
	bad := firstBad(s)
	if bad < 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	b.WriteString(s[:bad])
	for i := bad; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if (r != utf8.RuneError || size > 1) && xmlChar(r) {
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

// firstBad returns the byte offset of the first character clean would drop,
// or -1. ASCII text is the hot path (most of a feed is ASCII markup), so it
// is checked eight bytes at a time: a word with no byte >= 0x80 and none
// below 0x20 needs no closer look.
func firstBad(s string) int {
	const hi, lo = 0x8080808080808080, 0x2020202020202020
	for i := 0; i < len(s); {
		if i+8 <= len(s) {
			w := uint64(s[i]) | uint64(s[i+1])<<8 | uint64(s[i+2])<<16 | uint64(s[i+3])<<24 |
				uint64(s[i+4])<<32 | uint64(s[i+5])<<40 | uint64(s[i+6])<<48 | uint64(s[i+7])<<56
			// (w-lo) & ^w & hi is non-zero iff some byte is below 0x20 (given none is >= 0x80).
			if w&hi == 0 && (w-lo)&^w&hi == 0 {
				i += 8
				continue
			}
		}
		c := s[i]
		if c < utf8.RuneSelf {
			if c < 0x20 && c != '\t' && c != '\n' && c != '\r' {
				return i
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if (r == utf8.RuneError && size == 1) || !xmlChar(r) {
			return i
		}
		i += size
	}
	return -1
}

// cleanStrings cleans every element, copying the slice only when one changes.
func cleanStrings(in []string) []string {
	var out []string
	for i, s := range in {
		if c := clean(s); c != s {
			if out == nil {
				out = append([]string(nil), in...)
			}
			out[i] = c
		}
	}
	if out == nil {
		return in
	}
	return out
}

// cleanChannel returns ch with every string cleaned.
func cleanChannel(ch Channel) Channel {
	for _, p := range []*string{&ch.ID, &ch.ItemIDPrefix, &ch.Title, &ch.Description, &ch.Language,
		&ch.Generator, &ch.Author, &ch.HTMLURL, &ch.SelfURL, &ch.FirstURL, &ch.NextURL} {
		*p = clean(*p)
	}
	ch.HubURLs = cleanStrings(ch.HubURLs)
	return ch
}

// cleanStory returns a copy of s whose rendered strings are clean. Slices are
// copied only when an element changes, so the caller's story is never modified.
func cleanStory(s story.Story) story.Story {
	for _, p := range []*string{&s.ID, &s.Source, &s.SourceTitle, &s.SourceURL, &s.SourceLink,
		&s.Link, &s.Title, &s.Summary, &s.Content, &s.SummaryText, &s.Image, &s.Language} {
		*p = clean(*p)
	}
	if !strings.HasPrefix(s.SourceURL, "https://") && !strings.HasPrefix(s.SourceURL, "http://") {
		// A file:// fetch URL names a path on this machine: never publish it.
		s.SourceURL = ""
	}
	s.Categories = cleanStrings(s.Categories)
	if i := dirtyAuthor(s.Authors); i >= 0 {
		authors := append([]story.Author(nil), s.Authors...)
		for j := i; j < len(authors); j++ {
			a := &authors[j]
			a.Name, a.Email, a.URL = clean(a.Name), clean(a.Email), clean(a.URL)
		}
		s.Authors = authors
	}
	if i := dirtyEnclosure(s.Enclosures); i >= 0 {
		encs := append([]story.Enclosure(nil), s.Enclosures...)
		for j := i; j < len(encs); j++ {
			encs[j].URL, encs[j].Type = clean(encs[j].URL), clean(encs[j].Type)
		}
		s.Enclosures = encs
	}
	if i := dirtyRef(s.AlsoIn); i >= 0 {
		refs := append([]story.Ref(nil), s.AlsoIn...)
		for j := i; j < len(refs); j++ {
			refs[j].Source, refs[j].Title, refs[j].ID = clean(refs[j].Source), clean(refs[j].Title), clean(refs[j].ID)
		}
		s.AlsoIn = refs
	}
	return s
}

func dirty(ss ...string) bool {
	for _, s := range ss {
		if firstBad(s) >= 0 {
			return true
		}
	}
	return false
}

func dirtyAuthor(as []story.Author) int {
	for i, a := range as {
		if dirty(a.Name, a.Email, a.URL) {
			return i
		}
	}
	return -1
}

func dirtyEnclosure(es []story.Enclosure) int {
	for i, e := range es {
		if dirty(e.URL, e.Type) {
			return i
		}
	}
	return -1
}

func dirtyRef(rs []story.Ref) int {
	for i, r := range rs {
		if dirty(r.Source, r.Title, r.ID) {
			return i
		}
	}
	return -1
}
