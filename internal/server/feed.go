package server

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/newsdesk/newsdesk/internal/render"
	"github.com/newsdesk/newsdesk/internal/store"
	"github.com/newsdesk/newsdesk/internal/story"
	"github.com/newsdesk/newsdesk/internal/topic"
)

// formats lists the feed formats in the order pages offer them, with the
// media type autodiscovery links carry (no charset there) and a label.
var formats = []struct {
	format     render.Format
	ext, label string
	mediaType  string
}{
	{render.RSS, "rss", "RSS", "application/rss+xml"},
	{render.Atom, "atom", "Atom", "application/atom+xml"},
	{render.JSON, "json", "JSON Feed", "application/feed+json"},
}

// defaultLimit is the page size of a topic whose definition has none (topic.New
// normally fills it in).
const defaultLimit = 50

// topic serves /topics/{slug} (the HTML page) and /topics/{slug}.{rss,atom,json}.
// The mux cannot split an extension off a path segment, so this does: on the
// last dot.
func (s *Server) topic(w http.ResponseWriter, r *http.Request) {
	st := s.state.Load()
	file := r.PathValue("file")
	slug, ext, hasExt := file, "", false
	if i := strings.LastIndexByte(file, '.'); i >= 0 {
		slug, ext, hasExt = file[:i], file[i+1:], true
	}
	t := st.topics.Lookup(slug)
	if t == nil {
		s.notFound(w, r, "unknown topic "+strconv.Quote(slug), "There is no topic "+strconv.Quote(slug)+" here.")
		return
	}
	kind := "html"
	if hasExt {
		i := formatIndex(ext)
		if i < 0 {
			s.notFound(w, r, "unknown feed format: want .rss, .atom or .json", "Feeds of "+titleOf(t)+" come as .rss, .atom and .json.")
			return
		}
		kind = formats[i].ext
	}
	p, err := parseParams(r.URL.RawQuery, limitOf(t))
	if err != nil {
		s.error(w, r, err)
		return
	}
	k := key{slug: t.Slug, kind: kind, query: p.canonical}
	e, err := st.cache.get(k, s.filler(st, k, t, p))
	if errors.Is(err, errSuperseded) { // a reload took over meanwhile: ask it
		<-st.cache.handedOver
		s.topic(w, r)
		return
	}
	if err != nil {
		s.error(w, r, err)
		return
	}
	serve(w, r, st.cacheControl, e)
}

// filler is how the document k of topic t (nil for the index and the OPML)
// is made, for the query p.
func (s *Server) filler(st *state, k key, t *topic.Topic, p params) func() (content, error) {
	switch k.kind {
	case "index":
		return func() (content, error) { return s.renderIndex(st, k.slug == statusVariant) }
	case "opml":
		return func() (content, error) { return renderOPML(st) }
	case "html":
		return func() (content, error) { return s.renderTopicPage(st, t, p) }
	}
	f := formats[formatIndex(k.kind)].format
	return func() (content, error) { return s.renderFeed(st, t, f, p) }
}

func formatIndex(ext string) int {
	for i, f := range formats {
		if f.ext == ext {
			return i
		}
	}
	return -1
}

func limitOf(t *topic.Topic) int {
	if t.Definition.Limit > 0 {
		return t.Definition.Limit
	}
	return defaultLimit
}

// error answers a client error with its message and anything else with a 500.
func (s *Server) error(w http.ResponseWriter, r *http.Request, err error) {
	if br, ok := errors.AsType[*badRequest](err); ok {
		http.Error(w, br.msg, http.StatusBadRequest)
		return
	}
	s.fail(w, r, err)
}

// page is the stories of one request and the cursor query of the page after.
type page struct {
	stories  []story.Story
	next     string    // canonical query of the next page; "" when none
	modified time.Time // Last-Modified of any document showing the page
	resume   uint64    // on a ?since page: the ?since to ask for next
	read     uint64    // the read ticket taken as the store read began (content.read)
}

