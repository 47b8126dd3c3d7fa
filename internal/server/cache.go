package server

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/newsdesk/newsdesk/internal/background"

	"github.com/klauspost/compress/gzip"
)

// DefaultCacheBytes bounds the render cache when Options.CacheBytes is 0.
// A 50-item topic with full articles renders to about 250 KB per format
// plus 80 KB gzipped, so this keeps a few hundred topic feeds in memory.
const DefaultCacheBytes = 256 << 20

// Bounds of the documents addressed with a query (?limit, ?before, ?since):
// their keys come from clients, so beside the byte bound a count bound keeps
// one client walking the archive from filling the cache with pages nobody
// else reads. entryOverhead is what an entry costs beyond its bodies (the
// struct, its header values, its map slot), counted against the byte bound.
const (
	pagedEntries  = 1024
	entryOverhead = 1 << 10
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
	// navType, when set, is the Content-Type sent instead to a browser
	// navigation (see navigation): a feed's XML type under which browsers
	// apply its stylesheet. The bytes are the same.
	navType  string
	links    []string // Link header values: self, then hubs
	modified time.Time
	// read orders the store reads the document shows: a ticket taken just
	// before the read began (see cache.reads); 0 when the fill takes one.
	read uint64
}

// entry is one cached document. Everything but used is written once, before
// ready is closed, and only read afterwards; header values are shared by
// every response that serves the entry and are never appended to.
type entry struct {
	ready chan struct{}
	err   error
	fill  func() (content, error) // how to make it again (for a refresh)

	body, gzBody     []byte // gzBody is nil when compression would not pay
	etag, gzETag     []string
	length, gzLength []string
	lastModified     []string // nil when modified is zero
	contentType      []string
	navType          []string // nil when navigations get contentType too
	vary             []string // nil when no answer about it varies
	links            []string
	modified         time.Time // whole seconds
	read             uint64    // content.read
	superseded       bool      // made after its cache was sealed: never served (see cache.seal)
	// carried is a render ahead of readers of a document served since its
	// render before: invalidate renders it again, served or not, once. Its
	// readers are on their way; dropped, the next of them would wait for a
	// fill, and under changes coming faster than they poll (a first fetch
	// commits every few milliseconds) every poll did, the renders ahead of
	// readers never kept up with the drops.
	carried bool

	used atomic.Bool // served (beyond the request that made it) since it was made or the eviction hand last passed
	key  key
	size int64 // bytes counted against the bound; guarded by cache.mu
	pos  int   // index in cache.ring; guarded by cache.mu
}

// touch records that e was served: eviction spares it once. It writes only
// when the flag is clear, so concurrent hits on a hot entry do not bounce
// its cache line between cores.
func (e *entry) touch() {
	if !e.used.Load() {
		e.used.Store(true)
	}
}

// cache holds rendered documents. Concurrent requests for a missing document
// render it once (the others wait on ready). Every document in it is ready
// to serve or being filled; a hit on a document at a fixed path (a topic's
// feeds and page, the index, the OPML) reads its slot without taking mu.
//
// Memory is bounded by bytes: ready entries sit on a CLOCK ring, and when
// the total passes the bound the hand evicts entries not served since it
// last passed them.
type cache struct {
	limit       int64
	hits, fills *atomic.Uint64
	observer    CacheObserver
	cpu         *background.Pool // where the renders invalidate does run; nil: on the caller
	maxLag      time.Duration    // Options.RefreshLag
	gz          *gzipWriters
	reads       *atomic.Uint64 // read tickets, shared by every state's cache
	mirror      *mirror        // told of every slot's change; nil: no one

	// slots are the lock-free read side of the fixed-path entries, built
	// once by the state; an entry is published to its slot when it is
	// filled and withdrawn (under mu) before it stops being current.
	slots map[key]*atomic.Pointer[entry]

	mu         sync.Mutex
	entries    map[key]*entry
	refreshing map[key]*refresher // documents being rendered ahead of readers
	ring       []*entry           // ready entries in CLOCK order
	hand       int
	size       int64
	paged      int               // ready entries with a query
	lastMod    map[key]time.Time // the Last-Modified last admitted, by fixed-path document
	served     map[key]uint64    // the latest read a fixed-path document was made from and handed out
	// sealed is set when a new configuration's cache takes over (seal);
	// handedOver is closed once that cache is the one requests reach.
	sealed     bool
	handedOver chan struct{}
}

