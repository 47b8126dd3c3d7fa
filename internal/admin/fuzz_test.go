package admin_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/newsdesk/newsdesk/internal/admin"
	"github.com/newsdesk/newsdesk/internal/ingest"
	"github.com/newsdesk/newsdesk/internal/preview"
)

// FuzzHandler feeds the admin endpoints arbitrary methods, paths, tokens and
// bodies: a caller without the token never reaches an action; with it, an
// action runs only on a request that decodes, exactly as decoded; nothing
// panics; every answer is a status the client understands, and a fetch's
// stream is complete NDJSON ending in done or an error.
func FuzzHandler(f *testing.F) {
	f.Add("POST", "/admin/fetch", true, []byte(`{"sources":["a","b"],"force":true}`))
	f.Add("POST", "/admin/fetch", true, []byte(`{}`))
	f.Add("POST", "/admin/fetch", false, []byte(`{"sources":["a"]}`))
	f.Add("POST", "/admin/preview", true, []byte(`{"topic":"t","limit":3,"explain":true}`))
	f.Add("POST", "/admin/preview", true, []byte(`{"topic":"t","definition":{"Slug":"t","Title":"T","Rule":{"Any":[{"Term":"x"}]}}}`))
	f.Add("POST", "/admin/backup", true, []byte{})
	f.Add("GET", "/admin/fetch", true, []byte{})
	f.Add("POST", "/admin/../admin/fetch", true, []byte(`{"sources":[`+strings.Repeat(`"x",`, 100)+`"y"]}`))
	f.Add("POST", "/admin/fetch", true, []byte(strings.Repeat("[", 20000)))
	f.Fuzz(func(t *testing.T, method, path string, withToken bool, body []byte) {
		const token = "s3cret-token"
		var fetches []admin.FetchRequest
		var previews []admin.PreviewRequest
		backups := 0
		h := admin.Handler(admin.Actions{
			Fetch: func(ctx context.Context, sources []string, force bool, progress func(ingest.Report)) ([]ingest.Report, error) {
				fetches = append(fetches, admin.FetchRequest{Sources: sources, Force: force})
				for _, s := range sources {
					progress(ingest.Report{Source: s, Status: "ok"})
				}
				if slices.Contains(sources, "fail") {
					return nil, errors.New("it failed")
				}
				return nil, nil
			},
			Preview: func(_ context.Context, req admin.PreviewRequest) (preview.Result, error) {
				previews = append(previews, req)
				return preview.Result{Scanned: 1}, nil
			},
			Backup: func(_ context.Context, w io.Writer) error {
				backups++
				_, err := w.Write([]byte("backup"))
				return err
			},
		}, token)
		req, err := http.NewRequest(method, "http://127.0.0.1"+path, bytes.NewReader(body))
		if err != nil {
			return // not a request a client could send
		}
		if withToken {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		calls := len(fetches) + len(previews) + backups
		switch code := rec.Code; {
		case !withToken && calls > 0:
			t.Fatalf("an action ran without the token: %s %s", method, path)
		case code >= 500 && code != http.StatusNotImplemented:
			t.Fatalf("%s %s answered %d", method, path, code)
		case code == http.StatusOK && calls != 1:
			t.Fatalf("%s %s answered 200 after %d actions", method, path, calls)
		case code != http.StatusOK && calls != 0:
			t.Fatalf("%s %s answered %d after an action ran", method, path, code)
		}
		if len(fetches) == 1 {
			var want admin.FetchRequest
			if err := json.NewDecoder(bytes.NewReader(body)).Decode(&want); err != nil {
				t.Fatalf("fetch ran on a body that does not decode: %v", err)
			}
			if !slices.Equal(fetches[0].Sources, want.Sources) || fetches[0].Force != want.Force {
				t.Fatalf("fetch ran with %+v, the body says %+v", fetches[0], want)
			}
			lines := 0
			var last map[string]any
			sc := bufio.NewScanner(rec.Body)
			sc.Buffer(nil, 1<<20)
			for sc.Scan() {
				last = nil
				if err := json.Unmarshal(sc.Bytes(), &last); err != nil {
					t.Fatalf("fetch stream line %q: %v", sc.Text(), err)
				}
				lines++
			}
			if last["done"] != true && last["error"] == nil {
				t.Fatalf("fetch stream of %d lines ends with %v", lines, last)
			}
		}
		if len(previews) == 1 && !json.Valid(rec.Body.Bytes()) {
			t.Fatalf("preview answered invalid JSON: %.200q", rec.Body.String())
		}
	})
}

// TestRequestBodyBounded: a request body past 1 MiB is refused, not read.
func TestRequestBodyBounded(t *testing.T) {
	called := false
	h := admin.Handler(admin.Actions{Fetch: func(context.Context, []string, bool, func(ingest.Report)) ([]ingest.Report, error) {
		called = true
		return nil, nil
	}}, "tok")
	body := `{"sources":["` + strings.Repeat("x", 2<<20) + `"]}`
	req := httptest.NewRequest("POST", "/admin/fetch", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer tok")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusBadRequest || called {
		t.Errorf("a 2 MiB request: %d, fetch called %v; want 400 and no fetch", rec.Code, called)
	}
}