// query reads the stories p asks for: newest first from the store's cursor
// walk, or with ?since, those ingested after a sequence number, oldest first
// (a newsletter's "everything since my last issue"). The topic's MaxAge is
// applied as of the fill; a cached document keeps its stories until the next
// invalidation.
func (s *Server) query(st *state, t *topic.Topic, p params) (page, error) {
	now := s.now()
	key := p.canonical + "&limit=" + strconv.Itoa(p.limit) // the canonical query of a first page is ""
	pg, ok, tok := st.pages.get(t.Slug, key, now)
	if ok {
		return pg, nil
	}
	read := false
	defer func() {
		if !read { // the read panicked: it is over all the same
			st.pages.put(t.Slug, key, tok, now, page{}, false)
		}
	}()
	ticket := st.cache.reads.Add(1)
	pg, err := s.readPage(st, t, p, now)
	pg.read = ticket
	read = true
	st.pages.put(t.Slug, key, tok, now, pg, err == nil)
	return pg, err
}

// readPage is query's read of the store.
func (s *Server) readPage(st *state, t *topic.Topic, p params, now time.Time) (page, error) {
	pg, err := s.stories(t, p, now)
	if err != nil {
		return page{}, err
	}
	// Last-Modified must move whenever the document does, or a client that
	// revalidates with If-Modified-Since alone misses a change. The newest
	// story's time does not: a late-ingested older story, an edit or a
	// removal leaves it alone. The topic's Changed time covers those.
	info, err := s.db.Topic(fillContext(), t.Slug)
	if err != nil {
		return page{}, fmt.Errorf("read topic %s: %w", t.Slug, err)
	}
	pg.modified = newest(pg.stories)
	if info.Changed.After(pg.modified) {
		pg.modified = info.Changed
	}
	// A config reload can change the document (a topic's title, the site's
	// URL) without any story moving.
	if st.configured.After(pg.modified) {
		pg.modified = st.configured
	}
	if pg.modified.After(now) { // never later than Date (RFC 9110 §8.8.2.1)
		pg.modified = now
	}
	return pg, nil
}

func (s *Server) stories(t *topic.Topic, p params, now time.Time) (page, error) {
	var notBefore time.Time
	if t.MaxAge > 0 {
		notBefore = now.Add(-t.MaxAge)
	}
	if p.hasSince {
		stories, err := s.db.Since(fillContext(), t.Slug, p.since, p.limit)
		if err != nil {
			return page{}, fmt.Errorf("read topic %s since %d: %w", t.Slug, p.since, err)
		}
		pg := page{resume: p.since}
		if len(stories) == p.limit {
			pg.next = p.with(limitOf(t), "since", strconv.FormatUint(stories[len(stories)-1].Seq, 10))
		}
		for _, st := range stories {
			pg.resume = max(pg.resume, st.Seq) // past stories max_age hides, too: they stay hidden
			if notBefore.IsZero() || !storyTime(st).Before(notBefore) {
				pg.stories = append(pg.stories, st)
			}
		}
		return pg, nil
	}
	res, err := s.db.Recent(fillContext(), store.Query{Topic: t.Slug, Limit: p.limit, Before: p.before, NotBefore: notBefore})
	if err != nil {
		if p.before != "" && isBadCursor(err) {
			return page{}, &badRequest{"before: unknown or malformed cursor"}
		}
		return page{}, fmt.Errorf("read topic %s: %w", t.Slug, err)
	}
	pg := page{stories: res.Stories}
	if res.Next != "" && len(res.Stories) > 0 {
		pg.next = p.with(limitOf(t), "before", res.Next)
	}
	return pg, nil
}

// fillContext is the context of a store read that fills the cache: a fill
// serves every request waiting for it, so no one request's end may cancel it.
func fillContext() context.Context { return context.Background() }

// isBadCursor reports whether err is the store refusing a ?before cursor.
func isBadCursor(err error) bool {
	return errors.Is(err, store.ErrBadCursor)
}

