// Package fetch downloads upstream feeds politely and safely: conditional
// GET, total, connect and read-idle timeouts, body, header and redirect
// caps, per-host concurrency limits, Retry-After, permanent redirects
// reported, and an address guard that refuses, at dial time and on every
// redirect hop, any address that is not globally routable unless allowed
// (see Classify and Check). It speaks http(s):// and file:// URLs. Beside
// the standard library it uses x/net's httpproxy, to read the proxy from
// the environment when asked.
package fetch

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/netip"
	"net/url"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
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
	IdleTimeout    time.Duration // give up when an upstream sends nothing for this long [15s]
	MaxBody        int64         // decompressed body cap in bytes [10 MiB]
	MaxHeaderBytes int64         // response header cap in bytes [256 KiB]
	MaxRedirects   int           // [5]; negative: follow none
	PerHost        int           // concurrent requests per host:port [2]
	UserAgent      string        // ["newsdesk/dev (+https://github.com/newsdesk/newsdesk)"]

	// Allow lists the networks the address guard lets through besides
	// global ones; nil allows none, so loopback, private, link-local and
	// the other non-global classes (see Class) are refused. SetAllowed
	// replaces it on a running Client.
	Allow []netip.Prefix
	// Proxy, when set, carries every http(s) request. The guard then
	// checks the proxy's address (the proxy resolves the feeds' names), and
	// address literals and localhost names in URLs before sending.
	Proxy *url.URL
	// ProxyFromEnvironment takes the proxy from HTTP_PROXY, HTTPS_PROXY and
	// NO_PROXY (read once, by New) when Proxy is nil. Without it the
	// environment is ignored: a proxy is never implicit.
	ProxyFromEnvironment bool

	// Now is the clock for Retry-After dates and for Expires when the
	// response has no Date header [time.Now]. Tests inject a fixed time.
	Now func() time.Time
}

// Defaults applied by New to zero Options fields.
const (
	DefaultTimeout        = 30 * time.Second
	DefaultConnectTimeout = 10 * time.Second
	DefaultIdleTimeout    = 15 * time.Second
	DefaultMaxBody        = 10 << 20
	DefaultMaxHeaderBytes = 256 << 10 // a browser's limit; net/http's own default is 10 MiB
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
	FinalURL    string     // after redirects, without user info
	Status      int
	ContentType string
	MaxAge      time.Duration // from Cache-Control max-age minus Age (or Expires minus Date); 0 when absent
	// MovedTo is the URL that answered when every redirect that led there
	// was permanent (301 or 308): the feed has a new address, to be polled
	// from now on (RFC 9110 15.4.2). "" without redirects, or when any hop
	// was temporary (302, 303, 307): the requested URL stays the one to
	// poll. Unlike FinalURL it keeps user info, which polling it needs; show
	// it through Redact.
	MovedTo string
}

// ErrNotModified is returned for a 304 answer to a conditional request.
var ErrNotModified = errors.New("not modified")

// ErrTooLarge is returned when the body exceeds the cap.
var ErrTooLarge = errors.New("response body too large")

// ErrIdle is returned when an upstream sends nothing for IdleTimeout, while
// we wait for its answer or in the middle of its body.
var ErrIdle = errors.New("upstream went silent")

// Client fetches feeds. It is safe for concurrent use.
type Client struct {
	opts  Options
	http  *http.Client
	hosts *hostLimiter
	guard atomic.Pointer[guard]
	proxy func(*http.Request) (*url.URL, error) // nil: no proxy

	transport *http.Transport
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
	if opts.IdleTimeout <= 0 {
		opts.IdleTimeout = DefaultIdleTimeout
	}
	if opts.MaxBody <= 0 {
		opts.MaxBody = DefaultMaxBody
	}
	if opts.MaxHeaderBytes <= 0 {
		opts.MaxHeaderBytes = DefaultMaxHeaderBytes
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

	c := &Client{opts: opts, hosts: newHostLimiter(opts.PerHost)}
	c.SetAllowed(opts.Allow)
	switch {
	case opts.Proxy != nil:
		c.proxy = http.ProxyURL(opts.Proxy)
	case opts.ProxyFromEnvironment:
		c.proxy = envProxy()
	}

	dialer := &net.Dialer{Timeout: opts.ConnectTimeout, KeepAlive: 30 * time.Second,
		Control: func(network, address string, rc syscall.RawConn) error {
			return c.guard.Load().control(network, address, rc)
		}}
	t := http.DefaultTransport.(*http.Transport).Clone() // keeps HTTP/2
	t.Proxy = c.proxy                                    // not DefaultTransport's ProxyFromEnvironment
	t.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		conn, err := dialer.DialContext(ctx, network, addr)
		withHost(err, addr)
		return conn, err
	}
	t.TLSHandshakeTimeout = opts.ConnectTimeout
	t.MaxResponseHeaderBytes = opts.MaxHeaderBytes
	t.MaxIdleConnsPerHost = opts.PerHost // never more idle conns than we may use at once
	// Transparent gzip stays on (DisableCompression false, no Accept-Encoding
	// of our own), so resp.Body is already decompressed and the cap counts
	// decompressed bytes: a gzip bomb stops at MaxBody.
	t.RegisterProtocol("file", http.NewFileTransport(http.Dir("/")))

	c.transport = t
	c.http = &http.Client{Transport: &slotTransport{next: t, hosts: c.hosts}, CheckRedirect: c.checkRedirect}
	return c
}

