package render

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"io"
	"time"

	"github.com/gorilla/feeds"
)

// jsonFeed fixes gorilla's feed object: "items" is required even when empty
// (G9), and the deprecated "author" is dropped (G12).
type jsonFeed struct {
	*feeds.JSONFeed
	Author   any                `json:"author,omitempty"` // always nil: shadows the deprecated field
	Newsdesk *jsonFeedExtension `json:"_newsdesk,omitempty"`
	Items    []*jsonItem        `json:"items"` // no omitempty; the last key (see writeJSON)
}

// jsonFeedExtension is the feed's "_newsdesk" object: on a ?since page, the
// sequence number to continue from.
type jsonFeedExtension struct {
	Since uint64 `json:"since"`
}

// jsonItem shadows the item fields gorilla gets wrong: dates with
// nanoseconds and offsets, "size" for "size_in_bytes" and an int32 (G10),
// and no attachment titles or durations, language or source at all.
// content_html and content_text are gorilla's, both omitempty: an item
// always has exactly one of them, never an empty one.
type jsonItem struct {
	*feeds.JSONItem
	Author      any              `json:"author,omitempty"` // always nil
	Published   string           `json:"date_published,omitempty"`
	Modified    string           `json:"date_modified,omitempty"`
	Attachments []jsonAttachment `json:"attachments,omitempty"`
	Language    string           `json:"language,omitempty"`
	Newsdesk    *jsonExtension   `json:"_newsdesk,omitempty"`
}

type jsonAttachment struct {
	URL      string  `json:"url"`
	MIMEType string  `json:"mime_type"`
	Title    string  `json:"title,omitempty"`
	Size     int64   `json:"size_in_bytes,omitempty"`
	Duration float64 `json:"duration_in_seconds,omitempty"`
}

// jsonExtension is an item's "_newsdesk" object: where the story came from,
// the other sources that carried it, and its sequence number (the ?since
// cursor). Readers ignore unknown "_" keys.
type jsonExtension struct {
	Source *jsonSource `json:"source,omitempty"`
	AlsoIn []jsonRef   `json:"also_in,omitempty"`
	Seq    uint64      `json:"seq,omitempty"`
}

type jsonSource struct {
	Name        string `json:"name,omitempty"`
	Title       string `json:"title,omitempty"`
	URL         string `json:"url,omitempty"`
	HomePageURL string `json:"home_page_url,omitempty"`
}

type jsonRef struct {
	Name  string `json:"name"`
	Title string `json:"title,omitempty"`
}

func writeJSON(w io.Writer, ch Channel, items []item) error {
	base := (&feeds.JSON{Feed: baseFeed(ch, items)}).JSONFeed()
	base.Author = nil
	base.Language = ch.Language
	// feed_url is the subscription, also on a page of it: a reader that
	// subscribes from a page must not subscribe to the page.
	base.FeedUrl = cmp.Or(ch.FeedURL, ch.SelfURL)
	if ch.NextURL != base.FeedUrl {
		base.NextUrl = ch.NextURL // must differ from feed_url
	}
	for _, hub := range ch.HubURLs {
		base.Hubs = append(base.Hubs, &feeds.JSONHub{Type: "WebSub", Url: hub})
	}
	head := &jsonFeed{JSONFeed: base, Items: []*jsonItem{}}
	if ch.Resume {
		head.Newsdesk = &jsonFeedExtension{Since: ch.ResumeSeq}
	}
	feedLang := languageTag(ch.Language)

	// The document is compact, with one item per line: json's Indent pass
	// cost more than the encoding itself, and a line per item still keeps
	// golden-file diffs readable. The feed object is encoded with no items,
	// then its closing "]}" is cut and the items are spliced in.
	var out bytes.Buffer
	enc := json.NewEncoder(&out)
	enc.SetEscapeHTML(false) // valid either way; \u003c triples the size of HTML
	if err := enc.Encode(head); err != nil {
		return err
	}
	const tail = "[]}\n" // "items" is the last key of jsonFeed
	if !bytes.HasSuffix(out.Bytes(), []byte(tail)) {
		return errors.New("json feed object does not end with its items")
	}
	out.Truncate(out.Len() - len(tail))
	out.WriteByte('[')
	for i := range items {
		if i > 0 {
			out.WriteByte(',')
		}
		out.WriteByte('\n')
		if err := enc.Encode(newJSONItem(ch, &items[i], feedLang)); err != nil {
			return err
		}
		out.Truncate(out.Len() - 1) // Encode's newline
	}
	if len(items) > 0 {
		out.WriteByte('\n')
	}
	out.WriteString("]}\n")
	_, err := w.Write(out.Bytes())
	return err
}

func newJSONItem(ch Channel, v *item, feedLang string) *jsonItem {
	s := v.s
	base := &feeds.JSONItem{Id: ch.ItemIDPrefix + s.FeedID(), Url: s.Link, Title: v.title, Summary: v.summaryText(),
		Image: s.Image, Tags: nonEmpty(s.Categories)}
	if v.body != "" {
		base.ContentHTML = v.body
	} else {
		base.ContentText = v.title // content_html or content_text is required, and never empty
	}
	it := &jsonItem{JSONItem: base}
	if lang := languageTag(s.Language); lang != "" && lang != feedLang {
		it.Language = lang
	}
	if !v.published.IsZero() {
		it.Published = v.published.Format(time.RFC3339)
	}
	if !v.updated.IsZero() && !v.updated.Equal(v.published) {
		it.Modified = v.updated.Format(time.RFC3339) // an edit; unedited items leave it out
	}
	for _, a := range s.Authors {
		// An author object needs a name, url or avatar; JSON Feed has no email.
		ja := &feeds.JSONAuthor{Name: a.Name, Url: a.URL}
		if ja.Url == "" && hasEmail(a) {
			ja.Url = "mailto:" + a.Email
		}
		if ja.Name != "" || ja.Url != "" {
			base.Authors = append(base.Authors, ja)
		}
	}
	for _, e := range s.Enclosures {
		it.Attachments = append(it.Attachments, jsonAttachment{URL: e.URL, MIMEType: enclosureType(e), Title: e.Title,
			Size: max(e.Length, 0), Duration: max(e.Duration, 0).Seconds()})
	}
	ext := &jsonExtension{Seq: s.Seq}
	if s.Source != "" || s.SourceURL != "" {
		ext.Source = &jsonSource{Name: s.Source, Title: s.SourceTitle, URL: s.SourceURL, HomePageURL: s.SourceLink}
	}
	for _, r := range s.AlsoIn {
		ext.AlsoIn = append(ext.AlsoIn, jsonRef{Name: r.Source, Title: r.Title})
	}
	if ext.Source != nil || ext.AlsoIn != nil || ext.Seq != 0 {
		it.Newsdesk = ext
	}
	return it
}
