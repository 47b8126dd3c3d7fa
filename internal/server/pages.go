package server

import (
	"bytes"
	"cmp"
	"embed"
	"errors"
	"fmt"
	"html"
	"html/template"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/newsdesk/newsdesk/internal/opml"
	"github.com/newsdesk/newsdesk/internal/story"
	"github.com/newsdesk/newsdesk/internal/topic"
)

//go:embed templates/*.html
var templateFS embed.FS

// The pages are plain HTML with inline CSS (templates/site.css, which the
// feeds' stylesheet shares) and no JavaScript, so they read on any phone
// and in text browsers.
var pages = template.Must(template.New("").Funcs(templateFuncs).Funcs(template.FuncMap{
	"date": func(t time.Time) string { return t.UTC().Format("2 Jan 2006 15:04 UTC") },
	"iso":  func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
}).ParseFS(templateFS, "templates/*.html"))

// feedLink is one subscribe link and its autodiscovery <link rel="alternate">.
type feedLink struct {
	Label, Type, Title, URL string
}

// Tag is the autodiscovery tag, built here rather than in the template:
// html/template writes the "+" of "application/rss+xml" as "&#43;", which is
// valid HTML but defeats the pattern matching some feed readers use.
func (l feedLink) Tag() template.HTML {
	return template.HTML(`<link rel="alternate" type="` + html.EscapeString(l.Type) + `" title="` +
		html.EscapeString(l.Title) + `" href="` + html.EscapeString(l.URL) + `">`)
}

// pageData is what every page template sees.
type pageData struct {
	Lang, Title, SiteTitle, Description string
	Home, OPML, Icon                    string
	Status                              string     // the status page's address, on pages for whom it is visible; else ""
	Feeds                               []feedLink // autodiscovery tags in <head>
}

func (st *state) pageData(title string) pageData {
	lang := st.site.Language
	if lang == "" {
		lang = "en"
	}
	return pageData{
		Lang: lang, Title: title, SiteTitle: st.site.Title, Description: st.site.Description,
		Home: st.site.PublicURL + "/", OPML: st.site.PublicURL + "/topics.opml", Icon: st.iconURL(),
	}
}

func (st *state) feedLinks(t *topic.Topic) []feedLink {
	links := make([]feedLink, 0, len(formats))
	for _, f := range formats {
		links = append(links, feedLink{
			Label: f.label, Type: f.mediaType, Title: titleOf(t) + " (" + f.label + ")", URL: st.feedURL(t.Slug, f.ext),
		})
	}
	return links
}

func titleOf(t *topic.Topic) string {
	if t.Title != "" {
		return t.Title
	}
	return t.Slug
}

// index serves the home page: every topic with its counts and feeds. A
// request that may see the status page gets the variant that links it.
func (s *Server) index(w http.ResponseWriter, r *http.Request) {
	st := s.state.Load()
	k, withStatus := key{kind: "index"}, s.seesStatus(r)
	if withStatus {
		k.slug = statusVariant
	}
	e, err := st.cache.get(k, func() (content, error) { return s.renderIndex(st, withStatus) })
	if errors.Is(err, errSuperseded) { // a reload took over meanwhile: ask it
		<-st.cache.handedOver
		s.index(w, r)
		return
	}
	if err != nil {
		s.error(w, r, err)
		return
	}
	serve(w, r, st.cacheControl, e)
}

type indexTopic struct {
	Title, Description, URL string
	Count                   int
	Updated                 time.Time
	Feeds                   []feedLink
	Latest                  *pageStory // the newest story; nil when there is none
}

// statusVariant is the slug of the index's cache key in the variant that
// links the status page: no topic slug can be it.
const statusVariant = "+status"

// seesStatus reports whether r is one the status page answers, so that the
// index may link it.
func (s *Server) seesStatus(r *http.Request) bool {
	return s.statusVisible != nil && s.statusVisible(r)
}

