package fetch_test

import (
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/newsdesk/newsdesk/internal/fetch"
)

// now is the injected clock: Retry-After dates are relative to it.
var now = time.Date(2026, 3, 3, 10, 0, 0, 0, time.UTC)

func TestStatusError(t *testing.T) {
	tests := []struct {
		name   string
		code   int
		header http.Header
		body   string
		want   fetch.StatusError // URL filled in below
	}{
		{"gone", 410, nil, "", fetch.StatusError{Code: 410}},
		{"not found", 404, nil, "", fetch.StatusError{Code: 404}},
		{"429 with Retry-After seconds", 429, http.Header{"Retry-After": {"120"}}, "",
			fetch.StatusError{Code: 429, RetryAfter: 2 * time.Minute}},
		{"429 with Retry-After date, relative to the injected now", 429,
			http.Header{"Retry-After": {now.Add(90 * time.Second).Format(http.TimeFormat)}}, "",
			fetch.StatusError{Code: 429, RetryAfter: 90 * time.Second}},
		{"Retry-After date in the past is no wait", 429,
			http.Header{"Retry-After": {now.Add(-time.Hour).Format(http.TimeFormat)}}, "", fetch.StatusError{Code: 429}},
		{"Retry-After garbage is ignored", 503, http.Header{"Retry-After": {"soon"}}, "", fetch.StatusError{Code: 503}},
		{"503 outage with Retry-After is not a challenge", 503, http.Header{"Retry-After": {"30"}}, "down for maintenance",
			fetch.StatusError{Code: 503, RetryAfter: 30 * time.Second}},
		{"503 cf-mitigated challenge", 503, http.Header{"Cf-Mitigated": {"challenge"}}, "",
			fetch.StatusError{Code: 503, Challenge: true}},
		{"403 cf-mitigated challenge", 403, http.Header{"Cf-Mitigated": {"challenge"}, "Server": {"cloudflare"}}, "",
			fetch.StatusError{Code: 403, Challenge: true}},
		{"403 Just a moment page", 403, nil,
			"<!DOCTYPE html><html><head><title>Just a moment...</title></head></html>",
			fetch.StatusError{Code: 403, Challenge: true}},
		{"403 challenge-platform script", 403, nil,
			`<script src="/cdn-cgi/challenge-platform/h/b/orchestrate/chl_page/v1"></script>`,
			fetch.StatusError{Code: 403, Challenge: true}},
		{"plain 403 is blocked, not challenged", 403, nil, "Forbidden", fetch.StatusError{Code: 403}},
		{"challenge markers count only on 403/503", 404, http.Header{"Cf-Mitigated": {"challenge"}}, "",
			fetch.StatusError{Code: 404}},
	}
	c := fetch.New(fetch.Options{Allow: loopback, Now: func() time.Time { return now }})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := upstream(t, func(w http.ResponseWriter, r *http.Request) {
				for k, v := range tt.header {
					w.Header()[k] = v
				}
				w.WriteHeader(tt.code)
				fmt.Fprint(w, tt.body)
			})
			_, err := c.Get(t.Context(), fetch.Request{URL: srv.URL + "/feed"})
			se, ok := errors.AsType[*fetch.StatusError](err)
			if !ok {
				t.Fatalf("Get error = %v, want a *StatusError", err)
			}
			tt.want.URL = srv.URL + "/feed"
			if *se != tt.want {
				t.Errorf("StatusError = %+v, want %+v", *se, tt.want)
			}
		})
	}
}

func TestStatusErrorMessage(t *testing.T) {
	tests := []struct {
		name string
		err  fetch.StatusError
		want string
	}{
		{"status text", fetch.StatusError{URL: "https://x/feed", Code: 410}, "GET https://x/feed: 410 Gone"},
		{"retry after", fetch.StatusError{URL: "https://x/feed", Code: 429, RetryAfter: 2 * time.Minute},
			"GET https://x/feed: 429 Too Many Requests (retry after 2m0s)"},
		{"challenge", fetch.StatusError{URL: "https://x/feed", Code: 403, Challenge: true},
			"GET https://x/feed: 403 Forbidden (bot challenge)"},
		{"both notes", fetch.StatusError{URL: "https://x/feed", Code: 503, Challenge: true, RetryAfter: time.Second},
			"GET https://x/feed: 503 Service Unavailable (bot challenge, retry after 1s)"},
		{"unknown code", fetch.StatusError{URL: "https://x/feed", Code: 599}, "GET https://x/feed: 599"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.err.Error(); got != tt.want {
				t.Errorf("Error() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestStatusErrorAfterRedirect(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/old", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/new", http.StatusFound) })
	mux.HandleFunc("/new", func(w http.ResponseWriter, r *http.Request) { http.Error(w, "gone", http.StatusGone) })
	srv := upstream(t, mux.ServeHTTP)
	_, err := fetch.New(fetch.Options{Allow: loopback}).Get(t.Context(), fetch.Request{URL: srv.URL + "/old"})
	se, ok := errors.AsType[*fetch.StatusError](err)
	if !ok || se.Code != http.StatusGone || se.URL != srv.URL+"/new" {
		t.Fatalf("Get error = %#v, want a 410 StatusError naming %s/new, the URL that answered", err, srv.URL)
	}
}
