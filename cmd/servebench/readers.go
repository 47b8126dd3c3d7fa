package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// The readers are a separate process (servebench readers), so that neither
// the daemon nor the generated upstream shares a Go runtime with the
// clients whose latency is the figure. They poll like feed readers: each
// keeps one keep-alive connection, asks for one feed with gzip accepted and
// the ETag it last saw, at a fixed rate. Latency is measured from when a
// request was due, not when it went out, so a stall counts in full
// (no coordinated omission).
//
// The parent drives phases over stdin: a line "phase NAME" starts a new
// phase, "stop" ends the run; the readers then print one JSON phaseResult
// per phase on stdout.

// phaseResult is what the readers saw during one phase.
type phaseResult struct {
	Name      string          `json:"name"`
	Requests  int             `json:"requests"`
	Errors    int             `json:"errors"`      // transport errors and answers other than 200 and 304
	Stale     int             `json:"stale"`       // answers older than one the same reader had already seen
	Changed   int             `json:"changed"`     // 200s bringing a version the reader had not seen
	Latencies []time.Duration `json:"latencies"`   // sorted; sent so the parent can pool phases
	P50       time.Duration   `json:"p50"`         // nanoseconds
	P99       time.Duration   `json:"p99"`         // nanoseconds
	Max       time.Duration   `json:"max"`         // nanoseconds
	FirstErr  string          `json:"first_error"` // for the log
	// The p99 of the 304s alone and of the 200s alone: a changed feed's
	// answer carries its body, an unchanged one's only headers.
	Unchanged    []time.Duration `json:"unchanged"`
	Full         []time.Duration `json:"full"`
	P99Unchanged time.Duration   `json:"p99_304"`
	P99Full      time.Duration   `json:"p99_200"`
}

// readersOptions are the readers command's flags.
type readersOptions struct {
	base  string
	paths []string
	conns int
	rate  float64 // requests per second per reader
}

// runReaders is the readers process.
func runReaders(ctx context.Context, o readersOptions, stdin io.Reader, stdout io.Writer) error {
	if o.base == "" || len(o.paths) == 0 || o.conns < 1 || o.rate <= 0 {
		return errors.New("readers needs -base, -paths, -conns and -rate")
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	rec := &recorder{}
	rec.start("warmup")
	tr := &http.Transport{DisableCompression: true, MaxIdleConns: o.conns, MaxIdleConnsPerHost: o.conns,
		MaxConnsPerHost: o.conns, IdleConnTimeout: time.Minute}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	var wg sync.WaitGroup
	interval := time.Duration(float64(time.Second) / o.rate)
	for i := range o.conns {
		wg.Go(func() {
			r := &reader{path: o.paths[i%len(o.paths)], seen: map[string]int{}}
			// Spread the readers' schedules over one interval.
			due := time.Now().Add(time.Duration(i) * interval / time.Duration(o.conns))
			for ctx.Err() == nil {
				if d := time.Until(due); d > 0 {
					select {
					case <-time.After(d):
					case <-ctx.Done():
						return
					}
				}
				r.poll(ctx, client, o.base, due, rec)
				due = due.Add(interval)
			}
		})
	}
	sc := bufio.NewScanner(stdin)
	for sc.Scan() {
		cmd := strings.TrimSpace(sc.Text())
		if name, ok := strings.CutPrefix(cmd, "phase "); ok {
			rec.start(name)
			continue
		}
		if cmd == "stop" {
			break
		}
	}
	cancel()
	wg.Wait()
	enc := json.NewEncoder(stdout)
	for _, p := range rec.results() {
		if err := enc.Encode(p); err != nil {
			return err
		}
	}
	return nil
}

// reader is one polling client's state.
type reader struct {
	path    string
	etag    string
	version int            // index of etag among the versions this reader saw
	seen    map[string]int // ETag → the order this reader first saw it in
	lastMod time.Time
}

func (r *reader) poll(ctx context.Context, client *http.Client, base string, due time.Time, rec *recorder) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+r.path, nil)
	if err != nil {
		rec.add(0, err, false, false)
		return
	}
	req.Header.Set("Accept-Encoding", "gzip")
	if r.etag != "" {
		req.Header.Set("If-None-Match", r.etag)
	}
	res, err := client.Do(req)
	if err != nil {
		if ctx.Err() == nil {
			rec.add(time.Since(due), err, false, false)
		}
		return
	}
	_, err = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	lat := time.Since(due)
	if err == nil && res.StatusCode != http.StatusOK && res.StatusCode != http.StatusNotModified {
		err = fmt.Errorf("GET %s: %s", r.path, res.Status)
	}
	if err != nil {
		rec.add(lat, err, false, false)
		return
	}
	defer rec.status(lat, res.StatusCode)
	stale, changed := false, false
	if res.StatusCode == http.StatusOK {
		etag := res.Header.Get("Etag")
		lm, _ := http.ParseTime(res.Header.Get("Last-Modified"))
		if v, ok := r.seen[etag]; ok && v < r.version {
			stale = true // back to a version this reader had moved past
		}
		if lm.Before(r.lastMod) {
			stale = true // older than what it saw
		}
		if _, ok := r.seen[etag]; !ok {
			r.seen[etag] = len(r.seen)
			changed = len(r.seen) > 1
		}
		r.etag, r.version, r.lastMod = etag, r.seen[etag], lm
	}
	rec.add(lat, nil, stale, changed)
}

