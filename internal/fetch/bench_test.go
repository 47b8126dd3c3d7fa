package fetch_test

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/newsdesk/newsdesk/internal/fetch"
)

// feedBody is a ~90 KB RSS document, about the size of a busy news feed.
func feedBody() []byte {
	var b bytes.Buffer
	b.WriteString(`<?xml version="1.0"?><rss version="2.0"><channel><title>Bench</title>`)
	for i := 0; b.Len() < 90<<10; i++ {
		fmt.Fprintf(&b, "<item><guid>story-%d</guid><title>Story %d</title><description>%s</description></item>",
			i, i, strings.Repeat("Ministers met to discuss border crossings. ", 8))
	}
	b.WriteString("</channel></rss>")
	return b.Bytes()
}

func BenchmarkGet(b *testing.B) {
	body := feedBody()
	z := gzipped(b, body)
	for _, bc := range []struct {
		name string
		h    http.HandlerFunc
	}{
		{"plain", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", fmt.Sprint(len(body)))
			w.Write(body)
		}},
		{"chunked", func(w http.ResponseWriter, r *http.Request) { w.Write(body) }},
		{"gzip", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Encoding", "gzip")
			w.Write(z)
		}},
		{"not-modified", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNotModified) }},
	} {
		b.Run(bc.name, func(b *testing.B) {
			srv := httptest.NewServer(bc.h)
			defer srv.Close()
			c := fetch.New(fetch.Options{Allow: loopback})
			req := fetch.Request{URL: srv.URL, Validators: fetch.Validators{ETag: `"v1"`}}
			if bc.name != "not-modified" {
				b.SetBytes(int64(len(body)))
			}
			b.ReportAllocs()
			for b.Loop() {
				_, err := c.Get(b.Context(), req)
				if err != nil && !(bc.name == "not-modified" && errors.Is(err, fetch.ErrNotModified)) {
					b.Fatal(err)
				}
			}
		})
	}
}
