package server

import (
	"bytes"
	"compress/gzip"
	"container/list"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Bounds of the cache for documents addressed with a query (?limit, ?before,
// ?since). First pages (no query) are cached without a bound: there are at
// most a handful per topic. Queried pages are kept in an LRU of at most
// pagedEntries documents and pagedBytes bytes (identity plus gzip), because
// their keys come from clients and could otherwise grow without end.
const (
	pagedEntries = 256
	pagedBytes   = 32 << 20
)

// key names one cached document. kind is the format extension ("rss",
// "atom", "json") or "html", "index", "opml"; query is the canonical query.
type key struct {
	slug, kind, query string
}

// content is what a fill produces.
type content struct {
	body        []byte
	contentType string
	links       []string // Link header values: self, then hubs
	modified    time.Time
}

// entry is one cached document. Everything but elem and size is written once,
// before ready is closed, and only read afterwards.
type entry struct {
	ready chan struct{}
	err   error

	body, gzBody     []byte
	etag, gzETag     []string // header values, shared by every response: never appended to
	length, gzLength []string
	contentType      []string
	links            []string
	modified         time.Time

	elem *list.Element // in the paged LRU; nil for first pages
	size int           // bytes counted against pagedBytes; 0 until filled
}

// cache holds rendered documents and makes sure that concurrent requests for
// one missing document render it once (the others wait on ready).
type cache struct {
	mu          sync.Mutex
	first       map[key]*entry
	paged       map[key]*entry
	lru         list.List // of key, most recently used at the front
	pagedSize   int
	hits, fills *atomic.Uint64
}

func newCache(hits, fills *atomic.Uint64) *cache {
	return &cache{first: map[key]*entry{}, paged: map[key]*entry{}, hits: hits, fills: fills}
}

func (c *cache) table(k key) map[key]*entry {
	if k.query == "" {
		return c.first
	}
	return c.paged
}

var errFillPanicked = errors.New("render panicked")

// get returns the entry for k, calling fill to make it when it is missing.
// A failed fill is not cached: its waiters get the error and the next request
// tries again.
func (c *cache) get(k key, fill func() (content, error)) (*entry, error) {
	c.mu.Lock()
	if e, ok := c.table(k)[k]; ok {
		if e.elem != nil {
			c.lru.MoveToFront(e.elem)
		}
		c.mu.Unlock()
		<-e.ready
		if e.err != nil {
			return nil, e.err
		}
		c.hits.Add(1)
		return e, nil
	}
	e := &entry{ready: make(chan struct{})}
	c.table(k)[k] = e
	if k.query != "" {
		e.elem = c.lru.PushFront(k)
		c.evict()
	}
	c.mu.Unlock()
	c.fills.Add(1)

	done := false
	defer func() {
		if !done { // fill panicked: release the waiters, then let the panic go on
			e.err = errFillPanicked
			c.settle(k, e)
		}
	}()
	ct, err := fill()
	if err != nil {
		e.err = err
	} else {
		e.set(ct)
	}
	done = true
	c.settle(k, e)
	if err != nil {
		return nil, err
	}
	return e, nil
}

// settle records the outcome of e's fill and wakes its waiters.
func (c *cache) settle(k key, e *entry) {
	c.mu.Lock()
	m := c.table(k)
	if m[k] == e { // still cached: neither invalidated nor evicted meanwhile
		if e.err != nil {
			c.remove(m, k, e)
		} else if e.elem != nil {
			e.size = len(e.body) + len(e.gzBody)
			c.pagedSize += e.size
			c.evict()
		}
	}
	c.mu.Unlock()
	close(e.ready)
}

// evict trims the paged LRU to its bounds. Called with mu held.
func (c *cache) evict() {
	for c.lru.Len() > pagedEntries || (c.pagedSize > pagedBytes && c.lru.Len() > 0) {
		k := c.lru.Back().Value.(key)
		c.remove(c.paged, k, c.paged[k])
	}
}

// remove deletes e from m and the LRU. Called with mu held.
func (c *cache) remove(m map[key]*entry, k key, e *entry) {
	delete(m, k)
	if e.elem != nil {
		c.lru.Remove(e.elem)
		c.pagedSize -= e.size
	}
}

// drop forgets the documents of the named topics and the index; no slugs
// means everything. Fills in flight finish for their waiters but are not
// kept.
func (c *cache) drop(slugs []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(slugs) == 0 {
		c.first = map[key]*entry{}
		c.paged = map[key]*entry{}
		c.lru.Init()
		c.pagedSize = 0
		return
	}
	match := func(k key) bool {
		if k.kind == "index" {
			return true
		}
		for _, slug := range slugs {
			if k.slug == slug {
				return true
			}
		}
		return false
	}
	for _, m := range []map[key]*entry{c.first, c.paged} {
		for k, e := range m {
			if match(k) {
				c.remove(m, k, e)
			}
		}
	}
}

// set fills e from ct: the identity body, its gzip twin made once here (so a
// hit never compresses), strong ETags of each and the header values a hit
// hands out as they are.
func (e *entry) set(ct content) {
	sum := sha256.Sum256(ct.body)
	hash := hex.EncodeToString(sum[:8])
	e.body = ct.body
	e.gzBody = gzipBytes(ct.body)
	e.etag = []string{`"` + hash + `"`}
	e.gzETag = []string{`"` + hash + `-gz"`}
	e.length = []string{strconv.Itoa(len(e.body))}
	e.gzLength = []string{strconv.Itoa(len(e.gzBody))}
	e.contentType = []string{ct.contentType}
	e.links = ct.links
	e.modified = ct.modified.UTC().Truncate(time.Second)
}

func gzipBytes(b []byte) []byte {
	var buf bytes.Buffer
	buf.Grow(len(b)/3 + 64)
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestSpeed) // error only for a bad level
	zw.Write(b)                                        // writes to a bytes.Buffer do not fail
	zw.Close()
	return buf.Bytes()
}