func newCache(limit int64, slots map[key]*atomic.Pointer[entry], hits, fills *atomic.Uint64, o CacheObserver) *cache {
	if limit <= 0 {
		limit = DefaultCacheBytes
	}
	return &cache{limit: limit, hits: hits, fills: fills, slots: slots, observer: o, reads: new(atomic.Uint64),
		entries: map[key]*entry{}, refreshing: map[key]*refresher{}, lastMod: map[key]time.Time{},
		served: map[key]uint64{}, handedOver: make(chan struct{})}
}

var errFillPanicked = errors.New("render panicked")

// errSuperseded is a fill that ended after its cache was sealed: the
// request asks the configuration that took over instead.
var errSuperseded = errors.New("configuration superseded")

// get returns the entry for k, calling fill to make it when it is missing.
// A failed fill is not cached: its waiters get the error and the next
// request tries again.
func (c *cache) get(k key, fill func() (content, error)) (*entry, error) {
	return c.load(k, fill, nil)
}

// load is get, with fill run on cpu (when set). The entry keeps fill
// itself, not fill wrapped to run there: a render ahead of readers
// (refill) goes to the pool itself, and work that asks the pool for a
// worker from inside one waits forever once the workers are all busy.
func (c *cache) load(k key, fill func() (content, error), cpu *background.Pool) (*entry, error) {
	c.mu.Lock()
	if e, ok := c.entries[k]; ok {
		c.mu.Unlock()
		<-e.ready
		if e.err != nil {
			return nil, e.err
		}
		if e.superseded {
			return nil, errSuperseded
		}
		e.touch()
		c.hits.Add(1)
		c.observer.CacheHit(k.kind)
		return e, nil
	}
	e := &entry{ready: make(chan struct{}), fill: fill, key: k}
	c.entries[k] = e
	c.mu.Unlock()
	c.fills.Add(1)
	c.observer.CacheMiss(k.kind)

	done, start := false, time.Now()
	defer func() {
		if !done { // fill panicked: release the waiters, then let the panic go on
			e.err = errFillPanicked
			c.settle(k, e)
			c.observer.CacheFill(k.kind, time.Since(start), e.err)
		}
	}()
	var err error
	cpu.Run(func() { err = e.make(c.reads, c.gz) }) // a panic in fill comes back here
	c.observer.CacheFill(k.kind, time.Since(start), err)
	if err != nil {
		e.err = err
	}
	done = true
	c.settle(k, e)
	if err != nil {
		return nil, err
	}
	if e.superseded {
		return nil, errSuperseded
	}
	return e, nil // not touched: a document read once is the first to go
}

// settle records the outcome of e's fill and wakes its waiters. An entry
// that an invalidation dropped meanwhile is not kept: its waiters asked
// before the change, later requests make a new one.
func (c *cache) settle(k key, e *entry) {
	c.mu.Lock()
	switch {
	case c.sealed && e.err == nil:
		e.superseded = true // its waiters ask the new configuration
		if c.entries[k] == e {
			delete(c.entries, k)
		}
	case c.entries[k] == e:
		if e.err != nil {
			delete(c.entries, k)
		} else {
			c.admit(e)
		}
	case e.err == nil:
		c.handedOut(e) // dropped, but its waiters get it
	}
	c.mu.Unlock()
	close(e.ready)
}

// handedOut records that e goes to readers: no cache taking over from this
// one may serve a document made from an older read. Called with mu held.
func (c *cache) handedOut(e *entry) {
	if e.key.query == "" && e.read > c.served[e.key] {
		c.served[e.key] = e.read
	}
}

