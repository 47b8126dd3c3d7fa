package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/newsdesk/newsdesk/internal/admin"
	"github.com/newsdesk/newsdesk/internal/store"
	"github.com/newsdesk/newsdesk/internal/store/postgres"
	"github.com/newsdesk/newsdesk/internal/store/postgres/pgtest"
	"github.com/newsdesk/newsdesk/internal/story"
)

// hits is a loopback upstream of RSS documents that records when each path
// was asked for, and can answer a path with another status.
type hits struct {
	mu     sync.Mutex
	docs   map[string]string
	code   map[string]int // path → status to answer instead of the document
	at     map[string][]time.Time
	notify chan struct{}
	// hold, when set for a path, is called for its next request instead
	// of serving it: the test decides when and what it answers.
	hold map[string]func(w http.ResponseWriter)
}

func newHits() *hits {
	return &hits{docs: map[string]string{}, code: map[string]int{}, at: map[string][]time.Time{},
		notify: make(chan struct{}, 1), hold: map[string]func(http.ResponseWriter){}}
}

func (h *hits) set(path, doc string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.docs[path] = doc
}

func (h *hits) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.mu.Lock()
	h.at[r.URL.Path] = append(h.at[r.URL.Path], time.Now())
	doc, ok := h.docs[r.URL.Path]
	code := h.code[r.URL.Path]
	held := h.hold[r.URL.Path]
	delete(h.hold, r.URL.Path)
	h.mu.Unlock()
	select {
	case h.notify <- struct{}{}:
	default:
	}
	switch {
	case held != nil:
		held(w)
	case code != 0:
		w.WriteHeader(code)
	case !ok:
		http.NotFound(w, r)
	default:
		w.Header().Set("Content-Type", "application/rss+xml")
		io.WriteString(w, doc)
	}
}

// waitHits waits until path was asked for n times in all and returns when
// the nth request arrived.
func (h *hits) waitHits(t *testing.T, path string, n int, d time.Duration) time.Time {
	t.Helper()
	deadline := time.After(d)
	for {
		h.mu.Lock()
		at := h.at[path]
		h.mu.Unlock()
		if len(at) >= n {
			return at[n-1]
		}
		select {
		case <-h.notify:
		case <-time.After(50 * time.Millisecond):
		case <-deadline:
			t.Fatalf("%s was asked for %d times in %v, want %d", path, len(at), d, n)
		}
	}
}

func (h *hits) count(path string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.at[path])
}

// harbourItems is n RSS items about the harbour from wire s.
func harbourItems(s, n int) []string {
	var items []string
	for i := range n {
		items = append(items, fmt.Sprintf(`<item><title>Harbour news %d-%d</title><link>https://wire%d.example/%d</link><guid>%d</guid>`+
			`<pubDate>Mon, 19 Jan 2026 %02d:%02d:00 GMT</pubDate><description>The harbour.</description></item>`, s, i, s, i, i, s%24, i%60))
	}
	return items
}

// clusterConfig writes a config of sources wire0…wire(n-1) on up, polled
// every second, with one topic (harbour), and returns its path.
func clusterConfig(t *testing.T, up string, n int) string {
	t.Helper()
	var srcs strings.Builder
	for s := range n {
		fmt.Fprintf(&srcs, "  - {name: wire%d, title: Wire %d, url: \"%s/wire%d.xml\"}\n", s, s, up, s)
	}
	cfg := filepath.Join(t.TempDir(), "newsdesk.yaml")
	if err := os.WriteFile(cfg, []byte(fmt.Sprintf(`site: {title: replicas, public_url: "http://newsdesk.test"}
listen: "127.0.0.1:0"
refresh: "@every 1s"
fetch: {min_interval: 1s, max_interval: 1h, allow_networks: [127.0.0.1/32]}
sources:
%stopics:
  - {slug: harbour, title: Harbour, limit: 200, rule: {any: [harbour]}}
`, srcs.String())), 0o644); err != nil {
		t.Fatal(err)
	}
	return cfg
}

