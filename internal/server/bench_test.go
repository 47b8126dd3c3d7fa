package server_test

import (
	"bytes"
	stdgzip "compress/gzip"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	kpgzip "github.com/klauspost/compress/gzip"

	"github.com/newsdesk/newsdesk/internal/store"
	"github.com/newsdesk/newsdesk/internal/story"
)

// The read path's target: serving a cached feed costs no more than 10% over a
// bare handler that writes the same bytes from memory. Both run over real
// loopback with concurrent keep-alive clients:
//
//	go test -run '^$' -bench 'Serve|Bare' -count 5 ./internal/server/

const benchPath = "/topics/climate.rss"

// benchCases are the request shapes a feed server sees most: a full fetch, a
// compressed fetch, and a conditional poll of an unchanged feed.
var benchCases = []struct {
	name     string
	gzip     bool
	inm      bool
	wantCode int
}{
	{"full", false, false, http.StatusOK},
	{"gzip", true, false, http.StatusOK},
	{"304", false, true, http.StatusNotModified},
}

func BenchmarkServe(b *testing.B) {
	f := newFixture(b, 50)
	res, body := f.get(b, benchPath)
	if res.StatusCode != http.StatusOK || len(body) == 0 {
		b.Fatal(res.Status)
	}
	runBench(b, f.ts.URL+benchPath, res.Header.Get("ETag"))
}

func BenchmarkBare(b *testing.B) {
	f := newFixture(b, 50)
	bare, etag := bareHandler(b, f)
	ts := httptest.NewServer(bare)
	defer ts.Close()
	runBench(b, ts.URL+benchPath, etag)
}

// bareHandler returns the baseline: a plain handler that sends the cached
// feed's bytes and headers (so clients parse the same response) but decides
// with string compares and writes a byte slice: no routing, no cache lookup,
// no ServeContent. Its gzip bytes are the server's too.
func bareHandler(b *testing.B, f *fixture) (http.Handler, string) {
	res, body := f.get(b, benchPath)
	if res.StatusCode != http.StatusOK {
		b.Fatal(res.Status)
	}
	etag := res.Header.Get("ETag")
	static := http.Header{}
	for _, name := range []string{"Content-Type", "Cache-Control", "Vary", "X-Content-Type-Options", "Link", "Last-Modified"} {
		static[name] = res.Header.Values(name)
	}
	// The same gzip bytes the server sends.
	_, gz := f.get(b, benchPath, "Accept-Encoding: gzip")
	gzTag := gzETag(etag)
	length, gzLength := strconv.Itoa(len(body)), strconv.Itoa(len(gz))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		maps.Copy(h, static)
		if r.Header.Get("If-None-Match") == etag { // what a 304 from ServeContent carries
			delete(h, "Content-Type")
			delete(h, "Last-Modified")
			h.Set("Etag", etag)
			w.WriteHeader(http.StatusNotModified)
			return
		}
		if r.Header.Get("Accept-Encoding") == "gzip" {
			h.Set("Etag", gzTag)
			h.Set("Content-Encoding", "gzip")
			h.Set("Content-Length", gzLength)
			w.Write(gz)
			return
		}
		h.Set("Etag", etag)
		h.Set("Content-Length", length)
		w.Write(body)
	}), etag
}

func runBench(b *testing.B, url, etag string) {
	for _, bc := range benchCases {
		b.Run(bc.name, func(b *testing.B) {
			tr := &http.Transport{DisableCompression: true, MaxIdleConns: 256, MaxIdleConnsPerHost: 256}
			defer tr.CloseIdleConnections()
			client := &http.Client{Transport: tr}
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				req, err := http.NewRequest(http.MethodGet, url, nil)
				if err != nil {
					b.Error(err)
					return
				}
				if bc.gzip {
					req.Header.Set("Accept-Encoding", "gzip")
				}
				if bc.inm {
					req.Header.Set("If-None-Match", etag)
				}
				for pb.Next() {
					res, err := client.Do(req)
					if err != nil {
						b.Error(err)
						return
					}
					io.Copy(io.Discard, res.Body)
					res.Body.Close()
					if res.StatusCode != bc.wantCode {
						b.Errorf("status %d, want %d", res.StatusCode, bc.wantCode)
						return
					}
				}
			})
		})
	}
}