func (s *Server) renderIndex(st *state, withStatus bool) (content, error) {
	data := struct {
		pageData
		Topics []indexTopic
	}{pageData: st.pageData(st.site.Title)}
	if withStatus {
		data.Status = st.site.PublicURL + "/status"
	}
	var modified time.Time
	for _, t := range st.topics.Topics() {
		info, err := s.db.Topic(fillContext(), t.Slug)
		if err != nil {
			return content{}, fmt.Errorf("read topic %s: %w", t.Slug, err)
		}
		feeds := st.feedLinks(t)
		data.Feeds = append(data.Feeds, feeds...)
		it := indexTopic{
			Title: titleOf(t), Description: t.Description, URL: st.pageURL(t.Slug),
			Count: info.Count, Updated: info.Newest, Feeds: feeds,
		}
		// The headline the topic page opens with, under the same max_age.
		pg, err := s.stories(t, params{limit: 1}, s.now())
		if err != nil {
			return content{}, err
		}
		if len(pg.stories) > 0 {
			ps := newPageStory(&pg.stories[0])
			it.Latest = &ps
		}
		data.Topics = append(data.Topics, it)
		if info.Newest.After(modified) {
			modified = info.Newest
		}
	}
	return renderPage("index.html", data, modified)
}

type pageStory struct {
	Title, Link, Source, Summary string
	Image                        string   // the lead image's URL, shown as a thumbnail
	AlsoIn                       []string // the other sources that carried it
	Date                         time.Time
	Undated                      bool // the source gave no date: Date is when newsdesk first saw it
}

func newPageStory(x *story.Story) pageStory {
	ps := pageStory{
		Title: story.Headline(x), Link: x.Link, Source: cmp.Or(x.SourceTitle, x.Source),
		Summary: clip(x.SummaryText, summaryRunes), Date: x.Published, Image: x.Image, Undated: x.Undated,
	}
	for _, ref := range x.AlsoIn {
		ps.AlsoIn = append(ps.AlsoIn, cmp.Or(ref.Title, ref.Source))
	}
	return ps
}

// summaryRunes caps a story's summary on the topic page; the feeds carry it
// whole.
const summaryRunes = 320

// renderTopicPage renders a topic's HTML page. It takes the same ?limit and
// ?before as the feeds, and links to the next older page.
func (s *Server) renderTopicPage(st *state, t *topic.Topic, p params) (content, error) {
	pg, err := s.query(st, t, p)
	if err != nil {
		return content{}, err
	}
	data := struct {
		pageData
		Topic   indexTopic
		Stories []pageStory
		Next    string
		More    string // the label of Next
	}{pageData: st.pageData(titleOf(t) + " · " + st.site.Title)}
	data.Feeds = st.feedLinks(t)
	data.Topic = indexTopic{Title: titleOf(t), Description: t.Description}
	for i := range pg.stories {
		data.Stories = append(data.Stories, newPageStory(&pg.stories[i]))
	}
	if pg.next != "" {
		data.Next = withQuery(st.pageURL(t.Slug), pg.next)
		data.More = "Older stories"
		if p.hasSince { // ?since pages run oldest first
			data.More = "Later stories"
		}
	}
	ct, err := renderPage("topic.html", data, pg.modified)
	ct.read = pg.read
	return ct, err
}

// notFound answers a request for something there is none of: a page with
// a way home for a browser, the message alone for everyone else (feed
// readers, scripts), as plain text. Shared caches may keep either a minute:
// polls of a removed topic stay off newsdesk, and a topic a reload adds
// shows through a cache within that minute.
// human says the same to a person, as a sentence.
func (s *Server) notFound(w http.ResponseWriter, r *http.Request, msg, human string) {
	w.Header().Set("Cache-Control", "public, max-age=60")
	w.Header().Set("Vary", "Accept, Sec-Fetch-Dest")
	if !navigation(r.Header) {
		http.Error(w, msg, http.StatusNotFound)
		return
	}
	st := s.state.Load()
	data := struct {
		pageData
		Message string
		Topics  []indexTopic
	}{pageData: st.pageData("Not found · " + st.site.Title), Message: human}
	for _, t := range st.topics.Topics() {
		data.Topics = append(data.Topics, indexTopic{Title: titleOf(t), Description: t.Description, URL: st.pageURL(t.Slug)})
	}
	var buf bytes.Buffer
	if err := pages.ExecuteTemplate(&buf, "notfound.html", data); err != nil {
		s.fail(w, r, fmt.Errorf("render notfound.html: %w", err))
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusNotFound)
	w.Write(buf.Bytes())
}

