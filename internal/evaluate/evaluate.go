// Package evaluate scores a config's topics against stories an editor has
// labelled: per topic true and false positives and false negatives,
// precision, recall and F1, their micro and macro averages, and every story
// filed wrongly with the clause that took it in or the nearest miss. It is
// the admin's tool for changing rules without guessing (newsdesk eval).
//
// Labelled stories reach the topics as a feed's would: each becomes an RSS
// item read by parse, so entities, markup and odd spaces in a labelled
// title or summary are what they would be in a feed.
package evaluate

import (
	"bufio"
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/newsdesk/newsdesk/internal/parse"
	"github.com/newsdesk/newsdesk/internal/story"
	"github.com/newsdesk/newsdesk/internal/topic"
)

// Labelled is one line of a labelled file (JSON Lines).
type Labelled struct {
	ID         string    `json:"id"`
	Title      string    `json:"title"`
	Summary    string    `json:"summary,omitempty"` // as a feed's description: HTML or text
	Content    string    `json:"content,omitempty"` // optional full text, as content:encoded
	Categories []string  `json:"categories,omitempty"`
	Source     string    `json:"source,omitempty"` // source name, for topics limited to some sources
	Link       string    `json:"link,omitempty"`
	Published  time.Time `json:"published,omitzero"`
	Topics     []string  `json:"topics"` // the topics the story belongs to; empty for none
	Line       int       `json:"-"`      // line in the file, from Read
}

// maxLine bounds one line of a labelled file.
const maxLine = 1 << 20

// Read reads a labelled file: one JSON object per line, blank lines and
// lines starting with # skipped. Unknown keys, a missing id or title,
// duplicate ids and malformed lines are errors naming their line; every
// one is reported.
func Read(r io.Reader) ([]Labelled, error) {
	var (
		out  []Labelled
		errs []error
		seen = map[string]int{}
	)
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), maxLine)
	n := 0
	for sc.Scan() {
		n++
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 || line[0] == '#' {
			continue
		}
		var l Labelled
		dec := json.NewDecoder(bytes.NewReader(line))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&l); err != nil {
			errs = append(errs, fmt.Errorf("line %d: %w", n, err))
			continue
		}
		if dec.More() {
			errs = append(errs, fmt.Errorf("line %d: more than one JSON value on the line", n))
			continue
		}
		l.Line = n
		switch {
		case strings.TrimSpace(l.ID) == "":
			errs = append(errs, fmt.Errorf("line %d: no id", n))
			continue
		case strings.TrimSpace(l.Title) == "":
			errs = append(errs, fmt.Errorf("line %d: story %q has no title", n, l.ID))
			continue
		}
		if first, dup := seen[l.ID]; dup {
			errs = append(errs, fmt.Errorf("line %d: id %q is already used on line %d", n, l.ID, first))
			continue
		}
		seen[l.ID] = n
		out = append(out, l)
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			err = fmt.Errorf("longer than %d bytes", maxLine)
		}
		errs = append(errs, fmt.Errorf("line %d: %w", n+1, err))
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return out, nil
}

// Score counts one topic's outcomes (or all topics', for the micro
// average). Precision is 1 when nothing was filed, recall 1 when nothing
// was labelled: no story was filed wrongly, or missed.
type Score struct {
	TP, FP, FN int
	Precision  float64
	Recall     float64
	F1         float64
}

func (s *Score) finish() {
	s.Precision, s.Recall = 1, 1
	if s.TP+s.FP > 0 {
		s.Precision = float64(s.TP) / float64(s.TP+s.FP)
	}
	if s.TP+s.FN > 0 {
		s.Recall = float64(s.TP) / float64(s.TP+s.FN)
	}
	s.F1 = 0
	if s.Precision+s.Recall > 0 {
		s.F1 = 2 * s.Precision * s.Recall / (s.Precision + s.Recall)
	}
}

// TopicScore is one topic's score.
type TopicScore struct {
	Slug     string
	Labelled int // stories labelled with the topic
	Score
}

// Miss is one story some topic got wrong.
type Miss struct {
	ID, Title string
	Line      int
	Want, Got []string
	Why       []Why // one per topic gotten wrong, in set order
}

// Why explains one topic's wrong decision on a story.
type Why struct {
	Topic  string
	Filed  bool   // true: filed though not labelled (a false positive); false: missed
	Reason string // the clause that took the story in, or the nearest miss
}

// Report is the outcome of Run.
type Report struct {
	Stories int // scored
	// Unlabelled counts the stories labelled with no topic; Stray lists those of them a
	// topic took in.
	Unlabelled int
	Topics     []TopicScore // in config order
	Micro      Score        // over every topic decision
	Macro      Score        // mean of the topics' precision, recall and F1 (counts are sums)
	Stray      []Miss
	Wrong      []Miss // stories labelled with some topic and classified otherwise
}