// admit puts a ready e (already in entries) on the ring and its slot, then
// trims the cache to its bounds. Called with mu held.
func (c *cache) admit(e *entry) {
	if e.key.query == "" { // a document at a fixed path: bounded by the topics
		// Last-Modified never goes back for one document: a client that
		// revalidates with If-Modified-Since alone would take a 304 for
		// a changed feed. The store's topic change times come from each
		// write's clock, and concurrent writes can commit out of order.
		if prev := c.lastMod[e.key]; prev.After(e.modified) {
			e.modified = prev
			e.lastModified = []string{prev.Format(http.TimeFormat)}
		}
		if !e.modified.IsZero() {
			c.lastMod[e.key] = e.modified
		}
	}
	e.size = int64(cap(e.body)+cap(e.gzBody)) + entryOverhead
	c.size += e.size
	e.pos = len(c.ring)
	c.ring = append(c.ring, e)
	if e.key.query != "" {
		c.paged++
	}
	if s := c.slots[e.key]; s != nil {
		s.Store(e)
		c.mirror.mark(e.key)
	}
	c.handedOut(e)
	c.evict(e)
}

// evict moves the CLOCK hand until the cache is within its bounds. It
// spares keep (the entry just admitted) and, once, every entry served since
// the hand last passed it; over the count bound alone it takes only paged
// entries. Called with mu held.
func (c *cache) evict(keep *entry) {
	for spared := 0; (c.size > c.limit || c.paged > pagedEntries) && spared < 2*len(c.ring); {
		if c.hand >= len(c.ring) {
			c.hand = 0
		}
		e := c.ring[c.hand]
		pagesOnly := c.size <= c.limit
		if e == keep || (pagesOnly && e.key.query == "") {
			c.hand++
			spared++
			continue
		}
		if e.used.Load() {
			e.used.Store(false)
			c.hand++
			spared++
			continue
		}
		c.remove(e) // the last entry moves into the hand's place: look there next
		spared = 0
	}
}

// remove deletes the ready entry e from the cache: map, slot and ring. The
// last ring entry takes its place, so removal is O(1). Called with mu held.
func (c *cache) remove(e *entry) {
	k := e.key
	if c.entries[k] == e {
		delete(c.entries, k)
	}
	if s := c.slots[k]; s != nil && s.CompareAndSwap(e, nil) {
		c.mirror.mark(k)
	}
	c.size -= e.size
	if k.query != "" {
		c.paged--
	}
	last := len(c.ring) - 1
	c.ring[e.pos] = c.ring[last]
	c.ring[e.pos].pos = e.pos
	c.ring[last] = nil
	c.ring = c.ring[:last]
}

// refreshFactor is how many times what a document's last render ahead of
// readers cost (render and compression) must pass before the next begins,
// with a lag bound set (Options.RefreshLag). A first fetch touches most
// topics with every commit; rendered at each, three formats a topic, the
// renders took two fifths of the daemon's CPU ahead of the readers they
// were for. At 200 a render's share of a core stays near half a percent a
// document, until the bound caps the gap.
const refreshFactor = 200

// refreshGap is how long after a render of a document that cost cost
// began the next may begin.
func (c *cache) refreshGap(cost time.Duration) time.Duration {
	return min(c.maxLag, refreshFactor*cost)
}

