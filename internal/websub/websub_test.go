package websub_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/newsdesk/newsdesk/internal/websub"
)

// hub records the publish pings it accepts and fails the first failFirst.
type hub struct {
	mu        sync.Mutex
	failFirst int
	calls     int
	got       []string
	done      chan struct{}
	want      int
}

func (h *hub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.calls++
	if h.calls <= h.failFirst {
		http.Error(w, "busy", http.StatusServiceUnavailable)
		return
	}
	if r.Method != http.MethodPost || r.FormValue("hub.mode") != "publish" {
		http.Error(w, "bad ping", http.StatusBadRequest)
		return
	}
	h.got = append(h.got, r.FormValue("hub.url"))
	if len(h.got) == h.want {
		close(h.done)
	}
	w.WriteHeader(http.StatusNoContent)
}

func TestPublishCoalescesAndRetries(t *testing.T) {
	h := &hub{failFirst: 1, want: 2, done: make(chan struct{})}
	srv := httptest.NewServer(h)
	defer srv.Close()

	p := websub.New([]string{srv.URL}, slog.New(slog.DiscardHandler))
	p.SetRetry(time.Millisecond)
	// Two changes of the same topic before the pinger runs: one ping.
	p.Notify("http://news.test/topics/a.rss", "http://news.test/topics/a.atom")
	p.Notify("http://news.test/topics/a.rss")
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	go p.Run(ctx)

	select {
	case <-h.done:
	case <-time.After(time.Minute):
		t.Fatal("hub never received both pings")
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	slices.Sort(h.got)
	if want := []string{"http://news.test/topics/a.atom", "http://news.test/topics/a.rss"}; !slices.Equal(h.got, want) {
		t.Errorf("hub got %q, want %q", h.got, want)
	}
	if h.calls != 3 {
		t.Errorf("hub saw %d requests, want 3: one refused and retried, two accepted", h.calls)
	}
}

func TestNoHubsNoPings(t *testing.T) {
	p := websub.New(nil, slog.New(slog.DiscardHandler))
	p.Notify("http://news.test/topics/a.rss") // must not block or queue
}

func TestSetHubsTakesEffect(t *testing.T) {
	h := &hub{want: 1, done: make(chan struct{})}
	srv := httptest.NewServer(h)
	defer srv.Close()
	p := websub.New(nil, slog.New(slog.DiscardHandler))
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	go p.Run(ctx)
	p.SetHubs([]string{srv.URL}) // a reload that adds a hub
	p.Notify("http://news.test/topics/a.rss")
	select {
	case <-h.done:
	case <-time.After(time.Minute):
		t.Fatal("the hub added by SetHubs was never pinged")
	}
}
