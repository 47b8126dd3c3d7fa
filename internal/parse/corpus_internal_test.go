package parse

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"html"
	"io"
	"io/fs"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mmcdole/gofeed"
	"golang.org/x/net/html/charset"

	"github.com/newsdesk/newsdesk/internal/feedcheck"
	"github.com/newsdesk/newsdesk/internal/render"
	"github.com/newsdesk/newsdesk/internal/story"
)

// TestCorpus measures Stories over a directory of feed documents named by
// NEWSDESK_CORPUS (the public parsers' test suites the team keeps beside the
// repository; a clone has none, so the test skips). It reports documents
// parsed, stories kept against the items gofeed alone finds with any content,
// how many upstream entries that carry a date element have a date after
// parse, and spec checks (feedcheck) of every story rendered through
// internal/render in the three formats; and it fails when fewer than 99.5%
// of dated entries are read.
//
//	NEWSDESK_CORPUS=path/to/corpus go test -run TestCorpus -v ./internal/parse
//
// NEWSDESK_CORPUS_VERBOSE=1 lists each document that loses items or dates,
// or whose rendering breaks a rule.
func TestCorpus(t *testing.T) {
	dir := os.Getenv("NEWSDESK_CORPUS")
	if dir == "" {
		t.Skip("NEWSDESK_CORPUS is not set")
	}
	verbose := os.Getenv("NEWSDESK_CORPUS_VERBOSE") != ""
	var paths []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && !strings.HasSuffix(p, ".md") && !strings.HasSuffix(p, ".tsv") {
			paths = append(paths, p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(paths)
	if len(paths) == 0 {
		t.Fatalf("no documents under %s", dir)
	}

	tally := corpusTally{rules: map[string]int{}}
	atomDocs := map[string][]byte{}
	gp := gofeed.NewParser()
	now := time.Date(2026, 1, 30, 12, 0, 0, 0, time.UTC)
	for _, p := range paths {
		body, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		rel, _ := filepath.Rel(dir, p)
		rel = filepath.ToSlash(rel)
		tally.docs++

		gofeedItems, gofeedWords := 0, 0
		if gf, err := gp.Parse(bytes.NewReader(body)); err == nil {
			tally.gofeedDocs++
			for _, it := range gf.Items {
				if it != nil && hasAnyContent(it) {
					gofeedItems++
					if hasWords(it) {
						gofeedWords++
					}
				}
			}
		}
		tally.gofeedItems += gofeedItems
		tally.gofeedWords += gofeedWords

		in := Input{Source: story.Source{Name: "corpus", Title: "Corpus"}, Body: body,
			URL: "https://corpus.example/" + (&url.URL{Path: rel}).EscapedPath()}
		r := corpusDoc(in, now)
		if r.err != nil {
			tally.refused++
			if verbose {
				t.Logf("%s: refused: %v (gofeed finds %d items)", rel, r.err, gofeedItems)
			}
			if gofeedItems > 0 {
				tally.lostDocs = append(tally.lostDocs, fmt.Sprintf("%s (%d items): %v", rel, gofeedItems, r.err))
			}
			continue
		}
		tally.parsed++
		tally.stories += len(r.feed.Stories)
		if len(r.feed.Stories) < gofeedWords {
			tally.fewer = append(tally.fewer, fmt.Sprintf("%s: %d stories, gofeed %d items with words", rel, len(r.feed.Stories), gofeedWords))
		}
		tally.dated += r.dated
		tally.datedRead += r.datedRead
		for _, u := range r.unread {
			tally.unread = append(tally.unread, rel+": "+u)
		}
		if r.unmatched {
			tally.unmatched = append(tally.unmatched, rel)
		}
		if len(r.feed.Stories) == 0 {
			continue
		}
		tally.rendered++
		for _, f := range []render.Format{render.RSS, render.Atom, render.JSON} {
			doc, problems := renderCheck(f, r.feed)
			if f == render.Atom {
				atomDocs[rel] = doc
			}
			if len(problems) > 0 {
				tally.failed[f]++
				for _, pr := range problems {
					tally.rules[f.String()+": "+genericProblem(pr)]++
				}
				if verbose {
					t.Logf("%s as %s: %s", rel, f, strings.Join(problems, "; "))
				}
			}
		}
	}
	jingCheck(t, &tally, atomDocs)
	tally.report(t, verbose)
}

// jingCheck validates every Atom rendering against RFC 4287's RELAX NG
// schema with one run of jing, when jing is installed.
func jingCheck(t *testing.T, tally *corpusTally, docs map[string][]byte) {
	if !feedcheck.HaveJing() {
		t.Log("jing is not installed: Atom output checked by feedcheck.AtomRules only")
		return
	}
	dir := t.TempDir()
	names := make(map[string]string, len(docs))
	args := []string{"-c", filepath.Join("..", "feedcheck", "atom.rnc")}
	i := 0
	for rel, doc := range docs {
		i++
		file := filepath.Join(dir, fmt.Sprintf("doc%d.atom", i))
		if err := os.WriteFile(file, doc, 0o600); err != nil {
			t.Fatal(err)
		}
		names[file] = rel
		args = append(args, file)
	}
	out, runErr := exec.Command("jing", args...).CombinedOutput()
	bad := map[string]bool{}
	for line := range strings.Lines(string(out)) {
		file, msg, ok := strings.Cut(line, ":")
		if rel, known := names[file]; ok && known {
			bad[rel] = true
			if _, after, ok := strings.Cut(msg, "error: "); ok {
				tally.rules["atom (jing): "+genericProblem(strings.TrimSpace(after))]++
			}
		}
	}
	if runErr != nil && len(bad) == 0 {
		t.Errorf("jing failed without naming a document: %v\n%s", runErr, out)
	}
	tally.jingDocs, tally.jingBad = len(docs), len(bad)
}

// corpusTally adds up TestCorpus's figures.
type corpusTally struct {
	docs, gofeedDocs, parsed, refused int
	gofeedItems, gofeedWords, stories int
	dated, datedRead                  int
	rendered, jingDocs, jingBad       int
	failed                            [3]int // by render.Format
	rules                             map[string]int
	unread, unmatched, fewer          []string
	lostDocs                          []string
}

func (c *corpusTally) report(t *testing.T, verbose bool) {
	t.Logf("documents: %d; parsed %d, refused %d (gofeed alone parses %d)", c.docs, c.parsed, c.refused, c.gofeedDocs)
	t.Logf("items: %d stories kept; gofeed alone finds %d items with any content, %d of them with words, a link, an enclosure or an image (the rest hold only markup: an empty <span>, an SVG, a <video> the sanitizer removes)",
		c.stories, c.gofeedItems, c.gofeedWords)
	t.Logf("documents refused although gofeed finds items in them: %d", len(c.lostDocs))
	for _, l := range c.lostDocs {
		t.Logf("  refused: %s", l)
	}
	t.Logf("documents where we keep fewer stories than gofeed finds items with words: %d", len(c.fewer))
	for _, l := range c.fewer {
		t.Logf("  fewer: %s", l)
	}
	pct := 100 * float64(c.datedRead) / float64(max(c.dated, 1))
	t.Logf("dated upstream entries: %d; date read for %d (%.2f%%)", c.dated, c.datedRead, pct)
	for _, u := range c.unread {
		t.Logf("  date not read: %s", u)
	}
	if len(c.unmatched) > 0 {
		t.Logf("documents whose entries the raw scan and gofeed count differently (their entries past the shorter count are not in the date figure): %d", len(c.unmatched))
		if verbose {
			for _, u := range c.unmatched {
				t.Logf("  unmatched: %s", u)
			}
		}
	}
	for f, n := range c.failed {
		t.Logf("rendered as %s: %d of %d documents break a spec rule", render.Format(f), n, c.rendered)
	}
	if c.jingDocs > 0 {
		t.Logf("rendered as atom, validated by jing against RFC 4287's schema: %d of %d documents invalid", c.jingBad, c.jingDocs)
	}
	keys := make([]string, 0, len(c.rules))
	for k := range c.rules {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		t.Logf("  %5d × %s", c.rules[k], k)
	}
	if pct < 99.5 {
		t.Errorf("dates read for %.2f%% of dated entries, want at least 99.5%%", pct)
	}
}

// hasAnyContent reports whether gofeed found anything in it a reader could
// be shown.
func hasAnyContent(it *gofeed.Item) bool {
	return strings.TrimSpace(it.Title+it.Description+it.Content+it.Link) != "" || len(it.Enclosures) > 0
}

// hasWords reports whether a gofeed item holds something a reader would see
// besides markup: the rule Stories keeps entries by.
func hasWords(it *gofeed.Item) bool {
	return plain(it.Title) != "" || strings.TrimSpace(it.Link) != "" || len(it.Enclosures) > 0 || it.Image != nil ||
		plain(it.Description) != "" || plain(it.Content) != ""
}

// corpusResult is what TestCorpus learns from one document.
type corpusResult struct {
	feed              *Feed
	err               error
	dated, datedRead  int
	unread            []string // the raw dates of dated entries whose date was not read
	unmatched         bool     // the raw scan and gofeed disagree on the entries
	storyOfItem       map[int]int
	datedItems, items int
}

// corpusDoc runs Stories' steps on in, keeping which gofeed item each story
// came from, and counts the upstream entries with a date element whose story
// has a date.
func corpusDoc(in Input, now time.Time) (r corpusResult) {
	defer func() {
		if p := recover(); p != nil {
			r = corpusResult{err: fmt.Errorf("panic: %v", p)}
		}
	}()
	doc, err := prepare(in.Body, in.ContentType)
	if err != nil {
		return corpusResult{err: err}
	}
	gf, err := decode(doc)
	if err != nil {
		return corpusResult{err: err}
	}
	r.feed = normalize(in, doc, gf, now.UTC())
	n := newNormalizer(in, doc, gf, now.UTC())
	raw := rawDates(doc)
	if len(raw) != len(gf.Items) {
		r.unmatched = true
	}
	for i, item := range gf.Items {
		if item == nil || i >= len(raw) || raw[i] == "" {
			continue
		}
		s, kept := n.story(i, item)
		if !kept && !hasAnyContent(item) {
			continue // a date and nothing else: no entry to read
		}
		r.dated++
		if kept && (!s.Published.IsZero() || !s.Updated.IsZero()) {
			r.datedRead++
		} else {
			r.unread = append(r.unread, fmt.Sprintf("entry %d %q", i+1, raw[i]))
		}
	}
	return r
}

// dateElems are the local names of the elements that date an entry: RSS
// pubDate, dc:date, dcterms:created/modified/issued, Atom published and
// updated, Atom 0.3 issued/modified/created.
var dateElems = map[string]bool{"pubDate": true, "date": true, "published": true, "updated": true,
	"issued": true, "modified": true, "created": true}

// rawDates returns, for each entry of doc in document order, the text of its
// first non-empty date element ("" for an undated entry), read with
// encoding/xml (or encoding/json) independently of gofeed.
func rawDates(doc *document) []string {
	if doc.kind == kindJSON {
		var f struct {
			Items []json.RawMessage `json:"items"`
		}
		if json.Unmarshal(doc.body, &f) != nil {
			return nil
		}
		out := make([]string, len(f.Items))
		for i, raw := range f.Items {
			var it map[string]any
			if json.Unmarshal(raw, &it) != nil {
				continue
			}
			for _, k := range []string{"date_published", "date_modified"} {
				if s, ok := it[k].(string); ok && strings.TrimSpace(s) != "" && out[i] == "" {
					out[i] = s
				}
			}
		}
		return out
	}
	d := xml.NewDecoder(bytes.NewReader(doc.body))
	d.Strict = false
	d.Entity = xml.HTMLEntity
	d.CharsetReader = charset.NewReaderLabel
	var (
		out   []string
		stack []string
		entry = -1 // depth of the open entry element, -1 outside one
		text  strings.Builder
	)
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) || err != nil {
			break
		}
		switch t := tok.(type) {
		case xml.StartElement:
			stack = append(stack, t.Name.Local)
			depth := len(stack) - 1
			if entry < 0 && (t.Name.Local == "item" || t.Name.Local == "entry") && depth <= 2 {
				entry = depth
				out = append(out, "")
			}
			text.Reset()
		case xml.CharData:
			text.Write(t)
		case xml.EndElement:
			if len(stack) == 0 {
				continue
			}
			depth := len(stack) - 1
			name := stack[depth]
			stack = stack[:depth]
			if entry >= 0 && depth == entry+1 && dateElems[name] && out[len(out)-1] == "" {
				if v := strings.TrimSpace(text.String()); v != "" {
					out[len(out)-1] = v
				}
			}
			if depth == entry {
				entry = -1
			}
			text.Reset()
		}
	}
	return out
}

