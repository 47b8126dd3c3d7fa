package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
)

// runCLI runs the command line once and returns its stdout, stderr and error.
func runCLI(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	err := run(t.Context(), args, func(string) string { return "" }, &stdout, &stderr)
	return stdout.String(), stderr.String(), err
}

// minimalConfig writes a config with one source at url, and extra lines.
func minimalConfig(t *testing.T, dir, url, extra string) string {
	t.Helper()
	path := filepath.Join(dir, "newsdesk.yaml")
	src := fmt.Sprintf("refresh: \"@every 1h\"\nfetch: {allow_networks: [127.0.0.1/32]} # the upstreams are httptest servers\n"+
		"sources:\n  - {name: wire, url: %q}\ntopics:\n  - {slug: all, title: All, rule: {any: [the, a]}}\n%s", url, extra)
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestUnknownFlagReportedOnce(t *testing.T) {
	for _, cmd := range []string{"serve", "fetch", "validate", "preview", "compact", "health"} {
		t.Run(cmd, func(t *testing.T) {
			_, stderr, err := runCLI(t, cmd, "--nope")
			if _, ok := errors.AsType[usageError](err); !ok {
				t.Fatalf("err = %v, want a usageError (main prints nothing more)", err)
			}
			if n := strings.Count(stderr, "flag provided but not defined: -nope"); n != 1 {
				t.Errorf("the error is printed %d times:\n%s", n, stderr)
			}
			if !strings.Contains(stderr, "-config") {
				t.Errorf("no usage after the error:\n%s", stderr)
			}
		})
	}
}

func TestStoreErrorsNamedOnce(t *testing.T) {
	dir := t.TempDir()
	cfg := minimalConfig(t, dir, "http://127.0.0.1:1/feed.xml", "")
	notADir := filepath.Join(dir, "file")
	if err := os.WriteFile(notADir, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	junk := filepath.Join(dir, "junk.db")
	if err := os.WriteFile(junk, bytes.Repeat([]byte("junk"), 4096), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ name, data string }{
		{"parent is a file", filepath.Join(notADir, "newsdesk.db")},
		{"not a store", junk},
	} {
		for _, cmd := range []string{"fetch", "compact", "serve"} {
			t.Run(tt.name+"/"+cmd, func(t *testing.T) {
				args := []string{cmd, "--config", cfg, "--data", tt.data}
				if cmd == "serve" {
					args = append(args, "--addr", "127.0.0.1:0")
				}
				_, _, err := runCLI(t, args...)
				if err == nil {
					t.Fatal("no error")
				}
				msg := err.Error()
				if strings.Count(msg, "open store") > 1 || strings.Count(msg, "open "+tt.data) > 1 {
					t.Errorf("doubled prefix: %s", msg)
				}
				if !strings.Contains(msg, tt.data) && !strings.Contains(msg, notADir) {
					t.Errorf("%q does not name the file", msg)
				}
				if strings.Contains(msg, "stop the daemon") {
					t.Errorf("%q blames a daemon that is not running", msg)
				}
			})
		}
	}
}

// TestBusyPortFailsBeforeFetching: a second serve on a port in use stops at
// once, before it opens the store or asks any upstream for anything.
func TestBusyPortFailsBeforeFetching(t *testing.T) {
	var asked atomic.Int32
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		asked.Add(1)
		http.Error(w, "no", http.StatusNotFound)
	}))
	defer up.Close()
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	dir := t.TempDir()
	cfg := minimalConfig(t, dir, up.URL+"/feed.xml", "")
	data := filepath.Join(dir, "data", "newsdesk.db")
	_, _, err = runCLI(t, "serve", "--config", cfg, "--data", data, "--addr", busy.Addr().String())
	if err == nil || !strings.Contains(err.Error(), "listen") || !strings.Contains(err.Error(), busy.Addr().String()) {
		t.Fatalf("serve on a busy port = %v, want a listen error naming %s", err, busy.Addr())
	}
	if n := asked.Load(); n != 0 {
		t.Errorf("the upstream was asked %d times before the bind failed", n)
	}
	if _, err := os.Stat(data); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the store was created before the bind failed: %v", err)
	}
}