// BenchmarkHandler measures the handlers alone, in process, without a
// network: the CPU a cache hit costs beyond the bare baseline, free of the
// loopback noise, and proof that a hit allocates nothing in proportion to the
// body (compare B/op with the body size).
func BenchmarkHandler(b *testing.B) {
	f := newFixture(b, 50)
	bare, etag := bareHandler(b, f)
	for _, h := range []struct {
		name string
		h    http.Handler
	}{{"serve", f.srv}, {"bare", bare}} {
		for _, bc := range benchCases {
			b.Run(h.name+"/"+bc.name, func(b *testing.B) {
				req := httptest.NewRequest(http.MethodGet, benchPath, nil)
				if bc.gzip {
					req.Header.Set("Accept-Encoding", "gzip")
				}
				if bc.inm {
					req.Header.Set("If-None-Match", etag)
				}
				w := &discardWriter{h: http.Header{}}
				b.ReportAllocs()
				for b.Loop() {
					clear(w.h)
					w.code = 0
					h.h.ServeHTTP(w, req)
				}
				if w.code != bc.wantCode && !(w.code == 0 && bc.wantCode == http.StatusOK) {
					b.Fatalf("status %d, want %d", w.code, bc.wantCode)
				}
			})
		}
	}
}

// discardWriter stands in for net/http's response writer, including its
// ReadFrom with a reused copy buffer (net/http pools it), so the benchmark
// counts the handler's allocations and not io.Copy's.
type discardWriter struct {
	h    http.Header
	code int
	n    int
	buf  [32 << 10]byte
}

func (w *discardWriter) ReadFrom(r io.Reader) (int64, error) {
	var total int64
	for {
		n, err := r.Read(w.buf[:])
		total += int64(n)
		w.n += n
		if err == io.EOF {
			return total, nil
		}
		if err != nil {
			return total, err
		}
	}
}

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) WriteHeader(code int)        { w.code = code }
func (w *discardWriter) Write(p []byte) (int, error) { w.n += len(p); return len(p), nil }

// BenchmarkFill measures a cache fill as a reader's first request after a
// change pays it: the store reads, the render, the hash and the gzip twin,
// for a topic of 50 stories of ~6 KB of HTML in each format. The budget is
// 2 ms of render for RSS and 3 ms for Atom and JSON, plus up to 5 ms of
// compression.
func BenchmarkFill(b *testing.B) {
	f := newBigFixture(b, 50)
	for _, ext := range []string{"rss", "atom", "json"} {
		b.Run(ext, func(b *testing.B) {
			path := "/topics/climate." + ext
			var n int
			defer reportCPU(b)()
			for b.Loop() {
				f.srv.Invalidate() // nobody polled it since: dropped, so the next request fills
				res, body := f.get(b, path, "Accept-Encoding: gzip")
				if res.StatusCode != 200 {
					b.Fatal(res.Status)
				}
				n = len(body)
			}
			b.ReportMetric(float64(n), "gzbytes/doc")
		})
	}
}

