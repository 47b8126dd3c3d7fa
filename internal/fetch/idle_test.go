package fetch_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/newsdesk/newsdesk/internal/fetch"
)

// The idle timeout is tiny here and the total timeout the 30 s default, so
// only the idle watchdog can end these requests quickly; nothing sleeps.

func TestIdleTimeout(t *testing.T) {
	tests := []struct {
		name string
		h    http.HandlerFunc
	}{
		{"silent before the headers", func(w http.ResponseWriter, r *http.Request) {
			<-r.Context().Done()
		}},
		{"silent in the body", func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprint(w, "<rss><channel>")
			w.(http.Flusher).Flush()
			<-r.Context().Done()
		}},
		{"silent after a redirect", func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/" {
				http.Redirect(w, r, "/stall", http.StatusFound)
				return
			}
			<-r.Context().Done()
		}},
	}
	const idle = 30 * time.Millisecond
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := upstream(t, tt.h)
			c := fetch.New(fetch.Options{Allow: loopback, IdleTimeout: idle})
			_, err := c.Get(t.Context(), fetch.Request{URL: srv.URL + "/"})
			if !errors.Is(err, fetch.ErrIdle) {
				t.Fatalf("Get error = %v, want ErrIdle", err)
			}
			if !strings.Contains(err.Error(), srv.URL) || !strings.Contains(err.Error(), "nothing received for 30ms") {
				t.Errorf("error %q does not name the URL and the idle timeout", err)
			}
		})
	}
}

func TestIdleIsNotTotal(t *testing.T) {
	// The total timeout still reports itself as such.
	srv := upstream(t, func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() })
	c := fetch.New(fetch.Options{Allow: loopback, IdleTimeout: time.Hour})
	_, err := c.Get(t.Context(), fetch.Request{URL: srv.URL, Timeout: 30 * time.Millisecond})
	if errors.Is(err, fetch.ErrIdle) || err == nil || !strings.Contains(err.Error(), "no complete answer within 30ms") {
		t.Fatalf("Get error = %v, want the total timeout, not ErrIdle", err)
	}
}

func TestIdleUpstreamFreesItsSlot(t *testing.T) {
	// With one slot per host, a silent upstream holds it only until the
	// idle timeout gives up on it, not for the whole (here one-hour)
	// total timeout: the next fetch of the host gets through.
	entered := make(chan struct{})
	srv := upstream(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/stall" {
			close(entered)
			<-r.Context().Done()
			return
		}
		fmt.Fprint(w, rss)
	})
	c := fetch.New(fetch.Options{Allow: loopback, PerHost: 1, Timeout: time.Hour, IdleTimeout: 30 * time.Millisecond})
	done := make(chan error, 1)
	go func() {
		_, err := c.Get(t.Context(), fetch.Request{URL: srv.URL + "/stall"})
		done <- err
	}()
	<-entered // the slot is taken
	// Without the idle timeout this would wait an hour; the deadline turns
	// that into a failure.
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if _, err := c.Get(ctx, fetch.Request{URL: srv.URL + "/feed"}); err != nil {
		t.Fatalf("Get behind a silent upstream: %v", err)
	}
	if err := <-done; !errors.Is(err, fetch.ErrIdle) {
		t.Errorf("silent Get: error = %v, want ErrIdle", err)
	}
}
