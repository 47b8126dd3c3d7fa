package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// target is one server in the ratio table.
type target struct {
	name string
	base string
	etag string // the gzip body's ETag there, for the 304 case
}

// ratio builds and starts newsdesk with one cached topic, starts the bare
// Go reference (and nginx) with the same bytes, and runs wrk against each
// in turn: every repetition runs every (connections, response) cell on every
// server, rotating which server goes first.
func ratio(ctx context.Context, o options, stdout io.Writer) error {
	if _, err := exec.LookPath("wrk"); err != nil {
		return fmt.Errorf("wrk is not installed (Debian: apt-get install wrk): %w", err)
	}
	env, err := newEnv(o)
	if err != nil {
		return err
	}
	defer env.close()
	logf(o, "building newsdesk in %s", env.dir)
	var tags []string
	var daemonEnv []string
	if o.profile != "" {
		tags = append(tags, "pprof")
		daemonEnv = append(daemonEnv, "GODEBUG=gctrace=1")
	}
	bin, err := env.newsdesk(ctx, tags...)
	if err != nil {
		return err
	}
	corpus, err := newCorpus(env.root)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Join(env.dir, "up"), 0o755); err != nil {
		return err
	}
	feed := corpus.rss(feedSpec{name: "wire", items: o.items, itemBytes: o.itemBytes, categories: []string{"bench", "policy"}})
	if err := os.WriteFile(filepath.Join(env.dir, "up", "wire.rss.xml"), feed, 0o644); err != nil {
		return err
	}
	cfg := filepath.Join(env.dir, "newsdesk.yaml")
	if err := writeConfig(cfg, []source{{"wire", "up/wire.rss.xml"}}, []benchTopic{{"bench", "bench", o.items}}, o.httpConfig()); err != nil {
		return err
	}
	if o.profile != "" {
		daemonEnv = append(daemonEnv, "NEWSDESK_PPROF=127.0.0.1:0")
	}
	d, err := startDaemon(ctx, bin, cfg, filepath.Join(env.dir, "data", "newsdesk.db"), filepath.Join(env.dir, "newsdesk.log"), daemonEnv...)
	if err != nil {
		return err
	}
	defer d.stop()
	const path = "/topics/bench.rss"
	if err := waitFeed(ctx, d.base+path, o.items, time.Minute); err != nil {
		return err
	}

	// What newsdesk answers, byte for byte, for each case.
	ref := reference{Path: path, Headers: map[string]http.Header{}}
	identity, h, err := fetch(ctx, d.base+path, http.StatusOK)
	if err != nil {
		return err
	}
	ref.ETag, ref.Headers["200 full"] = h.Get("Etag"), h
	gz, h, err := fetch(ctx, d.base+path, http.StatusOK, "Accept-Encoding: gzip")
	if err != nil {
		return err
	}
	ref.GzETag, ref.Headers["200 gzip"] = h.Get("Etag"), h
	_, h, err = fetch(ctx, d.base+path, http.StatusNotModified, "Accept-Encoding: gzip", "If-None-Match: "+ref.GzETag)
	if err != nil {
		return err
	}
	ref.Headers["304"] = h
	refDir := filepath.Join(env.dir, "reference")
	if err := os.MkdirAll(refDir, 0o755); err != nil {
		return err
	}
	if err := ref.write(refDir, identity, gz); err != nil {
		return err
	}
	logf(o, "newsdesk at %s: %s is %d bytes, %d gzipped (gzip -9: %s)", d.base, path, len(identity), len(gz), gzip9(identity, len(gz)))

	b, err := startBare(ctx, refDir)
	if err != nil {
		return err
	}
	defer b.stop()
	targets := []target{{"bare Go", b.base, ref.GzETag}, {"newsdesk", d.base, ref.GzETag}}
	if o.nginx != "off" {
		n, err := startNginx(ctx, env.dir, &ref, identity, gz)
		switch {
		case err == nil:
			defer n.stop()
			_, h, err := fetch(ctx, n.base+path, http.StatusOK, "Accept-Encoding: gzip")
			if err != nil {
				return err
			}
			targets = append(targets, target{"nginx", n.base, h.Get("Etag")})
		case o.nginx == "on":
			return err
		default:
			logf(o, "no nginx column: %v", err)
		}
	}
	// Every server must give every answer right before it is timed.
	for _, t := range targets {
		for _, c := range cases {
			body, _, err := fetch(ctx, t.base+path, c.code, c.headers(t.etag)...)
			if err != nil {
				return fmt.Errorf("%s: %w", t.name, err)
			}
			want := identity
			switch {
			case c.code == http.StatusNotModified:
				want = nil
			case c.gzip:
				want = gz
			}
			if !bytes.Equal(body, want) {
				return fmt.Errorf("%s %s: body differs from newsdesk's (%d bytes, want %d)", t.name, c.name, len(body), len(want))
			}
		}
		// Warm up: connections, caches, the CPU's frequency.
		if _, err := runWrk(ctx, t.base+path, o.threads, o.conns[0], time.Second, nil); err != nil {
			return err
		}
	}

	results := map[cell][]wrkResult{}
	run := 0
	for rep := range o.reps {
		for _, conns := range o.conns {
			for _, c := range cases {
				for i := range targets {
					t := targets[(i+run)%len(targets)] // rotate who goes first
					r, err := runWrk(ctx, t.base+path, o.threads, conns, o.duration, c.headers(t.etag))
					if err != nil {
						return err
					}
					if r.errors > 0 {
						return fmt.Errorf("%s %s at %d connections: %d errors", t.name, c.name, conns, r.errors)
					}
					logf(o, "rep %d  %3d conns  %-8s  %-8s  %8.0f req/s  p50 %v  p99 %v", rep+1, conns, c.name, t.name, r.rps, r.p50, r.p99)
					k := cell{conns, c.name, t.name}
					results[k] = append(results[k], r)
				}
				run++
			}
		}
	}
	if o.reps > 0 {
		printRatio(stdout, o, targets, results, len(identity), len(gz))
	}
	if o.profile != "" {
		if err := profile(ctx, o, d, path, ref.GzETag); err != nil {
			return err
		}
	}
	return nil
}

