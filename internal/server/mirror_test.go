package server_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/newsdesk/newsdesk/internal/server"
	"github.com/newsdesk/newsdesk/internal/store"
	"github.com/newsdesk/newsdesk/internal/story"
	"github.com/newsdesk/newsdesk/internal/topic"
)

// mirrored is a daemon's Server mirroring to a Replica over pipes, as the
// two processes of http.reader_process do: front is the Replica handing
// what it does not hold to the Server, alone the Replica handing it to no
// one (it answers 599), so a test can tell who answered.
type mirrored struct {
	*fixture
	front, alone *httptest.Server
	mu           sync.Mutex
	reported     []server.Request // the Replica's requests, as the Server was told of them
}

// newMirrored is newMirroredAs with the requests reported in full.
func newMirrored(t *testing.T) *mirrored { return newMirroredAs(t, true) }

// newMirroredAs mirrors a fixture's Server to a Replica that reports its
// requests in full, or counted.
func newMirroredAs(t *testing.T, full bool) *mirrored {
	t.Helper()
	m := &mirrored{fixture: newFixtureWith(t, 5, func(o *server.Options) { o.Mirror = true })}
	ctx, cancel := context.WithCancel(context.Background())
	docsR, docsW := io.Pipe()
	repR, repW := io.Pipe()
	rp := server.NewReplica()
	var wg sync.WaitGroup
	t.Cleanup(func() {
		cancel()
		docsW.Close()
		repW.Close()
		wg.Wait()
	})
	wg.Go(func() {
		err := m.srv.Mirror(ctx, docsW, repR, server.Requests{
			Full:    func() bool { return full },
			Buckets: []time.Duration{time.Millisecond, time.Second},
			Each: func(r server.Request) {
				m.mu.Lock()
				m.reported = append(m.reported, r)
				m.mu.Unlock()
			},
			Counted: func(r server.Request, n int) {
				m.mu.Lock()
				for range n {
					m.reported = append(m.reported, r)
				}
				m.mu.Unlock()
			},
		})
		docsW.CloseWithError(err)
	})
	wg.Go(func() { rp.Apply(docsR) })
	wg.Go(func() { rp.Report(ctx, repW, 5*time.Millisecond) })
	m.front = httptest.NewServer(rp.Handler(m.srv))
	t.Cleanup(m.front.Close)
	m.alone = httptest.NewServer(rp.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(599) })))
	t.Cleanup(m.alone.Close)
	return m
}

// getFrom is a GET of path on base with header pairs "Name: value".
func (m *mirrored) getFrom(t *testing.T, base, path string, headers ...string) (*http.Response, []byte) {
	t.Helper()
	return m.doAt(t, base, http.MethodGet, path, headers...)
}

