package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// categoriesPerStory is how many topics each generated story belongs to.
const categoriesPerStory = 10

// manyTopics serves o.topics topics of o.items stories each (every story in
// 10 topics) and asks for every topic in every format once, as a fleet of
// readers would after a restart: the time each fill takes, the whole
// fill, and the daemon's resident memory before and after, with the render
// cache at its configured bound.
func manyTopics(ctx context.Context, o options, stdout io.Writer) error {
	r, err := measureTopics(ctx, o)
	if err != nil {
		return err
	}
	cacheLimit := "256MiB (the default)"
	if o.renderCache != "" {
		cacheLimit = o.renderCache
	}
	fmt.Fprintf(stdout, "\n%d topics × 3 formats = %d documents of %d items (~%d B of HTML each), render cache bound %s\n\n",
		o.topics, r.docs, o.items, o.itemBytes, cacheLimit)
	fmt.Fprintf(stdout, "first request of every document (a fill each): %v in all, per document p50 %v, p99 %v; %.1f MB gzipped\n",
		r.total.Round(time.Millisecond), ms(percentile(r.first, 0.5)), ms(percentile(r.first, 0.99)), float64(r.gzBytes)/1e6)
	fmt.Fprintf(stdout, "second request of every document: %v in all, p50 %v, p99 %v (fills of what the bound evicted, hits of the rest)\n",
		r.total2.Round(time.Millisecond), ms(percentile(r.second, 0.5)), ms(percentile(r.second, 0.99)))
	if len(r.partsAfter) == 1 {
		fmt.Fprintf(stdout, "newsdesk resident memory (one process): %.0f MB before, %.0f MB after the fill (Go heap live after the last GC: %.0f MB)\n",
			float64(r.rssBefore)/1e6, float64(r.rssAfter)/1e6, float64(r.liveHeap)/1e6)
		return nil
	}
	// Both processes write gctrace lines to one log, unmarked: no live
	// heap figure is the daemon's for sure.
	fmt.Fprintf(stdout, "newsdesk resident memory (reader process and daemon): %.0f MB before, %.0f MB after the fill (reader process %.0f MB, daemon %.0f MB)\n",
		float64(r.rssBefore)/1e6, float64(r.rssAfter)/1e6, float64(r.partsAfter[len(r.partsAfter)-1])/1e6, float64(r.partsAfter[0])/1e6)
	return nil
}

// topicsResult is what manyTopics measured.
type topicsResult struct {
	docs                int
	first, second       []time.Duration // sorted latencies of each pass
	total, total2       time.Duration
	gzBytes             int64
	rssBefore, rssAfter int64
	partsAfter          []int64 // rssAfter by process: the daemon first, the reader process last
	liveHeap            int64   // after the last GC of the first pass
}

