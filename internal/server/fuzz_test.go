package server_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
)

// FuzzQuery sends arbitrary paths and query strings (limits, cursors, since
// values, repeated and unknown parameters) to the feed routes: the answer is
// never a 5xx; a 200 is a JSON Feed of at most the limit asked; and a next
// page it links to is itself a 200.
func FuzzQuery(f *testing.F) {
	for _, q := range []string{"", "limit=5", "limit=-1", "limit=99999999999", "limit=007", "before=%%%", "before=AAAA",
		"since=0", "since=18446744073709551616", "since=1&before=x", "limit=2&limit=3", "a=1&a=2&b", "before=" + strings.Repeat("A", 300),
		"limit=1&before=MTc0Mzk2MzM2NjAwMDAwMDAwMDpjbGltYXRlLTE"} {
		f.Add("climate.json", q)
	}
	f.Add("climate.rss", "limit=3")
	f.Add("chess.atom", "since=2")
	f.Add("..%2f..%2fetc%2fpasswd", "")
	f.Add("climate", "limit=1")
	fx := newFixture(f, 30)
	f.Fuzz(func(t *testing.T, file, query string) {
		u, err := url.Parse("/topics/" + file + "?" + query)
		if err != nil {
			return
		}
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		req.URL, req.RequestURI = u, u.RequestURI()
		rec := httptest.NewRecorder()
		fx.srv.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("GET %s: %d %s", u, rec.Code, rec.Body)
		}
		if rec.Code != http.StatusOK || !strings.HasSuffix(u.Path, ".json") {
			return
		}
		var feed struct {
			Items   []json.RawMessage `json:"items"`
			NextURL string            `json:"next_url"`
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &feed); err != nil {
			t.Fatalf("GET %s: 200 with invalid JSON: %v", u, err)
		}
		if limit, err := strconv.Atoi(u.Query().Get("limit")); err == nil && len(feed.Items) > limit {
			t.Fatalf("GET %s: %d items, more than the limit", u, len(feed.Items))
		}
		if feed.NextURL == "" {
			return
		}
		next, err := url.Parse(feed.NextURL)
		if err != nil {
			t.Fatalf("GET %s: next_url %q: %v", u, feed.NextURL, err)
		}
		req = httptest.NewRequest(http.MethodGet, "/", nil)
		req.URL, req.RequestURI = &url.URL{Path: next.Path, RawQuery: next.RawQuery}, next.RequestURI()
		rec = httptest.NewRecorder()
		fx.srv.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			t.Fatalf("GET %s links to %s, which answers %d", u, feed.NextURL, rec.Code)
		}
	})
}
