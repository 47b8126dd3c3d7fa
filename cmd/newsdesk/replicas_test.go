package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/newsdesk/newsdesk/internal/store/postgres"
	"github.com/newsdesk/newsdesk/internal/store/postgres/pgtest"
)

// replica is one `newsdesk serve` process of the test.
type replica struct {
	t    *testing.T
	name string
	cmd  *exec.Cmd
	mu   sync.Mutex
	log  strings.Builder
	addr string
	// status is the admin listener's /status URL, from the serving line.
	status string
	seen   map[string]chan struct{} // log message → closed when first logged
}

var (
	serveAddr   = regexp.MustCompile(`msg=serving addr=(\S+)`)
	serveStatus = regexp.MustCompile(`msg=serving .* status=(\S+)`)
)

// startReplica runs the binary as `serve` on the shared database, with a
// lease of 2 s.
func startReplica(t *testing.T, bin, name, cfg, data string, waitFor ...string) *replica {
	t.Helper()
	return startReplicaLease(t, bin, name, cfg, data, 2*time.Second, waitFor...)
}

// startReplicaLease is startReplica with the lease given.
func startReplicaLease(t *testing.T, bin, name, cfg, data string, lease time.Duration, waitFor ...string) *replica {
	t.Helper()
	r := &replica{t: t, name: name, seen: map[string]chan struct{}{}}
	for _, m := range append([]string{"msg=serving", "leading: this replica fetches"}, waitFor...) {
		r.seen[m] = make(chan struct{})
	}
	r.cmd = exec.Command(bin, "serve", "--config", cfg, "--data", data, "--lease", lease.String())
	r.cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}
	stderr, err := r.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if r.cmd.ProcessState == nil {
			r.cmd.Process.Signal(syscall.SIGTERM)
			r.cmd.Wait()
		}
		if t.Failed() {
			r.mu.Lock()
			t.Logf("%s log:\n%s", name, r.log.String())
			r.mu.Unlock()
		}
	})
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := sc.Text()
			r.mu.Lock()
			r.log.WriteString(line + "\n")
			if m := serveAddr.FindStringSubmatch(line); m != nil {
				r.addr = m[1]
			}
			if m := serveStatus.FindStringSubmatch(line); m != nil {
				r.status = m[1]
			}
			for m, ch := range r.seen {
				if strings.Contains(line, m) {
					select {
					case <-ch:
					default:
						close(ch)
					}
				}
			}
			r.mu.Unlock()
		}
	}()
	r.wait("msg=serving", 30*time.Second)
	return r
}

// wait blocks until the replica logged msg (one of those it watches).
func (r *replica) wait(msg string, d time.Duration) {
	r.t.Helper()
	select {
	case <-r.seen[msg]:
	case <-time.After(d):
		r.t.Fatalf("%s did not log %q within %v", r.name, msg, d)
	}
}

func (r *replica) logged(msg string) bool {
	select {
	case <-r.seen[msg]:
		return true
	default:
		return false
	}
}

// items returns the ids of a topic's JSON Feed on the replica.
func (r *replica) items(t *testing.T, slug string) ([]string, error) {
	res, err := http.Get("http://" + r.addr + "/topics/" + slug + ".json?limit=200")
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	if res.StatusCode != 200 {
		return nil, fmt.Errorf("GET %s: %s", slug, res.Status)
	}
	var feed struct {
		Items []struct {
			ID string `json:"id"`
		} `json:"items"`
	}
	if err := json.NewDecoder(res.Body).Decode(&feed); err != nil {
		return nil, err
	}
	var ids []string
	for _, it := range feed.Items {
		ids = append(ids, it.ID)
	}
	return ids, nil
}