func measureTopics(ctx context.Context, o options) (*topicsResult, error) {
	env, err := newEnv(o)
	if err != nil {
		return nil, err
	}
	defer env.close()
	bin, err := env.newsdesk(ctx)
	if err != nil {
		return nil, err
	}
	corpus, err := newCorpus(env.root)
	if err != nil {
		return nil, err
	}
	const perFeed = 50
	stories := o.topics * o.items / categoriesPerStory
	feeds := (stories + perFeed - 1) / perFeed
	logf(o, "generating %d feeds of %d items (%d stories, each in %d of %d topics)", feeds, perFeed, stories, categoriesPerStory, o.topics)
	docs := map[string][]byte{}
	up, err := serveUpstream(docs)
	if err != nil {
		return nil, err
	}
	defer up.Close()
	var sources []source
	for f := range feeds {
		name := fmt.Sprintf("f%d", f)
		var b strings.Builder
		for i := range min(perFeed, stories-f*perFeed) {
			// Story s is in topics s*10+j mod N for j < 10: every topic gets
			// o.items stories when N is a multiple of 10.
			s := f*perFeed + i
			var cats []string
			for j := range categoriesPerStory {
				cats = append(cats, "cat"+strconv.Itoa((s*categoriesPerStory+j)%o.topics))
			}
			b.Write(corpus.rss(feedSpec{name: fmt.Sprintf("%s-%d", name, i), items: 1, itemBytes: o.itemBytes, categories: cats,
				offset: time.Duration(s) * time.Minute}))
		}
		docs["/"+name+".xml"] = mergeFeeds(b.String())
		sources = append(sources, source{name, up.URL + "/" + name + ".xml"})
	}
	var topics []benchTopic
	for i := range o.topics {
		topics = append(topics, benchTopic{"t" + strconv.Itoa(i), "cat" + strconv.Itoa(i), o.items})
	}
	extra := o.daemonConfig()
	cfg := filepath.Join(env.dir, "newsdesk.yaml")
	if err := writeConfig(cfg, sources, topics, extra); err != nil {
		return nil, err
	}
	start := time.Now()
	// gctrace: the live heap after each GC, to set beside the resident size.
	d, err := startDaemon(ctx, bin, cfg, filepath.Join(env.dir, "data", "newsdesk.db"), filepath.Join(env.dir, "newsdesk.log"), "GODEBUG=gctrace=1")
	if err != nil {
		return nil, err
	}
	defer d.stop()
	done := regexp.MustCompile(`msg=("refresh failed"|refreshed) source=f\d+ `)
	for d.logs.count(done) < feeds {
		if err := sleep(ctx, 100*time.Millisecond); err != nil {
			return nil, err
		}
	}
	logf(o, "fetched and classified in %v", time.Since(start).Round(100*time.Millisecond))
	for _, t := range []benchTopic{topics[0], topics[len(topics)-1]} {
		if err := waitFeed(ctx, d.base+"/topics/"+t.slug+".rss", o.items, time.Minute); err != nil {
			return nil, err
		}
	}
	rssBefore, _, err := resident(d.cmd.Process.Pid)
	if err != nil {
		return nil, err
	}

	var paths []string
	for _, t := range topics {
		for _, ext := range []string{"rss", "atom", "json"} {
			paths = append(paths, "/topics/"+t.slug+"."+ext)
		}
	}
	fill := func() ([]time.Duration, time.Duration, int64, error) {
		lat := make([]time.Duration, len(paths))
		var sizes [2]int64
		var mu sync.Mutex
		var firstErr error
		next := make(chan int)
		start := time.Now()
		var wg sync.WaitGroup
		for range 2 { // as many fills at once as the machine has cores
			wg.Go(func() {
				for i := range next {
					t0 := time.Now()
					body, _, err := fetch(ctx, d.base+paths[i], http.StatusOK, "Accept-Encoding: gzip")
					lat[i] = time.Since(t0)
					mu.Lock()
					sizes[0] += int64(len(body))
					if err != nil && firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
				}
			})
		}
		for i := range paths {
			next <- i
		}
		close(next)
		wg.Wait()
		slices.Sort(lat)
		return lat, time.Since(start), sizes[0], firstErr
	}
	first, total, gzBytes, err := fill()
	if err != nil {
		return nil, err
	}
	rssAfter, parts, err := resident(d.cmd.Process.Pid)
	if err != nil {
		return nil, err
	}
	live := lastLiveHeap(d.logs)
	second, total2, _, err := fill()
	if err != nil {
		return nil, err
	}
	return &topicsResult{docs: len(paths), first: first, second: second, total: total, total2: total2,
		gzBytes: gzBytes, rssBefore: rssBefore, rssAfter: rssAfter, partsAfter: parts, liveHeap: live}, nil
}

// mergeFeeds joins one-item RSS documents into one document.
func mergeFeeds(docs string) []byte {
	var items []string
	for _, part := range strings.Split(docs, "<item>")[1:] {
		items = append(items, "<item>"+part[:strings.Index(part, "</item>")+len("</item>")])
	}
	return []byte(`<?xml version="1.0" encoding="UTF-8"?>` + "\n" +
		`<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel>` +
		"<title>Generated</title><link>https://gen.example.com/</link><description>Generated upstream</description>\n" +
		strings.Join(items, "\n") + "\n</channel></rss>\n")
}

// resident is the resident set size of process pid and of the processes it
// started (the daemon behind a reader process), their sum and each, the
// started ones first.
func resident(pid int) (int64, []int64, error) {
	var total int64
	var parts []int64
	for _, p := range append(children(pid), pid) {
		n, err := residentBytes(p)
		if err != nil {
			return 0, nil, err
		}
		total += n
		parts = append(parts, n)
	}
	return total, parts, nil
}

// children are the processes pid started (Linux /proc).
func children(pid int) []int {
	dirs, _ := filepath.Glob("/proc/[0-9]*/stat")
	var kids []int
	for _, d := range dirs {
		b, err := os.ReadFile(d)
		i := strings.LastIndexByte(string(b), ')') // the command name ends with ") "
		if err != nil || i < 0 {
			continue
		}
		if f := strings.Fields(string(b[i+1:])); len(f) > 1 && f[1] == strconv.Itoa(pid) {
			n, _ := strconv.Atoi(filepath.Base(filepath.Dir(d)))
			kids = append(kids, n)
		}
	}
	return kids
}

// residentBytes is a process's resident set size (Linux /proc).
func residentBytes(pid int) (int64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, fmt.Errorf("read resident memory: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10, err
		}
	}
	return 0, fmt.Errorf("no VmRSS in /proc/%d/status", pid)
}

// liveRe reads a gctrace line's heap sizes: "… 12->14->7 MB, …", the last
// being what the GC found live.
var liveRe = regexp.MustCompile(`(\d+)->(\d+)->(\d+) MB`)

// lastLiveHeap is the live heap the daemon's last GC reported, in bytes.
func lastLiveHeap(l *lineLog) int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	for i := len(l.lines) - 1; i >= 0; i-- {
		if m := liveRe.FindStringSubmatch(l.lines[i]); m != nil && gcRe.MatchString(l.lines[i]) {
			mb, _ := strconv.ParseInt(m[3], 10, 64)
			return mb << 20
		}
	}
	return 0
}
