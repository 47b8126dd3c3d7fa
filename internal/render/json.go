package render

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"time"

	"github.com/gorilla/feeds"

	"github.com/newsdesk/newsdesk/internal/story"
)

// jsonFeed fixes gorilla's feed object: "items" is required even when empty
// (G9), and the deprecated "author" is dropped (G12).
type jsonFeed struct {
	*feeds.JSONFeed
	Author any         `json:"author,omitempty"` // always nil: shadows the deprecated field
	Items  []*jsonItem `json:"items"`            // no omitempty
}

// jsonItem shadows the item fields gorilla gets wrong: HTML in "summary"
// (G11), dates with nanoseconds and offsets, "size" for "size_in_bytes" and
// an int32 (G10), and no attachments, language or source at all.
type jsonItem struct {
	*feeds.JSONItem
	Author      any              `json:"author,omitempty"` // always nil
	ContentHTML string           `json:"content_html"`     // required (or content_text): never omitted
	Published   string           `json:"date_published,omitempty"`
	Modified    string           `json:"date_modified,omitempty"`
	Attachments []jsonAttachment `json:"attachments,omitempty"`
	Language    string           `json:"language,omitempty"`
	Newsdesk    *jsonExtension   `json:"_newsdesk,omitempty"`
}

type jsonAttachment struct {
	URL      string `json:"url"`
	MIMEType string `json:"mime_type"`
	Size     int64  `json:"size_in_bytes,omitempty"`
}

// jsonExtension is our "_newsdesk" object: where the story came from, and
// the other sources that carried it. Readers ignore unknown "_" keys.
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

func writeJSON(w io.Writer, ch Channel, stories []story.Story) error {
	base := (&feeds.JSON{Feed: baseFeed(ch, stories)}).JSONFeed()
	base.Author = nil
	base.Language = ch.Language
	base.FeedUrl = ch.SelfURL
	if ch.NextURL != ch.SelfURL {
		base.NextUrl = ch.NextURL // must differ from feed_url
	}
	for _, hub := range ch.HubURLs {
		base.Hubs = append(base.Hubs, &feeds.JSONHub{Type: "WebSub", Url: hub})
	}
	items := make([]*jsonItem, len(stories))
	for i, it := range base.Items {
		items[i] = newJSONItem(it, &stories[i])
	}
	base.Items = nil

	// The document is compact, with one item per line: json's Indent pass
	// cost more than the encoding itself, and a line per item still keeps
	// golden-file diffs readable. The feed object is encoded with no items,
	// then its closing "]}" is cut and the items are spliced in.
	var out bytes.Buffer
	enc := json.NewEncoder(&out)
	enc.SetEscapeHTML(false) // valid either way; \u003c triples the size of HTML
	if err := enc.Encode(&jsonFeed{JSONFeed: base, Items: []*jsonItem{}}); err != nil {
		return err
	}
	const tail = "[]}\n" // "items" is the last key of jsonFeed
	if !bytes.HasSuffix(out.Bytes(), []byte(tail)) {
		return errors.New("json feed object does not end with its items")
	}
	out.Truncate(out.Len() - len(tail))
	out.WriteByte('[')
	for i, it := range items {
		if i > 0 {
			out.WriteByte(',')
		}
		out.WriteByte('\n')
		if err := enc.Encode(it); err != nil {
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

func newJSONItem(base *feeds.JSONItem, s *story.Story) *jsonItem {
	it := &jsonItem{JSONItem: base, ContentHTML: contentHTML(s), Language: s.Language}
	base.Author = nil
	base.Summary = s.SummaryText // plain text only
	base.Image = s.Image
	base.Tags = s.Categories
	base.PublishedDate, base.ModifiedDate = nil, nil
	if t := storyPublished(s); !t.IsZero() {
		it.Published = t.Format(time.RFC3339)
	}
	if t := storyUpdated(s); !t.IsZero() {
		it.Modified = t.Format(time.RFC3339)
	}
	base.Authors = nil
	for _, a := range s.Authors {
		// An author object needs a name, url or avatar; JSON Feed has no email.
		ja := &feeds.JSONAuthor{Name: a.Name, Url: a.URL}
		if ja.Url == "" && strings.Contains(a.Email, "@") {
			ja.Url = "mailto:" + a.Email
		}
		if ja.Name != "" || ja.Url != "" {
			base.Authors = append(base.Authors, ja)
		}
	}
	for _, e := range s.Enclosures {
		it.Attachments = append(it.Attachments, jsonAttachment{URL: e.URL, MIMEType: enclosureType(e), Size: max(e.Length, 0)})
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
