package server_test

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/newsdesk/newsdesk/internal/server"
)

// abuseServer is the real server behind the real listener stack of the
// daemon: HTTPServer's timeouts and limits, PerClient in front.
type abuseServer struct {
	addr   string
	hs     *http.Server
	errlog *lockedBuffer // the http.Server's own log: panics land here
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func newAbuseServer(t testing.TB, perClient int, tweak func(*http.Server)) *abuseServer {
	t.Helper()
	f := newFixture(t, 20)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &abuseServer{addr: ln.Addr().String(), hs: server.HTTPServer("", f.srv), errlog: &lockedBuffer{}}
	s.hs.ErrorLog = log.New(s.errlog, "", 0)
	if tweak != nil {
		tweak(s.hs)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.hs.Serve(server.PerClient(ln, perClient, nil))
	}()
	t.Cleanup(func() {
		s.hs.Close()
		<-done
		if strings.Contains(s.errlog.String(), "panic") {
			t.Errorf("the server panicked:\n%s", s.errlog)
		}
	})
	return s
}

// dialFrom connects to addr from the loopback address from (127.0.0.0/8 is
// all loopback on Linux, so one machine can be many clients).
func dialFrom(t *testing.T, from, addr string) net.Conn {
	t.Helper()
	d := net.Dialer{Timeout: 5 * time.Second}
	if from != "" {
		d.LocalAddr = &net.TCPAddr{IP: net.ParseIP(from)}
	}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatalf("dial from %s: %v", from, err)
	}
	return c
}