// renderCheck renders f's stories as the server would (ids, self and home
// links, the store's first-seen dates) and returns the spec problems of the
// document, plus those the W3C validator reports that feedcheck does not
// look for: an empty title, a host that is not ASCII.
func renderCheck(format render.Format, f *Feed) ([]byte, []string) {
	ch := render.Channel{
		ID: "tag:newsdesk.example,2026:topic/corpus", ItemIDPrefix: "tag:newsdesk.example,2026:story/",
		Title: "Corpus", Description: "Every corpus story", HTMLURL: "https://newsdesk.example/topics/corpus",
		SelfURL: "https://newsdesk.example/topics/corpus." + format.Ext(), Language: "en",
	}
	stories := slices.Clone(f.Stories)
	for i := range stories {
		if stories[i].Published.IsZero() {
			stories[i].Published = stories[i].FirstSeen
		}
	}
	var buf bytes.Buffer
	if err := render.Write(&buf, format, ch, stories); err != nil {
		return nil, []string{err.Error()}
	}
	var err error
	switch format {
	case render.RSS:
		err = feedcheck.RSS(buf.Bytes())
	case render.Atom:
		err = feedcheck.AtomRules(buf.Bytes())
	default:
		err = feedcheck.JSONFeed(buf.Bytes())
	}
	var out []string
	if ps, ok := errors.AsType[feedcheck.Problems](err); ok {
		out = append(out, ps...)
	} else if err != nil {
		out = append(out, err.Error())
	}
	for _, s := range stories {
		if strings.TrimSpace(s.Title) == "" {
			out = append(out, "story has an empty title")
		}
		urls := append([]string{s.Link, s.Image, s.SourceURL, s.SourceLink}, enclosureURLs(s)...)
		for _, m := range markupURL.FindAllStringSubmatch(s.Summary+s.Content, -1) {
			urls = append(urls, html.UnescapeString(m[1]))
		}
		for _, l := range urls {
			u, err := url.Parse(l)
			switch {
			case l == "":
			case err != nil || (!u.IsAbs() && u.Scheme != "mailto"):
				out = append(out, fmt.Sprintf("url %q is not absolute", l))
			case !asciiHost(u.Host):
				out = append(out, fmt.Sprintf("url %q: host is not ASCII (punycode)", l))
			}
		}
	}
	return buf.Bytes(), out
}

// markupURL finds the URLs of links and images in sanitized HTML.
var markupURL = regexp.MustCompile(`(?:href|src)="([^"]*)"`)

var storyID = regexp.MustCompile(`tag:newsdesk\.example,2026:story/[0-9a-f]+`)

func enclosureURLs(s story.Story) []string {
	var out []string
	for _, e := range s.Enclosures {
		out = append(out, e.URL)
	}
	return out
}

func asciiHost(h string) bool {
	for i := 0; i < len(h); i++ {
		if h[i] >= 0x80 || h[i] == '%' {
			return false
		}
	}
	return true
}

// genericProblem strips the numbers, item ids and quoted values from a
// problem, so that the report counts kinds of problem.
func genericProblem(p string) string {
	p = storyID.ReplaceAllString(p, "ID")
	var b strings.Builder
	inQuote := false
	for _, r := range p {
		switch {
		case r == '"':
			if !inQuote {
				b.WriteString(`"…"`)
			}
			inQuote = !inQuote
		case inQuote:
		case r >= '0' && r <= '9':
			if !strings.HasSuffix(b.String(), "N") {
				b.WriteByte('N')
			}
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}
