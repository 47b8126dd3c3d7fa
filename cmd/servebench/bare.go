package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// reference is one cached feed as newsdesk answered it: the bodies and the
// exact headers of each answer, which the bare handler replays.
type reference struct {
	Path    string                 `json:"path"`
	ETag    string                 `json:"etag"`    // of the identity body
	GzETag  string                 `json:"gz_etag"` // of the gzip body
	Headers map[string]http.Header `json:"headers"` // by case name; Date left out
}

// The request shapes of the ratio table: a full fetch, a compressed fetch,
// and the conditional poll a feed reader sends (gzip accepted, its ETag).
type caseSpec struct {
	name string
	gzip bool // Accept-Encoding: gzip
	inm  bool // If-None-Match with the ETag of the gzip body
	code int  // the status it must get
}

var cases = []caseSpec{
	{"200 full", false, false, http.StatusOK},
	{"200 gzip", true, false, http.StatusOK},
	{"304", true, true, http.StatusNotModified},
}

func (ref *reference) write(dir string, identity, gz []byte) error {
	b, err := json.MarshalIndent(ref, "", "  ")
	if err != nil {
		return err
	}
	for name, data := range map[string][]byte{"reference.json": b, "identity": identity, "gzip": gz} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// bare is the reference server: a plain net/http server with no timeouts,
// no routing and no cache, handing out the same bytes and headers newsdesk
// did, deciding with string compares. It is what "a bare Go handler
// serving the same bytes" means in issue 11.
func bare(ctx context.Context, o options, stdout io.Writer) error {
	var ref reference
	b, err := os.ReadFile(filepath.Join(o.dir, "reference.json"))
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, &ref); err != nil {
		return err
	}
	identity, err := os.ReadFile(filepath.Join(o.dir, "identity"))
	if err != nil {
		return err
	}
	gz, err := os.ReadFile(filepath.Join(o.dir, "gzip"))
	if err != nil {
		return err
	}
	full, zipped, notMod := ref.Headers["200 full"], ref.Headers["200 gzip"], ref.Headers["304"]
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != ref.Path {
			http.NotFound(w, r)
			return
		}
		gzip := strings.Contains(r.Header.Get("Accept-Encoding"), "gzip")
		etag := ref.ETag
		if gzip {
			etag = ref.GzETag
		}
		switch {
		case r.Header.Get("If-None-Match") == etag:
			maps.Copy(w.Header(), notMod)
			w.WriteHeader(http.StatusNotModified)
		case gzip:
			maps.Copy(w.Header(), zipped)
			w.Write(gz)
		default:
			maps.Copy(w.Header(), full)
			w.Write(identity)
		}
	})
	ln, err := net.Listen("tcp", o.listen)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, "listening", ln.Addr())
	srv := &http.Server{Handler: h}
	go func() {
		<-ctx.Done()
		srv.Close()
	}()
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// process is a helper server started by the benchmark.
type process struct {
	cmd  *exec.Cmd
	base string
}

// startBare re-runs this program as the bare reference server over dir.
func startBare(ctx context.Context, dir string) (*process, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(self, "bare", "-dir", dir)
	cmd.Env = append(os.Environ(), childEnv+"=1")
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	line := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			select {
			case line <- sc.Text():
			default:
			}
		}
	}()
	select {
	case l := <-line:
		addr, ok := strings.CutPrefix(l, "listening ")
		if !ok {
			cmd.Process.Kill()
			return nil, fmt.Errorf("bare server said %q", l)
		}
		return &process{cmd: cmd, base: "http://" + addr}, nil
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		return nil, errors.New("bare server did not start")
	case <-ctx.Done():
		cmd.Process.Kill()
		return nil, ctx.Err()
	}
}

func (p *process) stop() {
	if p == nil || p.cmd.Process == nil {
		return
	}
	p.cmd.Process.Signal(os.Interrupt)
	done := make(chan struct{})
	go func() { p.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		p.cmd.Process.Kill()
		<-done
	}
}
