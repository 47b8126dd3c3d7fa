package server_test

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mmcdole/gofeed"
	"github.com/mmcdole/gofeed/atom"
	"github.com/mmcdole/gofeed/rss"

	"github.com/newsdesk/newsdesk/internal/feedcheck"
	"github.com/newsdesk/newsdesk/internal/fetch"
	"github.com/newsdesk/newsdesk/internal/ingest"
	"github.com/newsdesk/newsdesk/internal/server"
	"github.com/newsdesk/newsdesk/internal/store/bolt"
	"github.com/newsdesk/newsdesk/internal/story"
	"github.com/newsdesk/newsdesk/internal/topic"
)

// Issue 8's serving details, end to end: upstream documents written for
// each class (testdata/fidelity) are fetched from a loopback upstream by the
// real fetcher, parsed, classified and stored by the real ingester, served
// by the server, and read back by gofeed's parsers, feedcheck, jing (Atom,
// when installed) and feedparser (when installed), never by matching our
// own bytes.

type served struct {
	ts     *httptest.Server
	client *http.Client
}

func newServed(t *testing.T) *served {
	t.Helper()
	up := httptest.NewServer(http.FileServer(http.Dir(filepath.Join("testdata", "fidelity"))))
	t.Cleanup(up.Close)
	db, err := bolt.Open(filepath.Join(t.TempDir(), "news.db"), bolt.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	topics := topic.NewSet(mustTopic(t, topic.Definition{Slug: "all", Title: "Everything",
		Rule: topic.Rule{In: []topic.Field{topic.SourceName}, Any: []topic.Rule{{Term: "wire"}, {Term: "pod"}}}}))
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	fc := fetch.New(fetch.Options{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}})
	in := ingest.New(fc, db, topics, log, ingest.Options{MinInterval: time.Second})
	sources := []story.Source{
		{Name: "wire", Title: "Wire Desk", URL: up.URL + "/wire.atom"},
		{Name: "pod", Title: "Pod Desk", URL: up.URL + "/pod.rss"},
	}
	for _, rep := range in.RefreshAll(t.Context(), sources, true, nil) {
		if rep.Err != "" || rep.Stories != 5 {
			t.Fatalf("refresh %s: %s, %d stories (%s)", rep.Source, rep.Status, rep.Stories, rep.Err)
		}
	}
	srv := server.New(server.Options{DB: db, Site: site, Topics: topics, Log: log})
	s := &served{ts: httptest.NewServer(srv), client: &http.Client{}}
	t.Cleanup(s.ts.Close)
	return s
}

// get fetches path and checks the document with every checker for its format.
func (s *served) get(t *testing.T, path string) []byte {
	t.Helper()
	res, err := s.client.Get(s.ts.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	doc, err := io.ReadAll(res.Body)
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s %v", path, res.Status, err)
	}
	switch {
	case strings.Contains(path, ".rss"):
		err = feedcheck.RSS(doc)
	case strings.Contains(path, ".atom"):
		err = feedcheck.Atom(doc)
	default:
		err = feedcheck.JSONFeed(doc)
	}
	if err != nil {
		t.Errorf("GET %s fails its checks:\n%v", path, err)
	}
	if !strings.Contains(path, ".json") && feedcheck.HaveFeedparser() {
		if _, err := feedcheck.Feedparser(doc); err != nil {
			t.Errorf("GET %s: feedparser: %v", path, err)
		}
	}
	return doc
}

func universal(t *testing.T, doc []byte) *gofeed.Feed {
	t.Helper()
	f, err := gofeed.NewParser().Parse(bytes.NewReader(doc))
	if err != nil {
		t.Fatalf("gofeed: %v", err)
	}
	return f
}

func itemByLink(t *testing.T, f *gofeed.Feed, link string) *gofeed.Item {
	t.Helper()
	for _, it := range f.Items {
		if it.Link == link {
			return it
		}
	}
	t.Fatalf("no item links %s", link)
	return nil
}