// invalidate makes the documents of the named topics (and the index, whose
// counts they change) current again; no slugs means every document.
//
// A first page that was served since it was made is rendered again and
// swapped in whole, so its readers never wait for a fill and never see an
// older version after a newer one. Any other document is dropped and made
// again by the next request that wants it, so no request is answered from
// it after the call. The renders of one document run one at a time; a
// change that comes during one is taken by the next.
//
// With no lag bound (maxLag 0), when invalidate returns no request is
// answered from what the store held before the call: it renders on the
// caller's goroutine, or waits for the render that takes its change. With
// one, a document is rendered at once when its refresh gap (refreshGap)
// has passed since its last render began, else by a timer when it has, and
// served as it was until then: a change shows within maxLag plus a render
// (and its wait for a CPU slot), and every change meanwhile shares it.
func (c *cache) invalidate(slugs []string) {
	match := func(k key) bool {
		if len(slugs) == 0 || k.kind == "index" {
			return true
		}
		for _, slug := range slugs {
			if k.slug == slug {
				return true
			}
		}
		return false
	}
	var run []key
	var waits []chan struct{}
	c.mu.Lock()
	for k, e := range c.entries {
		if !match(k) {
			continue
		}
		if !e.isReady() { // a fill in flight may have read the store before the change
			delete(c.entries, k)
			continue
		}
		if k.query != "" || !(e.used.Load() || e.carried) {
			c.remove(e)
			continue
		}
		r := c.refreshing[k]
		if r == nil {
			r = &refresher{}
			c.refreshing[k] = r
		}
		r.pending = true
		if r.next == nil {
			r.next = make(chan struct{})
		}
		if c.maxLag == 0 {
			waits = append(waits, r.next)
		}
		if !r.running && r.timer == nil {
			r.running = true
			run = append(run, k)
		}
	}
	c.mu.Unlock()
	sortKeys(run)
	for _, k := range run {
		c.refreshRounds(k)
	}
	for _, w := range waits {
		<-w
	}
}

// sortKeys orders keys by topic, then kind: a topic's documents one after
// another show the same page, which the first reads and the others take
// from the state's memo.
func sortKeys(keys []key) {
	slices.SortFunc(keys, func(a, b key) int { return cmp.Or(strings.Compare(a.slug, b.slug), strings.Compare(a.kind, b.kind)) })
}

// polled returns the first pages served since their last render.
func (c *cache) polled() []key {
	c.mu.Lock()
	defer c.mu.Unlock()
	var keys []key
	for _, e := range c.ring {
		if e.key.query == "" && e.used.Load() {
			keys = append(keys, e.key)
		}
	}
	return keys
}

// warm fills k ahead of readers, holding a CPU slot as the renders of
// invalidate do, and marks it polled (its readers are on their way).
func (c *cache) warm(k key, fill func() (content, error)) {
	e, err := c.load(k, fill, c.cpu)
	if err == nil {
		e.touch()
	}
}

// refresher is the renders ahead of readers of one document.
type refresher struct {
	running bool          // a goroutine is in refreshRounds for it
	pending bool          // a change came since the last render began
	next    chan struct{} // closed when the render taking the pending changes is swapped in
	timer   *time.Timer   // the next render's, when one waits for its gap
	last    time.Time     // when the last render began
	cost    time.Duration // what it took, without the wait for a CPU slot
}

// refreshRounds renders k again while a change is pending and its gap has
// passed, and leaves a timer for the next render when one is pending but
// not due. The caller set r.running. Each render reads the store after it
// begins, so it holds every change pending when it began.
func (c *cache) refreshRounds(k key) {
	for {
		c.mu.Lock()
		r := c.refreshing[k]
		if !r.pending || c.sealed {
			if r.next != nil { // sealed: another cache serves, no one waits for this one
				close(r.next)
				r.next = nil
			}
			r.pending, r.running = false, false
			c.mu.Unlock()
			return
		}
		now := time.Now()
		if wait := r.last.Add(c.refreshGap(r.cost)).Sub(now); wait > 0 {
			r.running = false
			r.timer = time.AfterFunc(wait, func() { c.refreshLater(k) })
			c.mu.Unlock()
			return
		}
		done := r.next
		r.pending, r.next, r.last = false, nil, now
		old := c.entries[k]
		c.mu.Unlock()
		if old != nil && old.isReady() { // else dropped, or being filled anew: nothing to refresh
			cost := c.refreshOnce(k, old)
			c.mu.Lock()
			r.cost = cost
			c.mu.Unlock()
		}
		close(done)
	}
}

