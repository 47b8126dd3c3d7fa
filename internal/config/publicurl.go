package config

import (
	"fmt"
	"net"
	"net/url"
)

// listenURL is the public URL a daemon listening on addr has when the config
// does not say: every interface or loopback means this machine, so
// localhost; a specific address is itself.
func listenURL(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return DefaultPublicURL
	}
	if thisMachine(host) {
		host = "localhost"
	}
	if port == "80" {
		return "http://" + bracket(host)
	}
	return "http://" + net.JoinHostPort(host, port)
}

func bracket(host string) string {
	if ip := net.ParseIP(host); ip != nil && ip.To4() == nil {
		return "[" + host + "]"
	}
	return host
}

// thisMachine reports whether a listen host means this machine to a
// reader: every interface (""), an unspecified address, or loopback.
func thisMachine(host string) bool {
	if host == "" || host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && (ip.IsUnspecified() || ip.IsLoopback())
}

// loopback reports whether host is reachable only from this machine.
func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// FollowListen points the links at addr, the address the daemon listens on
// (its port chosen, when listen asks for port 0), unless public_url is set.
// `--addr :8081` then serves pages whose links say 8081.
func (c *Config) FollowListen(addr string) {
	if c.Site.FollowsListen {
		c.Site.PublicURL = listenURL(addr)
	}
}

// Warnings lists what is valid but probably wrong in c as it stands (after an
// --addr override): a public_url on localhost while the daemon listens for
// other machines, whose readers then get links they cannot follow, or on
// another port than the one it listens on. Each Msg starts "warning: ".
func (c *Config) Warnings() []Problem {
	if c.Site.FollowsListen {
		return nil
	}
	u, err := url.Parse(c.Site.PublicURL)
	if err != nil || !loopback(u.Hostname()) {
		return nil
	}
	host, port, err := net.SplitHostPort(c.Listen)
	if err != nil {
		return nil
	}
	w := c.publicURLAt
	w.Path = "site.public_url"
	w.Hint = "set public_url to the address readers use (e.g. https://news.example.org), or remove it to follow listen"
	publicPort := u.Port()
	if publicPort == "" {
		publicPort = map[string]string{"http": "80", "https": "443"}[u.Scheme]
	}
	switch {
	case !loopback(host):
		w.Msg = fmt.Sprintf("warning: `public_url` %q is this machine only, but the daemon listens on %q for others: their feeds' links will point at themselves", c.Site.PublicURL, c.Listen)
	case port != "0" && port != publicPort:
		w.Msg = fmt.Sprintf("warning: `public_url` %q says port %s, but the daemon listens on %q: every link would miss it", c.Site.PublicURL, publicPort, c.Listen)
	default:
		return nil
	}
	return []Problem{w}
}
