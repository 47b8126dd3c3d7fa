package fetch

import (
	"context"
	"net"
	"net/url"
	"strings"
	"sync"
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
