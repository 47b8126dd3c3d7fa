package fetch

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"syscall"
)

// Class is the kind of network an IP address belongs to, as the address
// guard sees it. Every class but Global is refused unless the address is in
// Options.Allow: an upstream, or whoever controls its DNS, must not make the
// daemon probe the network it runs in (cloud metadata, intranet services,
// the machine itself).
type Class uint8

// The classes, from the IANA IPv4 and IPv6 Special-Purpose Address
// Registries, the IPv4 and IPv6 multicast ranges and the IPv6 address space
// registry (anything outside 2000::/3 that no entry names is Reserved).
const (
	Global        Class = iota // publicly routable: allowed
	Unspecified                // 0.0.0.0/8 ("this network"), ::
	Loopback                   // 127.0.0.0/8, ::1
	Private                    // RFC 1918: 10/8, 172.16/12, 192.168/16
	Shared                     // 100.64.0.0/10, carrier-grade NAT (RFC 6598)
	LinkLocal                  // 169.254.0.0/16, fe80::/10
	Metadata                   // cloud instance metadata: 169.254.169.254, 169.254.170.2, 100.100.100.200, fd00:ec2::254
	UniqueLocal                // fc00::/7
	SiteLocal                  // fec0::/10, deprecated but still routed by some networks
	Multicast                  // 224.0.0.0/4, ff00::/8
	Broadcast                  // 255.255.255.255
	Documentation              // 192.0.2/24, 198.51.100/24, 203.0.113/24, 2001:db8::/32, 3fff::/20
	Benchmarking               // 198.18.0.0/15, 2001:2::/48
	Reserved                   // 240/4, 192.0.0/24, 192.88.99/24, 100::/64, 2001::/23, 5f00::/16, 64:ff9b:1::/48, …
)

var classNames = [...]string{
	Global:        "global",
	Unspecified:   "unspecified",
	Loopback:      "loopback",
	Private:       "private",
	Shared:        "shared (CGNAT)",
	LinkLocal:     "link-local",
	Metadata:      "cloud metadata",
	UniqueLocal:   "unique-local",
	SiteLocal:     "site-local",
	Multicast:     "multicast",
	Broadcast:     "broadcast",
	Documentation: "documentation",
	Benchmarking:  "benchmarking",
	Reserved:      "reserved",
}

// String is the class's name as refusals show it ("private", "loopback").
func (c Class) String() string {
	if int(c) < len(classNames) {
		return classNames[c]
	}
	return fmt.Sprintf("Class(%d)", c)
}

// Classes lists every class, Global first: for tables and metrics that
// count refusals by class.
func Classes() []Class {
	out := make([]Class, len(classNames))
	for i := range out {
		out[i] = Class(i)
	}
	return out
}

// span is one registry entry; the first that contains an address decides.
type span struct {
	prefix netip.Prefix
	class  Class
}

func spans(class Class, cidrs ...string) []span {
	out := make([]span, len(cidrs))
	for i, c := range cidrs {
		out[i] = span{netip.MustParsePrefix(c), class}
	}
	return out
}

// v4 and v6 are ordered most specific first (metadata before link-local,
// broadcast before reserved). They are read-only after package init.
var (
	v4 = concat(
		spans(Metadata, "169.254.169.254/32", "169.254.170.2/32", "100.100.100.200/32"),
		spans(Unspecified, "0.0.0.0/8"),
		spans(Private, "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"),
		spans(Shared, "100.64.0.0/10"),
		spans(Loopback, "127.0.0.0/8"),
		spans(LinkLocal, "169.254.0.0/16"),
		spans(Documentation, "192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24"),
		spans(Benchmarking, "198.18.0.0/15"),
		spans(Multicast, "224.0.0.0/4"),
		spans(Broadcast, "255.255.255.255/32"),
		// IETF protocol assignments (DS-Lite, NAT64 discovery, PCP and TURN
		// anycast), the retired 6to4 relay anycast, and the 240/4 block.
		spans(Reserved, "192.0.0.0/24", "192.88.99.0/24", "240.0.0.0/4"),
	)
	v6 = concat(
		spans(Unspecified, "::/128"),
		spans(Loopback, "::1/128"),
		spans(Metadata, "fd00:ec2::254/128"),
		spans(Documentation, "2001:db8::/32", "3fff::/20"),
		spans(Benchmarking, "2001:2::/48"),
		// Local-use NAT64 (RFC 8215), discard-only, IETF protocol
		// assignments including Teredo and ORCHID, and SRv6 SIDs: none
		// of them holds a feed.
		spans(Reserved, "64:ff9b:1::/48", "100::/64", "2001::/23", "5f00::/16"),
		spans(UniqueLocal, "fc00::/7"),
		spans(LinkLocal, "fe80::/10"),
		spans(SiteLocal, "fec0::/10"),
		spans(Multicast, "ff00::/8"),
	)
	globalUnicast = netip.MustParsePrefix("2000::/3")
	// Forms that carry an IPv4 address inside an IPv6 one: the embedded
	// address is what the packets reach, so it is what gets classified.
	mapped     = netip.MustParsePrefix("::ffff:0:0/96")   // IPv4-mapped (RFC 4291)
	translated = netip.MustParsePrefix("64:ff9b::/96")    // NAT64 well-known prefix (RFC 6052)
	siit       = netip.MustParsePrefix("::ffff:0:0:0/96") // SIIT IPv4-translated (RFC 2765)
	sixToFour  = netip.MustParsePrefix("2002::/16")       // 6to4 (RFC 3056): bits 16-47
)

func concat(lists ...[]span) []span {
	var out []span
	for _, l := range lists {
		out = append(out, l...)
	}
	return out
}

