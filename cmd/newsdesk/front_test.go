package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// readerProcessConfig serves one loopback upstream, with the default
// http.reader_process (true on Linux).
const readerProcessConfig = `site: {title: Desk, public_url: "http://news.test"}
listen: "127.0.0.1:0"
refresh: "@every 1h"
fetch: {allow_networks: [127.0.0.1/32]}
status: {public: localhost}
sources:
  - {name: wire, url: "%s/wire.xml"}
topics:
  - {slug: harbour, title: Harbour, rule: {term: harbour}}
`

func harbourItem(i int) string {
	return fmt.Sprintf(`<item><title>Harbour story %d</title><link>https://wire.example/%d</link><guid>h%d</guid>`+
		`<pubDate>Mon, 19 Jan 2026 %02d:00:00 GMT</pubDate><description>The harbour.</description></item>`, i, i, i, i)
}

// readerProcessSetup builds the binary and writes readerProcessConfig in a
// new folder, its upstream serving items at /wire.xml until the test ends;
// it returns the binary, the upstream, and the config's and store's paths.
func readerProcessSetup(t *testing.T, items ...string) (bin string, ups *upstreams, cfg, data string) {
	t.Helper()
	bin = buildNewsdesk(t)
	ups = &upstreams{docs: map[string]string{}}
	ups.set("/wire.xml", rss("Wire", items...))
	up := httptest.NewServer(ups)
	t.Cleanup(up.Close)
	dir := t.TempDir()
	cfg, data = filepath.Join(dir, "newsdesk.yaml"), filepath.Join(dir, "newsdesk.db")
	if err := os.WriteFile(cfg, []byte(fmt.Sprintf(readerProcessConfig, up.URL)), 0o644); err != nil {
		t.Fatal(err)
	}
	return bin, ups, cfg, data
}

// startReaderProcess runs the binary's serve with http.reader_process and
// returns it, its public base URL and the daemon's pid.
func startReaderProcess(t *testing.T, bin, cfg, data string) (*exec.Cmd, *logWatch, string, int) {
	t.Helper()
	logs := newLogWatch()
	cmd := exec.Command(bin, "serve", "--config", cfg, "--data", data)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "TMPDIR=" + t.TempDir()}
	cmd.Stderr = logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
		if t.Failed() {
			t.Logf("log:\n%s", logs.all())
		}
	})
	line, _ := logs.waitFor(t, 0, `msg="answering readers"`)
	m := regexp.MustCompile(`addr=(\S+) daemon_pid=(\d+)`).FindStringSubmatch(line)
	if m == nil {
		t.Fatalf("no address and daemon pid in %q", line)
	}
	pid, _ := strconv.Atoi(m[2])
	return cmd, logs, "http://" + m[1], pid
}

// TestReaderProcess runs `serve` as a reader process in front of the
// daemon, the real binary over a loopback upstream: the feeds, their
// conditional GETs, the status page's exposure by the client's address,
// the metrics counting what the reader process answered, a live fetch
// reaching the readers, and both processes stopping together, whether
// the reader process is told to stop or the daemon dies.
func TestReaderProcess(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs it")
	}
	bin, ups, cfg, data := readerProcessSetup(t, harbourItem(1), harbourItem(2))
	cmd, logs, base, pid := startReaderProcess(t, bin, cfg, data)
	if nice := niceOf(t, pid); nice != 19 {
		t.Errorf("the daemon runs at nice %d, want 19", nice)
	}
	if nice := niceOf(t, cmd.Process.Pid); nice != 0 {
		t.Errorf("the reader process runs at nice %d, want 0", nice)
	}

	feed := base + "/topics/harbour.rss"
	body := awaitBody(t, feed, "Harbour story 2")
	res, _ := get(t, feed)
	etag := res.Header.Get("ETag")
	if res, _ := get(t, feed, "If-None-Match", etag); res.StatusCode != http.StatusNotModified {
		t.Errorf("If-None-Match of the served ETag: %s, want 304", res.Status)
	}
	if res, gz := get(t, feed, "Accept-Encoding", "gzip"); res.Header.Get("Content-Encoding") != "gzip" || len(gz) >= len(body) {
		t.Errorf("gzip: Content-Encoding %q, %d bytes of %d", res.Header.Get("Content-Encoding"), len(gz), len(body))
	}
	// The status page is for this machine's clients, not for a proxy's.
	if res, _ := get(t, base+"/status.json"); res.StatusCode != http.StatusOK {
		t.Errorf("status from loopback: %s, want 200", res.Status)
	}
	if res, _ := get(t, base+"/status.json", "X-Forwarded-For", "203.0.113.9"); res.StatusCode == http.StatusOK {
		t.Error("status through a proxy (X-Forwarded-For) answered 200")
	}
	if res, _ := get(t, base+"/readyz"); res.StatusCode != http.StatusOK {
		t.Errorf("readyz: %s", res.Status)
	}
	// The daemon counts the requests the reader process answered.
	for range 20 {
		get(t, feed)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, metrics := get(t, base+"/metrics")
		m := regexp.MustCompile(`newsdesk_http_request_duration_seconds_count\{route="/topics/\{file\}"\} (\d+)`).FindSubmatch(metrics)
		if m != nil {
			if n, _ := strconv.Atoi(string(m[1])); n >= 23 {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the metrics do not count the reader process's answers: %s", m)
		}
		time.Sleep(50 * time.Millisecond)
	}

	// A new story upstream, fetched through the admin channel, reaches
	// the readers.
	ups.set("/wire.xml", rss("Wire", harbourItem(1), harbourItem(2), harbourItem(3)))
	if out, err := newsdesk(t, "fetch", "--config", cfg, "--data", data, "--force"); err != nil {
		t.Fatalf("fetch through the daemon: %v\n%s", err, out)
	}
	awaitBody(t, feed, "Harbour story 3")

	// SIGTERM to the reader process stops both, cleanly.
	cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		t.Errorf("reader process after SIGTERM: %v", err)
	}
	if alive(pid) {
		t.Errorf("the daemon (pid %d) outlived the reader process", pid)
	}
	if n := strings.Count(logs.all(), "msg=stopped"); n != 1 {
		t.Errorf("%d lines say stopped, want 1 (the reader process's, for both)", n)
	}
	if n := strings.Count(logs.all(), "msg=serving "); n != 1 {
		t.Errorf("%d lines say serving, want 1 (the daemon's, for both)", n)
	}

	// The daemon dying ends the reader process, with an error.
	cmd, logs, base, pid = startReaderProcess(t, bin, cfg, data)
	awaitBody(t, base+"/topics/harbour.rss", "Harbour story 3") // the stored stories, served again
	syscall.Kill(pid, syscall.SIGKILL)
	err := cmd.Wait()
	if err == nil {
		t.Fatal("the reader process exited 0 after its daemon was killed")
	}
	logs.waitFor(t, 0, "the daemon (pid "+strconv.Itoa(pid)+") exited")
}