func TestServedFidelity(t *testing.T) {
	s := newServed(t)
	exts := []string{"rss", "atom", "json"}
	docs := map[string][]byte{}
	for _, ext := range exts {
		docs[ext] = s.get(t, "/topics/all."+ext)
	}
	if n := len(universal(t, docs["rss"]).Items); n != 10 {
		t.Fatalf("served %d items, want the 10 upstream entries", n)
	}

	t.Run("rss description before content:encoded", func(t *testing.T) {
		dec := xml.NewDecoder(bytes.NewReader(docs["rss"]))
		var seen []string
		for {
			tok, err := dec.Token()
			if err != nil {
				break
			}
			switch tok := tok.(type) {
			case xml.StartElement:
				if tok.Name.Local == "item" {
					seen = []string{}
				} else if seen != nil {
					seen = append(seen, tok.Name.Local)
				}
			case xml.EndElement:
				if tok.Name.Local != "item" {
					continue
				}
				d, c := slices.Index(seen, "description"), slices.Index(seen, "encoded")
				if d >= 0 && c >= 0 && d > c {
					t.Errorf("item %q: description after content:encoded", seen)
				}
				if !slices.Contains(seen, "title") && d < 0 {
					t.Errorf("item %q has neither title nor description", seen)
				}
				seen = nil
			}
		}
	})

	t.Run("rss authors", func(t *testing.T) {
		feed, err := (&rss.Parser{}).Parse(bytes.NewReader(docs["rss"]))
		if err != nil {
			t.Fatal(err)
		}
		email := regexp.MustCompile(`^[^\s@()]+@[^\s@()]+( \([^()]+\))?$`)
		want := map[string]struct {
			author   string
			creators []string
		}{
			"https://wire.example.com/a/1": {"ann@wire.example.com (Ann Reporter)", []string{"Bo Li"}},
			"https://pod.example.com/e/1":  {"desk@pod.example.com (Pod Desk)", nil},
			"https://pod.example.com/e/2":  {"", []string{"Jane Roe"}},
		}
		for _, it := range feed.Items {
			var creators []string
			if it.DublinCoreExt != nil {
				creators = it.DublinCoreExt.Creator
			}
			if it.Author != "" && !email.MatchString(it.Author) {
				t.Errorf("%s: <author> %q is not \"email (Name)\"", it.Link, it.Author)
			}
			for _, c := range creators {
				if it.Author != "" && strings.Contains(it.Author, "("+c+")") {
					t.Errorf("%s: %q is both <author> and <dc:creator>", it.Link, c)
				}
			}
			if w, ok := want[it.Link]; ok && (it.Author != w.author || !slices.Equal(creators, w.creators)) {
				t.Errorf("%s: author %q, dc:creator %q; want %q, %q", it.Link, it.Author, creators, w.author, w.creators)
			}
		}
	})

	t.Run("atom source is the upstream feed", func(t *testing.T) {
		feed, err := (&atom.Parser{}).Parse(bytes.NewReader(docs["atom"]))
		if err != nil {
			t.Fatal(err)
		}
		wire := 0
		for _, e := range feed.Entries {
			if e.Source == nil {
				t.Errorf("entry %q has no <source>", e.Title)
				continue
			}
			if strings.HasPrefix(e.Links[0].Href, "https://wire.example.com/") {
				wire++
				if e.Source.ID != "urn:uuid:5f1c7a52-2a47-4d0e-9f7e-0c6f4d1f2e01" || e.Source.Updated != "2026-03-14T10:00:00Z" {
					t.Errorf("entry %q: <source> id %q updated %q, want the upstream feed's own", e.Title, e.Source.ID, e.Source.Updated)
				}
			}
			if strings.Contains(e.Source.ID, s.ts.URL) || strings.Contains(e.Source.ID, "127.0.0.1") {
				t.Errorf("entry %q: <source> id %q is our fetch URL", e.Title, e.Source.ID)
			}
		}
		if wire != 5 {
			t.Errorf("%d entries from the Atom upstream, want 5", wire)
		}
	})

	t.Run("json feed_url of a page is the feed's", func(t *testing.T) {
		var paths []string
		for path := "/topics/all.json?limit=3"; path != "" && len(paths) < 6; {
			paths = append(paths, path)
			var page struct {
				FeedURL string `json:"feed_url"`
				NextURL string `json:"next_url"`
			}
			if err := json.Unmarshal(s.get(t, path), &page); err != nil {
				t.Fatal(err)
			}
			if page.FeedURL != publicURL+"/topics/all.json" {
				t.Errorf("%s: feed_url %q, want the feed's own URL", path, page.FeedURL)
			}
			path = strings.TrimPrefix(page.NextURL, publicURL)
		}
		if len(paths) < 3 {
			t.Errorf("walked %q, want several pages", paths)
		}
		var since struct {
			FeedURL string `json:"feed_url"`
		}
		if err := json.Unmarshal(s.get(t, "/topics/all.json?since=2"), &since); err != nil || since.FeedURL != publicURL+"/topics/all.json" {
			t.Errorf("since page feed_url %q (%v)", since.FeedURL, err)
		}
	})

	t.Run("a since page carries its cursor", func(t *testing.T) {
		for _, ext := range []string{"rss", "atom"} {
			feed := universal(t, s.get(t, "/topics/all."+ext+"?since=0&limit=4"))
			cursor := feed.Extensions["nd"]["since"]
			if len(cursor) != 1 || len(feed.Items) != 4 {
				t.Fatalf("%s: nd:since %+v, %d items", ext, cursor, len(feed.Items))
			}
			max := ""
			for _, it := range feed.Items {
				seq := it.Extensions["nd"]["seq"]
				if len(seq) != 1 {
					t.Fatalf("%s: item %q has no nd:seq", ext, it.Title)
				}
				if len(seq[0].Value) > len(max) || len(seq[0].Value) == len(max) && seq[0].Value > max {
					max = seq[0].Value
				}
			}
			if cursor[0].Value != max {
				t.Errorf("%s: nd:since = %s, want the page's highest sequence %s", ext, cursor[0].Value, max)
			}
			rest := universal(t, s.get(t, "/topics/all."+ext+"?since="+cursor[0].Value))
			if len(rest.Items) != 6 {
				t.Errorf("%s: continuing from %s gives %d items, want the other 6", ext, cursor[0].Value, len(rest.Items))
			}
		}
	})

	t.Run("every item has a title", func(t *testing.T) {
		want := map[string]string{
			"https://wire.example.com/a/2":                                      "Ministers met on Tuesday.",   // first sentence
			"https://wire.example.com/2026/03/harbour-reopens-after-storm.html": "harbour reopens after storm", // link's last segment
			"https://pod.example.com/":                                          "episode-12.mp3",              // enclosure's file name
		}
		for _, ext := range exts {
			doc := docs[ext]
			feed := universal(t, doc)
			for link, title := range want {
				if got := itemByLink(t, feed, link).Title; got != title {
					t.Errorf("%s: %s titled %q, want %q", ext, link, got, title)
				}
			}
			for _, it := range feed.Items {
				if strings.TrimSpace(it.Title) == "" {
					t.Errorf("%s: item %s has no title", ext, it.Link)
				}
			}
			for _, empty := range []string{"<title></title>", "<title/>", "<content></content>", `<content type="html"></content>`,
				`<content type="text"></content>`, `<content type="html"/>`, "<description></description>",
				`"content_html":""`, `"content_text":""`, `"title":""`} {
				if bytes.Contains(doc, []byte(empty)) {
					t.Errorf("%s contains %s", ext, empty)
				}
			}
		}
	})

	t.Run("images are not enclosures", func(t *testing.T) {
		images := map[string]string{
			"https://wire.example.com/a/4": "https://images.example.com/photo",        // inline <img>
			"https://wire.example.com/a/5": "https://images.example.com/thumbs/5",     // media:thumbnail
			"https://pod.example.com/e/4":  "https://images.example.com/covers/4.jpg", // itunes:image
		}
		for _, ext := range exts {
			feed := universal(t, docs[ext])
			for link, want := range images {
				it := itemByLink(t, feed, link)
				if len(it.Enclosures) != 0 {
					t.Errorf("%s: %s has enclosure %+v the upstream did not declare", ext, link, it.Enclosures[0])
				}
				var got string
				if ext == "json" {
					if it.Image != nil {
						got = it.Image.URL
					}
				} else if th := it.Extensions["media"]["thumbnail"]; len(th) == 1 {
					got = th[0].Attrs["url"]
				}
				if got != want {
					t.Errorf("%s: %s image %q, want %q", ext, link, got, want)
				}
			}
			declared := itemByLink(t, feed, "https://pod.example.com/e/5")
			if len(declared.Enclosures) != 1 || declared.Enclosures[0].Type != "application/octet-stream" {
				t.Errorf("%s: the declared untyped enclosure is %+v, want it kept with no type guessed from its URL", ext, declared.Enclosures)
			}
		}
	})
}
