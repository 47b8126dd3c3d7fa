package fetch_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/newsdesk/newsdesk/internal/fetch"
)

func TestMaxAge(t *testing.T) {
	date := now.Add(-time.Hour) // the server's clock; Expires is taken relative to it
	tests := []struct {
		name   string
		header http.Header
		want   time.Duration
	}{
		{"none", nil, 0},
		{"max-age", http.Header{"Cache-Control": {"public, max-age=600"}}, 10 * time.Minute},
		{"max-age minus Age", http.Header{"Cache-Control": {"max-age=600"}, "Age": {"100"}}, 500 * time.Second},
		{"Age beyond max-age is stale", http.Header{"Cache-Control": {"max-age=60"}, "Age": {"100"}}, 0},
		{"quoted max-age", http.Header{"Cache-Control": {`max-age="60"`}}, time.Minute},
		{"directive case ignored", http.Header{"Cache-Control": {"Max-Age=60"}}, time.Minute},
		{"no-cache wins", http.Header{"Cache-Control": {"max-age=600, no-cache"}}, 0},
		{"no-store wins", http.Header{"Cache-Control": {"no-store", "max-age=600"}}, 0},
		{"max-age beats Expires", http.Header{"Cache-Control": {"max-age=60"},
			"Date": {date.Format(http.TimeFormat)}, "Expires": {date.Add(time.Hour).Format(http.TimeFormat)}}, time.Minute},
		{"Expires minus Date", http.Header{"Date": {date.Format(http.TimeFormat)},
			"Expires": {date.Add(15 * time.Minute).Format(http.TimeFormat)}}, 15 * time.Minute},
		{"Expires 0 means stale", http.Header{"Expires": {"0"}}, 0},
		{"Expires in the past", http.Header{"Date": {date.Format(http.TimeFormat)},
			"Expires": {date.Add(-time.Minute).Format(http.TimeFormat)}}, 0},
	}
	c := fetch.New(fetch.Options{Allow: loopback, Now: func() time.Time { return now }})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := upstream(t, func(w http.ResponseWriter, r *http.Request) {
				for k, v := range tt.header {
					w.Header()[k] = v
				}
			})
			res, err := c.Get(t.Context(), fetch.Request{URL: srv.URL})
			if err != nil {
				t.Fatal(err)
			}
			if res.MaxAge != tt.want {
				t.Errorf("MaxAge = %v, want %v", res.MaxAge, tt.want)
			}
		})
	}
}

func TestMaxAgeExpiresWithoutDate(t *testing.T) {
	// net/http adds Date unless the key is present; a nil value keeps the
	// key and writes no header.
	srv := upstream(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header()["Date"] = nil
		w.Header().Set("Expires", now.Add(time.Hour).Format(http.TimeFormat))
	})
	res, err := fetch.New(fetch.Options{Allow: loopback, Now: func() time.Time { return now }}).Get(t.Context(), fetch.Request{URL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	if res.MaxAge != time.Hour {
		t.Errorf("MaxAge = %v, want 1h (Expires minus the injected now)", res.MaxAge)
	}
}
