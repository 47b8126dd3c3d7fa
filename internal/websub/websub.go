// Package websub tells WebSub hubs that topic feeds changed, so that
// subscribers get new stories pushed instead of polling. newsdesk is the
// publisher: the feeds advertise the hubs (rel="hub"), and after a refresh
// changes a topic, every format URL of that topic is pinged with the common
// convention, a form POST of hub.mode=publish and hub.url=<topic URL>.
package websub

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"
)

// Publisher pings hubs. Notify may be called from any goroutine; pings for
// URLs that change again before they are sent are coalesced into one.
type Publisher struct {
	client *http.Client
	log    *slog.Logger
	retry  []time.Duration // waits before the 2nd, 3rd… attempt

	mu      sync.Mutex
	hubs    []string
	pending map[string]bool
	wake    chan struct{}
}

// New returns a Publisher for hubs. Start must run for pings to be sent.
func New(hubs []string, log *slog.Logger) *Publisher {
	return &Publisher{hubs: hubs, log: log, client: &http.Client{Timeout: 15 * time.Second},
		retry:   []time.Duration{5 * time.Second, 30 * time.Second, 2 * time.Minute},
		pending: map[string]bool{}, wake: make(chan struct{}, 1)}
}

// SetHubs replaces the hubs (after a config reload); queued pings go to the
// new ones.
func (p *Publisher) SetHubs(hubs []string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.hubs = hubs
}

// Notify queues a ping for each topic URL.
func (p *Publisher) Notify(topicURLs ...string) {
	p.mu.Lock()
	if len(p.hubs) == 0 || len(topicURLs) == 0 {
		p.mu.Unlock()
		return
	}
	for _, u := range topicURLs {
		p.pending[u] = true
	}
	p.mu.Unlock()
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// Run sends queued pings until ctx ends.
func (p *Publisher) Run(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-p.wake:
		}
		p.mu.Lock()
		urls := make([]string, 0, len(p.pending))
		for u := range p.pending {
			urls = append(urls, u)
		}
		clear(p.pending)
		hubs := p.hubs
		p.mu.Unlock()
		slices.Sort(urls)
		for _, hub := range hubs {
			for _, u := range urls {
				if err := p.publish(ctx, hub, u); err != nil {
					p.log.Warn("websub ping failed", "hub", hub, "url", u, "err", err)
				}
			}
		}
	}
}

// publish pings hub about topicURL, retrying with back-off.
func (p *Publisher) publish(ctx context.Context, hub, topicURL string) error {
	var err error
	for attempt := 0; ; attempt++ {
		if err = p.ping(ctx, hub, topicURL); err == nil {
			return nil
		}
		if attempt >= len(p.retry) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(p.retry[attempt]):
		}
	}
}

func (p *Publisher) ping(ctx context.Context, hub, topicURL string) error {
	form := url.Values{"hub.mode": {"publish"}, "hub.url": {topicURL}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, hub, strings.NewReader(form.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	res, err := p.client.Do(req)
	if err != nil {
		return fmt.Errorf("publish to %s: %w", hub, err)
	}
	res.Body.Close()
	if res.StatusCode/100 != 2 {
		return fmt.Errorf("publish to %s: %s", hub, res.Status)
	}
	return nil
}