// Run classifies the labelled stories with set and scores the outcome. A
// label naming no topic of the set is an error: it is a typo far more often
// than a topic left out on purpose.
func Run(set *topic.Set, labelled []Labelled) (*Report, error) {
	known := map[string]bool{}
	var slugs []string
	for _, t := range set.Topics() {
		known[t.Slug] = true
		slugs = append(slugs, t.Slug)
	}
	var errs []error
	for _, l := range labelled {
		for _, s := range l.Topics {
			if !known[s] {
				errs = append(errs, fmt.Errorf("line %d: topic %q is not in the config (topics: %s)", l.Line, s, strings.Join(slugs, ", ")))
			}
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	stories, err := asStories(labelled)
	if err != nil {
		return nil, err
	}
	rep := &Report{Stories: len(labelled), Topics: make([]TopicScore, len(set.Topics()))}
	for i, t := range set.Topics() {
		rep.Topics[i].Slug = t.Slug
	}
	for i, l := range labelled {
		s := stories[i]
		got := set.Classify(s)
		if len(l.Topics) == 0 {
			rep.Unlabelled++
		}
		m := Miss{ID: l.ID, Title: l.Title, Line: l.Line, Want: l.Topics, Got: got}
		for j, t := range set.Topics() {
			want, have := slices.Contains(l.Topics, t.Slug), slices.Contains(got, t.Slug)
			ts := &rep.Topics[j]
			if want {
				ts.Labelled++
			}
			switch {
			case want && have:
				ts.TP++
			case have:
				ts.FP++
				m.Why = append(m.Why, Why{Topic: t.Slug, Filed: true, Reason: t.Explain(s).Reason})
			case want:
				ts.FN++
				m.Why = append(m.Why, Why{Topic: t.Slug, Reason: t.Explain(s).Reason})
			}
		}
		switch {
		case len(m.Why) == 0:
		case len(l.Topics) == 0:
			rep.Stray = append(rep.Stray, m)
		default:
			rep.Wrong = append(rep.Wrong, m)
		}
	}
	for i := range rep.Topics {
		ts := &rep.Topics[i]
		ts.finish()
		rep.Micro.TP += ts.TP
		rep.Micro.FP += ts.FP
		rep.Micro.FN += ts.FN
		rep.Macro.Precision += ts.Precision
		rep.Macro.Recall += ts.Recall
		rep.Macro.F1 += ts.F1
	}
	rep.Micro.finish()
	rep.Macro.TP, rep.Macro.FP, rep.Macro.FN = rep.Micro.TP, rep.Micro.FP, rep.Micro.FN
	if n := float64(len(rep.Topics)); n > 0 {
		rep.Macro.Precision /= n
		rep.Macro.Recall /= n
		rep.Macro.F1 /= n
	}
	return rep, nil
}

// feedBase is the made-up address the labelled stories are parsed from.
const feedBase = "https://labelled.invalid/"

// asStories turns labelled stories into stories the way ingest does: one
// RSS 2.0 document of them, read by parse.
func asStories(labelled []Labelled) ([]story.Story, error) {
	var b bytes.Buffer
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n" +
		`<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel>` +
		`<title>labelled stories</title><link>` + feedBase + `</link><description>newsdesk eval</description>` + "\n")
	el := func(name, text string) {
		b.WriteString("<" + name + ">")
		xml.EscapeText(&b, []byte(text)) // a bytes.Buffer cannot fail
		b.WriteString("</" + name + ">")
	}
	for i, l := range labelled {
		b.WriteString("<item>")
		el("title", l.Title)
		// The item's guid is its index: a label's id may hold what XML
		// cannot carry, and is not the story's business anyway.
		fmt.Fprintf(&b, `<guid isPermaLink="false">%d</guid>`, i)
		if l.Summary != "" {
			el("description", l.Summary)
		}
		if l.Content != "" {
			el("content:encoded", l.Content)
		}
		if l.Link != "" {
			el("link", l.Link)
		}
		for _, c := range l.Categories {
			el("category", c)
		}
		if !l.Published.IsZero() {
			el("pubDate", l.Published.UTC().Format(time.RFC1123Z))
		}
		b.WriteString("</item>\n")
	}
	b.WriteString("</channel></rss>\n")
	src := story.Source{Name: "labelled", Title: "Labelled stories", URL: feedBase + "feed.xml"}
	feed, err := parse.Stories(parse.Input{Source: src, Body: b.Bytes(), ContentType: "application/rss+xml; charset=utf-8",
		URL: src.URL}, time.Now())
	if err != nil {
		return nil, fmt.Errorf("read labelled stories as a feed: %w", err)
	}
	byGUID := make(map[string]story.Story, len(feed.Stories))
	for _, s := range feed.Stories {
		byGUID[s.GUID] = s
	}
	out := make([]story.Story, len(labelled))
	for i, l := range labelled {
		s, ok := byGUID[strconv.Itoa(i)]
		if !ok {
			return nil, fmt.Errorf("line %d: story %q did not come through as a feed item", l.Line, l.ID)
		}
		// The story comes from the source the label names, not from the
		// made-up feed, whose name no rule should see.
		s.Source, s.SourceTitle, s.SourceURL, s.SourceLink = l.Source, "", "", ""
		out[i] = s
	}
	return out, nil
}
