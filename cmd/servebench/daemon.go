package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"time"
)

// moduleRoot finds the repository root (the folder holding go.mod) from the
// working directory up.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("run servebench inside the newsdesk repository (no go.mod found above the working directory)")
		}
		dir = parent
	}
}

// newsdesk returns the binary to measure: -newsdesk's, else cmd/newsdesk
// compiled into the run's folder, as a user would build it (plus build
// tags, e.g. "pprof" for the profiling endpoint).
func (e *env) newsdesk(ctx context.Context, tags ...string) (string, error) {
	if e.bin != "" {
		return e.bin, nil // with -profile, built with -tags pprof by whoever gave it
	}
	root, dir := e.root, e.dir
	bin := filepath.Join(dir, "newsdesk")
	args := []string{"build", "-o", bin}
	if len(tags) > 0 {
		args = append(args, "-tags", strings.Join(tags, ","))
	}
	cmd := exec.CommandContext(ctx, "go", append(args, "./cmd/newsdesk")...)
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/newsdesk: %w\n%s", err, out)
	}
	return bin, nil
}

// source and benchTopic are the parts of a generated config.
type source struct{ name, url string }

type benchTopic struct {
	slug, category string
	limit          int
}

// config writes a newsdesk config: loopback listener, an hourly refresh (so
// only the start-up fetch runs during a measurement), no per-client
// connection cap (the readers and wrk all come from one address).
func writeConfig(path string, sources []source, topics []benchTopic, extra string) error {
	var b strings.Builder
	b.WriteString(`site:
  title: servebench
  public_url: http://127.0.0.1:8080
listen: "127.0.0.1:0"
refresh: "@every 1h"
log_level: debug # servebench counts the per-source "refreshed" lines
limits: {per_client_connections: 0} # every reader is 127.0.0.1 here, standing in for many subscribers
`)
	b.WriteString(extra)
	b.WriteString("sources:\n")
	for _, s := range sources {
		fmt.Fprintf(&b, "  - {name: %s, title: %q, url: %q}\n", s.name, "Upstream "+s.name, s.url)
	}
	b.WriteString("topics:\n")
	for _, t := range topics {
		fmt.Fprintf(&b, "  - {slug: %s, title: %q, limit: %d, rule: {term: %s, in: [categories]}}\n",
			t.slug, "Topic "+t.slug, t.limit, t.category)
	}
	return os.WriteFile(path, []byte(b.String()), 0o644)
}

// daemon is a running `newsdesk serve`.
type daemon struct {
	cmd    *exec.Cmd
	base   string // http://127.0.0.1:port
	admin  string // the admin listener's, which serves /metrics: http://127.0.0.1:port
	logs   *lineLog
	exited chan struct{} // closed when the process has exited
	err    error         // its exit status, once exited is closed
}

var (
	addrRe  = regexp.MustCompile(`msg=serving addr=(\S+)`)
	adminRe = regexp.MustCompile(` admin=(\S+)`)
)

// startDaemon runs `newsdesk serve` and waits for its listener. Its log goes
// to logPath (and is searched for the address it listens on).
func startDaemon(ctx context.Context, bin, cfgPath, dataPath, logPath string, env ...string) (*daemon, error) {
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "serve", "--config", cfgPath, "--data", dataPath)
	cmd.Env = append(os.Environ(), env...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	cmd.Stdout = logf
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start newsdesk: %w", err)
	}
	d := &daemon{cmd: cmd, logs: newLineLog(logf), exited: make(chan struct{})}
	go func() {
		d.logs.copy(stderr)
		d.err = cmd.Wait()
		logf.Close()
		close(d.exited)
	}()
	// A daemon on a big store first files it under its topics: allow for it.
	line, err := d.logs.wait(ctx, addrRe, time.Hour, d.exited)
	if err != nil {
		d.stop()
		return nil, fmt.Errorf("newsdesk did not start (log: %s): %w", logPath, err)
	}
	d.base = "http://" + addrRe.FindStringSubmatch(line)[1]
	if m := adminRe.FindStringSubmatch(line); m != nil {
		d.admin = "http://" + m[1]
	}
	return d, nil
}

// stop ends the daemon with SIGTERM, as an operator would, and waits for it.
func (d *daemon) stop() error {
	if d.cmd.Process == nil {
		return nil
	}
	d.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-d.exited:
		return d.err
	case <-time.After(30 * time.Second):
		d.cmd.Process.Kill()
		return errors.New("newsdesk did not stop within 30s of SIGTERM; killed")
	}
}

// waitFeed polls url until its document lists want items (counted by the
// format's item marker), or the timeout passes.
func waitFeed(ctx context.Context, url string, want int, timeout time.Duration) error {
	marker := itemMarker(url)
	deadline := time.Now().Add(timeout)
	var last string
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		res, err := http.DefaultClient.Do(req)
		if err == nil {
			b, _ := io.ReadAll(res.Body)
			res.Body.Close()
			n := strings.Count(string(b), marker)
			if res.StatusCode == http.StatusOK && n >= want {
				return nil
			}
			last = fmt.Sprintf("%s with %d items", res.Status, n)
		} else {
			last = err.Error()
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s: want %d items, last answer: %s", url, want, last)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func itemMarker(url string) string {
	switch {
	case strings.HasSuffix(url, ".atom"):
		return "<entry>"
	case strings.HasSuffix(url, ".json"):
		return `{"id":`
	}
	return "<item>"
}

// lineLog keeps a process's log lines, copies them to a file and lets a
// caller wait for one.
type lineLog struct {
	mu    sync.Mutex
	w     io.Writer
	lines []string
	added chan struct{}
}

func newLineLog(w io.Writer) *lineLog { return &lineLog{w: w, added: make(chan struct{}, 1)} }

func (l *lineLog) copy(r io.Reader) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		l.mu.Lock()
		l.lines = append(l.lines, sc.Text())
		fmt.Fprintln(l.w, sc.Text())
		l.mu.Unlock()
		select {
		case l.added <- struct{}{}:
		default:
		}
	}
}

// wait returns the first line matching re, seen from the start.
func (l *lineLog) wait(ctx context.Context, re *regexp.Regexp, timeout time.Duration, exited <-chan struct{}) (string, error) {
	deadline := time.After(timeout)
	for {
		l.mu.Lock()
		for _, line := range l.lines {
			if re.MatchString(line) {
				l.mu.Unlock()
				return line, nil
			}
		}
		l.mu.Unlock()
		select {
		case <-l.added:
		case <-exited:
			return "", errors.New("the process exited")
		case <-deadline:
			return "", fmt.Errorf("no log line matching %q within %v", re, timeout)
		case <-ctx.Done():
			return "", ctx.Err()
		}
	}
}

// count returns how many lines match re.
func (l *lineLog) count(re *regexp.Regexp) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, line := range l.lines {
		if re.MatchString(line) {
			n++
		}
	}
	return n
}