// statusOf reads a replica's /status.json.
func statusOf(t *testing.T, r *replica) (rep struct {
	Sources []struct {
		Name        string       `json:"name"`
		Status      story.Status `json:"status"`
		LastAttempt time.Time    `json:"last_attempt"`
		LastSuccess time.Time    `json:"last_success"`
		NextPoll    time.Time    `json:"next_poll"`
	} `json:"sources"`
	Cluster *struct {
		Leading  bool   `json:"leading"`
		Leader   string `json:"leader"`
		Mismatch string `json:"mismatch"`
	} `json:"cluster"`
}) {
	t.Helper()
	res, err := http.Get(r.status + ".json")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("GET %s.json: %s", r.status, res.Status)
	}
	if err := json.NewDecoder(res.Body).Decode(&rep); err != nil {
		t.Fatal(err)
	}
	return rep
}

// TestFollowerStatusFollowsLeader runs a leader and a follower on one
// PostgreSQL database, the leader polling an unchanged upstream every
// second. An admin fetch (admin.token, on the public listener) is refused
// by the follower and done by the leader. The follower's status page must show the leader's polls as they
// happen (within a few seconds), though a poll of an unchanged upstream
// changes nothing but times.
func TestFollowerStatusFollowsLeader(t *testing.T) {
	data := pgtest.URL(t)
	if testing.Short() {
		t.Skip("builds the binary and runs two daemons")
	}
	bin := buildNewsdesk(t)
	up := newHits()
	for s := range 2 {
		up.set(fmt.Sprintf("/wire%d.xml", s), rss(fmt.Sprintf("Wire%d", s), harbourItems(s, 3)...))
	}
	srv := httptest.NewServer(up)
	defer srv.Close()
	cfg := clusterConfig(t, srv.URL, 2)
	const token = "cluster-test-admin-token"
	body, _ := os.ReadFile(cfg)
	os.WriteFile(cfg, append(body, "admin: {token: "+token+"}\n"...), 0o644)

	a := startReplicaLease(t, bin, "A", cfg, data, steadyLease)
	a.wait("leading: this replica fetches", 10*time.Second)
	b := startReplicaLease(t, bin, "B", cfg, data, steadyLease)

	// The admin channel: a fetch asked of the follower is refused, saying
	// where to fetch instead; the leader does it.
	if _, err := admin.NewClient("http://"+b.addr, token).Fetch(t.Context(), admin.FetchRequest{Sources: []string{"wire0"}}, nil); err == nil ||
		!strings.Contains(err.Error(), "does not lead") || !strings.Contains(err.Error(), "newsdesk fetch --data") {
		t.Errorf("admin fetch on the follower: %v, want a refusal naming newsdesk fetch", err)
	}
	if reps, err := admin.NewClient("http://"+a.addr, token).Fetch(t.Context(), admin.FetchRequest{Sources: []string{"wire0"}, Force: true}, nil); err != nil ||
		len(reps) != 1 || reps[0].Source != "wire0" || reps[0].Err != "" { // ok, or busy: the leader polls it every second
		t.Errorf("admin fetch on the leader: %+v, %v", reps, err)
	}
	n := up.count("/wire0.xml")
	// The leader's poll n+3 began after request n+2 arrived.
	after := up.waitHits(t, "/wire0.xml", n+2, 20*time.Second)
	up.waitHits(t, "/wire0.xml", n+3, 20*time.Second)
	deadline := time.Now().Add(15 * time.Second)
	for {
		rep := statusOf(t, b)
		if rep.Cluster == nil || rep.Cluster.Leading {
			t.Fatalf("B's status: cluster %+v, want a follower's", rep.Cluster)
		}
		var got time.Time
		for _, s := range rep.Sources {
			if s.Name == "wire0" {
				got = s.LastAttempt
				if s.Status != story.StatusOK || s.LastSuccess.Before(s.LastAttempt) {
					t.Fatalf("B shows wire0 %+v, want ok and succeeded at its last attempt", s)
				}
			}
		}
		if got.After(after) {
			t.Logf("B shows the leader's poll of %v", got.Format(time.StampMilli))
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("B shows wire0 last attempted %v; the leader polled it since %v (%d polls)",
				got.Format(time.StampMilli), after.Format(time.StampMilli), up.count("/wire0.xml"))
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// TestFollowerRevalidates is the shared-cache promise on two replicas: a
// reader (or a cache) revalidating a topic feed on the follower with the
// validators it holds gets 304 while nothing changed, and the new feed,
// with new validators, soon after the leader stored a new story. Both
// replicas answer the same validators, so a revalidation may go to either.
func TestFollowerRevalidates(t *testing.T) {
	data := pgtest.URL(t)
	if testing.Short() {
		t.Skip("builds the binary and runs two daemons")
	}
	bin := buildNewsdesk(t)
	up := newHits()
	up.set("/wire0.xml", rss("Wire0", harbourItems(0, 2)...))
	srv := httptest.NewServer(up)
	defer srv.Close()
	cfg := clusterConfig(t, srv.URL, 1)

	a := startReplicaLease(t, bin, "A", cfg, data, steadyLease)
	a.wait("leading: this replica fetches", 10*time.Second)
	b := startReplicaLease(t, bin, "B", cfg, data, steadyLease)
	get := func(r *replica, etag, lastMod string) (*http.Response, string) {
		t.Helper()
		req, _ := http.NewRequest("GET", "http://"+r.addr+"/topics/harbour.rss", nil)
		if etag != "" {
			req.Header.Set("If-None-Match", etag)
		}
		if lastMod != "" {
			req.Header.Set("If-Modified-Since", lastMod)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		return res, string(body)
	}
	var etag, lastMod string
	deadline := time.Now().Add(15 * time.Second)
	for {
		res, body := get(b, "", "")
		if res.StatusCode == 200 && strings.Count(body, "<item>") == 2 {
			etag, lastMod = res.Header.Get("ETag"), res.Header.Get("Last-Modified")
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("B never served the two stories: %s\n%s", res.Status, body)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if etag == "" || lastMod == "" {
		t.Fatalf("B's feed has ETag %q and Last-Modified %q; a cache needs both", etag, lastMod)
	}
	for _, r := range []*replica{a, b} {
		if res, _ := get(r, etag, ""); res.StatusCode != http.StatusNotModified {
			t.Fatalf("%s answers If-None-Match with B's ETag: %s, want 304", r.name, res.Status)
		}
		if res, _ := get(r, "", lastMod); res.StatusCode != http.StatusNotModified {
			t.Fatalf("%s answers If-Modified-Since: %s, want 304", r.name, res.Status)
		}
	}

	up.set("/wire0.xml", rss("Wire0", harbourItems(0, 3)...))
	changed := time.Now()
	seen := map[string]time.Duration{}
	var newTag string
	deadline = changed.Add(20 * time.Second)
	for len(seen) < 2 {
		for _, r := range []*replica{a, b} {
			if _, ok := seen[r.name]; ok {
				continue
			}
			res, body := get(r, etag, "")
			switch res.StatusCode {
			case http.StatusNotModified:
			case http.StatusOK:
				if strings.Count(body, "<item>") != 3 {
					t.Fatalf("%s answers the revalidation with 200 and %d items, want 3", r.name, strings.Count(body, "<item>"))
				}
				seen[r.name] = time.Since(changed)
				if newTag == "" {
					newTag = res.Header.Get("ETag")
				} else if res.Header.Get("ETag") != newTag {
					t.Errorf("the replicas answer the new feed with ETags %q and %q", newTag, res.Header.Get("ETag"))
				}
			default:
				t.Fatalf("%s: %s", r.name, res.Status)
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("after the upstream changed, the replicas served the new feed after %v (A, B), within 20s", seen)
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("the new story reached the leader's feed after %v and the follower's after %v (polls every 1s, follower checks every %v)",
		seen["A"].Round(10*time.Millisecond), seen["B"].Round(10*time.Millisecond), followEvery)
	if newTag == etag {
		t.Errorf("the new feed kept the old ETag %q", etag)
	}
	if res, _ := get(b, newTag, ""); res.StatusCode != http.StatusNotModified {
		t.Errorf("B answers If-None-Match with the new ETag: %s, want 304", res.Status)
	}
}

// TestPausedLeaderCannotWrite stops the leader (SIGSTOP) while the
// upstream holds its request open, lets the follower take over and poll
// (it finds wire1 gone, and wire0 unchanged), then resumes the old leader
// past its lease (SIGCONT) with an answer only it gets, and finally stops
// it (SIGTERM), when a leader writes what it holds. The old leader must
// write nothing after the takeover: not the story only it was sent, and not
// its stale account of wire1 over the new leader's.
func TestPausedLeaderCannotWrite(t *testing.T) {
	// A leader paused inside a write transaction holds the writers' lock
	// until PostgreSQL ends its idle session: 3 s here, not the default
	// 30 s, so that B writes soon after it leads.
	data := pgtest.URL(t) + "&idle_in_transaction_session_timeout=3s"
	if testing.Short() {
		t.Skip("builds the binary and runs two daemons")
	}
	bin := buildNewsdesk(t)
	up := newHits()
	for s := range 3 {
		up.set(fmt.Sprintf("/wire%d.xml", s), rss(fmt.Sprintf("Wire%d", s), harbourItems(s, 3)...))
	}
	srv := httptest.NewServer(up)
	defer srv.Close()
	cfg := clusterConfig(t, srv.URL, 3)

	// A lease long enough that a loaded machine does not move it before
	// the pause: the held request must be A's, as leader.
	const lease = 4 * time.Second
	a := startReplicaLease(t, bin, "A", cfg, data, lease, "no longer leading")
	a.wait("leading: this replica fetches", 10*time.Second)
	b := startReplicaLease(t, bin, "B", cfg, data, lease)
	// A polls every source a few times: its cache holds times the store
	// may not have yet.
	for s := range 3 {
		up.waitHits(t, fmt.Sprintf("/wire%d.xml", s), 3, 20*time.Second)
	}

	// A's next request for wire0 is held; A is stopped while it waits, and
	// then sent a story no one else is.
	asked := make(chan http.ResponseWriter)
	answered := make(chan struct{})
	up.mu.Lock()
	up.hold["/wire0.xml"] = func(w http.ResponseWriter) {
		asked <- w
		<-answered
	}
	up.mu.Unlock()
	var w http.ResponseWriter
	select {
	case w = <-asked:
	case <-time.After(20 * time.Second):
		t.Fatal("A did not ask for wire0 again")
	}
	// The daemon behind A's reader process, too.
	// The signal takes effect as the kernel next schedules A's threads: on
	// a loaded machine A could read the answer below and store it first.
	for _, pid := range signalTree(a.cmd.Process.Pid, syscall.SIGSTOP) {
		waitStopped(t, pid)
	}
	if b.logged("leading: this replica fetches") || a.logged("no longer leading") {
		t.Fatal("the lease moved before A was paused (a starved leader?): the held request may not be A's")
	}
	stale := harbourItems(0, 3)
	stale = append(stale, `<item><title>Harbour stale</title><link>https://wire0.example/stale</link><guid>stale</guid><description>The harbour.</description></item>`)
	w.Header().Set("Content-Type", "application/rss+xml")
	io.WriteString(w, rss("Wire0", stale...))
	close(answered)
	up.mu.Lock()
	up.code["/wire1.xml"] = http.StatusGone
	up.mu.Unlock()

	b.wait("leading: this replica fetches", 20*time.Second)
	db, err := postgres.Open(context.Background(), data, postgres.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	deadline := time.Now().Add(20 * time.Second)
	for {
		st, err := db.Source(t.Context(), "wire1")
		if err != nil {
			t.Fatal(err)
		}
		if st.Status == story.StatusGone {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("B never recorded wire1 gone: %+v", st)
		}
		time.Sleep(100 * time.Millisecond)
	}

	// A resumes long after its lease ended, finds it lost and stops
	// leading; then it is stopped, writing what it holds on the way out.
	signalTree(a.cmd.Process.Pid, syscall.SIGCONT)
	a.wait("no longer leading", 20*time.Second)
	if err := a.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	a.cmd.Wait()

	page, err := db.Recent(t.Context(), store.Query{Limit: 200})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range page.Stories {
		if s.Title == "Harbour stale" {
			t.Error("the paused leader stored the story only it was sent, after B took over")
		}
	}
	if st, err := db.Source(t.Context(), "wire1"); err != nil || st.Status != story.StatusGone {
		t.Errorf("wire1 in the store after A stopped: %s, %v; want B's gone (A wrote its stale state over it)", st.Status, err)
	}
	if err := db.Check(t.Context()); err != nil {
		t.Error(err)
	}
}

// steadyLease is the lease of tests that need the leader to stay one
// replica throughout: long enough that a loaded machine (the race
// detector, other builds on two cores) does not make it lose the lease.
const steadyLease = 10 * time.Second

// runFetch runs `newsdesk fetch` and returns its output and error.
func runFetch(t *testing.T, bin, cfg, data string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"fetch", "--config", cfg, "--data", data}, args...)...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "NEWSDESK_LEASE=" + steadyLease.String()}
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// TestFetchBesideLeader runs `newsdesk fetch` on a database a replica
// leads. With topics other than those the stored stories were classified
// with, it refuses and writes nothing (it would re-classify behind the
// leader's back, or file stories under topics no replica serves). With the
// same topics it fetches into the database beside the leader, and every
// replica serves what it stored, without a re-classification.
func TestFetchBesideLeader(t *testing.T) {
	data := pgtest.URL(t)
	if testing.Short() {
		t.Skip("builds the binary and runs a daemon")
	}
	bin := buildNewsdesk(t)
	up := newHits()
	for s := range 3 {
		up.set(fmt.Sprintf("/wire%d.xml", s), rss(fmt.Sprintf("Wire%d", s), harbourItems(s, 3)...))
	}
	srv := httptest.NewServer(up)
	defer srv.Close()
	cfg := clusterConfig(t, srv.URL, 2)
	a := startReplicaLease(t, bin, "A", cfg, data, steadyLease)
	a.wait("leading: this replica fetches", 10*time.Second)
	deadline := time.Now().Add(15 * time.Second)
	for {
		if ids, _ := a.items(t, "harbour"); len(ids) == 6 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("A never served the six stories")
		}
		time.Sleep(100 * time.Millisecond)
	}
	db, err := postgres.Open(context.Background(), data, postgres.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	fp, err := db.Meta(t.Context(), "topics-fingerprint")
	if err != nil || fp == "" {
		t.Fatalf("topics fingerprint %q, %v", fp, err)
	}
	reclassified := func() int { // the leader's re-classifications so far
		a.mu.Lock()
		defer a.mu.Unlock()
		return strings.Count(a.log.String(), "msg=reclassified")
	}
	before := reclassified()

	// Three sources (wire2 is new) and another topic.
	body, _ := os.ReadFile(clusterConfig(t, srv.URL, 3))
	other := filepath.Join(t.TempDir(), "other.yaml")
	os.WriteFile(other, append(body, []byte("  - {slug: ports, title: Ports, rule: {any: [port]}}\n")...), 0o644)
	out, err := runFetch(t, bin, other, data)
	if err == nil || !strings.Contains(out, "classified with other topics") {
		t.Fatalf("fetch with other topics beside the leader: %v\n%s", err, out)
	}
	if strings.Contains(out, "xxxxx") || !strings.Contains(out, "leads") {
		t.Errorf("the refusal should name the leader:\n%s", out)
	}
	if up.count("/wire2.xml") != 0 {
		t.Error("the refused fetch fetched wire2")
	}
	if now, _ := db.Meta(t.Context(), "topics-fingerprint"); now != fp {
		t.Errorf("the refused fetch changed the topics fingerprint from %s to %s", fp, now)
	}

	// The same topics, and wire2 that only this config lists.
	same := filepath.Join(t.TempDir(), "same.yaml")
	os.WriteFile(same, body, 0o644)
	out, err = runFetch(t, bin, same, data, "--source", "wire2")
	if err != nil || !strings.Contains(out, "this fetch writes into the database beside it") {
		t.Fatalf("fetch beside the leader: %v\n%s", err, out)
	}
	deadline = time.Now().Add(15 * time.Second)
	for {
		if ids, _ := a.items(t, "harbour"); len(ids) == 9 {
			break
		}
		if time.Now().After(deadline) {
			ids, _ := a.items(t, "harbour")
			t.Fatalf("after the fetch beside it, A serves %d stories, want 9", len(ids))
		}
		time.Sleep(100 * time.Millisecond)
	}
	if n := reclassified(); n != before {
		t.Errorf("the leader re-classified %d times during the test", n-before)
	}
	if st, err := db.Source(t.Context(), "wire2"); err != nil || st.Status != story.StatusOK {
		t.Errorf("wire2's state: %+v, %v", st, err)
	}
	if err := db.Check(t.Context()); err != nil {
		t.Error(err)
	}
}

// TestFetchLeadsWhenNoneDoes runs `newsdesk fetch` on a database no
// replica leads: the fetch holds the leader lease for its run, so a
// replica started meanwhile serves but does not lead (and so neither
// fetches nor re-classifies) until the fetch has ended.
func TestFetchLeadsWhenNoneDoes(t *testing.T) {
	data := pgtest.URL(t)
	if testing.Short() {
		t.Skip("builds the binary and runs a daemon")
	}
	bin := buildNewsdesk(t)
	up := newHits()
	up.set("/wire0.xml", rss("Wire0", harbourItems(0, 3)...))
	srv := httptest.NewServer(up)
	defer srv.Close()
	cfg := clusterConfig(t, srv.URL, 1)
	asked, release := make(chan struct{}), make(chan struct{})
	var releaseOnce sync.Once
	releaseHeld := func() { releaseOnce.Do(func() { close(release) }) }
	defer releaseHeld() // before srv.Close, which waits for the held request
	up.mu.Lock()
	up.hold["/wire0.xml"] = func(w http.ResponseWriter) {
		close(asked)
		<-release
		w.Header().Set("Content-Type", "application/rss+xml")
		io.WriteString(w, rss("Wire0", harbourItems(0, 3)...))
	}
	up.mu.Unlock()
	type result struct {
		out string
		err error
	}
	done := make(chan result, 1)
	go func() {
		out, err := runFetch(t, bin, cfg, data)
		done <- result{out, err}
	}()
	select {
	case <-asked:
	case <-time.After(30 * time.Second):
		t.Fatal("the fetch never asked for wire0")
	}
	a := startReplica(t, bin, "A", cfg, data)
	db, err := postgres.Open(context.Background(), data, postgres.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	// Several of A's lease periods (2 s) pass with the fetch holding it.
	for end := time.Now().Add(3 * time.Second); time.Now().Before(end); time.Sleep(200 * time.Millisecond) {
		l, err := db.Leader(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(l.Info, "newsdesk fetch on ") {
			t.Fatalf("while the fetch runs, the lease is held by %q", l.Info)
		}
		if a.logged("leading: this replica fetches") {
			t.Fatal("A leads while the fetch runs")
		}
	}
	releaseHeld()
	r := <-done
	if r.err != nil {
		t.Fatalf("fetch: %v\n%s", r.err, r.out)
	}
	ended := time.Now()
	a.wait("leading: this replica fetches", 10*time.Second)
	t.Logf("A led %v after the fetch ended", time.Since(ended).Round(10*time.Millisecond))
	if ids, err := a.items(t, "harbour"); err != nil || len(ids) != 3 {
		t.Errorf("A serves %d stories (%v), want the fetch's 3", len(ids), err)
	}
}

// TestTopicEditOnReplicas edits the topics of two replicas' configs, the
// leader's file first. The leader re-classifies; the follower, whose file
// is still the old one, serves the leader's new filing of the topics it
// knows within its follow period and says on its status that it runs
// another config than the leader and other topics than the stories were
// classified with. Once its file says the same, it reloads without
// re-classifying, its status shows no mismatch, and both replicas serve
// the same feeds, the new topic included.
func TestTopicEditOnReplicas(t *testing.T) {
	data := pgtest.URL(t)
	if testing.Short() {
		t.Skip("builds the binary and runs two daemons")
	}
	bin := buildNewsdesk(t)
	up := newHits()
	up.set("/wire0.xml", rss("Wire0", harbourItems(0, 3)...))
	var ferries []string
	for i := range 3 {
		ferries = append(ferries, fmt.Sprintf(`<item><title>Harbour ferry %d</title><link>https://wire1.example/%d</link><guid>%d</guid>`+
			`<pubDate>Tue, 20 Jan 2026 10:%02d:00 GMT</pubDate><description>The harbour.</description></item>`, i, i, i, i))
	}
	up.set("/wire1.xml", rss("Wire1", ferries...))
	srv := httptest.NewServer(up)
	defer srv.Close()
	cfgA := clusterConfig(t, srv.URL, 2)
	before, err := os.ReadFile(cfgA)
	if err != nil {
		t.Fatal(err)
	}
	cfgB := filepath.Join(t.TempDir(), "newsdesk.yaml")
	writeAtomically(t, cfgB, before)

	a := startReplicaLease(t, bin, "A", cfgA, data, steadyLease, "config reloaded")
	a.wait("leading: this replica fetches", 10*time.Second)
	b := startReplicaLease(t, bin, "B", cfgB, data, steadyLease, "config reloaded")
	serves := func(r *replica, slug string, n int) []string {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for {
			ids, err := r.items(t, slug)
			if err == nil && len(ids) == n {
				return ids
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s serves %s: %d stories (%v), want %d", r.name, slug, len(ids), err, n)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	serves(a, "harbour", 6)
	serves(b, "harbour", 6)
	if c := statusOf(t, b).Cluster; c == nil || c.Mismatch != "" {
		t.Fatalf("B's status before the edit: %+v, want no mismatch", c)
	}

	// The leader's file first: harbour narrowed to ferries, ports added.
	after := bytes.Replace(before, []byte("rule: {any: [harbour]}}\n"),
		[]byte("rule: {any: [ferry]}}\n  - {slug: ports, title: Ports, limit: 200, rule: {any: [harbour]}}\n"), 1)
	if bytes.Equal(after, before) {
		t.Fatal("the edit changed nothing")
	}
	writeAtomically(t, cfgA, after)
	a.wait("config reloaded", 20*time.Second)
	harbourA := serves(a, "harbour", 3)
	portsA := serves(a, "ports", 6)
	if harbourB := serves(b, "harbour", 3); !slices.Equal(harbourA, harbourB) {
		t.Errorf("after the leader re-classified, harbour on A %v, on B %v", harbourA, harbourB)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		c := statusOf(t, b).Cluster
		if c != nil && strings.Contains(c.Mismatch, "this replica runs config") && strings.Contains(c.Mismatch, "classified with other topics") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("B's status while its file differs: %+v, want both mismatches named", c)
		}
		time.Sleep(200 * time.Millisecond)
	}

	// Then the follower's: the same bytes.
	writeAtomically(t, cfgB, after)
	b.wait("config reloaded", 20*time.Second)
	if portsB := serves(b, "ports", 6); !slices.Equal(portsA, portsB) {
		t.Errorf("ports on A %v, on B %v", portsA, portsB)
	}
	if c := statusOf(t, b).Cluster; c == nil || c.Mismatch != "" || c.Leading {
		t.Errorf("B's status after its file matches: %+v, want a follower with no mismatch", c)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if strings.Contains(b.log.String(), "reclassif") {
		t.Errorf("the follower re-classified:\n%s", b.log.String())
	}
}

// TestPasswordNeverShown runs a replica on a database URL with a password,
// given as NEWSDESK_DATA: neither its log, nor its status page (HTML, JSON,
// text) nor its metrics show the password; the status names the store by
// the URL with xxxxx for it.
func TestPasswordNeverShown(t *testing.T) {
	data := pgtest.URL(t)
	if testing.Short() {
		t.Skip("builds the binary and runs a daemon")
	}
	const secret = "sekrit-pw-42"
	u, err := url.Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.UserPassword(u.User.Username(), secret) // the test server trusts loopback: any password opens
	data = u.String()
	bin := buildNewsdesk(t)
	up := newHits()
	up.set("/wire0.xml", rss("Wire0", harbourItems(0, 3)...))
	srv := httptest.NewServer(up)
	defer srv.Close()
	cfg := clusterConfig(t, srv.URL, 1)

	cmd := exec.Command(bin, "serve", "--config", cfg, "--lease", "2s")
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "NEWSDESK_DATA=" + data}
	var logMu sync.Mutex
	var log strings.Builder
	cmd.Stderr = writerFunc(func(p []byte) (int, error) {
		logMu.Lock()
		defer logMu.Unlock()
		return log.Write(p)
	})
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	stopped := false
	stop := func() {
		if !stopped {
			stopped = true
			cmd.Process.Signal(syscall.SIGTERM)
			cmd.Wait()
		}
	}
	defer stop()
	logged := func() string {
		logMu.Lock()
		defer logMu.Unlock()
		return log.String()
	}
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(logged(), `msg="refresh run"`) {
		if time.Now().After(deadline) {
			t.Fatalf("the replica never led and fetched:\n%s", logged())
		}
		time.Sleep(100 * time.Millisecond)
	}
	status := regexp.MustCompile(`msg=serving .* status=(\S+)`).FindStringSubmatch(logged())
	if status == nil {
		t.Fatalf("no status address in the log:\n%s", logged())
	}
	base := strings.TrimSuffix(status[1], "/status")
	shown := 0
	for _, path := range []string{"/status", "/status.json", "/status.txt", "/metrics"} {
		res, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != 200 {
			continue // not every form is served
		}
		shown++
		if strings.Contains(string(body), secret) {
			t.Errorf("%s shows the database password", path)
		}
		if path == "/status.json" && !strings.Contains(string(body), "newsdesk:xxxxx@127.0.0.1") {
			t.Errorf("%s does not show the store as the URL with its password hidden:\n%s", path, body)
		}
	}
	if shown < 2 {
		t.Errorf("only %d of the status forms answered", shown)
	}
	stop()
	if out := logged(); strings.Contains(out, secret) {
		t.Errorf("the log shows the password:\n%s", out)
	}
}

// writerFunc is an io.Writer made of a function.
type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// waitStopped waits until every thread of process pid is stopped (state T
// in /proc/pid/task/*/stat), as SIGSTOP makes them.
func waitStopped(t *testing.T, pid int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/stat", pid))
		stopped := len(tasks) > 0
		for _, task := range tasks {
			b, err := os.ReadFile(task)
			// The state follows the command name in parentheses.
			if i := bytes.LastIndexByte(b, ')'); err == nil && i >= 0 && i+2 < len(b) && b[i+2] != 'T' && b[i+2] != 't' {
				stopped = false
			}
		}
		if stopped {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("process %d did not stop", pid)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
