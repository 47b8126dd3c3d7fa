package story

import (
	"net/url"
	"path"
	"strings"
	"unicode"
	"unicode/utf8"
)

// headlineRunes bounds a title made from a story's text.
const headlineRunes = 100

// Headline returns the title to show for s: its own, else FallbackTitle's,
// else "Untitled". Every format and page calls it, so no output ever has
// an empty title, and an untitled story reads the same everywhere.
func Headline(s *Story) string {
	if strings.TrimSpace(s.Title) != "" {
		return s.Title
	}
	if t := FallbackTitle(s); t != "" {
		return t
	}
	return "Untitled"
}

// FallbackTitle makes a title for a story that has none (issue 8): the
// first sentence of its text, else the last segment of its link's path as
// words, else the file name of its first enclosure, else of its image; a
// URL without a path segment gives its host. "" only for a story with none
// of them. It is the one rule: parse stores its result as the title of an
// untitled entry, and Headline applies it to any story that reaches an
// output without one.
func FallbackTitle(s *Story) string {
	for _, text := range []string{s.SummaryText, s.ContentText} {
		if t := firstSentence(text); t != "" {
			return t
		}
	}
	words := strings.NewReplacer("-", " ", "_", " ").Replace(trimWebExt(lastSegment(s.Link)))
	if t := strings.Join(strings.Fields(words), " "); t != "" {
		return t
	}
	urls := make([]string, 0, len(s.Enclosures)+2)
	for _, e := range s.Enclosures {
		urls = append(urls, e.URL)
	}
	urls = append(urls, s.Image)
	for _, u := range urls {
		if t := lastSegment(u); t != "" {
			return t
		}
	}
	for _, u := range append([]string{s.Link}, urls...) {
		if p, err := url.Parse(u); err == nil && p.Hostname() != "" {
			return p.Hostname()
		}
	}
	return ""
}

// firstSentence returns text up to the end of its first sentence, at most
// about headlineRunes runes (cut at a word, with "…"). A full stop ends a
// sentence when a space or the end follows and the word before it is not
// an abbreviation ("U.S.", "Mr.", "St.").
func firstSentence(text string) string {
	text = strings.TrimSpace(text)
	if text == "" {
		return ""
	}
	end := len(text)
	for i, r := range text {
		if !strings.ContainsRune(".!?…。！？", r) {
			continue
		}
		next := i + utf8.RuneLen(r)
		if r < utf8.RuneSelf && next < len(text) && text[next] != ' ' {
			continue // "3.5", "example.com", "?!"
		}
		if r == '.' && abbreviation(text[:i]) {
			continue
		}
		end = next
		break
	}
	sentence := strings.TrimSpace(text[:end])
	if utf8.RuneCountInString(sentence) > headlineRunes {
		return truncate(sentence, headlineRunes)
	}
	return sentence
}

// truncate cuts text to n runes at a word boundary, with an ellipsis.
func truncate(text string, n int) string {
	cut := len(text)
	for i := range text {
		if n == 0 {
			cut = i
			break
		}
		n--
	}
	if sp := strings.LastIndexByte(text[:cut], ' '); sp > cut/2 {
		cut = sp
	}
	return strings.TrimRight(text[:cut], " ,;:") + "…"
}

// abbreviation reports whether the word ending before a full stop at the
// end of before is an abbreviation rather than a sentence's last word: one
// with a dot in it ("U.S", "e.g"), an initial ("John F"), or a title or
// other common abbreviation ("Mr", "Gen", "vs").
func abbreviation(before string) bool {
	word := before[strings.LastIndexAny(before, " \t\n(\"'“")+1:]
	if strings.Contains(word, ".") || abbreviations[strings.ToLower(word)] {
		return true
	}
	first, n := utf8.DecodeRuneInString(word)
	return n == len(word) && unicode.IsUpper(first)
}

var abbreviations = map[string]bool{
	"mr": true, "mrs": true, "ms": true, "dr": true, "st": true, "jr": true, "sr": true, "gen": true,
	"sen": true, "rep": true, "gov": true, "sgt": true, "col": true, "lt": true, "capt": true, "prof": true,
	"vs": true, "etc": true, "inc": true, "co": true, "corp": true, "ltd": true, "no": true, "approx": true,
}

// lastSegment returns the last non-empty segment of a URL's path, decoded;
// "" when the path has none.
func lastSegment(link string) string {
	u, err := url.Parse(link)
	if err != nil {
		return ""
	}
	seg := path.Base(strings.TrimRight(u.Path, "/"))
	if seg == "." || seg == "/" {
		return ""
	}
	return Clean(strings.TrimSpace(seg))
}

// trimWebExt drops the extension of a page name ("story.html" reads
// "story"); media files keep theirs.
func trimWebExt(name string) string {
	switch strings.ToLower(path.Ext(name)) {
	case ".html", ".htm", ".shtml", ".php", ".asp", ".aspx", ".jsp", ".cfm":
		return strings.TrimSuffix(name, path.Ext(name))
	}
	return name
}
