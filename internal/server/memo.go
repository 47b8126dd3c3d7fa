package server

import (
	"sync"
	"time"
)

// pageMemo remembers the pages (stories and Last-Modified) of the last few
// fills of one state, so that the documents showing the same page (a
// topic's RSS, Atom and JSON feeds and its HTML page), filled one after
// another by the renders ahead of readers after a change or by readers
// asking for each, read and decode the stories once instead of four times:
// the store read was about a third of a fill.
//
// A page is reused only while nothing invalidated its topic since it was
// read: forget bumps the topic's epoch (or the global one) before the
// invalidation renders anything, and a read that began before a bump is not
// remembered. It is also reused only briefly (memoFor), since a topic's
// max_age is applied as of the read.
//
// Nor is a read remembered that overlapped another read of the same topic.
// A change is committed before its invalidation comes, so two reads in one
// epoch can see different stories, and the one that began first (and saw
// less) may well end last: remembered, it would hand its older page to the
// next document filled, and a reader that had just seen the newer stories
// in that document would get a feed gone back in time.
type pageMemo struct {
	mu      sync.Mutex
	global  uint64            // bumped by a forget of every topic
	epochs  map[string]uint64 // bumped by a forget of the topic
	recent  []memoPage        // newest last, at most memoPages
	started map[string]uint64 // reads of the topic begun (ever)
	reading map[string]int    // reads of the topic under way; no key when none
}

type memoPage struct {
	slug, query string
	token       memoToken
	at          time.Time
	pg          page
}

// memoToken is the epochs a read began in, and which read of its topic it
// was.
type memoToken struct {
	global, topic, read uint64
	alone               bool // no other read of the topic was under way when it began
}

const (
	memoPages = 8                      // pages of ~50 stories: a few MB at most
	memoFor   = 500 * time.Millisecond // a page older than this is read again
)

func newPageMemo() *pageMemo {
	return &pageMemo{epochs: map[string]uint64{}, started: map[string]uint64{}, reading: map[string]int{}}
}

// get returns the remembered page of slug for query if it is current.
// Otherwise the caller reads the page and must then call put with the
// token returned (with ok false when the read failed).
func (m *pageMemo) get(slug, query string, now time.Time) (page, bool, memoToken) {
	m.mu.Lock()
	defer m.mu.Unlock()
	global, epoch := m.global, m.epochs[slug]
	for i := len(m.recent) - 1; i >= 0; i-- {
		p := &m.recent[i]
		if p.slug == slug && p.query == query && p.token.global == global && p.token.topic == epoch &&
			now.Sub(p.at) < memoFor && !now.Before(p.at) {
			return p.pg, true, p.token
		}
	}
	m.started[slug]++
	m.reading[slug]++
	return page{}, false, memoToken{global, epoch, m.started[slug], m.reading[slug] == 1}
}

// put ends the read tok began and remembers pg, its page (when ok), unless
// an invalidation came meanwhile or another read of the topic overlapped it.
func (m *pageMemo) put(slug, query string, tok memoToken, now time.Time, pg page, ok bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	alone := tok.alone && m.started[slug] == tok.read // none under way when it began, none begun since
	if m.reading[slug]--; m.reading[slug] <= 0 {
		delete(m.reading, slug)
	}
	if !ok || !alone || tok.global != m.global || tok.topic != m.epochs[slug] {
		return
	}
	if len(m.recent) == memoPages {
		copy(m.recent, m.recent[1:])
		m.recent = m.recent[:memoPages-1]
	}
	m.recent = append(m.recent, memoPage{slug: slug, query: query, token: tok, at: now, pg: pg})
}

// forget makes every remembered page of the named topics (all, with none)
// stale, and every read of them under way unrememberable.
func (m *pageMemo) forget(slugs []string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(slugs) == 0 {
		m.global++
	}
	for _, s := range slugs {
		m.epochs[s]++
	}
	m.recent = m.recent[:0]
}