// raw sends req as written and reads one response, never more than 1 MiB of
// it and never for more than 10 s: a bounded client.
func raw(t *testing.T, addr, req string) (*http.Response, []byte) {
	t.Helper()
	c := dialFrom(t, "", addr)
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	// Write while reading: the server may answer (and stop reading) before
	// a huge request is all sent.
	go io.WriteString(c, req)
	res, err := http.ReadResponse(bufio.NewReader(io.LimitReader(c, 1<<20)), nil)
	if err != nil {
		t.Fatalf("no response to %.80q…: %v", req, err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return res, body
}

// healthy fails the test unless the server still answers a feed.
func (s *abuseServer) healthy(t *testing.T, after string) {
	t.Helper()
	res, body := raw(t, s.addr, "GET /topics/climate.json HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
	if res.StatusCode != 200 || !bytes.Contains(body, []byte(`"items"`)) {
		t.Fatalf("after %s the feed answers %s", after, res.Status)
	}
}

// TestAbuse is the table of hostile requests: each gets a clear 4xx (or a
// harmless answer), never a 5xx or a panic, and the server answers normally
// after each.
func TestAbuse(t *testing.T) {
	s := newAbuseServer(t, 64, nil)
	res, _ := raw(t, s.addr, "GET /topics/climate.json HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
	etag := res.Header.Get("Etag")
	if etag == "" {
		t.Fatal("the feed has no ETag")
	}
	get := func(target string, headers ...string) string {
		return "GET " + target + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n" + strings.Join(headers, "") + "\r\n"
	}
	manyETags := func(n int, last string) string {
		var b strings.Builder
		b.WriteString("If-None-Match: ")
		for i := range n {
			fmt.Fprintf(&b, `"x%d", `, i)
		}
		return b.String() + last + "\r\n"
	}
	params := func(n int) string { return strings.Repeat("a=1&", n-1) + "a=1" }
	tests := []struct {
		name string
		req  string
		want []int // any of these
	}{
		{"1 MB header line", get("/", "X-Big: "+strings.Repeat("a", 1<<20)+"\r\n"), []int{431}},
		{"100 KB URL", get("/topics/climate.json?q=" + strings.Repeat("a", 100<<10)), []int{431}},
		{"10k query parameters", get("/topics/climate.json?" + params(10_000)), []int{200}},
		{"10,001 query parameters", get("/topics/climate.json?" + params(10_001)), []int{400}},
		{"limit=-1", get("/topics/climate.json?limit=-1"), []int{400}},
		{"limit=99999999999", get("/topics/climate.json?limit=99999999999"), []int{400}},
		{"limit=1e3", get("/topics/climate.json?limit=1e3"), []int{400}},
		{"cursor not base64", get("/topics/climate.json?before=%25%25%25"), []int{400}},
		// A cursor is a position, not a signed token: a well-formed one the
		// store never handed out still names a place to page from.
		{"a well-formed cursor never handed out", get("/topics/climate.json?before=AAAAAAAAAAAAAAAAAAAAAAAAAAAA"), []int{200, 400}},
		{"cursor too long", get("/topics/climate.json?before=" + strings.Repeat("A", 300)), []int{400}},
		{"since not a number", get("/topics/climate.json?since=abc"), []int{400}},
		{"since past uint64", get("/topics/climate.json?since=18446744073709551616"), []int{400}},
		{"since and before", get("/topics/climate.json?since=1&before=AAAA"), []int{400}},
		{"a bad query string", get("/topics/climate.json?a=%zz"), []int{400}},
		{"dot-dot path", get("/topics/../../etc/passwd"), []int{301, 307, 400, 404}},
		{"encoded dot-dot", get("/topics/%2e%2e/%2e%2e/etc/passwd"), []int{301, 307, 400, 404}},
		{"encoded slash", get("/topics/..%2f..%2fetc%2fpasswd"), []int{301, 307, 400, 404}},
		{"NUL in the slug", get("/topics/climate%00.rss"), []int{400, 404}},
		{"NUL alone", get("/topics/%00"), []int{400, 404}},
		{"raw NUL", get("/topics/clim\x00ate.rss"), []int{400}},
		{"POST", "POST /topics/climate.rss HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nConnection: close\r\n\r\nabc", []int{405}},
		{"PUT", "PUT /topics/climate.rss HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", []int{405}},
		{"DELETE", "DELETE / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", []int{405}},
		{"OPTIONS", "OPTIONS /topics/climate.rss HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", []int{405}},
		{"TRACE", "TRACE / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", []int{405}},
		{"CONNECT", "CONNECT example.org:443 HTTP/1.1\r\nHost: example.org:443\r\nConnection: close\r\n\r\n", []int{400, 404, 405}},
		{"a made-up method", "BREW /topics/climate.rss HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", []int{405}},
		{"HTTP/1.0 without Host", "GET /topics/climate.json HTTP/1.0\r\n\r\n", []int{200}},
		{"HTTP/1.1 without Host", "GET /topics/climate.json HTTP/1.1\r\nConnection: close\r\n\r\n", []int{400}},
		{"HTTP/2 preface on HTTP/1", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", []int{400, 505}},
		{"garbage", "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03 tls hello\r\n\r\n", []int{400}},
		{"Range", get("/topics/climate.json", "Range: bytes=0-99\r\n"), []int{206}},
		{"Range past the end", get("/topics/climate.json", "Range: bytes=99999999-\r\n"), []int{416}},
		{"1,000 ranges", get("/topics/climate.json", "Range: bytes="+strings.TrimSuffix(strings.Repeat("0-1,", 1000), ",")+"\r\n"), []int{200, 206, 416}},
		{"If-None-Match with 10,000 ETags", get("/topics/climate.json", manyETags(10_000, etag)), []int{431}},
		{"If-None-Match with 5,000 ETags, the last ours", get("/topics/climate.json", manyETags(5_000, etag)), []int{304}},
		{"If-None-Match with 5,000 others", get("/topics/climate.json", manyETags(5_000, `"nope"`)), []int{200}},
		{"a malformed If-Modified-Since", get("/topics/climate.json", "If-Modified-Since: yesterday\r\n"), []int{200}},
		{"Accept-Encoding of 5,000 codings", get("/topics/climate.json", "Accept-Encoding: "+strings.Repeat("br;q=0.1, ", 5000)+"gzip\r\n"), []int{200}},
		{"a chunked GET body", "GET /topics/climate.json HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\nffffffff\r\n", []int{200, 400}},
		{"two Content-Lengths", "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\nConnection: close\r\n\r\n", []int{400}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, body := raw(t, s.addr, tt.req)
			if !containsInt(tt.want, res.StatusCode) {
				t.Errorf("%s: %s, want one of %v; body %.200q", tt.name, res.Status, tt.want, body)
			}
			if bytes.Contains(body, []byte("root:")) {
				t.Errorf("%s: the answer holds a passwd file", tt.name)
			}
			if tt.name == "Range" && (len(body) != 100 || !strings.HasPrefix(res.Header.Get("Content-Range"), "bytes 0-99/")) {
				t.Errorf("Range: %d bytes, Content-Range %q", len(body), res.Header.Get("Content-Range"))
			}
			s.healthy(t, tt.name)
		})
	}
}

func containsInt(list []int, v int) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// TestPerClientCap: past the cap a client's new connection gets a 503 it
// can read (not a reset), another client is unaffected, and a closed
// connection gives its slot back.
func TestPerClientCap(t *testing.T) {
	s := newAbuseServer(t, 3, nil)
	var held []net.Conn
	for range 3 {
		c := dialFrom(t, "127.0.0.2", s.addr)
		defer c.Close()
		held = append(held, c)
		exchange(t, c, 200)
	}
	over := dialFrom(t, "127.0.0.2", s.addr)
	defer over.Close()
	res := exchange(t, over, 503)
	if res.Header.Get("Retry-After") == "" {
		t.Error("the 503 has no Retry-After")
	}
	other := dialFrom(t, "127.0.0.3", s.addr)
	defer other.Close()
	exchange(t, other, 200)

	held[0].Close()
	waitFor(t, "a closed connection gives its slot back", func() bool {
		c := dialFrom(t, "127.0.0.2", s.addr)
		defer c.Close()
		return exchange(t, c, 0).StatusCode == 200
	})
}

// exchange sends one keep-alive request on c and reads the response; want 0
// accepts any status.
func exchange(t *testing.T, c net.Conn, want int) *http.Response {
	t.Helper()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(c, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
		t.Fatalf("write: %v", err)
	}
	res, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	c.SetDeadline(time.Time{})
	if want != 0 && res.StatusCode != want {
		t.Fatalf("status %s, want %d", res.Status, want)
	}
	return res
}

// waitFor retries cond until it holds, for up to ten seconds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			t.Fatalf("never: %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// settled waits for the goroutines to come back to base (give or take a
// few of the runtime's own) and the heap to its size, and reports the rest.
func settled(t *testing.T, base int, heap uint64) {
	t.Helper()
	var goroutines int
	waitFor(t, "the goroutines end", func() bool {
		runtime.GC()
		goroutines = runtime.NumGoroutine()
		return goroutines <= base+5
	})
	var m runtime.MemStats
	runtime.GC()
	runtime.GC() // twice: sync.Pool keeps a victim cache through one
	runtime.ReadMemStats(&m)
	if m.HeapAlloc > heap+8<<20 {
		t.Errorf("live heap grew from %d to %d KiB", heap>>10, m.HeapAlloc>>10)
	}
	t.Logf("after the load: %d goroutines (base %d), live heap %d KiB (base %d)", goroutines, base, m.HeapAlloc>>10, heap>>10)
}

func baseline() (int, uint64) {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return runtime.NumGoroutine(), m.HeapAlloc
}

// TestIdleKeepAlives: 2,000 idle keep-alive connections from 20 clients cost
// nothing lasting: readers are answered while they are open, and goroutines
// and heap come back once they close.
func TestIdleKeepAlives(t *testing.T) {
	if testing.Short() {
		t.Skip("2,000 connections: skipped with -short")
	}
	s := newAbuseServer(t, 128, nil)
	s.healthy(t, "start") // the cached render is part of the base
	base, heap := baseline()
	var conns []net.Conn
	for i := range 2000 {
		c := dialFrom(t, fmt.Sprintf("127.0.1.%d", 1+i%20), s.addr)
		conns = append(conns, c)
		exchange(t, c, 200) // now idle, kept alive
	}
	for range 20 {
		s.healthy(t, "2,000 idle connections")
	}
	for _, c := range conns {
		c.Close()
	}
	settled(t, base, heap)
}

// TestIdleTimeout: the server closes keep-alive connections left idle.
func TestIdleTimeout(t *testing.T) {
	s := newAbuseServer(t, 64, func(hs *http.Server) { hs.IdleTimeout = 500 * time.Millisecond })
	var conns []net.Conn
	for range 20 {
		c := dialFrom(t, "127.0.3.1", s.addr)
		defer c.Close()
		exchange(t, c, 200)
		conns = append(conns, c)
	}
	for _, c := range conns {
		c.SetReadDeadline(time.Now().Add(20 * time.Second))
		if n, err := c.Read(make([]byte, 1)); err != io.EOF {
			t.Fatalf("an idle connection was not closed by the server (read %d, %v)", n, err)
		}
	}
}

// TestSlowloris: connections that dribble a request header hold at most the
// per-client cap, readers from elsewhere are answered while they dribble,
// and ReadHeaderTimeout closes them. (The 200 connections × 60 s figure is
// BenchmarkSlowloris, run by hand.)
func TestSlowloris(t *testing.T) {
	const cap, attackers = 16, 40
	s := newAbuseServer(t, cap, func(hs *http.Server) { hs.ReadHeaderTimeout = 2 * time.Second })
	s.healthy(t, "start")
	base, heap := baseline()
	var slow []net.Conn
	for range attackers {
		c := dialFrom(t, "127.0.2.1", s.addr)
		slow = append(slow, c)
		io.WriteString(c, "GET /topics/climate.json HTTP/1.1\r\nHost: x\r\n")
	}
	for i := range 20 {
		for _, c := range slow {
			io.WriteString(c, fmt.Sprintf("X-Slow-%d: a\r\n", i))
		}
		s.healthy(t, "slow connections")
	}
	// Over the cap, the server answered 503 at once; the others wait.
	refused := 0
	for _, c := range slow {
		c.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
		if res, err := http.ReadResponse(bufio.NewReader(c), nil); err == nil && res.StatusCode == 503 {
			refused++
		}
	}
	if refused != attackers-cap {
		t.Errorf("%d slow connections refused, want %d (the cap is %d)", refused, attackers-cap, cap)
	}
	// ReadHeaderTimeout closes the ones that were let in.
	for _, c := range slow {
		c.SetReadDeadline(time.Now().Add(20 * time.Second))
		if _, err := io.Copy(io.Discard, c); err != nil {
			t.Errorf("a slow connection was not closed by the server: %v", err)
		}
		c.Close()
	}
	settled(t, base, heap)
}
