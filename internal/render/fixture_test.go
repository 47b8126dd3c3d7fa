package render_test

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/newsdesk/newsdesk/internal/render"
	"github.com/newsdesk/newsdesk/internal/story"
)

// channel is the topic feed every golden file renders.
func channel() render.Channel {
	return render.Channel{
		ID:           "tag:news.example.org,2026:topic/immigration",
		ItemIDPrefix: "tag:news.example.org,2026:story/",
		Title:        "Immigration — curated",
		Description:  "Asylum, visas & borders, from every source we follow",
		Language:     "en",
		Generator:    "newsdesk",
		Author:       "News Desk",
		HTMLURL:      "https://news.example.org/topics/immigration",
		SelfURL:      "https://news.example.org/topics/immigration/feed.rss",
		FirstURL:     "https://news.example.org/topics/immigration/feed.rss",
		NextURL:      "https://news.example.org/topics/immigration/feed.rss?before=AAAB",
		HubURLs:      []string{"https://hub.example.net/"},
		Updated:      time.Date(2026, 11, 20, 11, 30, 0, 0, time.UTC),
		TTL:          15 * time.Minute,
	}
}

// stories covers what the renderers must get right: hostile content, a
// story with only a summary, enclosures of each kind, authors with and
// without email, a duplicate group, and non-ASCII text.
func stories() []story.Story {
	tokyo := time.FixedZone("JST", 9*3600)
	return []story.Story{
		{
			ID: "0a1b2c3d4e5f60718293a4b5c6d7e8f9", Seq: 42,
			Source: "wire", SourceTitle: "Sample Wire", SourceURL: "https://wire.example.com/feed.xml",
			SourceLink: "https://wire.example.com/",
			Link:       "https://wire.example.com/news/asylum-rules",
			Title:      "Asylum rules: draft < final & what changes",
			Summary:    "<p>Ministers publish the <b>draft</b> rules.</p>",
			Content: "<p>The draft says ]]> is not the end. A stray \x0b control char and an emoji 🛂 " +
				"survive as text.</p><p>Second paragraph &amp; more.</p>",
			SummaryText: "Ministers publish the draft rules.",
			Authors:     []story.Author{{Name: "Ann Reporter", Email: "ann@wire.example.com"}, {Name: "Bo Li"}},
			Categories:  []string{"asylum", "policy", "UK"},
			Enclosures:  []story.Enclosure{{URL: "https://cdn.example.com/photos/rules.jpg", Type: "image/jpeg", Length: 48213}},
			Image:       "https://cdn.example.com/photos/rules-thumb.png",
			Language:    "en",
			Published:   time.Date(2026, 11, 20, 9, 30, 0, 0, time.UTC),
			Updated:     time.Date(2026, 11, 20, 10, 15, 0, 500, time.UTC),
			AlsoIn: []story.Ref{
				{Source: "daily", Title: "The Daily <Courier>", ID: "ffeeddccbbaa99887766554433221100"},
				{Source: "radio", Title: "Radio Nord", ID: "00112233445566778899aabbccddeeff"},
			},
		},
		{
			ID: "1b2c3d4e5f60718293a4b5c6d7e8f90a", Seq: 43,
			Source: "radio", SourceTitle: "Radio Nord", SourceURL: "https://radio.example.net/podcast.rss",
			SourceLink:  "https://radio.example.net/",
			Link:        "https://radio.example.net/ep/117",
			Title:       "Grenzübergänge: Überblick über die neue Visa-Praxis",
			Summary:     "Eine Folge über Visa und Grenzen.",
			SummaryText: "Eine Folge über Visa und Grenzen.",
			Authors:     []story.Author{{Email: "desk@radio.example.net"}},
			Categories:  []string{"visa", "Grenze"},
			Enclosures: []story.Enclosure{
				{URL: "https://radio.example.net/media/117.mp3", Type: "audio/mpeg", Length: 31457280},
				{URL: "https://radio.example.net/media/117.ogg"},
			},
			Language:  "de",
			Published: time.Date(2026, 11, 20, 17, 0, 0, 0, tokyo),
		},
		{
			ID: "2c3d4e5f60718293a4b5c6d7e8f90a1b", Seq: 44,
			Source: "asia", SourceTitle: "アジア通信", SourceURL: "https://asia.example.jp/rss",
			SourceLink:  "https://asia.example.jp/",
			Link:        "https://asia.example.jp/articles/2026/11/border",
			Title:       "入国管理：新しい規則が発表された",
			Content:     "<p>日本語の本文。<a href=\"https://asia.example.jp/more?a=1&amp;b=2\">詳細</a></p>",
			ContentText: "日本語の本文。詳細",
			Image:       "https://asia.example.jp/img/lead",
			Language:    "ja",
			Published:   time.Date(2026, 11, 19, 23, 0, 0, 0, time.UTC),
			Updated:     time.Date(2026, 11, 19, 23, 0, 0, 0, time.UTC),
		},
		{
			ID:     "3d4e5f60718293a4b5c6d7e8f90a1b2c",
			Source: "notes", SourceTitle: "", SourceURL: "file:///feeds/notes.json",
			Title:       "Untitled\x01 note without a link",
			Summary:     "Short note &amp; nothing more.",
			SummaryText: "Short note & nothing more.",
			FirstSeen:   time.Date(2026, 11, 18, 8, 0, 0, 0, time.UTC),
		},
	}
}

