package fetch_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/newsdesk/newsdesk/internal/fetch"
)

// gate is an upstream whose requests each block until the test releases
// them; it records the most requests it ever held at once.
type gate struct {
	inFlight, most, hits atomic.Int32
	entered              chan struct{}
	release              chan struct{}
}

func newGate(t *testing.T) (*gate, string) {
	g := &gate{entered: make(chan struct{}), release: make(chan struct{})}
	srv := upstream(t, func(w http.ResponseWriter, r *http.Request) {
		g.hits.Add(1)
		n := g.inFlight.Add(1)
		for m := g.most.Load(); n > m && !g.most.CompareAndSwap(m, n); m = g.most.Load() {
		}
		defer g.inFlight.Add(-1) // before the response completes, so before the client frees its slot
		select {
		case g.entered <- struct{}{}:
		case <-r.Context().Done():
			return
		}
		select {
		case <-g.release:
		case <-r.Context().Done():
		}
	})
	return g, srv.URL
}

func TestPerHostQueues(t *testing.T) {
	g, url := newGate(t)
	c := fetch.New(fetch.Options{Allow: loopback, PerHost: 1})
	const n = 5
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for range n {
		wg.Go(func() {
			_, err := c.Get(t.Context(), fetch.Request{URL: url})
			errs <- err
		})
	}
	// All five are served, one at a time: each slot is freed when its
	// response is read. (TestPerHostLimit shows the wait deterministically.)
	for range n {
		<-g.entered
		g.release <- struct{}{}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if got := g.most.Load(); got != 1 {
		t.Errorf("upstream held %d requests at once, want 1 with PerHost 1", got)
	}
}

func TestPerHostIsPerHost(t *testing.T) {
	busy, busyURL := newGate(t)
	other, otherURL := newGate(t) // another port: another host:port
	c := fetch.New(fetch.Options{Allow: loopback, PerHost: 1})

	done := make(chan error, 1)
	go func() {
		_, err := c.Get(t.Context(), fetch.Request{URL: busyURL})
		done <- err
	}()
	<-busy.entered // busy's one slot is taken and held

	go func() { <-other.entered; other.release <- struct{}{} }()
	// A global limit would make this wait for busy, which is released only
	// after it returns; the deadline turns that deadlock into a failure.
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if _, err := c.Get(ctx, fetch.Request{URL: otherURL}); err != nil {
		t.Errorf("Get of another host while the first is busy: %v", err)
	}
	busy.release <- struct{}{}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestPerHostLimit(t *testing.T) {
	tests := []struct {
		name    string
		perHost int // Options.PerHost
		slots   int // what the Client should allow
	}{
		{"one at a time", 1, 1},
		{"default is two", 0, 2},
		{"three", 3, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, url := newGate(t)
			c := fetch.New(fetch.Options{Allow: loopback, PerHost: tt.perHost})
			done := make(chan error, tt.slots)
			for range tt.slots {
				go func() {
					_, err := c.Get(t.Context(), fetch.Request{URL: url})
					done <- err
				}()
				<-g.entered
			}
			// Every slot is held, so this Get can only wait. If waiting
			// ignored ctx it would block until the releases below, which
			// come only after it returns: a deadlock, not a pass.
			ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
			defer cancel()
			if _, err := c.Get(ctx, fetch.Request{URL: url}); !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("Get beyond the limit: error = %v, want context.DeadlineExceeded while waiting", err)
			}
			if got := g.hits.Load(); got != int32(tt.slots) {
				t.Errorf("upstream saw %d requests, want %d: the Get beyond the limit must not be sent", got, tt.slots)
			}
			for range tt.slots {
				g.release <- struct{}{}
				if err := <-done; err != nil {
					t.Fatal(err)
				}
			}
			// The timed-out waiter left no slot behind: the next Get gets through.
			go func() { <-g.entered; g.release <- struct{}{} }()
			if _, err := c.Get(t.Context(), fetch.Request{URL: url}); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestRedirectFreesTheFirstHostsSlot(t *testing.T) {
	// A redirect to another host holds the first host's slot only until the
	// redirect is read: while the second host is slow, the first serves on.
	slow, slowURL := newGate(t)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /away", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, slowURL+"/feed", http.StatusFound)
	})
	mux.HandleFunc("GET /feed", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(rss)) })
	first := upstream(t, mux.ServeHTTP)
	c := fetch.New(fetch.Options{Allow: loopback, PerHost: 1})

	done := make(chan error, 1)
	go func() {
		_, err := c.Get(t.Context(), fetch.Request{URL: first.URL + "/away"})
		done <- err
	}()
	<-slow.entered // redirected, and stuck at the second host
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if _, err := c.Get(ctx, fetch.Request{URL: first.URL + "/feed"}); err != nil {
		t.Errorf("Get of the first host while its redirect waits on another: %v", err)
	}
	slow.release <- struct{}{}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestRedirectHopsAreLimitedPerHost(t *testing.T) {
	// The hop's host has its own limit: with one slot, a second chain
	// redirected to the busy host waits for it.
	busy, busyURL := newGate(t)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /away", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, busyURL+"/feed", http.StatusFound)
	})
	first := upstream(t, mux.ServeHTTP)
	c := fetch.New(fetch.Options{Allow: loopback, PerHost: 1})
	done := make(chan error, 1)
	go func() {
		_, err := c.Get(t.Context(), fetch.Request{URL: busyURL})
		done <- err
	}()
	<-busy.entered
	// The timeout only ends the wait for the slot: it is long enough that
	// the first hop (to an idle host) always completes first, even on a
	// loaded machine, so the error can only come from the slot wait.
	_, err := c.Get(t.Context(), fetch.Request{URL: first.URL + "/away", Timeout: 2 * time.Second})
	if err == nil || !strings.Contains(err.Error(), "wait for host slot") {
		t.Errorf("redirect to a host whose slot is held: error = %v, want a wait for the slot that times out", err)
	}
	if got := busy.hits.Load(); got != 1 {
		t.Errorf("busy host saw %d requests, want 1", got)
	}
	busy.release <- struct{}{}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
