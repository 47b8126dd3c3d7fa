package render

import (
	"strings"

	"github.com/newsdesk/newsdesk/internal/story"
)

// clean drops characters XML 1.0 cannot carry and invalid UTF-8 from s
// (story.Clean). Parse already stores clean text; this is the renderer's own
// guarantee, since gorilla/feeds writes RSS content:encoded as unchecked
// CDATA (pitfall G1) and one \x0b would make the whole document malformed.
func clean(s string) string { return story.Clean(s) }

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

// cleanChannel returns ch with every string cleaned and every URL in ASCII.
func cleanChannel(ch Channel) Channel {
	for _, p := range []*string{&ch.ID, &ch.ItemIDPrefix, &ch.Title, &ch.Description, &ch.Language,
		&ch.Generator, &ch.Author, &ch.HTMLURL, &ch.SelfURL, &ch.FeedURL, &ch.FirstURL, &ch.NextURL} {
		*p = clean(*p)
	}
	for _, p := range []*string{&ch.HTMLURL, &ch.SelfURL, &ch.FeedURL, &ch.FirstURL, &ch.NextURL} {
		*p = asciiURL(*p)
	}
	ch.ID, ch.ItemIDPrefix = tagURI(ch.ID), tagURI(ch.ItemIDPrefix)
	ch.HubURLs = cleanStrings(ch.HubURLs)
	if len(ch.Upstreams) > 0 {
		ups := make(map[string]Upstream, len(ch.Upstreams))
		for name, u := range ch.Upstreams {
			ups[name] = Upstream{ID: tagURI(clean(u.ID)), Updated: u.Updated}
		}
		ch.Upstreams = ups
	}
	if i := nonASCIIURL(ch.HubURLs); i >= 0 {
		hubs := append([]string(nil), ch.HubURLs...)
		for j := i; j < len(hubs); j++ {
			hubs[j] = asciiURL(hubs[j])
		}
		ch.HubURLs = hubs
	}
	return ch
}

// nonASCIIURL returns the index of the first URL asciiURL would change, or -1.
func nonASCIIURL(urls []string) int {
	for i, u := range urls {
		if asciiURL(u) != u {
			return i
		}
	}
	return -1
}

// cleanStory returns a copy of s whose rendered strings are clean and whose
// URLs are ASCII. Slices are copied only when an element changes, so the
// caller's story is never modified.
func cleanStory(s story.Story) story.Story {
	for _, p := range []*string{&s.ID, &s.ServedID, &s.Source, &s.SourceTitle, &s.SourceURL, &s.SourceLink,
		&s.Link, &s.Title, &s.Summary, &s.Content, &s.SummaryText, &s.ContentText, &s.Image, &s.Language} {
		*p = clean(*p)
	}
	for _, p := range []*string{&s.SourceURL, &s.SourceLink, &s.Link, &s.Image} {
		*p = asciiURL(*p)
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
			a.Name, a.Email, a.URL = clean(a.Name), clean(a.Email), asciiURL(clean(a.URL))
		}
		s.Authors = authors
	}
	if i := dirtyEnclosure(s.Enclosures); i >= 0 {
		encs := append([]story.Enclosure(nil), s.Enclosures...)
		for j := i; j < len(encs); j++ {
			e := &encs[j]
			e.URL, e.Type, e.Title = asciiURL(clean(e.URL)), clean(e.Type), clean(e.Title)
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
		if !story.IsClean(s) {
			return true
		}
	}
	return false
}

func dirtyAuthor(as []story.Author) int {
	for i, a := range as {
		if dirty(a.Name, a.Email, a.URL) || asciiURL(a.URL) != a.URL {
			return i
		}
	}
	return -1
}

func dirtyEnclosure(es []story.Enclosure) int {
	for i, e := range es {
		if dirty(e.URL, e.Type, e.Title) || asciiURL(e.URL) != e.URL {
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