// startServe runs serve in the background until the test ends and returns
// the address it serves on and its log.
func startServe(t *testing.T, args ...string) (string, *logWatch) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	logs := newLogWatch()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, append([]string{"serve"}, args...), func(string) string { return "" }, io.Discard, logs)
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	line, _ := logs.waitFor(t, 0, "msg=serving")
	return regexp.MustCompile(`addr=(\S+)`).FindStringSubmatch(line)[1], logs
}

// TestLinksFollowAddr: with no public_url, --addr moves the links too
// (`--addr :8081` used to serve pages whose every link said :8080).
func TestLinksFollowAddr(t *testing.T) {
	up := httptest.NewServer(http.FileServer(http.Dir("../../feeds")))
	defer up.Close()
	dir := t.TempDir()
	cfg := minimalConfig(t, dir, up.URL+"/world-desk.rss.xml", "")
	addr, _ := startServe(t, "--config", cfg, "--data", filepath.Join(dir, "newsdesk.db"), "--addr", "127.0.0.1:0")
	_, port, _ := net.SplitHostPort(addr)
	res, body := get(t, "http://"+addr+"/")
	if res.StatusCode != 200 {
		t.Fatalf("index: %s", res.Status)
	}
	want := `href="http://localhost:` + port + `/topics/all.rss"`
	if !strings.Contains(string(body), want) {
		t.Errorf("index lacks %s; links: %v", want, regexp.MustCompile(`href="[^"]*all.rss"`).FindAllString(string(body), -1))
	}
}

func TestValidateWarnsLocalhostPublicURL(t *testing.T) {
	dir := t.TempDir()
	cfg := minimalConfig(t, dir, "https://example.org/feed.xml", "site: {public_url: 'http://localhost:8080'}\nlisten: '127.0.0.1:8080'\n")
	stdout, stderr, err := runCLI(t, "validate", "--config", cfg)
	if err != nil || !strings.Contains(stdout, "ok") || stderr != "" {
		t.Fatalf("validate = %q, %q, %v; want ok and no warning", stdout, stderr, err)
	}
	stdout, stderr, err = runCLI(t, "validate", "--config", cfg, "--addr", ":8081")
	if err != nil || !strings.Contains(stdout, "ok") {
		t.Fatalf("validate --addr = %q, %v; want ok", stdout, err)
	}
	if !strings.Contains(stderr, cfg+":7:20: warning: `public_url` \"http://localhost:8080\" is this machine only") {
		t.Errorf("no warning about the localhost public_url:\n%s", stderr)
	}
}

// TestHostileReloadRefused: configs that once killed the daemon on a live
// reload (a self-referencing alias grew the path index until the process
// died) are refused at their line, and the daemon keeps serving its last
// good config.
func TestHostileReloadRefused(t *testing.T) {
	up := httptest.NewServer(http.FileServer(http.Dir("../../feeds")))
	defer up.Close()
	dir := t.TempDir()
	cfg := minimalConfig(t, dir, up.URL+"/world-desk.rss.xml", "")
	good, _ := os.ReadFile(cfg)
	addr, logs := startServe(t, "--config", cfg, "--data", filepath.Join(dir, "newsdesk.db"), "--addr", "127.0.0.1:0")
	logs.waitFor(t, 0, `msg="refresh run"`)
	before := feedTitles(t, "http://"+addr+"/topics/all.rss")
	if len(before) == 0 {
		t.Fatal("nothing served before the reloads")
	}
	hostile := []struct{ name, src, want string }{
		{"self-referencing alias", string(good) + "  - slug: loop\n    title: Loop\n    rule: &r {any: [x, *r]}\n", "alias *r is inside the value"},
		{"100k nested brackets", string(good) + "site: {title: " + strings.Repeat("[", 100_000) + "}\n", "deeper than 128 levels"},
		{"a block scalar ending in 100k blank lines", string(good) + "site:\n  description: |\n    x\n" + strings.Repeat("\n", 100_000) + "log_level: info\n", "blank lines in a row"},
		{"17 MiB", string(good) + strings.Repeat("# filler\n", 17<<20/9), "larger than 16 MiB"},
	}
	for _, h := range hostile {
		from := logs.count()
		writeAtomically(t, cfg, []byte(h.src))
		_, next := logs.waitFor(t, from, "config refused")
		logs.waitFor(t, next-1, h.want) // the problem, in the lines the refusal starts
		if got := feedTitles(t, "http://"+addr+"/topics/all.rss"); !slices.Equal(got, before) {
			t.Errorf("after %s the feed lists %q, want %q", h.name, got, before)
		}
	}
}
