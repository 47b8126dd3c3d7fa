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
type pageMemo struct {
	mu     sync.Mutex
	global uint64            // bumped by a forget of every topic
	epochs map[string]uint64 // bumped by a forget of the topic
	recent []memoPage        // newest last, at most memoPages
}

type memoPage struct {
	slug, query string
	token       memoToken
	at          time.Time
	pg          page
}

// memoToken is the epochs a read began in.
type memoToken struct{ global, topic uint64 }

const (
	memoPages = 8                      // pages of ~50 stories: a few MB at most
	memoFor   = 500 * time.Millisecond // a page older than this is read again
)

func newPageMemo() *pageMemo { return &pageMemo{epochs: map[string]uint64{}} }

// get returns the remembered page of slug for query if it is current, and
// the token a read starting now must give put.
func (m *pageMemo) get(slug, query string, now time.Time) (page, bool, memoToken) {
	m.mu.Lock()
	defer m.mu.Unlock()
	tok := memoToken{m.global, m.epochs[slug]}
	for i := len(m.recent) - 1; i >= 0; i-- {
		p := &m.recent[i]
		if p.slug == slug && p.query == query && p.token == tok && now.Sub(p.at) < memoFor && !now.Before(p.at) {
			return p.pg, true, tok
		}
	}
	return page{}, false, tok
}

// put remembers pg, read since tok was taken, unless an invalidation came
// meanwhile.
func (m *pageMemo) put(slug, query string, tok memoToken, now time.Time, pg page) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if tok != (memoToken{m.global, m.epochs[slug]}) {
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