// buildNewsdesk compiles the command once for the test.
func buildNewsdesk(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "newsdesk")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// TestReplicasTakeOver runs two real `newsdesk serve` processes on one
// PostgreSQL database. The first leads and is killed (SIGKILL) while it
// is fetching; the second takes over within the lease period, resumes
// every source from its stored state (what the first leader fetched is
// asked for again only with its validators, and answered 304), fetches
// what was left and serves it. Throughout, no
// reader of either replica sees a story twice or sees one disappear, and
// the readers of both replicas see one history of the feed: every answer,
// from either replica, lists the stories in the same order, and of any two
// answers one holds all the other's stories (no replica ever serves a
// story the other has dropped, or misses one it serves while serving a
// newer one). At the end every upstream story is stored and served exactly
// once, by every replica alike.
func TestReplicasTakeOver(t *testing.T) {
	data := pgtest.URL(t)
	if testing.Short() {
		t.Skip("builds the binary and runs three daemons")
	}
	bin := buildNewsdesk(t)

	const sources, perSource = 6, 15
	ups := &upstreams{docs: map[string]string{}}
	for s := range sources {
		var items []string
		for i := range perSource {
			items = append(items, fmt.Sprintf(`<item><title>Harbour news %d-%d</title><link>https://wire%d.example/%d</link><guid>%d</guid>`+
				`<pubDate>Mon, 19 Jan 2026 %02d:%02d:00 GMT</pubDate><description>The harbour.</description></item>`, s, i, s, i, i, s, i))
		}
		ups.set(fmt.Sprintf("/wire%d.xml", s), rss(fmt.Sprintf("Wire%d", s), items...))
	}
	// The slow source holds the first leader's request open: the leader is
	// killed mid-fetch.
	var hold atomic.Bool
	hold.Store(true)
	arrived := make(chan struct{}, 1)
	var slowHits atomic.Int32
	// Every feed has an ETag; a request that brings it is answered 304.
	var hitsMu sync.Mutex
	full, revalidated := map[string]int{}, map[string]int{}
	counts := func(path string) (int, int) {
		hitsMu.Lock()
		defer hitsMu.Unlock()
		return full[path], revalidated[path]
	}
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		etag := `"` + strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/"), ".xml") + `"`
		hitsMu.Lock()
		if r.Header.Get("If-None-Match") == etag {
			revalidated[r.URL.Path]++
			hitsMu.Unlock()
			w.WriteHeader(http.StatusNotModified)
			return
		}
		full[r.URL.Path]++
		hitsMu.Unlock()
		w.Header().Set("ETag", etag)
		if r.URL.Path == "/wire0.xml" {
			slowHits.Add(1)
			if hold.Load() {
				select {
				case arrived <- struct{}{}:
				default:
				}
				select {
				case <-r.Context().Done():
				case <-time.After(30 * time.Second):
				}
				return
			}
		}
		ups.ServeHTTP(w, r)
	}))
	defer up.Close()

	dir := t.TempDir()
	var srcs strings.Builder
	for s := range sources {
		fmt.Fprintf(&srcs, "  - {name: wire%d, title: Wire %d, url: \"%s/wire%d.xml\"}\n", s, s, up.URL, s)
	}
	cfg := filepath.Join(dir, "newsdesk.yaml")
	if err := os.WriteFile(cfg, []byte(fmt.Sprintf(`site: {title: replicas, public_url: "http://newsdesk.test"}
listen: "127.0.0.1:0"
refresh: "@every 1h"
fetch: {min_interval: 1s, max_interval: 1h, allow_networks: [127.0.0.1/32]}
sources:
%stopics:
  - {slug: harbour, title: Harbour, limit: 200, rule: {any: [harbour]}}
`, srcs.String())), 0o644); err != nil {
		t.Fatal(err)
	}

	a := startReplica(t, bin, "A", cfg, data)
	a.wait("leading: this replica fetches", 10*time.Second)
	b := startReplica(t, bin, "B", cfg, data)
	select {
	case <-arrived:
	case <-time.After(20 * time.Second):
		t.Fatal("the leader never asked for the slow source")
	}
	if b.logged("leading: this replica fetches") {
		t.Fatal("B leads while A holds the lease")
	}

	// Readers poll both replicas throughout: a story, once served, stays,
	// and none is served twice.
	stop := make(chan struct{})
	var readers sync.WaitGroup
	var mu sync.Mutex
	var problems []string
	reads := map[string]int{}
	var answers [][]string // every answer of every replica
	for _, r := range []*replica{a, b} {
		readers.Go(func() {
			served := map[string]bool{}
			for {
				select {
				case <-stop:
					return
				case <-time.After(50 * time.Millisecond):
				}
				ids, err := r.items(t, "harbour")
				if err != nil {
					continue // A is gone after the kill
				}
				mu.Lock()
				reads[r.name]++
				answers = append(answers, ids)
				now := map[string]bool{}
				for _, id := range ids {
					if now[id] {
						problems = append(problems, fmt.Sprintf("%s served %s twice", r.name, id))
					}
					now[id] = true
				}
				for id := range served {
					if !now[id] {
						problems = append(problems, fmt.Sprintf("%s stopped serving %s", r.name, id))
					}
				}
				mu.Unlock()
				served = now
			}
		})
	}
	// Both replicas serve what the leader stored, within the follow period.
	deadline := time.Now().Add(10 * time.Second)
	for {
		ia, _ := a.items(t, "harbour")
		ib, _ := b.items(t, "harbour")
		if len(ia) == (sources-1)*perSource && slices.Equal(ia, ib) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("before the kill: A serves %d stories, B %d; want %d on both", len(ia), len(ib), (sources-1)*perSource)
		}
		time.Sleep(100 * time.Millisecond)
	}

	hold.Store(false)
	killed := time.Now()
	signalTree(a.cmd.Process.Pid, syscall.SIGKILL) // the daemon behind A's reader process, too
	a.cmd.Wait()
	b.wait("leading: this replica fetches", 20*time.Second)
	took := time.Since(killed)
	t.Logf("B leads %v after A was killed (lease 2s)", took.Round(10*time.Millisecond))
	if took > 6*time.Second {
		t.Errorf("B took over %v after the kill, more than the lease period allows", took)
	}
	want := sources * perSource
	deadline = time.Now().Add(15 * time.Second)
	for {
		ib, _ := b.items(t, "harbour")
		if len(ib) == want {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after the takeover B serves %d stories, want %d", len(ib), want)
		}
		time.Sleep(100 * time.Millisecond)
	}

	// A replica started now follows B and serves the same feed.
	c := startReplica(t, bin, "C", cfg, data)
	deadline = time.Now().Add(10 * time.Second)
	for {
		ib, _ := b.items(t, "harbour")
		ic, _ := c.items(t, "harbour")
		if len(ic) == want && slices.Equal(ib, ic) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("C serves %d stories, B %d; want the same %d", len(ic), len(ib), want)
		}
		time.Sleep(100 * time.Millisecond)
	}
	close(stop)
	readers.Wait()
	if c.logged("leading: this replica fetches") {
		t.Error("C leads beside B")
	}
	mu.Lock()
	for _, p := range problems {
		t.Error(p)
	}
	if reads["A"] == 0 || reads["B"] < 10 {
		t.Errorf("readers got %v answers; the test read too little to say anything", reads)
	}
	final, _ := b.items(t, "harbour")
	if msg := oneHistory(final, answers); msg != "" {
		t.Error(msg)
	}
	mu.Unlock()

	// B resumed from the stored state: what A fetched (refresh @every 1h),
	// B did not ask for again, its next poll being an hour after A's;
	// wire0, which A was killed fetching, B fetched whole at once.
	for s := 1; s < sources; s++ {
		path := fmt.Sprintf("/wire%d.xml", s)
		if f, r := counts(path); f != 1 || r != 0 {
			t.Errorf("%s was fetched whole %d times and revalidated %d, want once (by A) and never: B did not resume at its stored next poll", path, f, r)
		}
	}
	if f, _ := counts("/wire0.xml"); f < 2 {
		t.Errorf("wire0 was fetched whole %d times, want A's held request and B's", f)
	}

	// The store holds every upstream story once.
	db, err := postgres.Open(context.Background(), data, postgres.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	st, err := db.Stats(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	since, err := db.Since(t.Context(), "harbour", 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]bool{}
	for _, s := range since {
		ids[s.ID] = true
	}
	if st.Stories != want || len(since) != want || len(ids) != want {
		t.Errorf("store: %d stories, Since lists %d (%d distinct); want %d", st.Stories, len(since), len(ids), want)
	}
	if err := db.Check(t.Context()); err != nil {
		t.Error(err)
	}
}

// oneHistory checks that answers (topic feeds read from any replica, as id
// lists) are views of one history ending in final: each lists a subset of
// final's stories in final's order, and of any two, one holds every story
// of the other. It returns what broke that, or "".
func oneHistory(final []string, answers [][]string) string {
	pos := map[string]int{}
	for i, id := range final {
		pos[id] = i
	}
	sets := make([]map[string]bool, 0, len(answers))
	for _, ids := range answers {
		last := -1
		set := map[string]bool{}
		for _, id := range ids {
			p, ok := pos[id]
			if !ok {
				return fmt.Sprintf("an answer served %s, which the final feed does not hold", id)
			}
			if p < last {
				return fmt.Sprintf("an answer served %s out of the final feed's order", id)
			}
			last = p
			set[id] = true
		}
		sets = append(sets, set)
	}
	slices.SortFunc(sets, func(a, b map[string]bool) int { return len(a) - len(b) })
	for i := 1; i < len(sets); i++ {
		for id := range sets[i-1] {
			if !sets[i][id] {
				return fmt.Sprintf("two answers diverge: one of %d stories serves %s, one of %d does not", len(sets[i-1]), id, len(sets[i]))
			}
		}
	}
	return ""
}

// TestOneHistory shows that oneHistory, TestReplicasTakeOver's check that
// two replicas served one history, fails on the answers it must refuse.
func TestOneHistory(t *testing.T) {
	final := []string{"d", "c", "b", "a"}
	for _, tt := range []struct {
		answers [][]string
		ok      bool
	}{
		{[][]string{{"b", "a"}, {"c", "b", "a"}, {"b", "a"}, final}, true},
		{[][]string{{"c", "a"}, {"b", "a"}}, false}, // one replica has c, the other b
		{[][]string{{"a", "b"}}, false},             // out of order
		{[][]string{{"e"}}, false},                  // not in the final feed
	} {
		if got := oneHistory(final, tt.answers); (got == "") != tt.ok {
			t.Errorf("oneHistory(%v) = %q, want ok %v", tt.answers, got, tt.ok)
		}
	}
}