// newBigFixture is newFixture with climate stories of realistic size: about
// 6 KB of HTML each, words drawn from the bundled feeds so that they
// compress like news text.
func newBigFixture(b *testing.B, n int) *fixture {
	f := newFixture(b, 0)
	paths, _ := filepath.Glob(filepath.Join("..", "..", "feeds", "*.*"))
	var words []string
	for _, p := range paths {
		if raw, err := os.ReadFile(p); err == nil && !strings.HasSuffix(p, ".md") {
			words = append(words, regexp.MustCompile(`[A-Za-z]{2,}`).FindAllString(regexp.MustCompile(`<[^>]*>`).ReplaceAllString(string(raw), " "), -1)...)
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	text := func(k int) string {
		var sb strings.Builder
		for i := range k {
			if i > 0 {
				sb.WriteByte(' ')
			}
			sb.WriteString(words[rng.IntN(len(words))])
		}
		return sb.String()
	}
	stories := makeStories("climate", n)
	for i := range stories {
		var body, plain strings.Builder
		for j := range 8 {
			p := fmt.Sprintf("%s <a href=\"https://wire.example.com/ref/%d/%d\">%s</a> &amp; %s.", text(45), i, j, text(3), text(40))
			body.WriteString("<p>" + p + "</p>\n")
			plain.WriteString(p + " ")
		}
		stories[i].Content, stories[i].ContentText = body.String(), plain.String()
		stories[i].Authors = []story.Author{{Name: "Ann Reporter"}}
		stories[i].Categories = []string{"climate", "energy"}
		stories[i].Image = fmt.Sprintf("https://cdn.example.com/%d.jpg", i)
	}
	if _, err := f.db.Put(b.Context(), "wire", store.SourceState{}, stories, base); err != nil {
		b.Fatal(err)
	}
	f.srv.Invalidate()
	return f
}

// BenchmarkGzipLevels compresses a rendered 50-item feed at the levels worth
// considering, the standard library's and klauspost/compress's, and
// reports each one's size against gzip -9's (when gzip is installed): the
// trade gzipLevel makes between the fill budget and every reader's bytes.
func BenchmarkGzipLevels(b *testing.B) {
	f := newBigFixture(b, 50)
	for _, ext := range []string{"rss", "atom", "json"} {
		_, doc := f.get(b, "/topics/climate."+ext)
		ref := gzip9(doc)
		for _, c := range []struct {
			name  string
			level int
			new   func(io.Writer, int) (io.WriteCloser, error)
		}{
			{"std", 1, stdGzip}, {"std", 4, stdGzip}, {"std", 5, stdGzip},
			{"klauspost", 5, kpGzip}, {"klauspost", 6, kpGzip}, {"klauspost", 7, kpGzip},
		} {
			b.Run(fmt.Sprintf("%s/%s-%d", ext, c.name, c.level), func(b *testing.B) {
				var buf bytes.Buffer
				defer reportCPU(b)()
				for b.Loop() {
					buf.Reset()
					zw, err := c.new(&buf, c.level)
					if err != nil {
						b.Fatal(err)
					}
					zw.Write(doc)
					zw.Close()
				}
				b.ReportMetric(float64(buf.Len()), "gzbytes/doc")
				if ref > 0 {
					b.ReportMetric(100*(float64(buf.Len())/float64(ref)-1), "%-over-gzip-9")
				}
			})
		}
	}
}

// reportCPU starts measuring the process's CPU time; the function it
// returns reports cpu-ns/op, the figure that stays meaningful when other
// processes load the machine (wall time then counts their turns too).
func reportCPU(b *testing.B) func() {
	start := cpuTime()
	return func() {
		if b.N > 0 {
			b.ReportMetric(float64(cpuTime()-start)/float64(b.N), "cpu-ns/op")
		}
	}
}

func stdGzip(w io.Writer, level int) (io.WriteCloser, error) { return stdgzip.NewWriterLevel(w, level) }
func kpGzip(w io.Writer, level int) (io.WriteCloser, error)  { return kpgzip.NewWriterLevel(w, level) }

// gzip9 is the size of doc compressed by gzip -9, or 0 without gzip.
func gzip9(doc []byte) int {
	cmd := exec.Command("gzip", "-9", "-c")
	cmd.Stdin = bytes.NewReader(doc)
	out, err := cmd.Output()
	if err != nil {
		return 0
	}
	return len(out)
}
