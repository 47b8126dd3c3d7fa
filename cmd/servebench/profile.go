package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// hitsProfilingRe finds the profiling endpoint of the process answering
// cached feeds (one process, or the reader process), loadProfilingRe that
// of the one fetching and re-classifying (one process, or the daemon
// behind the reader process).
var (
	hitsProfilingRe = regexp.MustCompile(`msg=profiling addr=(\S+)(?: of="reader process")?\s*$`)
	loadProfilingRe = regexp.MustCompile(`msg=profiling addr=(\S+)(?: of=daemon)?\s*$`)
)

// profile takes newsdesk's profiles under load, one wrk run per response
// case at the largest connection count: a CPU profile over the run, then
// the allocation, heap, mutex and block profiles, and the GC lines the
// daemon printed (GODEBUG=gctrace=1) while it ran.
func profile(ctx context.Context, o options, d *daemon, path, etag string) error {
	line, err := d.logs.wait(ctx, hitsProfilingRe, time.Second, d.exited)
	if err != nil {
		return fmt.Errorf("newsdesk has no profiling endpoint: %w", err)
	}
	pprof := "http://" + hitsProfilingRe.FindStringSubmatch(line)[1] + "/debug/pprof/"
	if err := os.MkdirAll(o.profile, 0o755); err != nil {
		return err
	}
	conns := o.conns[len(o.conns)-1]
	secs := max(int(o.duration/time.Second), 3)
	for _, c := range cases {
		name := strings.ReplaceAll(c.name, " ", "-")
		gcBefore := d.logs.count(gcRe)
		// Profiles accumulate since start: fetch the deltas around the run.
		for _, p := range []string{"allocs", "mutex", "block"} {
			if err := save(ctx, pprof+p, filepath.Join(o.profile, name+"."+p+".base.pprof")); err != nil {
				return err
			}
		}
		errc := make(chan error, 1)
		go func() {
			errc <- save(ctx, fmt.Sprintf("%sprofile?seconds=%d", pprof, secs), filepath.Join(o.profile, name+".cpu.pprof"))
		}()
		r, err := runWrk(ctx, d.base+path, o.threads, conns, time.Duration(secs+1)*time.Second, c.headers(etag))
		if err != nil {
			return err
		}
		if err := <-errc; err != nil {
			return err
		}
		for _, p := range []string{"allocs", "mutex", "block", "heap"} {
			if err := save(ctx, pprof+p, filepath.Join(o.profile, name+"."+p+".pprof")); err != nil {
				return err
			}
		}
		gcs, pause := gcStats(d.logs, gcBefore)
		logf(o, "profiled %s at %d conns: %.0f req/s, p99 %v; %d GCs during the run, %.2f ms of stop-the-world pauses",
			c.name, conns, r.rps, r.p99, gcs, pause)
	}
	logf(o, "profiles in %s; e.g. go tool pprof -top -diff_base %s %s", o.profile,
		filepath.Join(o.profile, "304.allocs.base.pprof"), filepath.Join(o.profile, "304.allocs.pprof"))
	return nil
}

func save(ctx context.Context, url, path string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", url, res.Status)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, res.Body); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// gcRe matches a gctrace line: "gc 12 @3.4s 1%: 0.011+1.2+0.003 ms clock, …".
var gcRe = regexp.MustCompile(`^gc \d+ @[0-9.]+s \d+%: ([0-9.]+)\+[0-9.]+\+([0-9.]+) ms clock`)

// gcStats counts the GC cycles logged after the first skip lines and sums
// their two stop-the-world phases.
func gcStats(l *lineLog, skip int) (n int, pauseMS float64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	seen := 0
	for _, line := range l.lines {
		m := gcRe.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		if seen++; seen <= skip {
			continue
		}
		a, _ := strconv.ParseFloat(m[1], 64)
		b, _ := strconv.ParseFloat(m[2], 64)
		n++
		pauseMS += a + b
	}
	return n, pauseMS
}

// daemonBinary is the newsdesk to run and its environment: with -profile, a
// pprof build listening for profiles and printing GC lines.
func (e *env) daemonBinary(ctx context.Context, o options) (string, []string, error) {
	if o.profile == "" {
		bin, err := e.newsdesk(ctx)
		return bin, nil, err
	}
	bin, err := e.newsdesk(ctx, "pprof")
	return bin, []string{"GODEBUG=gctrace=1", "NEWSDESK_PPROF=127.0.0.1:0"}, err
}

// profileLoad takes, with -profile, a CPU profile and an execution trace of
// the daemon while a load runs (the trace's scheduler-latency profile shows
// where readers' goroutines waited for a P: go tool trace
// -pprof=sched FILE), and the GC lines it printed meanwhile. The channel
// gives its outcome once the profiles are saved.
func profileLoad(ctx context.Context, o options, d *daemon, name string) <-chan error {
	done := make(chan error, 1)
	if o.profile == "" {
		done <- nil
		return done
	}
	go func() {
		line, err := d.logs.wait(ctx, loadProfilingRe, time.Second, d.exited)
		if err != nil {
			done <- fmt.Errorf("newsdesk has no profiling endpoint: %w", err)
			return
		}
		pprof := "http://" + loadProfilingRe.FindStringSubmatch(line)[1] + "/debug/pprof/"
		if err := os.MkdirAll(o.profile, 0o755); err != nil {
			done <- err
			return
		}
		gcBefore := d.logs.count(gcRe)
		// The allocation profile accumulates since start: the load's is the
		// difference between these two.
		if err := save(ctx, pprof+"allocs", filepath.Join(o.profile, name+".allocs.base.pprof")); err != nil {
			done <- err
			return
		}
		if err := save(ctx, pprof+"trace?seconds=3", filepath.Join(o.profile, name+".trace")); err != nil {
			done <- err
			return
		}
		err = save(ctx, pprof+"profile?seconds=10", filepath.Join(o.profile, name+".cpu.pprof"))
		if err == nil {
			err = save(ctx, pprof+"allocs", filepath.Join(o.profile, name+".allocs.pprof"))
		}
		gcs, pause := gcStats(d.logs, gcBefore)
		logf(o, "profiled 13 s of %s: %d GCs, %.1f ms of stop-the-world pauses; profiles in %s", name, gcs, pause, o.profile)
		done <- err
	}()
	return done
}