// benchWords is the text of the bundled sample feeds (../../feeds), word by
// word: drawn at random it has news text's word frequencies, so the
// benchmark documents compress like real ones (about 3:1). A short
// repeated word list compresses 5:1 and makes gzip's match search
// pathologically slow, which misstates both the bytes and the time.
func benchWords() []string {
	paths, _ := filepath.Glob(filepath.Join("..", "..", "feeds", "*.*"))
	var words []string
	for _, p := range paths {
		if strings.HasSuffix(p, ".md") {
			continue
		}
		b, err := os.ReadFile(p)
		if err != nil {
			panic(err)
		}
		text := regexp.MustCompile(`<[^>]*>`).ReplaceAll(b, []byte(" "))
		words = append(words, regexp.MustCompile(`[A-Za-z]{2,}`).FindAllString(string(text), -1)...)
	}
	if len(words) < 1000 {
		panic("the bundled feeds hold too few words for the benchmark text")
	}
	return words
}

// bigStories returns n stories of realistic size (about 6 KB of HTML each)
// for the benchmarks.
func bigStories(n int) []story.Story {
	words := benchWords()
	rng := rand.New(rand.NewPCG(1, 2))
	text := func(words_ int) string {
		var b strings.Builder
		for i := range words_ {
			if i > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(words[rng.IntN(len(words))])
		}
		return b.String()
	}
	out := make([]story.Story, n)
	base := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	for i := range out {
		var body strings.Builder
		for j := range 8 {
			fmt.Fprintf(&body, "<p>%s <a href=\"https://wire.example.com/ref/%d/%d\">%s</a> &amp; %s.</p>\n",
				text(45), i, j, text(3), text(40))
		}
		summary := text(30)
		out[i] = story.Story{
			ID: story.NewID("wire", fmt.Sprint(i)), Seq: uint64(i + 1),
			Source: "wire", SourceTitle: "Sample Wire", SourceURL: "https://wire.example.com/feed.xml",
			SourceLink:  "https://wire.example.com/",
			Link:        fmt.Sprintf("https://wire.example.com/news/%d", i),
			Title:       fmt.Sprintf("Story %d: %s", i, text(8)),
			Summary:     "<p>" + summary + "</p>",
			SummaryText: summary,
			Content:     body.String(),
			ContentText: strings.Join(strings.Fields(regexp.MustCompile(`<[^>]*>`).ReplaceAllString(body.String(), "")), " "),
			Authors:     []story.Author{{Name: "Ann Reporter"}},
			Categories:  []string{"asylum", "visa", "policy"},
			Enclosures:  []story.Enclosure{{URL: fmt.Sprintf("https://cdn.example.com/%d.jpg", i), Type: "image/jpeg"}},
			Image:       fmt.Sprintf("https://cdn.example.com/%d-thumb.jpg", i),
			Language:    "en",
			Published:   base.Add(-time.Duration(i) * time.Hour),
			Updated:     base.Add(-time.Duration(i) * time.Hour),
		}
	}
	return out
}