// SetAllowed replaces the networks the address guard lets through besides
// global ones (Options.Allow), for requests that start from now on: a
// config reload takes effect without a restart.
func (c *Client) SetAllowed(nets []netip.Prefix) {
	c.guard.Store(&guard{allow: slices.Clone(nets)})
	// A kept-alive connection was checked when it was dialed; drop the idle
	// ones so the next request dials, and is checked, again. (One busy now
	// returns to the pool unchecked; the next change or its idle timeout
	// closes it.)
	if c.transport != nil {
		c.transport.CloseIdleConnections()
	}
}

// Get fetches req.URL. A 304 gives ErrNotModified; any other non-2xx status
// gives a *StatusError; an address the guard refuses, a *RefusedError.
// Errors name the URL, without its password.
func (c *Client) Get(ctx context.Context, req Request) (*Result, error) {
	u, err := checkURL(req.URL)
	if err != nil {
		return nil, err
	}
	shown := u.Redacted()
	maxBody, timeout := c.opts.MaxBody, c.opts.Timeout
	if req.MaxBody > 0 {
		maxBody = req.MaxBody
	}
	if req.Timeout > 0 {
		timeout = req.Timeout
	}

	if u.Scheme != "file" {
		if err := c.checkHost(u); err != nil {
			return nil, fmt.Errorf("GET %s: %w", shown, err)
		}
		// Wait for a slot before the clock starts: time spent queued behind
		// sibling feeds of one publisher is not the upstream being slow.
		// The first hop's RoundTrip takes this slot over (see slotTransport).
		key := hostKey(u)
		release, err := c.hosts.acquire(ctx, key)
		if err != nil {
			return nil, fmt.Errorf("GET %s: wait for host slot: %w", shown, err)
		}
		release = sync.OnceFunc(release)
		defer release()
		ctx = context.WithValue(ctx, heldKey{}, &heldSlot{host: key, release: release})
	}
	parent := ctx
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel() // after the body is read: the deadline covers it too
	ctx, stall := context.WithCancelCause(ctx)
	defer stall(nil)
	dog := newWatchdog(c.opts.IdleTimeout, func() { stall(errIdle) })
	defer dog.stop()
	ctx = httptrace.WithClientTrace(ctx, dog.trace())
	// why tells our own deadlines (total, idle) from the caller's.
	why := func(err error) error {
		switch {
		case parent.Err() != nil:
			return err
		case context.Cause(ctx) == errIdle:
			return fmt.Errorf("%w: nothing received for %v", ErrIdle, c.opts.IdleTimeout)
		case errors.Is(err, context.DeadlineExceeded):
			return fmt.Errorf("no complete answer within %v: %w", timeout, err)
		}
		return err
	}

	hreq, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", shown, err)
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
		return nil, fmt.Errorf("GET %s: %w", shown, c.explain(err, u, why))
	}
	defer resp.Body.Close()
	resp.Body = dog.reader(resp.Body)

	res := &Result{
		FinalURL:    withoutUser(resp.Request.URL),
		Status:      resp.StatusCode,
		ContentType: resp.Header.Get("Content-Type"),
		Validators:  Validators{ETag: resp.Header.Get("ETag"), LastModified: resp.Header.Get("Last-Modified")},
		MaxAge:      maxAge(resp.Header, c.opts.Now()),
		MovedTo:     movedTo(resp),
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
		return res, fmt.Errorf("GET %s: %w", shown, ErrNotModified)
	case resp.StatusCode < 200 || resp.StatusCode > 299:
		return nil, newStatusError(resp, c.opts.Now())
	}

	res.Body, err = readBody(resp, maxBody)
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", shown, why(err))
	}
	return res, nil
}

// checkHost applies the address guard to u's host before anything is sent,
// when a proxy is configured: the proxy resolves and dials the feed's host
// from its own network, so our dial-time check sees only the proxy's
// address. Address literals and localhost names are refused here; other
// names are the proxy's to police. Without a proxy the dial-time check,
// on the resolved address, is the one that counts.
func (c *Client) checkHost(u *url.URL) error {
	if c.proxy == nil {
		return nil
	}
	return c.guard.Load().checkHost(u.Hostname())
}

// errIdle is the watchdog's cancellation cause.
var errIdle = errors.New("idle timeout")

// explain turns an error from http.Client.Do into the cause worth showing:
// without *url.Error's repetition of the method and URL, naming the redirect
// hop a dial was refused at, and the proxy when it was the proxy's address.
func (c *Client) explain(err error, u *url.URL, why func(error) error) error {
	ue, ok := errors.AsType[*url.Error](err)
	if !ok {
		return why(err)
	}
	err = ue.Err
	re, refused := errors.AsType[*RefusedError](err)
	if !refused {
		return why(err)
	}
	if _, hop := errors.AsType[*hopError](err); hop {
		return err // already names the hop
	}
	at, perr := url.Parse(ue.URL) // net/http has stripped its password
	if perr != nil {
		at = u
	}
	if c.proxy != nil {
		if p, _ := c.proxy(&http.Request{URL: at}); p != nil {
			re.Proxy = p.Redacted()
		}
	}
	if withoutUser(at) != withoutUser(u) {
		return &hopError{url: at.Redacted(), err: re}
	}
	return re
}

// movedTo is the URL that answered when every redirect that led there was
// permanent, else "".
func movedTo(resp *http.Response) string {
	final := resp.Request
	if final.Response == nil {
		return "" // no redirect
	}
	for r := final; r.Response != nil; r = r.Response.Request {
		if c := r.Response.StatusCode; c != http.StatusMovedPermanently && c != http.StatusPermanentRedirect {
			return ""
		}
	}
	return final.URL.String() // with any user info: it is the URL to poll
}

// withoutUser is u without user info: the URL we record and resolve links
// against must not carry a password into the store or the served feeds.
func withoutUser(u *url.URL) string {
	if u.User == nil {
		return u.String()
	}
	v := *u
	v.User = nil
	return v.String()
}
