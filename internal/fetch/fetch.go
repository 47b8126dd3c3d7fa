// Package fetch downloads upstream feeds politely: conditional GET, timeouts,
// body and redirect caps, per-host concurrency limits, and Retry-After.
// It speaks http(s):// and file:// URLs and uses the standard library only.
package fetch

import (
	"context"
	"errors"
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
	Timeout        time.Duration // total per request [30s]
	ConnectTimeout time.Duration // dial + TLS handshake [10s]
	MaxBody        int64         // decompressed body cap in bytes [10 MiB]
	MaxRedirects   int           // [5]
	PerHost        int           // concurrent requests per host [2]
	UserAgent      string        // ["newsdesk/dev (+https://github.com/newsdesk/newsdesk)"]
}

// Request is one conditional fetch.
type Request struct {
	URL        string
	Validators Validators
	MaxBody    int64         // overrides Options.MaxBody when > 0
	Timeout    time.Duration // overrides Options.Timeout when > 0
}

// Result is a successful (2xx) response.
type Result struct {
	Body        []byte     // decompressed, at most MaxBody bytes
	Validators  Validators // from the response headers
	FinalURL    string     // after redirects
	Status      int
	ContentType string
	MaxAge      time.Duration // from Cache-Control max-age (or Expires); 0 when absent
}

// ErrNotModified is returned for a 304 answer to a conditional request.
var ErrNotModified = errors.New("not modified")

// ErrTooLarge is returned when the body exceeds the cap.
var ErrTooLarge = errors.New("response body too large")

// StatusError is a non-2xx, non-304 response.
type StatusError struct {
	URL        string
	Code       int
	RetryAfter time.Duration // from Retry-After on 429/503; 0 when absent
	Challenge  bool          // a bot challenge (e.g. cf-mitigated: challenge)
}

func (e *StatusError) Error() string { return "unexpected status" }

// Client fetches feeds. It is safe for concurrent use.
type Client struct{ opts Options }

// New returns a Client.
func New(opts Options) *Client { return &Client{opts: opts} }

// Get fetches req.URL. A 304 gives ErrNotModified.
func (c *Client) Get(ctx context.Context, req Request) (*Result, error) {
	return nil, errors.New("fetch: not implemented")
}
