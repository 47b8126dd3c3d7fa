package parse

import (
	"net/url"
	"strings"

	"golang.org/x/net/idna"
)

// CanonicalLink returns raw resolved against base, as an absolute http(s) URL
// with a lowercase ASCII host (an internationalised name in punycode, as
// validators require), no default port and no tracking parameters (utm_*,
// fbclid, gclid, mc_cid, …); other query parameters keep their order and the
// fragment is kept (a page can hold many stories: "day.html#a1",
// "day.html#a2"). It returns "" when raw is empty or does not resolve to an
// absolute http(s) URL, so a relative or javascript: link never leaks out.
//
// Two links to one article compare equal after this, up to the fragment,
// which is what lets the store spot the same story carried by two sources
// (store.GroupKeys ignores the fragment where it matches copies).
func CanonicalLink(raw, base string) string {
	return canonicalLink(raw, newResolver(base))
}

// canonicalLink is CanonicalLink against r.
func canonicalLink(raw string, r resolver) string {
	u := canonicalURL(raw, r)
	if u == nil || !punycodeHost(u) {
		return ""
	}
	return u.String()
}

// canonicalURL is CanonicalLink's URL before its host is made ASCII; nil when
// raw does not resolve to an absolute http(s) URL.
func canonicalURL(raw string, r resolver) *url.URL {
	u := r.resolve(raw)
	if u == nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil
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
	return u
}

// idLink is the form of an entry's link that its story ID hashes: the link
// as parse canonicalised it before relative links resolved against the
// fetch URL and hosts became punycode (resolved against the channel link
// when that is absolute, the host as url.URL escapes it), with its fragment
// (two posts of one page are two stories), so that an ID already served
// never moves. "" when raw is not an absolute http(s) link.
func idLink(raw string, r resolver) string {
	u := canonicalURL(raw, r)
	if u == nil {
		return ""
	}
	frag := u.EscapedFragment()
	u.Fragment, u.RawFragment = "", ""
	if frag == "" {
		return u.String()
	}
	return u.String() + "#" + frag
}

// punycodeHost rewrites u's host in ASCII: an internationalised name as its
// punycode A-label ("bücher.example" as "xn--bcher-kva.example"; url.URL
// would write it percent-encoded, which is not a valid host). False when the
// name has no ASCII form.
func punycodeHost(u *url.URL) bool {
	if isASCII(u.Host) {
		return true
	}
	host, port := u.Hostname(), u.Port()
	a, err := idna.Lookup.ToASCII(host)
	if err != nil {
		// Not a valid IDNA name (a symbol, say): still written in
		// punycode rather than dropped.
		if a, err = idna.Punycode.ToASCII(strings.ToLower(host)); err != nil || !isASCII(a) {
			return false
		}
	}
	u.Host = a
	if port != "" {
		u.Host += ":" + port
	}
	return true
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
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
	// origin is what base.ResolveReference(ref).String() writes before an
	// absolute path ("https://host:port"), when base is http(s) with an
	// ASCII host; "" otherwise (see plainAbs).
	origin string
}

func newResolver(base string) resolver {
	if base == "" {
		return resolver{}
	}
	b, err := url.Parse(strings.TrimSpace(base))
	if err != nil || !b.IsAbs() {
		return resolver{}
	}
	r := resolver{base: b}
	if (b.Scheme == "http" || b.Scheme == "https") && b.Host != "" && isASCII(b.Host) {
		if o, ok := strings.CutSuffix(b.ResolveReference(&url.URL{Path: "/"}).String(), "/"); ok {
			r.origin = o
		}
	}
	return r
}

// plainAbs is abs(raw, …) for the links articles are mostly made of,
// without parsing them: an absolute http(s) URL or an absolute path
// ("/story/1", resolved against an http(s) base), written in characters
// that url.URL reads and writes back as they are, and with no dot segment
// to remove. For those, safeURL keeps the result as it is too. False for
// anything else, which abs resolves. TestPlainAbsMatchesAbs and
// FuzzPlainAbs hold it to abs.
func (r resolver) plainAbs(raw string) (string, bool) {
	origin, ok := plainOrigin(r, raw)
	switch {
	case !ok:
		return "", false
	case origin == "":
		return raw, true
	}
	return origin + raw, true
}

