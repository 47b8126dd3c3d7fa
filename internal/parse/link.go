package parse

import (
	"net/url"
	"strings"
)

// CanonicalLink returns raw resolved against base, as an absolute http(s) URL
// with a lowercase host, no default port and no tracking parameters (utm_*,
// fbclid, gclid, mc_cid, …); other query parameters keep their order, and
// the fragment is kept: …/day.html#a1 and …/day.html#a2 are two posts (the
// store ignores the fragment where it matches copies across sources,
// store.GroupKeys). It returns "" when raw is empty or does not resolve to
// an absolute http(s) URL, so a relative or javascript: link never leaks out.
//
// Two links to one article compare equal after this, which is what lets the
// store spot the same story carried by two sources.
func CanonicalLink(raw, base string) string {
	u := resolve(raw, base)
	if u == nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return ""
	}
	u.Host = strings.ToLower(u.Host)
	if port := u.Port(); (u.Scheme == "http" && port == "80") || (u.Scheme == "https" && port == "443") {
		u.Host = strings.TrimSuffix(u.Host, ":"+port)
	}
	if u.Path == "" {
		u.Path, u.RawPath = "/", ""
	}
	u.RawQuery = stripTracking(u.RawQuery)
	u.ForceQuery = false
	return u.String()
}

// absURL returns raw resolved against base, keeping everything else as is;
// "" when the result is not an absolute http(s) URL (or mailto: when mail is
// true).
func absURL(raw, base string, mail bool) string {
	return newResolver(base).abs(raw, mail)
}

// resolve parses raw and resolves it against base when raw is relative and
// base is absolute; nil when raw is empty or unparseable.
func resolve(raw, base string) *url.URL {
	return newResolver(base).resolve(raw)
}

// resolver resolves references against one base, parsed once: an article
// body holds dozens of links.
type resolver struct {
	base *url.URL // nil when the base is empty, unparseable or relative
}

func newResolver(base string) resolver {
	if base == "" {
		return resolver{}
	}
	b, err := url.Parse(strings.TrimSpace(base))
	if err != nil || !b.IsAbs() {
		return resolver{}
	}
	return resolver{base: b}
}

// resolve is the package's resolve against r's base.
func (r resolver) resolve(raw string) *url.URL {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return nil
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil
	}
	if u.IsAbs() || r.base == nil {
		return u
	}
	return r.base.ResolveReference(u)
}

// abs is absURL against r's base.
func (r resolver) abs(raw string, mail bool) string {
	u := r.resolve(raw)
	if u == nil {
		return ""
	}
	switch u.Scheme {
	case "http", "https":
		if u.Host == "" {
			return ""
		}
	case "mailto":
		if !mail {
			return ""
		}
	default:
		return ""
	}
	return u.String()
}

// stripTracking removes tracking parameters from a raw query, keeping the
// order and the exact encoding of the others.
func stripTracking(rawQuery string) string {
	if rawQuery == "" {
		return ""
	}
	params := strings.Split(rawQuery, "&")
	kept := params[:0]
	for _, p := range params {
		if p == "" {
			continue
		}
		key, _, _ := strings.Cut(p, "=")
		if k, err := url.QueryUnescape(key); err == nil {
			key = k
		}
		if !isTracking(strings.ToLower(key)) {
			kept = append(kept, p)
		}
	}
	return strings.Join(kept, "&")
}

// trackingParams are the analytics and click-id parameters that newsletters,
// social networks and ad platforms append to article links. They never
// change what the page shows.
var trackingParams = map[string]bool{
	"fbclid": true, "gclid": true, "gclsrc": true, "dclid": true, "gbraid": true, "wbraid": true,
	"msclkid": true, "yclid": true, "twclid": true, "ttclid": true, "li_fat_id": true,
	"mc_cid": true, "mc_eid": true, "igshid": true, "ref_src": true, "ref_url": true,
	"_hsenc": true, "_hsmi": true, "__hstc": true, "__hssc": true, "__hsfp": true, "hsctatracking": true,
	"mkt_tok": true, "oly_anon_id": true, "oly_enc_id": true, "vero_conv": true, "vero_id": true,
	"wickedid": true, "_openstat": true, "ncid": true, "cmpid": true, "s_kwcid": true,
}

func isTracking(key string) bool {
	return strings.HasPrefix(key, "utm_") || trackingParams[key]
}

// feedBase returns the base for an entry's relative links: the channel link
// when it resolves (against the fetch URL) to an absolute URL, else the
// fetch URL itself.
func feedBase(channelLink, fetchURL string) string {
	if u := resolve(channelLink, fetchURL); u != nil && u.IsAbs() && u.Host != "" {
		return u.String()
	}
	return fetchURL
}