// flush renders now every document whose render waits for its gap, and
// waits for the renders running.
func (c *cache) flush() {
	var run []key
	var waits []chan struct{}
	c.mu.Lock()
	for k, r := range c.refreshing {
		if r.timer != nil && r.timer.Stop() {
			r.timer = nil
			r.running, r.last = true, time.Time{} // due now
			run = append(run, k)
		}
		if r.pending && r.next != nil {
			waits = append(waits, r.next)
		}
	}
	c.mu.Unlock()
	sortKeys(run)
	for _, k := range run {
		c.refreshRounds(k)
	}
	for _, w := range waits {
		<-w
	}
}

// refreshLater is a refresher's timer firing.
func (c *cache) refreshLater(k key) {
	c.mu.Lock()
	r := c.refreshing[k]
	r.timer = nil
	if r.running { // cannot happen: a timer is set only by a round that then stops
		c.mu.Unlock()
		return
	}
	r.running = true
	c.mu.Unlock()
	c.refreshRounds(k)
}

// refreshOnce renders old's document again and swaps the render in, if old
// is still the cached one when it is done, and returns what the render and
// compression took.
func (c *cache) refreshOnce(k key, old *entry) time.Duration {
	c.fills.Add(1)
	ne := &entry{ready: make(chan struct{}), fill: old.fill, key: k}
	start := time.Now()
	cost, err := ne.refill(c.cpu, c.reads, c.gz)
	c.observer.CacheFill(k.kind, time.Since(start), err)
	close(ne.ready)
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case c.entries[k] != old || c.sealed:
		// Evicted or replaced meanwhile, or another configuration serves:
		// nothing to swap.
	case err != nil:
		c.remove(old) // the next request fills it and reports the error
	default:
		ne.carried = old.used.Load()
		c.remove(old)
		c.entries[k] = ne
		c.admit(ne)
	}
	return cost
}

func (e *entry) isReady() bool {
	select {
	case <-e.ready:
		return true
	default:
		return false
	}
}

// refill makes e from its fill, compressed, on cpu (when set), turning a
// panic into an error: an invalidation runs on the caller's goroutine (the
// ingester's), which a bad render must not take down. It returns what the
// render and compression took, the wait for a worker left out.
func (e *entry) refill(cpu *background.Pool, reads *atomic.Uint64, gz *gzipWriters) (took time.Duration, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = errFillPanicked
		}
	}()
	cpu.Run(func() {
		start := time.Now()
		defer func() { took = time.Since(start) }()
		err = e.make(reads, gz)
	})
	return took, err
}

// make renders e with its fill and, when that works, compresses it and
// sets it (compressing is as much of the work as rendering), the store
// read ticketed from reads unless the fill ticketed its own.
func (e *entry) make(reads *atomic.Uint64, gz *gzipWriters) error {
	ticket := reads.Add(1)
	ct, err := e.fill()
	if err != nil {
		return err
	}
	if ct.read == 0 {
		ct.read = ticket
	}
	e.set(ct, gz)
	return nil
}

// seal stops c serving, once the cache of a new configuration is to take
// over (see handOver): a fill that ends after it is handed to no one (its
// requests ask the new configuration), and no render ahead of readers
// starts or swaps in.
func (c *cache) seal() {
	c.mu.Lock()
	c.sealed = true
	for _, r := range c.refreshing {
		if r.timer != nil && r.timer.Stop() {
			r.timer = nil
		}
	}
	c.mu.Unlock()
}

// handOver prepares next, a new configuration's cache, to take over from
// the sealed c: a reader must not get from next an older version of a
// document than it already got from c. next's renders were made beside
// c's, each from its own store reads, and a change committed but not yet
// invalidated can be in one and not in the other; so every document of
// next made from a read older than the last one c handed out, or with an
// earlier Last-Modified, is dropped (the next request fills it anew) and
// next starts from c's Last-Modified values.
func (c *cache) handOver(next *cache) {
	c.mu.Lock()
	defer c.mu.Unlock()
	next.mu.Lock()
	defer next.mu.Unlock()
	for k, e := range next.entries {
		if k.query != "" {
			continue
		}
		if !e.isReady() {
			delete(next.entries, k) // its read may be older, too
			continue
		}
		if e.read < c.served[k] || e.modified.Before(c.lastMod[k]) {
			next.remove(e)
		}
	}
	for k, t := range c.lastMod {
		if t.After(next.lastMod[k]) {
			next.lastMod[k] = t
		}
	}
	for k, r := range c.served {
		next.served[k] = max(next.served[k], r)
	}
}

