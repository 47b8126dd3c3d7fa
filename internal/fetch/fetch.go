// Package fetch downloads upstream feeds politely: conditional GET, timeouts,
// body and redirect caps, per-host concurrency limits, and Retry-After.
// It speaks http(s):// and file:// URLs and uses the standard library only.
package fetch

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"time"
)

// Validators are the conditional-request validators of the last good response,
// kept verbatim.
type Validators struct {
	ETag         string
	LastModified string
}

// Options configures a Client. Zero values take the defaults in brackets.
type Options struct {
	Timeout        time.Duration // total per request, body included [30s]
	ConnectTimeout time.Duration // dial + TLS handshake [10s]
	MaxBody        int64         // decompressed body cap in bytes [10 MiB]
	MaxRedirects   int           // [5]; negative: follow none
	PerHost        int           // concurrent requests per host:port [2]
	UserAgent      string        // ["newsdesk/dev (+https://github.com/newsdesk/newsdesk)"]

	// Now is the clock for Retry-After dates and for Expires when the
	// response has no Date header [time.Now]. Tests inject a fixed time.
	Now func() time.Time
}

// Defaults applied by New to zero Options fields.
const (
	DefaultTimeout        = 30 * time.Second
	DefaultConnectTimeout = 10 * time.Second
	DefaultMaxBody        = 10 << 20
	DefaultMaxRedirects   = 5
	DefaultPerHost        = 2
	DefaultUserAgent      = "newsdesk/dev (+https://github.com/newsdesk/newsdesk)"
)

// accept prefers feed types but takes anything: some publishers serve feeds
// as text/html or application/octet-stream, and a 406 helps nobody.
const accept = "application/rss+xml, application/atom+xml, application/feed+json, " +
	"application/xml;q=0.9, text/xml;q=0.9, application/json;q=0.8, */*;q=0.5"

// Request is one conditional fetch.
type Request struct {
	URL        string
	Validators Validators
	MaxBody    int64         // overrides Options.MaxBody when > 0
	Timeout    time.Duration // overrides Options.Timeout when > 0
}

// Result is a successful (2xx) response. Get also returns one, without a
// Body, alongside ErrNotModified, so a 304's fresh Cache-Control is not lost.
type Result struct {
	Body        []byte     // decompressed, at most MaxBody bytes
	Validators  Validators // from the response headers (on a 304, the request's where absent)
	FinalURL    string     // after redirects
	Status      int
	ContentType string
	MaxAge      time.Duration // from Cache-Control max-age minus Age (or Expires minus Date); 0 when absent
}

// ErrNotModified is returned for a 304 answer to a conditional request.
var ErrNotModified = errors.New("not modified")

// ErrTooLarge is returned when the body exceeds the cap.
var ErrTooLarge = errors.New("response body too large")

// Client fetches feeds. It is safe for concurrent use.
type Client struct {
	opts  Options
	http  *http.Client
	hosts *hostLimiter
}

// New returns a Client. file:// URLs are served from the local file system
// through the same conditional-GET path as http(s) URLs.
func New(opts Options) *Client {
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.ConnectTimeout <= 0 {
		opts.ConnectTimeout = DefaultConnectTimeout
	}
	if opts.MaxBody <= 0 {
		opts.MaxBody = DefaultMaxBody
	}
	if opts.MaxRedirects == 0 {
		opts.MaxRedirects = DefaultMaxRedirects
	}
	if opts.PerHost <= 0 {
		opts.PerHost = DefaultPerHost
	}
	if opts.UserAgent == "" {
		opts.UserAgent = DefaultUserAgent
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}

	t := http.DefaultTransport.(*http.Transport).Clone() // keeps ProxyFromEnvironment and HTTP/2
	t.DialContext = (&net.Dialer{Timeout: opts.ConnectTimeout, KeepAlive: 30 * time.Second}).DialContext
	t.TLSHandshakeTimeout = opts.ConnectTimeout
	t.MaxIdleConnsPerHost = opts.PerHost // never more idle conns than we may use at once
	// Transparent gzip stays on (DisableCompression false, no Accept-Encoding
	// of our own), so resp.Body is already decompressed and the cap counts
	// decompressed bytes: a gzip bomb stops at MaxBody.
	t.RegisterProtocol("file", http.NewFileTransport(http.Dir("/")))

	c := &Client{opts: opts, hosts: newHostLimiter(opts.PerHost)}
	c.http = &http.Client{Transport: t, CheckRedirect: c.checkRedirect}
	return c
}

// Get fetches req.URL. A 304 gives ErrNotModified; any other non-2xx status
// gives a *StatusError. Errors name the URL.
func (c *Client) Get(ctx context.Context, req Request) (*Result, error) {
	u, err := checkURL(req.URL)
	if err != nil {
		return nil, err
	}
	maxBody, timeout := c.opts.MaxBody, c.opts.Timeout
	if req.MaxBody > 0 {
		maxBody = req.MaxBody
	}
	if req.Timeout > 0 {
		timeout = req.Timeout
	}

	// Wait for a slot before the clock starts: time spent queued behind
	// sibling feeds of one publisher is not the upstream being slow.
	if u.Scheme != "file" {
		release, err := c.hosts.acquire(ctx, hostKey(u))
		if err != nil {
			return nil, fmt.Errorf("GET %s: wait for host slot: %w", req.URL, err)
		}
		defer release()
	}
	parent := ctx
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel() // after the body is read: the deadline covers it too
	// timedOut says our own deadline fired, as opposed to the caller's.
	timedOut := func(err error) error {
		if errors.Is(err, context.DeadlineExceeded) && parent.Err() == nil {
			return fmt.Errorf("no complete answer within %v: %w", timeout, err)
		}
		return err
	}

	hreq, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", req.URL, err)
	}
	hreq.Header.Set("User-Agent", c.opts.UserAgent)
	hreq.Header.Set("Accept", accept)
	// Verbatim: the server compares these byte for byte (W/ and quotes included).
	if v := req.Validators.ETag; v != "" {
		hreq.Header.Set("If-None-Match", v)
	}
	if v := req.Validators.LastModified; v != "" {
		hreq.Header.Set("If-Modified-Since", v)
	}

	resp, err := c.http.Do(hreq)
	if err != nil {
		// *url.Error would repeat the method and URL we are about to add.
		if ue, ok := errors.AsType[*url.Error](err); ok {
			err = ue.Err
		}
		return nil, fmt.Errorf("GET %s: %w", req.URL, timedOut(err))
	}
	defer resp.Body.Close()

	res := &Result{
		FinalURL:    resp.Request.URL.String(),
		Status:      resp.StatusCode,
		ContentType: resp.Header.Get("Content-Type"),
		Validators:  Validators{ETag: resp.Header.Get("ETag"), LastModified: resp.Header.Get("Last-Modified")},
		MaxAge:      maxAge(resp.Header, c.opts.Now()),
	}
	switch {
	case resp.StatusCode == http.StatusNotModified:
		// RFC 9110 lets a 304 omit validators it has not changed.
		if res.Validators.ETag == "" {
			res.Validators.ETag = req.Validators.ETag
		}
		if res.Validators.LastModified == "" {
			res.Validators.LastModified = req.Validators.LastModified
		}
		return res, fmt.Errorf("GET %s: %w", req.URL, ErrNotModified)
	case resp.StatusCode < 200 || resp.StatusCode > 299:
		return nil, newStatusError(resp, c.opts.Now())
	}

	res.Body, err = readBody(resp, maxBody)
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", req.URL, timedOut(err))
	}
	return res, nil
}