// await polls the Replica alone for path until ok accepts its answer.
func (m *mirrored) await(t *testing.T, path, what string, ok func(*http.Response, []byte) bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		res, body := m.getFrom(t, m.alone.URL, path)
		if ok(res, body) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: the replica never %s (last answer %d, %d bytes)", path, what, res.StatusCode, len(body))
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func (m *mirrored) reportedPaths() map[string]int {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := map[string]int{}
	for _, r := range m.reported {
		n[r.Path]++
	}
	return n
}

// TestReplicaAnswersAsTheServer: every answer a Replica gives from a
// mirrored document (plain, gzip, conditional, HEAD, a browser's
// navigation) has the status, headers and body the daemon's own answer
// has, and the daemon is told of each request.
func TestReplicaAnswersAsTheServer(t *testing.T) {
	m := newMirrored(t)
	paths := []string{"/topics/climate.rss", "/topics/climate.atom", "/topics/climate.json", "/topics/climate", "/topics.opml", "/feed.xsl"}
	for _, path := range paths {
		if res, _ := m.getFrom(t, m.front.URL, path); res.StatusCode != http.StatusOK { // handed on: the daemon renders it
			t.Fatalf("GET %s through the replica: %s", path, res.Status)
		}
		m.await(t, path, "held the document", func(res *http.Response, _ []byte) bool { return res.StatusCode == http.StatusOK })
	}
	res, rss := m.getFrom(t, m.ts.URL, "/topics/climate.rss")
	etag := res.Header.Get("ETag")
	if len(rss) == 0 || etag == "" {
		t.Fatal("the daemon served no RSS or no ETag")
	}
	requests := [][]string{
		nil,
		{"Accept-Encoding: gzip"},
		{"If-None-Match: " + etag},
		{"Accept-Encoding: gzip", "If-None-Match: " + etag},
		{"If-Modified-Since: " + base.Format(http.TimeFormat)},
		{"Accept: text/html,application/xhtml+xml"},
		{"Sec-Fetch-Dest: document", "Accept-Encoding: gzip"},
		{"Range: bytes=0-99"},
	}
	headers := []string{"Etag", "Cache-Control", "Vary", "Link", "Content-Type", "Content-Encoding", "Content-Length",
		"Last-Modified", "Content-Range", "X-Content-Type-Options"}
	before := m.reportedPaths()
	asked := map[string]int{}
	for _, path := range paths {
		for _, h := range requests {
			want, wantBody := m.getFrom(t, m.ts.URL, path, h...)
			got, gotBody := m.getFrom(t, m.alone.URL, path, h...)
			asked[path]++
			if got.StatusCode != want.StatusCode || !bytes.Equal(gotBody, wantBody) {
				t.Errorf("%s %q: replica %d with %d bytes, daemon %d with %d", path, h, got.StatusCode, len(gotBody), want.StatusCode, len(wantBody))
			}
			for _, name := range headers {
				if g, w := got.Header.Values(name), want.Header.Values(name); strings.Join(g, "\n") != strings.Join(w, "\n") {
					t.Errorf("%s %q: %s %q from the replica, %q from the daemon", path, h, name, g, w)
				}
			}
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for path, n := range asked {
		for m.reportedPaths()[path]-before[path] < n {
			if time.Now().After(deadline) {
				t.Fatalf("%s: the daemon was told of %d of the replica's %d answers", path, m.reportedPaths()[path]-before[path], n)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	if hits := m.srv.Stats().Hits; hits < uint64(len(paths)*len(requests)) {
		t.Errorf("the daemon counts %d cache hits, fewer than the replica's %d answers", hits, len(paths)*len(requests))
	}
}

// TestReplicaFollowsChanges: a change the daemon invalidates reaches the
// Replica without a request going to the daemon (the documents the Replica
// serves are rendered ahead of their readers because its reports say it
// served them), and a topic a new configuration drops is withdrawn.
func TestReplicaFollowsChanges(t *testing.T) {
	m := newMirrored(t)
	const path = "/topics/climate.rss"
	m.getFrom(t, m.front.URL, path)
	m.await(t, path, "held the document", func(res *http.Response, _ []byte) bool { return res.StatusCode == http.StatusOK })
	m.getFrom(t, m.front.URL, "/topics/chess.rss")
	m.await(t, "/topics/chess.rss", "held chess", func(res *http.Response, _ []byte) bool { return res.StatusCode == http.StatusOK })
	// Served by the replica, and the daemon told so, before the change:
	// the daemon then renders it ahead instead of dropping it.
	before := m.reportedPaths()[path]
	m.getFrom(t, m.alone.URL, path)
	for m.reportedPaths()[path] == before {
		time.Sleep(5 * time.Millisecond)
	}

	fresh := makeStories("climate", 1)[0]
	fresh.ID, fresh.GUID, fresh.Link = "fresh", "https://wire.example.com/fresh", "https://wire.example.com/fresh"
	fresh.Title = "climate story fresh"
	fresh.Published = base.Add(time.Hour)
	if _, err := m.db.Put(t.Context(), "wire", store.SourceState{Status: "ok"}, []story.Story{fresh}, base.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	m.srv.Invalidate("climate")
	m.await(t, path, "showed the new story", func(res *http.Response, body []byte) bool {
		if res.StatusCode != http.StatusOK {
			t.Fatalf("%s: the replica handed a request on (%d) while the daemon renders the document ahead", path, res.StatusCode)
		}
		return bytes.Contains(body, []byte("climate story fresh"))
	})

	m.srv.Reconfigure(site, topic.NewSet(m.topics.Lookup("climate")), server.Caching{MaxAge: 5 * time.Minute})
	m.await(t, "/topics/chess.rss", "withdrew the dropped topic", func(res *http.Response, _ []byte) bool { return res.StatusCode == 599 })
	m.getFrom(t, m.front.URL, path) // the new configuration's document
	m.await(t, path, "held the new configuration's document", func(res *http.Response, body []byte) bool {
		return res.StatusCode == http.StatusOK && bytes.Contains(body, []byte("climate story fresh"))
	})
}

// TestReplicaCountsRequests: with no access log wanting each request, the
// Replica counts what it answered by route, status and duration bucket,
// and the daemon is told of every one of them.
func TestReplicaCountsRequests(t *testing.T) {
	m := newMirroredAs(t, false)
	const path = "/topics/climate.rss"
	if res, _ := m.getFrom(t, m.front.URL, path); res.StatusCode != http.StatusOK {
		t.Fatalf("GET %s through the replica: %s", path, res.Status)
	}
	m.await(t, path, "held the document", func(res *http.Response, _ []byte) bool { return res.StatusCode == http.StatusOK })
	res, _ := m.getFrom(t, m.alone.URL, path)
	etag := res.Header.Get("ETag")
	const n = 50 // and what await asked (200s), whose reports may still be on their way
	for i := range n {
		var h []string
		if i%2 == 1 {
			h = []string{"If-None-Match: " + etag}
		}
		if res, _ := m.getFrom(t, m.alone.URL, path, h...); res.StatusCode != 200 && res.StatusCode != 304 {
			t.Fatalf("GET %s: %s", path, res.Status)
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		m.mu.Lock()
		got := slices.Clone(m.reported)
		m.mu.Unlock()
		byStatus := map[int]int{}
		for _, r := range got {
			byStatus[r.Status]++
		}
		if byStatus[304] == n/2 && byStatus[200] >= n/2+1 {
			for _, r := range got {
				if r.Route != "/topics/{file}" || r.Path != "" || r.Duration <= 0 || (r.Status != 200 && r.Status != 304) {
					t.Errorf("counted request %+v, want the route, a 200 or 304, no path and a mean duration", r)
				}
			}
			break
		}
		if byStatus[304] > n/2 || time.Now().After(deadline) {
			t.Fatalf("the daemon was told of %v requests by status; the replica answered %d 304s and %d 200s or more", byStatus, n/2, n/2+1)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
