package topic

import (
	"fmt"
	"strings"

	"golang.org/x/net/publicsuffix"
)

// hostDomain reads a term scoped to the host field as a domain name. It
// returns "" when text is no domain name; that is a mistake only when the
// clause reads nothing but the host.
func (c *compiler) hostDomain(n *node, text string) string {
	name := strings.TrimSuffix(strings.ToLower(strings.TrimPrefix(text, "www.")), ".")
	labels := strings.Split(name, ".")
	for _, l := range labels {
		if !validLabel(l) {
			if n.fields == hostBit {
				c.fail(n.path+".term", fmt.Sprintf("host term %q is not a domain name", text),
					"write a domain such as example.com (it also matches its subdomains), or one label such as bbc")
			}
			return ""
		}
	}
	return name
}

func validLabel(l string) bool {
	if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
		return false
	}
	for _, r := range l {
		if !(r == '-' || isWord(r)) {
			return false
		}
	}
	return true
}

// hostMatch reports whether host (lowercased, without "www.") is the domain
// of labels or under it, comparing whole labels from the right:
// example.com matches news.example.com, not example.com.evil.test or
// badexample.com. One label names a site under any public suffix: bbc
// matches bbc.co.uk and bbc.com, and com matches no .com host.
func hostMatch(domain, host string) bool {
	if host == "" {
		return false
	}
	if strings.IndexByte(domain, '.') < 0 {
		suffix, _ := publicsuffix.PublicSuffix(host)
		rest, ok := strings.CutSuffix(host, "."+suffix)
		if !ok {
			return host == domain // a host that is all suffix, or a bare intranet name
		}
		if i := strings.LastIndexByte(rest, '.'); i >= 0 {
			rest = rest[i+1:]
		}
		return rest == domain
	}
	return host == domain || strings.HasSuffix(host, "."+domain)
}