// set fills e from ct: the identity body, its gzip twin made once here (so a
// hit never compresses), strong ETags of each and the header values a hit
// hands out as they are.
func (e *entry) set(ct content, gz *gzipWriters) {
	sum := sha256.Sum256(ct.body)
	hash := hex.EncodeToString(sum[:8])
	e.body = trim(ct.body)
	gzETag := ""
	if gz := gz.compress(ct.body); len(gz)+gzipMinSaving <= len(ct.body) {
		e.gzBody, gzETag = trim(gz), `"`+hash+`-gz"`
	}
	e.describe(`"`+hash+`"`, gzETag, ct.contentType, ct.navType, ct.modified)
	e.links, e.read = ct.links, ct.read
}

// describe sets the header values serve hands out for e's bodies (set
// first; gzETag is ignored without a gzip twin): for a render (set) and for
// a document a Replica receives (entryOf) alike.
func (e *entry) describe(etag, gzETag, contentType, navType string, modified time.Time) {
	e.etag = []string{etag}
	e.length = []string{strconv.Itoa(len(e.body))}
	if e.gzBody != nil {
		e.gzETag, e.gzLength = []string{gzETag}, []string{strconv.Itoa(len(e.gzBody))}
	}
	e.contentType = []string{contentType}
	if navType != "" {
		e.navType = []string{navType}
	}
	e.vary = varyOf(e.gzBody != nil, e.navType != nil)
	e.modified = modified.UTC().Truncate(time.Second)
	if !e.modified.IsZero() {
		e.lastModified = []string{e.modified.Format(http.TimeFormat)}
	}
}

// trim returns b in an array of its own length when b's has much more
// room: a document is rendered into a bytes.Buffer, whose doubling leaves
// up to twice the bytes written, and a cached document keeps its array for
// as long as it is cached. Under the byte bound (which counts capacity) the
// slack would be memory the bound does not buy documents with.
func trim(b []byte) []byte {
	if cap(b)-len(b) <= len(b)/16 {
		return b
	}
	return bytes.Clone(b)
}

// gzipMinSaving is how many bytes compression must save for a document to
// have a gzip twin. Below it the document is served as is to everyone and,
// since its body then never varies, without Vary: Accept-Encoding.
const gzipMinSaving = 256

// gzipLevel is the compression of the gzip twins. A twin is made once per
// render, off the request path, so it takes the best ratio the fill budget
// allows (5 ms for a 50-item page of ~300 KB): klauspost/compress at level
// 6 comes within 1.3% of gzip -9's size in 2.5 ms. The standard library
// needs level 4 for 1.5-1.8% and 4.6-4.9 ms, at the edge of the budget, and
// the renders ahead of readers on every change during ingest pay it (see
// servebench ingest); level 5 (0.1-0.4%) takes 7.5 ms.
const gzipLevel = 6

// gzipWriters reuses compressors: a new one allocates 1.4 MB of state and
// takes half as long again as a Reset one.
type gzipWriters struct{ pool sync.Pool }

// compress returns b gzipped at gzipLevel.
func (g *gzipWriters) compress(b []byte) []byte {
	var buf bytes.Buffer
	buf.Grow(len(b)/3 + 64)
	zw, _ := g.pool.Get().(*gzip.Writer)
	if zw == nil {
		zw, _ = gzip.NewWriterLevel(&buf, gzipLevel) // error only for a bad level
	} else {
		zw.Reset(&buf)
	}
	zw.Write(b) // writes to a bytes.Buffer do not fail
	zw.Close()
	g.pool.Put(zw)
	return buf.Bytes()
}