// plainOrigin is plainAbs for raw as a string or as bytes: what the
// result has before raw, "" when raw is absolute.
func plainOrigin[T string | []byte](r resolver, raw T) (origin string, ok bool) {
	rest, abs := raw, false
	switch {
	case len(raw) >= len("https://") && string(raw[:len("https://")]) == "https://":
		rest, abs = raw[len("https://"):], true
	case len(raw) >= len("http://") && string(raw[:len("http://")]) == "http://":
		rest, abs = raw[len("http://"):], true
	case len(raw) > 1 && raw[0] == '/' && raw[1] != '/' && r.origin != "":
	default:
		return "", false
	}
	if abs {
		// host: lowercase letters, digits, '-' and '.', then an optional port
		i := 0
		for i < len(rest) && (rest[i] >= 'a' && rest[i] <= 'z' || digit(rest[i]) || rest[i] == '-' || rest[i] == '.') {
			i++
		}
		if i == 0 || rest[0] == '.' || rest[0] == '-' {
			return "", false
		}
		if i < len(rest) && rest[i] == ':' {
			j := i + 1
			for j < len(rest) && digit(rest[j]) {
				j++
			}
			if j == i+1 || j-i-1 > 5 {
				return "", false
			}
			i = j
		}
		rest = rest[i:]
		if len(rest) == 0 {
			return "", true
		}
		if rest[0] != '/' {
			return "", false
		}
	}
	// path, then an optional query and fragment
	i := 0
	for i < len(rest) && plainPath[rest[i]] {
		if rest[i] == '/' && i+1 < len(rest) && (rest[i+1] == '/' || rest[i+1] == '.') {
			return "", false // "//", and "/." which may begin a dot segment
		}
		i++
	}
	if i < len(rest) && rest[i] == '?' {
		i++
		for i < len(rest) && plainQuery[rest[i]] {
			i++
		}
	}
	if i < len(rest) && rest[i] == '#' {
		i++
		if i == len(rest) {
			return "", false // url.URL drops an empty fragment's '#'
		}
		for i < len(rest) && plainPath[rest[i]] {
			i++
		}
	}
	if i != len(rest) {
		return "", false
	}
	if abs {
		return "", true
	}
	return r.origin, true
}

// plainPath and plainQuery are the bytes that url.URL keeps as they are in
// a path (and a fragment) and in a query.
var plainPath, plainQuery = func() (p, q [256]bool) {
	for c := range 256 {
		p[c] = c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("-._~/", byte(c)) >= 0
		q[c] = p[c] || strings.IndexByte("=&+,:;@", byte(c)) >= 0
	}
	return p, q
}()

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
	if u, ok := r.plainAbs(raw); ok {
		return u
	}
	return r.parsedAbs(raw, mail)
}

// parsedAbs is abs without its shortcut: raw parsed and resolved.
func (r resolver) parsedAbs(raw string, mail bool) string {
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
	if !punycodeHost(u) {
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

// feedBase returns the base for a document's relative links where no
// xml:base says otherwise: the URL it was fetched from, after redirects (RFC
// 3986 §5.1: the retrieval URI; the channel <link> names the site, not the
// document). A document read from a local file has no web address, so its
// absolute channel link stands in.
func feedBase(channelLink, fetchURL string) string {
	if u, err := url.Parse(strings.TrimSpace(fetchURL)); err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" {
		return fetchURL
	}
	return legacyBase(channelLink, fetchURL)
}

// legacyBase is the base parse used before issue 8, which idLink keeps for
// IDs: the channel link when it resolves (against the fetch URL) to an
// absolute URL, else the fetch URL.
func legacyBase(channelLink, fetchURL string) string {
	if u := resolve(channelLink, fetchURL); u != nil && u.IsAbs() && u.Host != "" {
		return u.String()
	}
	return fetchURL
}