// NotFound answers r as a path that does not exist: what another handler
// in front of the server (the status pages, to whom they are hidden) sends
// so that it cannot be told from one.
func (s *Server) NotFound(w http.ResponseWriter, r *http.Request) {
	s.notFound(w, r, "404 page not found", "Nothing is published at "+r.URL.Path+".")
}

// unmatched answers every request no route takes: 405 for a method a path
// does not allow (as the mux would), else the 404 of notFound.
// It clears the route the mux recorded: Observe reports no route, as for a
// path the mux itself turns away, so the catch-all pattern is not a route.
func (s *Server) unmatched(w http.ResponseWriter, r *http.Request) {
	r.Pattern = ""
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		get := *r // a shallow copy: only the method changes
		get.Method = http.MethodGet
		if _, pattern := s.mux.Handler(&get); pattern != "/" {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, http.StatusText(http.StatusMethodNotAllowed), http.StatusMethodNotAllowed)
			return
		}
	}
	s.NotFound(w, r)
}

func renderPage(name string, data any, modified time.Time) (content, error) {
	var buf bytes.Buffer
	if err := pages.ExecuteTemplate(&buf, name, data); err != nil {
		return content{}, fmt.Errorf("render %s: %w", name, err)
	}
	return content{body: buf.Bytes(), contentType: "text/html; charset=utf-8", modified: modified}, nil
}

// clip shortens s to at most n runes, at a word boundary, with an ellipsis.
func clip(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	cut, count := len(s), 0
	for i := range s {
		if count == n {
			cut = i
			break
		}
		count++
	}
	if sp := strings.LastIndexByte(s[:cut], ' '); sp > 0 {
		cut = sp
	}
	return s[:cut] + "…"
}

// opml serves /topics.opml, the whole subscription list for import into a reader.
func (s *Server) opml(w http.ResponseWriter, r *http.Request) {
	st := s.state.Load()
	e, err := st.cache.get(key{kind: "opml"}, func() (content, error) { return renderOPML(st) })
	if errors.Is(err, errSuperseded) { // a reload took over meanwhile: ask it
		<-st.cache.handedOver
		s.opml(w, r)
		return
	}
	if err != nil {
		s.error(w, r, err)
		return
	}
	serve(w, r, st.cacheControl, e)
}

// renderOPML writes one outline per topic, type="rss" pointing at the RSS
// feed, since that is what feed readers import. The other formats are a
// click away on the topic page (htmlUrl).
func renderOPML(st *state) (content, error) {
	doc := opml.Document{Title: st.site.Title, OwnerID: st.site.PublicURL + "/"}
	for _, t := range st.topics.Topics() {
		lang := t.Language
		if lang == "" {
			lang = st.site.Language
		}
		doc.Outlines = append(doc.Outlines, opml.Outline{
			Text: titleOf(t), Title: titleOf(t), Type: "rss",
			XMLURL: st.feedURL(t.Slug, "rss"), HTMLURL: st.pageURL(t.Slug),
			Description: t.Description, Language: lang,
		})
	}
	var buf bytes.Buffer
	if err := opml.Write(&buf, doc); err != nil {
		return content{}, fmt.Errorf("render opml: %w", err)
	}
	return content{body: buf.Bytes(), contentType: "text/x-opml; charset=utf-8"}, nil
}
