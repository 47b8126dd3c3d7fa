package fetch

import (
	"fmt"
	"net/http"
	"net/url"
)

// checkURL accepts http(s) URLs with a host and absolute file:/// URLs.
func checkURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", raw, err)
	}
	switch u.Scheme {
	case "http", "https":
		if u.Host == "" {
			return nil, fmt.Errorf("GET %s: URL has no host", raw)
		}
	case "file":
		// file://feeds/x.xml would silently read /x.xml: "feeds" is the host.
		if u.Host != "" && u.Host != "localhost" {
			return nil, fmt.Errorf("GET %s: file URL must be absolute, as in file:///path/feed.xml", raw)
		}
	default:
		return nil, fmt.Errorf("GET %s: unsupported scheme %q (want http, https or file)", raw, u.Scheme)
	}
	return u, nil
}

// checkRedirect caps the redirect chain, names loops, and refuses to leave
// http(s): an upstream must not redirect us into the local file system.
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
	return nil
}
