package fetch

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
)

// hostLimiter hands out at most n concurrent slots per host:port, so ten
// feeds of one publisher are not all requested at once. Its map holds one
// small channel per host ever seen; the set of configured sources bounds it.
type hostLimiter struct {
	n     int
	mu    sync.Mutex
	hosts map[string]chan struct{}
}

func newHostLimiter(n int) *hostLimiter {
	return &hostLimiter{n: n, hosts: make(map[string]chan struct{})}
}

// acquire waits for a slot on host until ctx is done; release frees it and
// is safe to call once.
func (l *hostLimiter) acquire(ctx context.Context, host string) (release func(), err error) {
	if err := ctx.Err(); err != nil {
		return nil, err // select below would pick at random when both are ready
	}
	l.mu.Lock()
	sem, ok := l.hosts[host]
	if !ok {
		sem = make(chan struct{}, l.n)
		l.hosts[host] = sem
	}
	l.mu.Unlock()

	select {
	case sem <- struct{}{}:
		return func() { <-sem }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// hostKey is the lower-cased host:port of u, with the scheme's default port
// filled in, so http://Example.org and http://example.org:80 share a slot.
func hostKey(u *url.URL) string {
	port := u.Port()
	if port == "" {
		port = "80"
		if u.Scheme == "https" {
			port = "443"
		}
	}
	return net.JoinHostPort(strings.ToLower(u.Hostname()), port)
}

// slotTransport holds a per-host slot for each request it carries, every
// redirect hop under its own host's limit, from the moment it is sent until
// its body is closed or it fails: a slow or silent upstream holds its slot
// no longer than its own exchange, and a redirect to another host frees the
// first host's slot as soon as the redirect is read.
type slotTransport struct {
	next  http.RoundTripper
	hosts *hostLimiter
}

// heldKey marks the context of a Get that acquired its first host's slot
// before its clock started; the first hop to that host uses it.
type heldKey struct{}

type heldSlot struct {
	host    string
	release func() // idempotent
	taken   atomic.Bool
}

func (t *slotTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Scheme == "file" {
		return t.next.RoundTrip(req)
	}
	key := hostKey(req.URL)
	var release func()
	if h, ok := req.Context().Value(heldKey{}).(*heldSlot); ok && h.host == key && h.taken.CompareAndSwap(false, true) {
		release = h.release
	} else {
		r, err := t.hosts.acquire(req.Context(), key)
		if err != nil {
			return nil, fmt.Errorf("wait for host slot: %w", err)
		}
		release = sync.OnceFunc(r)
	}
	resp, err := t.next.RoundTrip(req)
	if err != nil {
		release()
		return nil, err
	}
	resp.Body = &releasingBody{ReadCloser: resp.Body, release: release}
	return resp, nil
}

// releasingBody frees its request's host slot when closed.
type releasingBody struct {
	io.ReadCloser
	release func()
}

func (b *releasingBody) Close() error {
	err := b.ReadCloser.Close()
	b.release()
	return err
}
