package metrics_test

import (
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"

	"github.com/newsdesk/newsdesk/internal/metrics"
	"github.com/newsdesk/newsdesk/internal/server"
	"github.com/newsdesk/newsdesk/internal/store/bolt"
	"github.com/newsdesk/newsdesk/internal/topic"
)

// discard is a ResponseWriter that keeps nothing.
type discard struct{ h http.Header }

func (d *discard) Header() http.Header         { return d.h }
func (d *discard) Write(b []byte) (int, error) { return len(b), nil }
func (d *discard) WriteHeader(int)             {}

// BenchmarkObservedHit is what metrics cost a cached feed's hit, the
// request nearly every reader makes: the server alone, then with the cache
// observer and the request observer the daemon wires (route, code,
// duration). Run it with -count and compare the medians.
func BenchmarkObservedHit(b *testing.B) {
	db, _ := bolt.Open(filepath.Join(b.TempDir(), "n.db"), bolt.Options{NoSync: true})
	defer db.Close()
	ports, _ := topic.New(topic.Definition{Slug: "ports", Title: "Ports", Rule: topic.Rule{Term: "port"}})
	topics := topic.NewSet(ports)
	for _, observed := range []bool{false, true} {
		m := metrics.New(metrics.Options{})
		o := server.Options{DB: db, Site: server.Site{Title: "t", PublicURL: "http://n.test"}, Topics: topics}
		if observed {
			o.Cache = m
		}
		srv := server.New(o)
		var h http.Handler = srv
		if observed {
			h = server.Observe(srv, func(r server.Request) { m.Request(r.Route, r.Status, r.Duration) })
		}
		r := httptest.NewRequest("GET", "/topics/ports.rss", nil)
		r.Header.Set("Accept-Encoding", "gzip")
		h.ServeHTTP(&discard{h: http.Header{}}, r)
		name := map[bool]string{false: "bare", true: "observed"}[observed]
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				h.ServeHTTP(&discard{h: http.Header{}}, r)
			}
		})
	}
}
