package fetch

import (
	"net/http"
	"net/url"
)

// ProxyFor is the proxy c would send a GET of raw through ("" for none).
func ProxyFor(c *Client, raw string) string {
	if c.proxy == nil {
		return ""
	}
	u, err := url.Parse(raw)
	if err != nil {
		panic(err)
	}
	p, err := c.proxy(&http.Request{URL: u})
	if err != nil || p == nil {
		return ""
	}
	return p.String()
}