// recorder collects every reader's answers into the current phase.
type recorder struct {
	mu     sync.Mutex
	phases []*phaseResult
}

func (r *recorder) start(name string) {
	r.mu.Lock()
	r.phases = append(r.phases, &phaseResult{Name: name})
	r.mu.Unlock()
}

func (r *recorder) add(lat time.Duration, err error, stale, changed bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	p := r.phases[len(r.phases)-1]
	p.Requests++
	if err != nil {
		p.Errors++
		if p.FirstErr == "" {
			p.FirstErr = err.Error()
		}
	}
	if stale {
		p.Stale++
	}
	if changed {
		p.Changed++
	}
	p.Latencies = append(p.Latencies, lat)
}

// status files an answer's latency under its status too.
func (r *recorder) status(lat time.Duration, code int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	p := r.phases[len(r.phases)-1]
	if code == http.StatusNotModified {
		p.Unchanged = append(p.Unchanged, lat)
	} else {
		p.Full = append(p.Full, lat)
	}
}

func (r *recorder) results() []*phaseResult {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, p := range r.phases {
		p.figures()
	}
	return r.phases
}

// figures sorts p's latencies and sets its percentiles from them.
func (p *phaseResult) figures() {
	slices.Sort(p.Latencies)
	slices.Sort(p.Unchanged)
	slices.Sort(p.Full)
	p.P99Unchanged, p.P99Full = percentile(p.Unchanged, 0.99), percentile(p.Full, 0.99)
	p.P50, p.P99 = percentile(p.Latencies, 0.50), percentile(p.Latencies, 0.99)
	p.Max = 0
	if n := len(p.Latencies); n > 0 {
		p.Max = p.Latencies[n-1]
	}
}

// pooled is one phase of every answer of phases, its figures over them all.
func pooled(name string, phases ...*phaseResult) *phaseResult {
	out := &phaseResult{Name: name}
	for _, p := range phases {
		out.Requests += p.Requests
		out.Errors += p.Errors
		out.Stale += p.Stale
		out.Changed += p.Changed
		out.Latencies = append(out.Latencies, p.Latencies...)
		out.Unchanged = append(out.Unchanged, p.Unchanged...)
		out.Full = append(out.Full, p.Full...)
		if out.FirstErr == "" {
			out.FirstErr = p.FirstErr
		}
	}
	out.figures()
	return out
}

func percentile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[min(len(sorted)-1, int(q*float64(len(sorted))))]
}

// readersProc is a running readers process.
type readersProc struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	out   *strings.Builder
	admin string // the daemon's admin listener, for its /metrics ("": none)
	// misses are the daemon's render-cache misses as each phase began
	// (-1: not read): a poll that misses waited for a fill, so a phase's
	// slow polls and its misses go together.
	misses []phaseMark
}

// phaseMark is a count as a phase began.
type phaseMark struct {
	phase string
	n     int
}

// startReaders runs this program as the readers against base's paths.
func startReaders(base string, paths []string, conns int, rate float64) (*readersProc, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(self, "readers", "-base", base, "-paths", strings.Join(paths, ","),
		"-conns", fmt.Sprint(conns), "-rate", fmt.Sprint(rate))
	cmd.Env = append(os.Environ(), childEnv+"=1")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	p := &readersProc{cmd: cmd, stdin: stdin, out: &strings.Builder{}}
	cmd.Stdout, cmd.Stderr = p.out, os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	return p, nil
}

func (p *readersProc) phase(name string) error {
	_, err := fmt.Fprintf(p.stdin, "phase %s\n", name)
	p.misses = append(p.misses, phaseMark{name, cacheMisses(p.admin)})
	return err
}

// missesByPhase says how many render-cache misses each phase had, for the
// log.
func (p *readersProc) missesByPhase() string {
	var parts []string
	for i := 0; i+1 < len(p.misses); i++ {
		a, b := p.misses[i], p.misses[i+1]
		n := "?"
		if a.n >= 0 && b.n >= 0 {
			n = strconv.Itoa(b.n - a.n)
		}
		parts = append(parts, a.phase+" "+n)
	}
	return strings.Join(parts, ", ")
}

// missRe reads one kind's render-cache misses off /metrics.
var missRe = regexp.MustCompile(`(?m)^newsdesk_render_cache_misses_total\{kind="[a-z]+"\} (\d+)$`)

// cacheMisses is the daemon's render-cache misses so far, -1 when /metrics
// does not answer.
func cacheMisses(admin string) int {
	if admin == "" {
		return -1
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	body, _, err := fetch(ctx, admin+"/metrics", http.StatusOK)
	if err != nil {
		return -1
	}
	n := 0
	for _, m := range missRe.FindAllSubmatch(body, -1) {
		v, _ := strconv.Atoi(string(m[1]))
		n += v
	}
	return n
}

// stop ends the readers and returns their phases by name.
func (p *readersProc) stop() (map[string]*phaseResult, error) {
	fmt.Fprintln(p.stdin, "stop")
	p.stdin.Close()
	if err := p.cmd.Wait(); err != nil {
		return nil, fmt.Errorf("readers: %w\n%s", err, p.out)
	}
	out := map[string]*phaseResult{}
	dec := json.NewDecoder(strings.NewReader(p.out.String()))
	for {
		var r phaseResult
		if err := dec.Decode(&r); errors.Is(err, io.EOF) {
			return out, nil
		} else if err != nil {
			return nil, fmt.Errorf("readers' results: %w", err)
		}
		out[r.Name] = &r
	}
}
