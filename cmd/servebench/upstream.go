package main

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// corpus makes upstream text: words drawn from the bundled sample feeds with
// their own frequencies, so the documents compress like news text (about
// 3:1), not like a short repeated word list.
type corpus struct {
	words []string
	rng   *rand.Rand
}

// newCorpus reads every word of the bundled feeds/ under root.
func newCorpus(root string) (*corpus, error) {
	paths, err := filepath.Glob(filepath.Join(root, "feeds", "*.*"))
	if err != nil {
		return nil, err
	}
	c := &corpus{rng: rand.New(rand.NewPCG(11, 12))}
	for _, p := range paths {
		if strings.HasSuffix(p, ".md") {
			continue
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, err
		}
		c.words = append(c.words, textWords(b)...)
	}
	if len(c.words) < 100 {
		return nil, fmt.Errorf("found only %d words in %s/feeds", len(c.words), root)
	}
	return c, nil
}

// textWords returns the runs of letters outside markup.
func textWords(b []byte) []string {
	var out []string
	inTag := false
	start := -1
	for i, c := range b {
		letter := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
		switch {
		case c == '<':
			inTag = true
		case c == '>':
			inTag = false
		}
		if letter && !inTag {
			if start < 0 {
				start = i
			}
			continue
		}
		if start >= 0 {
			if i-start > 1 {
				out = append(out, string(b[start:i]))
			}
			start = -1
		}
	}
	return out
}

func (c *corpus) text(n int) string {
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(c.words[c.rng.IntN(len(c.words))])
	}
	return b.String()
}

// benchEpoch is the newest item's date: fixed, so runs render alike.
var benchEpoch = time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)

// feedSpec describes one generated upstream RSS feed.
type feedSpec struct {
	name       string   // source name, part of every link
	items      int      // how many items
	itemBytes  int      // about this much HTML content per item
	categories []string // every item carries these (topic rules match on them)
	offset     time.Duration
}

// rss renders the feed: RSS 2.0 with full content, the shape of a
// newspaper's feed.
func (c *corpus) rss(f feedSpec) []byte {
	var b bytes.Buffer
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	b.WriteString(`<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel>`)
	fmt.Fprintf(&b, "<title>%s</title><link>https://%s.example.com/</link><description>Generated upstream %s</description>\n",
		f.name, f.name, f.name)
	for i := range f.items {
		link := fmt.Sprintf("https://%s.example.com/news/%d", f.name, i)
		b.WriteString("<item>")
		fmt.Fprintf(&b, "<title>%s</title><link>%s</link><guid>%s</guid>", esc(c.text(9)), link, link)
		fmt.Fprintf(&b, "<pubDate>%s</pubDate>", benchEpoch.Add(-f.offset-time.Duration(i)*time.Minute).Format(time.RFC1123Z))
		fmt.Fprintf(&b, "<author>desk@%s.example.com (%s)</author>", f.name, esc(c.text(2)))
		for _, cat := range f.categories {
			fmt.Fprintf(&b, "<category>%s</category>", esc(cat))
		}
		fmt.Fprintf(&b, "<description>%s</description>", esc("<p>"+c.text(30)+"</p>"))
		b.WriteString("<content:encoded><![CDATA[")
		for n, j := 0, 0; n < f.itemBytes; j++ {
			p := fmt.Sprintf("<p>%s <a href=\"https://%s.example.com/ref/%d/%d\">%s</a>, %s.</p>\n",
				c.text(45), f.name, i, j, c.text(3), c.text(40))
			b.WriteString(p)
			n += len(p)
		}
		b.WriteString("]]></content:encoded></item>\n")
	}
	b.WriteString("</channel></rss>\n")
	return b.Bytes()
}

func esc(s string) string {
	var b strings.Builder
	xml.EscapeText(&b, []byte(s))
	return b.String()
}
