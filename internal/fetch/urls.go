package fetch

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"golang.org/x/net/http/httpproxy"
)

// checkURL accepts http(s) URLs with a host and absolute file:/// URLs.
// Its errors show the URL without a password.
func checkURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		// url.Error would repeat the raw URL, password and all.
		if ue, ok := err.(*url.Error); ok {
			err = ue.Err
		}
		return nil, fmt.Errorf("GET %s: %w", redact(raw), err)
	}
	shown := u.Redacted()
	switch u.Scheme {
	case "http", "https":
		if u.Host == "" {
			return nil, fmt.Errorf("GET %s: URL has no host", shown)
		}
	case "file":
		// file://feeds/x.xml would silently read /x.xml: "feeds" is the host.
		if u.Host != "" && u.Host != "localhost" {
			return nil, fmt.Errorf("GET %s: file URL must be absolute, as in file:///path/feed.xml", shown)
		}
	default:
		return nil, fmt.Errorf("GET %s: unsupported scheme %q (want http, https or file)", shown, u.Scheme)
	}
	return u, nil
}

// Redact is raw without its password, for logs and messages: url.URL's
// Redacted when raw parses, else raw with everything between "://" and the
// last "@" of the authority hidden.
func Redact(raw string) string {
	if u, err := url.Parse(raw); err == nil {
		return u.Redacted()
	}
	return redact(raw)
}

func redact(raw string) string {
	_, rest, ok := strings.Cut(raw, "://")
	if !ok {
		return raw
	}
	authority := rest
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		authority = rest[:i]
	}
	at := strings.LastIndexByte(authority, '@')
	if at < 0 {
		return raw
	}
	scheme := raw[:len(raw)-len(rest)]
	return scheme + "xxxxx" + rest[at:]
}

// hopError is a redirect hop refused before it was sent.
type hopError struct {
	url string // without password
	err error
}

func (e *hopError) Error() string { return "redirect to " + e.url + ": " + e.err.Error() }
func (e *hopError) Unwrap() error { return e.err }

// checkRedirect caps the redirect chain, names loops, refuses to leave
// http(s) (an upstream must not redirect us into the local file system, or
// to gopher:// and the like), and, with a proxy, puts every hop's host
// through checkHost (without one, each hop's resolved address is checked
// when dialed).
func (c *Client) checkRedirect(req *http.Request, via []*http.Request) error {
	if req.URL.Scheme != "http" && req.URL.Scheme != "https" {
		return fmt.Errorf("refused redirect to %s: only http and https", req.URL.Redacted())
	}
	if via[0].URL.Scheme == "file" {
		return fmt.Errorf("refused redirect from a file URL to %s", req.URL.Redacted())
	}
	for _, prev := range via {
		if prev.URL.String() == req.URL.String() {
			return fmt.Errorf("redirect loop: back to %s after %d redirects", req.URL.Redacted(), len(via))
		}
	}
	if len(via) > c.opts.MaxRedirects {
		return fmt.Errorf("stopped after %d redirects (limit %d) at %s", len(via), max(c.opts.MaxRedirects, 0), req.URL.Redacted())
	}
	if err := c.checkHost(req.URL); err != nil {
		return &hopError{url: req.URL.Redacted(), err: err}
	}
	return nil
}

// envProxy is the proxy the environment names (HTTP_PROXY, HTTPS_PROXY,
// NO_PROXY and their lower-case forms), read now. net/http's own
// ProxyFromEnvironment reads the environment once per process, which would
// pin whatever it held when the first client asked.
func envProxy() func(*http.Request) (*url.URL, error) {
	proxy := httpproxy.FromEnvironment().ProxyFunc()
	return func(r *http.Request) (*url.URL, error) { return proxy(r.URL) }
}
