package render

import (
	"net/url"
	"strings"

	"golang.org/x/net/idna"
)

// asciiURL returns u with an internationalised host name written in
// punycode (RFC 3492, as RFC 3986 §3.2.2 asks of a URI for DNS), and a
// percent-encoded host decoded first: net/url writes a host it parsed from
// Unicode as %-escapes, which validators reject and some readers cannot
// resolve. The rest of u is kept byte for byte. A URL whose host is ASCII
// already, the usual case, is returned as is without allocating.
func asciiURL(u string) string {
	start := strings.Index(u, "://")
	if start < 0 {
		return u
	}
	start += 3
	end := len(u)
	if i := strings.IndexAny(u[start:], "/?#"); i >= 0 {
		end = start + i
	}
	authority := u[start:end]
	host := authority
	if i := strings.LastIndexByte(host, '@'); i >= 0 {
		host = host[i+1:]
	}
	hostStart := start + len(authority) - len(host)
	if strings.HasPrefix(host, "[") { // an IP literal: ASCII by definition
		return u
	}
	if i := strings.LastIndexByte(host, ':'); i >= 0 {
		host = host[:i]
	}
	if isASCII(host) && !strings.Contains(host, "%") {
		return u
	}
	ascii := asciiHost(host)
	if ascii == "" {
		return u
	}
	return u[:hostStart] + ascii + u[hostStart+len(host):]
}

// asciiHost is host in its ASCII (punycode) form, or "" when it has none.
func asciiHost(host string) string {
	if strings.Contains(host, "%") {
		h, err := url.PathUnescape(host)
		if err != nil {
			return ""
		}
		host = h
	}
	// Lookup maps the name as a resolver would (case, width, UTS #46); a
	// name it refuses is still written in punycode label by label, so no
	// non-ASCII byte ever reaches the output.
	if a, err := idna.Lookup.ToASCII(host); err == nil {
		return a
	}
	if a, err := idna.Punycode.ToASCII(host); err == nil {
		return a
	}
	return ""
}

// tagURI returns a tag: URI (RFC 4151) with its authority in ASCII: a tag's
// authority is a DNS name, and the id must never depend on how a config
// spelled it.
func tagURI(id string) string {
	rest, ok := strings.CutPrefix(id, "tag:")
	if !ok {
		return asciiURL(id)
	}
	auth, tail, ok := strings.Cut(rest, ",")
	if !ok || (isASCII(auth) && !strings.Contains(auth, "%")) {
		return id
	}
	if email, domain, ok := strings.Cut(auth, "@"); ok {
		if a := asciiHost(domain); a != "" {
			return "tag:" + email + "@" + a + "," + tail
		}
		return id
	}
	if a := asciiHost(auth); a != "" {
		return "tag:" + a + "," + tail
	}
	return id
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}