// awaitBody polls url until its body contains want.
func awaitBody(t *testing.T, url, want string) []byte {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		res, body := get(t, url)
		if res.StatusCode == http.StatusOK && strings.Contains(string(body), want) {
			return body
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s never showed %q (last: %s, %d bytes)", url, want, res.Status, len(body))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// procStat is a process's /proc stat fields from the state on (field 3),
// or nil when it has none (gone, or not Linux).
func procStat(pid int) []string {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return nil
	}
	return strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+2:])) // the command name ends with ") "
}

// tree is pid and the processes it started, theirs first: a serve and,
// behind a reader process (the default on Linux), its daemon.
func tree(pid int) []int {
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	var pids []int
	for _, d := range dirs {
		n, err := strconv.Atoi(filepath.Base(d))
		if err != nil || n == pid {
			continue
		}
		if f := procStat(n); len(f) > 1 && f[1] == strconv.Itoa(pid) {
			pids = append(pids, tree(n)...)
		}
	}
	return append(pids, pid)
}

// signalTree sends sig to pid and to the processes it started, theirs
// first: a SIGKILL or SIGSTOP of a serve must reach the daemon, which a
// reader process would otherwise stop cleanly, or leave running.
func signalTree(pid int, sig syscall.Signal) []int {
	pids := tree(pid)
	for _, p := range pids {
		syscall.Kill(p, sig)
	}
	return pids
}

// niceOf is a process's nice value (field 19).
func niceOf(t *testing.T, pid int) int {
	t.Helper()
	fields := procStat(pid)
	if fields == nil {
		t.Skipf("no /proc stat for pid %d", pid)
	}
	n, _ := strconv.Atoi(fields[16])
	return n
}

// alive reports whether pid is a running process (not a zombie).
func alive(pid int) bool {
	fields := procStat(pid)
	return len(fields) > 0 && fields[0] != "Z"
}

// all is every line logged so far.
func (l *logWatch) all() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "")
}

// TestOneProcessWithoutASocket: with nowhere to put the daemon's socket (a
// TMPDIR that does not exist, as in a read-only container) serve runs as
// one process, says so and why, and serves.
func TestOneProcessWithoutASocket(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs it")
	}
	bin, _, cfg, data := readerProcessSetup(t, harbourItem(1))
	dir := filepath.Dir(cfg)
	logs := newLogWatch()
	cmd := exec.Command(bin, "serve", "--config", cfg, "--data", data)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir, "TMPDIR=" + filepath.Join(dir, "missing", "tmp")}
	cmd.Stderr = logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
		if t.Failed() {
			t.Logf("log:\n%s", logs.all())
		}
	}()
	line, _ := logs.waitFor(t, 0, "msg=serving ")
	if strings.Contains(line, "behind=") {
		t.Errorf("serving behind a reader process with no socket for it: %s", line)
	}
	warn, _ := logs.waitFor(t, 0, `msg="serving in one process`)
	if !strings.Contains(warn, filepath.Join(dir, "missing")) || !strings.Contains(warn, "TMPDIR") {
		t.Errorf("the warning does not say what is missing and what to do: %s", warn)
	}
	base := "http://" + regexp.MustCompile(`addr=(\S+)`).FindStringSubmatch(line)[1]
	awaitBody(t, base+"/topics/harbour.rss", "Harbour story 1")
	if pids := tree(cmd.Process.Pid); len(pids) != 1 {
		t.Errorf("serve started processes %v, want none", pids[:len(pids)-1])
	}
	cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		t.Errorf("serve after SIGTERM: %v", err)
	}
}