// Classify says which class addr belongs to. IPv6 forms that embed an IPv4
// address (IPv4-mapped ::ffff:0:0/96, NAT64 64:ff9b::/96, SIIT
// ::ffff:0:0:0/96, 6to4 2002::/16) take the class of the embedded address,
// so ::ffff:10.0.0.1 is Private like 10.0.0.1. A zone is ignored.
func Classify(addr netip.Addr) Class {
	c, _ := classify(addr)
	return c
}

// classify is Classify, also naming the IPv6 form the IPv4 address was
// found in ("" when addr was classified as itself).
func classify(addr netip.Addr) (Class, string) {
	addr = addr.WithZone("")
	if !addr.IsValid() {
		return Reserved, ""
	}
	if addr.Is4() {
		return lookup(v4, addr, Global), ""
	}
	if inner, form, ok := embedded(addr); ok {
		return lookup(v4, inner, Global), form
	}
	fallback := Global
	if !globalUnicast.Contains(addr) {
		fallback = Reserved
	}
	return lookup(v6, addr, fallback), ""
}

// embedded returns the IPv4 address inside an IPv6 address of a form that
// carries one, and the form's name.
func embedded(addr netip.Addr) (netip.Addr, string, bool) {
	b := addr.As16()
	switch {
	case mapped.Contains(addr):
		return addr.Unmap(), "IPv4-mapped", true
	case translated.Contains(addr), siit.Contains(addr):
		return netip.AddrFrom4([4]byte(b[12:16])), "IPv4-translated", true
	case sixToFour.Contains(addr):
		return netip.AddrFrom4([4]byte(b[2:6])), "6to4", true
	}
	return netip.Addr{}, "", false
}

func lookup(table []span, addr netip.Addr, fallback Class) Class {
	for _, s := range table {
		if s.prefix.Contains(addr) {
			return s.class
		}
	}
	return fallback
}

// RefusedError is a connection the address guard did not allow. Callers
// count refusals by Class with errors.As.
type RefusedError struct {
	Addr  netip.Addr // the address that would have been dialed
	Class Class      // never Global
	Host  string     // the host name that resolved to Addr; "" when the URL gave the address itself
	Proxy string     // the proxy (URL without password) when Addr was the proxy's
}

// Error reads like "refused: 10.0.0.1 is a private address; allow it with
// fetch.allow_networks".
func (e *RefusedError) Error() string {
	var b strings.Builder
	b.WriteString("refused: ")
	kind := article(e.Class.String()) + " address"
	if _, form := classify(e.Addr); form != "" {
		kind += " (" + form + ")"
	}
	switch {
	case e.Proxy != "":
		fmt.Fprintf(&b, "proxy %s is at %s, %s", e.Proxy, e.Addr, kind)
	case e.Host != "" && e.Host != e.Addr.String():
		fmt.Fprintf(&b, "%s is at %s, %s", e.Host, e.Addr, kind)
	default:
		fmt.Fprintf(&b, "%s is %s", e.Addr, kind)
	}
	b.WriteString("; allow it with fetch.allow_networks")
	return b.String()
}

func article(word string) string {
	// "a unique-local": the u of uni- sounds like "you".
	if strings.IndexByte("aeiou", word[0]) >= 0 && !strings.HasPrefix(word, "uni") {
		return "an " + word
	}
	return "a " + word
}

// guard decides which addresses may be dialed: Global ones, and any in allow.
type guard struct {
	allow []netip.Prefix
}

func (g *guard) check(addr netip.Addr) error { return Check(addr, g.allow) }

// Check is the address guard's decision: nil when addr is Global or inside
// one of allow, else a *RefusedError naming its class. An IPv4 entry in
// allow also covers the address's IPv4-mapped spelling (::ffff:a.b.c.d is
// a.b.c.d on a dual-stack socket); other embedding forms are matched only
// as written. A zone is ignored.
func Check(addr netip.Addr, allow []netip.Prefix) error {
	addr = addr.WithZone("")
	for _, p := range allow {
		if p.Contains(addr) || (addr.Is4In6() && p.Contains(addr.Unmap())) {
			return nil
		}
	}
	if c := Classify(addr); c != Global {
		return &RefusedError{Addr: addr, Class: c}
	}
	return nil
}

// control is the net.Dialer hook: it sees the address the resolver chose,
// after DNS, for every connection (each redirect hop, each Happy Eyeballs
// attempt, the proxy), so a name that resolves to a private address, or
// re-resolves to one later (DNS rebinding), is still refused.
func (g *guard) control(_, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("address guard: parse %q: %w", address, err)
	}
	return g.check(ap.Addr())
}

// checkHost refuses a URL host before any connection when the host is an
// address literal or a localhost name (RFC 6761), which a proxy would
// otherwise reach from its own network unchecked. Other names are checked
// at dial time, on the address they resolve to.
func (g *guard) checkHost(host string) error {
	if addr, err := netip.ParseAddr(host); err == nil {
		return g.check(addr)
	}
	h := strings.ToLower(strings.TrimSuffix(host, "."))
	if h == "localhost" || strings.HasSuffix(h, ".localhost") {
		// Allowed when either loopback address is: the resolver picks.
		v4, v6 := g.check(netip.AddrFrom4([4]byte{127, 0, 0, 1})), g.check(netip.IPv6Loopback())
		if v4 != nil && v6 != nil {
			re := v4.(*RefusedError)
			re.Host = host
			return re
		}
	}
	return nil
}

// withHost names the dialed host in a refusal from a dial of addr
// ("host:port"), when the host was a name rather than an address.
func withHost(err error, addr string) {
	re, ok := errors.AsType[*RefusedError](err)
	if !ok {
		return
	}
	if host, _, serr := net.SplitHostPort(addr); serr == nil {
		if _, perr := netip.ParseAddr(host); perr != nil {
			re.Host = host
		}
	}
}