type cell struct {
	conns    int
	response string
	server   string
}

func (c caseSpec) headers(etag string) []string {
	var h []string
	if c.gzip {
		h = append(h, "Accept-Encoding: gzip")
	}
	if c.inm {
		h = append(h, "If-None-Match: "+etag)
	}
	return h
}

func printRatio(w io.Writer, o options, targets []target, results map[cell][]wrkResult, size, gzSize int) {
	fmt.Fprintf(w, "\nwrk -t%d, %v per run, %d interleaved repetitions, medians; one %d-item topic (%d bytes, %d gzipped)\n\n",
		o.threads, o.duration, o.reps, o.items, size, gzSize)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	head := []string{"conns", "response"}
	for _, t := range targets {
		head = append(head, t.name+" req/s")
	}
	head = append(head, "newsdesk/bare", "p99 ratio")
	for _, t := range targets {
		head = append(head, "p99 "+t.name)
	}
	fmt.Fprintln(tw, strings.Join(head, "\t"))
	for _, conns := range o.conns {
		for _, c := range cases {
			row := []string{fmt.Sprint(conns), c.name}
			var rps, p99 []float64
			for _, t := range targets {
				rs := results[cell{conns, c.name, t.name}]
				rps = append(rps, median(rs, func(r wrkResult) float64 { return r.rps }))
				p99 = append(p99, median(rs, func(r wrkResult) float64 { return float64(r.p99) }))
				row = append(row, fmt.Sprintf("%.0f", rps[len(rps)-1]))
			}
			// Ratios of each repetition (the runs were paired), then their median.
			bareRuns, ndRuns := results[cell{conns, c.name, "bare Go"}], results[cell{conns, c.name, "newsdesk"}]
			var ratios, p99s []float64
			for i := range min(len(bareRuns), len(ndRuns)) {
				ratios = append(ratios, ndRuns[i].rps/bareRuns[i].rps)
				p99s = append(p99s, float64(ndRuns[i].p99)/float64(bareRuns[i].p99))
			}
			row = append(row, fmt.Sprintf("%.2f", medianOf(ratios)), fmt.Sprintf("%.2f", medianOf(p99s)))
			for _, p := range p99 {
				row = append(row, fmt.Sprintf("%.2fms", p/1e6))
			}
			fmt.Fprintln(tw, strings.Join(row, "\t"))
		}
	}
	tw.Flush()
}

func median(rs []wrkResult, f func(wrkResult) float64) float64 {
	var v []float64
	for _, r := range rs {
		v = append(v, f(r))
	}
	return medianOf(v)
}

func medianOf(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	v = slices.Clone(v)
	slices.Sort(v)
	if len(v)%2 == 1 {
		return v[len(v)/2]
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2
}

// fetch GETs url with headers ("Name: value") and checks the status; the
// headers come back without Date, which differs on every answer.
func fetch(ctx context.Context, url string, want int, headers ...string) ([]byte, http.Header, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, nil, err
	}
	for _, h := range headers {
		name, value, _ := strings.Cut(h, ": ")
		req.Header.Set(name, value)
	}
	// No transparent decompression: the gzip bytes are what we compare.
	client := &http.Client{Transport: &http.Transport{DisableCompression: true}}
	defer client.CloseIdleConnections()
	res, err := client.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		return nil, nil, err
	}
	if res.StatusCode != want {
		return nil, nil, fmt.Errorf("GET %s %q: %s, want %d", url, headers, res.Status, want)
	}
	res.Header.Del("Date")
	return body, res.Header, nil
}

// gzip9 is the size gzip -9 makes of b, the yardstick.
func gzip9(b []byte, ours int) string {
	cmd := exec.Command("gzip", "-9", "-c")
	cmd.Stdin = bytes.NewReader(b)
	out, err := cmd.Output()
	if err != nil {
		return "unknown: " + err.Error()
	}
	return fmt.Sprintf("%d; ours is %+.1f%%", len(out), 100*(float64(ours)/float64(len(out))-1))
}

func logf(o options, format string, args ...any) {
	fmt.Fprintf(o.log, "%s "+format+"\n", append([]any{time.Now().Format("15:04:05")}, args...)...)
}

// env is a run's temporary folder and the repository it builds from.
type env struct {
	root, dir string
	bin       string // -newsdesk, absolute
	keep      bool
	log       io.Writer
}

func newEnv(o options) (*env, error) {
	root, err := moduleRoot()
	if err != nil {
		return nil, err
	}
	bin := o.bin
	if bin != "" {
		if bin, err = filepath.Abs(bin); err != nil {
			return nil, err
		}
	}
	dir, err := os.MkdirTemp("", "servebench-")
	if err != nil {
		return nil, err
	}
	return &env{root: root, dir: dir, bin: bin, keep: o.keep, log: o.log}, nil
}

func (e *env) close() {
	if e.keep {
		fmt.Fprintln(e.log, "kept", e.dir)
		return
	}
	os.RemoveAll(e.dir)
}
