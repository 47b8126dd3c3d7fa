package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/newsdesk/newsdesk/internal/store"
	"github.com/newsdesk/newsdesk/internal/store/bolt"
)

// These tests put the store on a small tmpfs and fill it: a real full disk,
// with the kernel's ENOSPC, not a simulated write error. Mounting needs root
// (CAP_SYS_ADMIN), as .ci/run has; elsewhere they skip.

// mountTmpfs mounts a tmpfs of size bytes on a new directory, unmounted when
// the test ends (after everything the test starts later has stopped).
func mountTmpfs(t *testing.T, size int) string {
	t.Helper()
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, fmt.Sprintf("size=%d,mode=0755", size)); err != nil {
		t.Skipf("cannot mount a tmpfs to fill (needs root or CAP_SYS_ADMIN): %v", err)
	}
	t.Cleanup(func() {
		if err := syscall.Unmount(dir, 0); err != nil {
			t.Errorf("unmount the test tmpfs: %v", err)
		}
	})
	return dir
}

// fillDisk writes a file into dir until the file system has no room left, and
// returns a function that frees the space again.
func fillDisk(t *testing.T, dir string) (free func()) {
	t.Helper()
	path := filepath.Join(dir, "filler")
	f, err := os.Create(path)
	if err != nil && !errors.Is(err, syscall.ENOSPC) {
		t.Fatal(err)
	}
	if f != nil {
		for _, chunk := range []int{1 << 20, 64 << 10, 4 << 10, 512, 1} {
			b := make([]byte, chunk)
			for {
				if _, err := f.Write(b); err != nil {
					if !errors.Is(err, syscall.ENOSPC) {
						t.Fatal(err)
					}
					break
				}
			}
		}
		f.Close()
	}
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		t.Fatal(err)
	}
	if st.Bavail != 0 {
		t.Fatalf("the tmpfs still has %d blocks free", st.Bavail)
	}
	return func() {
		if err := os.Remove(path); err != nil {
			t.Fatal(err)
		}
	}
}

// jsonTitles reads a topic's JSON feed (up to 200 items) and returns its
// titles, or nil when the request fails.
func jsonTitles(t *testing.T, url string) map[string]int {
	t.Helper()
	res, body := get(t, url)
	if res.StatusCode != 200 {
		t.Errorf("GET %s: %s", url, res.Status)
		return nil
	}
	var feed struct {
		Items []struct {
			Title string `json:"title"`
		} `json:"items"`
	}
	if err := json.Unmarshal(body, &feed); err != nil {
		t.Errorf("GET %s: %v", url, err)
		return nil
	}
	titles := map[string]int{}
	for _, it := range feed.Items {
		titles[it.Title]++
	}
	return titles
}