// storyTime is the time a story last changed, for Updated and Last-Modified.
func storyTime(st story.Story) time.Time {
	if !st.Updated.IsZero() {
		return st.Updated
	}
	return st.Published
}

func newest(stories []story.Story) time.Time {
	var t time.Time
	for _, st := range stories {
		if u := storyTime(st); u.After(t) {
			t = u
		}
	}
	return t.UTC()
}

// feedURL is the subscription address of a topic's feed in the format with
// extension ext.
func (st *state) feedURL(slug, ext string) string {
	return st.site.PublicURL + "/topics/" + slug + "." + ext
}

func (st *state) pageURL(slug string) string { return st.site.PublicURL + "/topics/" + slug }

func withQuery(u, query string) string {
	if query == "" {
		return u
	}
	return u + "?" + query
}

// renderFeed reads and renders one feed document.
func (s *Server) renderFeed(st *state, t *topic.Topic, f render.Format, p params) (content, error) {
	pg, err := s.query(st, t, p)
	if err != nil {
		return content{}, err
	}
	ext := extOf(f)
	base := st.feedURL(t.Slug, ext)
	self := withQuery(base, p.canonical)
	ch := render.Channel{
		ID:           "tag:" + st.site.TagAuthority + ",2026:topic/" + t.Slug,
		ItemIDPrefix: "tag:" + st.site.TagAuthority + ",2026:story/",
		Title:        t.Title,
		Description:  t.Description,
		Language:     t.Language,
		Generator:    "newsdesk",
		Author:       st.site.Title,
		HTMLURL:      st.pageURL(t.Slug),
		SelfURL:      self,
		FeedURL:      base,
		HubURLs:      st.site.Hubs,
		Resume:       p.hasSince,
		ResumeSeq:    pg.resume,
		Updated:      newest(pg.stories),
		TTL:          st.maxAge,
	}
	var navType string
	if f != render.JSON { // browsers show JSON as it is; XML they can style
		ch.Stylesheet, navType = st.stylesheetPath(), xmlType
	}
	if ch.Title == "" {
		ch.Title = t.Slug
	}
	if ch.Description == "" {
		ch.Description = ch.Title + " from " + st.site.Title
	}
	if ch.Language == "" {
		ch.Language = st.site.Language
	}
	if f == render.Atom {
		if ch.Upstreams, err = s.upstreams(pg.stories); err != nil {
			return content{}, err
		}
	}
	if pg.next != "" {
		ch.NextURL = withQuery(base, pg.next)
	}
	if pg.next != "" || p.canonical != "" {
		ch.FirstURL = base
	}
	var buf bytes.Buffer
	if err := render.Write(&buf, f, ch, pg.stories); err != nil {
		return content{}, fmt.Errorf("render %s.%s: %w", t.Slug, ext, err)
	}
	links := make([]string, 0, 1+len(st.hubLinks))
	links = append(links, "<"+self+`>; rel="self"`)
	links = append(links, st.hubLinks...)
	return content{body: buf.Bytes(), contentType: f.ContentType(), navType: navType, links: links, modified: pg.modified, read: pg.read}, nil
}

// upstreams reads what the sources of stories last said about their own
// feeds, for Atom's <source>: once per source, at fill time.
func (s *Server) upstreams(stories []story.Story) (map[string]render.Upstream, error) {
	ups := map[string]render.Upstream{}
	for i := range stories {
		name := stories[i].Source
		if _, ok := ups[name]; ok || name == "" {
			continue
		}
		st, err := s.db.Source(fillContext(), name)
		if err != nil {
			return nil, err // it names the source
		}
		ups[name] = render.Upstream{ID: st.FeedID, Updated: st.FeedUpdated}
	}
	return ups, nil
}

func extOf(f render.Format) string {
	for _, x := range formats {
		if x.format == f {
			return x.ext
		}
	}
	return ""
}