// storedTitles counts the titles of every story listed in the store at path.
func storedTitles(t *testing.T, path string) map[string]int {
	t.Helper()
	db, err := bolt.Open(path, bolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	titles := map[string]int{}
	for q := (store.Query{Limit: store.MaxLimit}); ; {
		page, err := db.Recent(t.Context(), q)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range page.Stories {
			titles[s.Title]++
		}
		if page.Next == "" {
			return titles
		}
		q.Before = page.Next
	}
}

// TestStartsOnFullDisk: with 0 bytes free the daemon starts anyway (it used
// to stop on the temp file of its admin announcement), says the disk is
// full, and serves what is stored, even when its topics changed and the
// store cannot be re-filed.
func TestStartsOnFullDisk(t *testing.T) {
	disk := mountTmpfs(t, 8<<20)
	dir := t.TempDir()
	cfg := oneSourceConfig(t, dir, harbourFeed(30))
	data := filepath.Join(disk, "newsdesk.db")
	if _, err := newsdesk(t, "fetch", "--config", cfg, "--data", data); err != nil {
		t.Fatal(err)
	}
	// An edited topic set makes the start re-classify, which must write.
	src, _ := os.ReadFile(cfg)
	os.WriteFile(cfg, append(src, "  - {slug: news, title: News, rule: {any: [news]}}\n"...), 0o644)
	fillDisk(t, disk)

	addr, logs := startServe(t, "--config", cfg, "--data", data)
	for _, want := range []string{"disk full: serving what is stored", "cannot announce the admin address"} {
		logs.waitFor(t, 0, want)
	}
	if got := jsonTitles(t, "http://"+addr+"/topics/harbour.json?limit=200"); len(got) != 30 {
		t.Errorf("serving %d stories on a full disk, want the 30 stored", len(got))
	}
	if res, _ := get(t, "http://"+addr+"/readyz"); res.StatusCode != 200 {
		t.Errorf("/readyz on a full disk: %s", res.Status)
	}
}

// TestFullDiskDuringIngest: when the disk fills between two fetches, the
// fetch fails with the disk's error, serving goes on from what is committed,
// nothing committed is lost, and once there is room ingest resumes by itself.
func TestFullDiskDuringIngest(t *testing.T) {
	disk := mountTmpfs(t, 16<<20)
	const feeds, perFeed = 12, 6
	ups := &upstreams{docs: map[string]string{}}
	for f := range feeds {
		ups.set(fmt.Sprintf("/f%d.xml", f), wordyFeed(f, 0, perFeed))
	}
	up := httptest.NewServer(ups)
	defer up.Close()
	dir := t.TempDir()
	var sources strings.Builder
	for f := range feeds {
		fmt.Fprintf(&sources, "  - {name: f%d, url: %q}\n", f, fmt.Sprintf("%s/f%d.xml", up.URL, f))
	}
	cfg := filepath.Join(dir, "newsdesk.yaml")
	os.WriteFile(cfg, []byte(`site: {public_url: "http://newsdesk.test"}
listen: "127.0.0.1:0"
refresh: "@every 1s"
fetch: {min_interval: 1s, max_interval: 2s, allow_networks: [127.0.0.1/32]} # the upstream is an httptest server
retention: {max_age: 3650d}
sources:
`+sources.String()+`topics:
  - {slug: harbour, title: Harbour, limit: 200, rule: {any: [harbour]}}
`), 0o644)
	data := filepath.Join(disk, "newsdesk.db")
	addr, logs := startServe(t, "--config", cfg, "--data", data)
	feed := "http://" + addr + "/topics/harbour.json?limit=200"

	waitUntil(t, logs, "stored the first version", func() bool { return len(jsonTitles(t, feed)) == feeds*perFeed })
	before := jsonTitles(t, feed)

	free := fillDisk(t, disk)
	from := logs.count()
	for f := range feeds {
		ups.set(fmt.Sprintf("/f%d.xml", f), wordyFeed(f, 1, perFeed)) // six new stories each, ~8 KB apiece
	}
	line, _ := logs.waitFor(t, from, "no space left on device")
	if !strings.Contains(line, "level=ERROR") && !strings.Contains(line, "level=WARN") || !strings.Contains(line, "source=f") {
		t.Errorf("the full disk surfaced as %q, want a source's refresh failing", line)
	}
	// Serving goes on, from what is committed.
	if got := jsonTitles(t, feed); len(got) < len(before) {
		t.Errorf("on a full disk the feed lists %d stories, had %d", len(got), len(before))
	} else {
		for title := range before {
			if got[title] != 1 {
				t.Errorf("on a full disk %q is listed %d times, want once", title, got[title])
			}
		}
	}

	free()
	waitUntil(t, logs, "stored the second version once there was room", func() bool {
		return len(jsonTitles(t, feed)) == 2*feeds*perFeed
	})
	got := jsonTitles(t, feed)
	for f := range feeds {
		for v := range 2 {
			for i := range perFeed {
				if title := wordyTitle(f, v, i); got[title] != 1 {
					t.Errorf("%q is listed %d times, want once", title, got[title])
				}
			}
		}
	}
}

func wordyTitle(f, v, i int) string { return fmt.Sprintf("Harbour report %d-%d-%d", f, v, i) }

// wordyFeed is version v of feed f: the stories of every version up to v,
// each with some 8 KB of text, so a version cannot fit in the free pages the
// store has left.
func wordyFeed(f, v, n int) string {
	var items []string
	body := strings.Repeat("The harbour master reported heavy traffic and new berths. ", 140)
	for ver := v; ver >= 0; ver-- {
		for i := range n {
			items = append(items, fmt.Sprintf(`<item><title>%s</title><link>https://wire.example/%d/%d/%d</link><guid>%d-%d-%d</guid>`+
				`<pubDate>Mon, 19 Jan 2026 %02d:%02d:00 GMT</pubDate><description>%s</description></item>`,
				wordyTitle(f, ver, i), f, ver, i, f, ver, i, 8+ver, i, body))
		}
	}
	return rss(fmt.Sprintf("Wire%d", f), items...)
}
