package fetch_test

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/newsdesk/newsdesk/internal/fetch"
)

// These test the decision only: no address here is ever dialed.

func TestClassify(t *testing.T) {
	tests := []struct {
		addr string
		want fetch.Class
	}{
		// IPv4
		{"93.184.215.14", fetch.Global},
		{"8.8.8.8", fetch.Global},
		{"0.0.0.0", fetch.Unspecified},
		{"0.1.2.3", fetch.Unspecified}, // "this network", 0/8
		{"127.0.0.1", fetch.Loopback},
		{"127.0.0.2", fetch.Loopback},
		{"127.255.255.254", fetch.Loopback},
		{"10.0.0.1", fetch.Private},
		{"10.255.255.255", fetch.Private},
		{"172.16.0.1", fetch.Private},
		{"172.31.255.255", fetch.Private},
		{"172.15.255.255", fetch.Global}, // just below 172.16/12
		{"172.32.0.0", fetch.Global},     // just above
		{"192.168.0.1", fetch.Private},
		{"100.64.0.1", fetch.Shared},
		{"100.127.255.255", fetch.Shared},
		{"100.63.255.255", fetch.Global},
		{"100.128.0.0", fetch.Global},
		{"169.254.0.1", fetch.LinkLocal},
		{"169.254.169.254", fetch.Metadata},
		{"169.254.170.2", fetch.Metadata},   // ECS task metadata
		{"100.100.100.200", fetch.Metadata}, // Alibaba Cloud, inside CGNAT space
		{"192.0.0.8", fetch.Reserved},       // IETF protocol assignments
		{"192.0.0.170", fetch.Reserved},     // NAT64 discovery
		{"192.0.2.1", fetch.Documentation},
		{"198.51.100.7", fetch.Documentation},
		{"203.0.113.9", fetch.Documentation},
		{"198.18.0.1", fetch.Benchmarking},
		{"198.19.255.255", fetch.Benchmarking},
		{"198.20.0.0", fetch.Global},
		{"192.88.99.1", fetch.Reserved}, // retired 6to4 relay anycast
		{"224.0.0.1", fetch.Multicast},
		{"239.255.255.250", fetch.Multicast}, // SSDP
		{"240.0.0.1", fetch.Reserved},
		{"255.255.255.254", fetch.Reserved},
		{"255.255.255.255", fetch.Broadcast},

		// IPv6
		{"2606:4700::1111", fetch.Global},
		{"2a00:1450:4001:82b::200e", fetch.Global},
		{"::", fetch.Unspecified},
		{"::1", fetch.Loopback},
		{"fe80::1", fetch.LinkLocal},
		{"fe80::1%eth0", fetch.LinkLocal}, // a zone changes nothing
		{"febf:ffff::1", fetch.LinkLocal}, // the top of fe80::/10
		{"fec0::1", fetch.SiteLocal},
		{"fc00::1", fetch.UniqueLocal},
		{"fd00::1", fetch.UniqueLocal},
		{"fd12:3456:789a::1", fetch.UniqueLocal},
		{"fd00:ec2::254", fetch.Metadata}, // AWS IMDS over IPv6
		{"ff02::1", fetch.Multicast},
		{"ff05::1:3", fetch.Multicast},
		{"2001:db8::1", fetch.Documentation},
		{"3fff::1", fetch.Documentation},
		{"2001:2::1", fetch.Benchmarking},
		{"2001::1", fetch.Reserved},          // Teredo
		{"2001:10::1", fetch.Reserved},       // ORCHID
		{"100::1", fetch.Reserved},           // discard-only
		{"5f00::1", fetch.Reserved},          // SRv6 SIDs
		{"64:ff9b:1::a00:1", fetch.Reserved}, // local-use NAT64
		{"4000::1", fetch.Reserved},          // outside 2000::/3: unassigned
		{"::a00:1", fetch.Reserved},          // deprecated IPv4-compatible

		// IPv4 inside IPv6: the embedded address decides.
		{"::ffff:10.0.0.1", fetch.Private},
		{"::ffff:127.0.0.1", fetch.Loopback},
		{"::ffff:169.254.169.254", fetch.Metadata},
		{"::ffff:8.8.8.8", fetch.Global},
		{"64:ff9b::10.0.0.1", fetch.Private},
		{"64:ff9b::7f00:1", fetch.Loopback},
		{"64:ff9b::8.8.8.8", fetch.Global}, // NAT64 to a public address is fine
		{"::ffff:0:192.168.1.1", fetch.Private},
		{"2002:a00:1::1", fetch.Private},      // 6to4 of 10.0.0.1
		{"2002:7f00:1::", fetch.Loopback},     // 6to4 of 127.0.0.1
		{"2002:a9fe:a9fe::1", fetch.Metadata}, // 6to4 of 169.254.169.254
		{"2002:808:808::1", fetch.Global},
	}
	for _, tt := range tests {
		t.Run(tt.addr, func(t *testing.T) {
			if got := fetch.Classify(netip.MustParseAddr(tt.addr)); got != tt.want {
				t.Errorf("Classify(%s) = %v, want %v", tt.addr, got, tt.want)
			}
		})
	}
	if got := fetch.Classify(netip.Addr{}); got == fetch.Global {
		t.Errorf("the zero Addr classifies as %v; it must never be allowed", got)
	}
}

func TestCheck(t *testing.T) {
	nets := func(cidrs ...string) []netip.Prefix {
		var out []netip.Prefix
		for _, c := range cidrs {
			out = append(out, netip.MustParsePrefix(c))
		}
		return out
	}
	tests := []struct {
		name  string
		addr  string
		allow []netip.Prefix
		want  fetch.Class // Global: allowed
	}{
		{"global, no list", "93.184.215.14", nil, fetch.Global},
		{"private, no list", "10.0.0.1", nil, fetch.Private},
		{"allow-list hit", "10.20.3.4", nets("10.20.0.0/16"), fetch.Global},
		{"allow-list miss beside it", "10.21.0.1", nets("10.20.0.0/16"), fetch.Private},
		{"one loopback host allowed", "127.0.0.1", nets("127.0.0.1/32"), fetch.Global},
		{"the next loopback host is not", "127.0.0.2", nets("127.0.0.1/32"), fetch.Loopback},
		{"IPv4 entry does not cover ::1", "::1", nets("127.0.0.1/32"), fetch.Loopback},
		{"IPv4 entry covers its mapped form", "::ffff:127.0.0.1", nets("127.0.0.1/32"), fetch.Global},
		{"IPv4 entry does not cover NAT64 form", "64:ff9b::7f00:1", nets("127.0.0.0/8"), fetch.Loopback},
		{"IPv6 entry", "fd00:1::5", nets("fd00:1::/32"), fetch.Global},
		{"IPv6 entry miss", "fd00:2::5", nets("fd00:1::/32"), fetch.UniqueLocal},
		{"zone ignored", "fe80::1%eth0", nets("fe80::/64"), fetch.Global},
		{"metadata refused beside an allowed range", "169.254.169.254", nets("169.254.0.0/24"), fetch.Metadata},
		{"metadata allowed when named", "169.254.169.254", nets("169.254.169.254/32"), fetch.Global},
		{"everything allowed", "10.0.0.1", nets("0.0.0.0/0", "::/0"), fetch.Global},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := fetch.Check(netip.MustParseAddr(tt.addr), tt.allow)
			if tt.want == fetch.Global {
				if err != nil {
					t.Fatalf("Check(%s, %v) = %v, want allowed", tt.addr, tt.allow, err)
				}
				return
			}
			re, ok := errors.AsType[*fetch.RefusedError](err)
			if !ok || re.Class != tt.want {
				t.Fatalf("Check(%s, %v) = %v, want a %v refusal", tt.addr, tt.allow, err, tt.want)
			}
		})
	}
}

func TestRefusedErrorText(t *testing.T) {
	tests := []struct {
		err  fetch.RefusedError
		want string
	}{
		{fetch.RefusedError{Addr: netip.MustParseAddr("10.0.0.1"), Class: fetch.Private},
			"refused: 10.0.0.1 is a private address; allow it with fetch.allow_networks"},
		{fetch.RefusedError{Addr: netip.MustParseAddr("169.254.169.254"), Class: fetch.Metadata},
			"refused: 169.254.169.254 is a cloud metadata address; allow it with fetch.allow_networks"},
		{fetch.RefusedError{Addr: netip.MustParseAddr("::ffff:10.0.0.1"), Class: fetch.Private},
			"refused: ::ffff:10.0.0.1 is a private address (IPv4-mapped); allow it with fetch.allow_networks"},
		{fetch.RefusedError{Addr: netip.MustParseAddr("fd00::1"), Class: fetch.UniqueLocal, Host: "feeds.intranet"},
			"refused: feeds.intranet is at fd00::1, a unique-local address; allow it with fetch.allow_networks"},
		{fetch.RefusedError{Addr: netip.MustParseAddr("::"), Class: fetch.Unspecified},
			"refused: :: is an unspecified address; allow it with fetch.allow_networks"},
		{fetch.RefusedError{Addr: netip.MustParseAddr("127.0.0.1"), Class: fetch.Loopback, Proxy: "http://127.0.0.1:3128"},
			"refused: proxy http://127.0.0.1:3128 is at 127.0.0.1, a loopback address; allow it with fetch.allow_networks"},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("Error() = %q\nwant      %q", got, tt.want)
		}
	}
}

func TestClassNames(t *testing.T) {
	seen := map[string]bool{}
	for _, c := range fetch.Classes() {
		name := c.String()
		if name == "" || strings.HasPrefix(name, "Class(") || seen[name] {
			t.Errorf("class %d has name %q (empty, unnamed or a duplicate)", c, name)
		}
		seen[name] = true
	}
	if fetch.Classes()[0] != fetch.Global {
		t.Errorf("Classes()[0] = %v, want global", fetch.Classes()[0])
	}
}

// The wiring, against loopback servers only: loopback is refused like any
// other non-global class unless allowed, which lets these tests see the
// guard act on real dials without ever dialing anything but this machine.

// listenOn starts a server on addr ("127.0.0.2:0", "[::1]:0"), or skips
// when this machine cannot listen there.
func listenOn(t *testing.T, addr string, h http.Handler) *httptest.Server {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Skipf("cannot listen on %s here: %v", addr, err)
	}
	srv := &httptest.Server{Listener: ln, Config: &http.Server{Handler: h}}
	srv.Start()
	t.Cleanup(srv.Close)
	return srv
}

// counted serves rss and counts its requests.
func counted(hits *atomic.Int32) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		fmt.Fprint(w, rss)
	}
}

func TestGuardRefusesLoopbackUnlessAllowed(t *testing.T) {
	var hits atomic.Int32
	srv := upstream(t, counted(&hits))
	url := srv.URL + "/feed"

	_, err := fetch.New(fetch.Options{}).Get(t.Context(), fetch.Request{URL: url})
	re, ok := errors.AsType[*fetch.RefusedError](err)
	if !ok || re.Class != fetch.Loopback || re.Addr != netip.MustParseAddr("127.0.0.1") {
		t.Fatalf("Get with no allow-list: error = %v, want a loopback refusal of 127.0.0.1", err)
	}
	want := "GET " + url + ": refused: 127.0.0.1 is a loopback address; allow it with fetch.allow_networks"
	if err.Error() != want {
		t.Errorf("error = %q\nwant    %q", err, want)
	}
	if hits.Load() != 0 {
		t.Errorf("upstream saw %d requests; a refused address must not be connected to", hits.Load())
	}

	if _, err := fetch.New(fetch.Options{Allow: loopback}).Get(t.Context(), fetch.Request{URL: url}); err != nil {
		t.Fatalf("Get with 127.0.0.1/32 allowed: %v", err)
	}
	if hits.Load() != 1 {
		t.Errorf("upstream saw %d requests, want 1", hits.Load())
	}
}

func TestGuardChecksTheResolvedAddress(t *testing.T) {
	// "localhost" is a name: the guard sees what it resolved to, at dial
	// time, as it would for a public name whose DNS points inside.
	var hits atomic.Int32
	srv := upstream(t, counted(&hits))
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	url := "http://localhost:" + port + "/feed"

	_, err := fetch.New(fetch.Options{}).Get(t.Context(), fetch.Request{URL: url})
	re, ok := errors.AsType[*fetch.RefusedError](err)
	if !ok || re.Class != fetch.Loopback || re.Host != "localhost" {
		t.Fatalf("Get of %s with no allow-list: error = %v, want a loopback refusal naming localhost", url, err)
	}
	if !strings.Contains(err.Error(), "localhost is at ") {
		t.Errorf("error %q does not say what localhost resolved to", err)
	}
	// Allowing 127.0.0.1 lets the IPv4 answer through, whichever the
	// resolver listed first.
	if _, err := fetch.New(fetch.Options{Allow: loopback}).Get(t.Context(), fetch.Request{URL: url}); err != nil {
		t.Fatalf("Get of %s with 127.0.0.1/32 allowed: %v", url, err)
	}
	if hits.Load() != 1 {
		t.Errorf("upstream saw %d requests, want 1", hits.Load())
	}
}

func TestGuardOnEveryRedirectHop(t *testing.T) {
	var deniedHits atomic.Int32
	other := listenOn(t, "127.0.0.2:0", counted(&deniedHits)) // loopback, but not 127.0.0.1
	var v6Hits atomic.Int32
	v6 := listenOn(t, "[::1]:0", counted(&v6Hits))
	mux := http.NewServeMux()
	mux.HandleFunc("GET /to-other", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+"/feed", http.StatusFound)
	})
	mux.HandleFunc("GET /to-v6", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, v6.URL+"/feed", http.StatusMovedPermanently)
	})
	first := upstream(t, mux.ServeHTTP)

	tests := []struct {
		path  string
		hop   string
		addr  string
		hits  *atomic.Int32
		allow string // the CIDR that lets the hop through
	}{
		{"/to-other", other.URL + "/feed", "127.0.0.2", &deniedHits, "127.0.0.0/8"},
		{"/to-v6", v6.URL + "/feed", "::1", &v6Hits, "::1/128"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			_, err := fetch.New(fetch.Options{Allow: loopback}).Get(t.Context(), fetch.Request{URL: first.URL + tt.path})
			re, ok := errors.AsType[*fetch.RefusedError](err)
			if !ok || re.Class != fetch.Loopback || re.Addr != netip.MustParseAddr(tt.addr) {
				t.Fatalf("redirect to %s with only 127.0.0.1/32 allowed: error = %v, want a loopback refusal of %s", tt.hop, err, tt.addr)
			}
			want := fmt.Sprintf("GET %s%s: redirect to %s: refused: %s is a loopback address", first.URL, tt.path, tt.hop, tt.addr)
			if !strings.HasPrefix(err.Error(), want) {
				t.Errorf("error = %q\nwant it to start %q", err, want)
			}
			if tt.hits.Load() != 0 {
				t.Errorf("the refused hop's server saw %d requests, want 0", tt.hits.Load())
			}
			// The hop was reachable all along: allowing it lets it through.
			allow := append(slices.Clone(loopback), netip.MustParsePrefix(tt.allow))
			res, err := fetch.New(fetch.Options{Allow: allow}).Get(t.Context(), fetch.Request{URL: first.URL + tt.path})
			if err != nil || res.FinalURL != tt.hop {
				t.Fatalf("with %s also allowed: err %v, FinalURL %v; want %s", tt.allow, err, res, tt.hop)
			}
		})
	}
}

func TestSetAllowed(t *testing.T) {
	srv := upstream(t, counted(new(atomic.Int32)))
	c := fetch.New(fetch.Options{})
	if _, err := c.Get(t.Context(), fetch.Request{URL: srv.URL}); !isRefusal(err) {
		t.Fatalf("before SetAllowed: error = %v, want a refusal", err)
	}
	c.SetAllowed(loopback)
	if _, err := c.Get(t.Context(), fetch.Request{URL: srv.URL}); err != nil {
		t.Fatalf("after SetAllowed(127.0.0.1/32): %v", err)
	}
	c.SetAllowed(nil)
	if _, err := c.Get(t.Context(), fetch.Request{URL: srv.URL}); !isRefusal(err) {
		t.Fatalf("after SetAllowed(nil): error = %v, want a refusal (a pooled connection must not bypass it)", err)
	}
}

func isRefusal(err error) bool {
	_, ok := errors.AsType[*fetch.RefusedError](err)
	return ok
}

// proxy is a forward proxy for plain http: it answers every absolute-URI
// request itself with rss, recording the hosts asked for. It never dials.
type proxy struct {
	mu    sync.Mutex
	hosts []string
}

func (p *proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	p.hosts = append(p.hosts, r.URL.Host)
	p.mu.Unlock()
	fmt.Fprint(w, rss)
}

func (p *proxy) asked() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.hosts)
}

func TestProxyAddressIsGuarded(t *testing.T) {
	p := &proxy{}
	ps := upstream(t, p.ServeHTTP)
	pu, _ := url.Parse(ps.URL)

	// Through an allowed proxy, a name is the proxy's to resolve.
	res, err := fetch.New(fetch.Options{Allow: loopback, Proxy: pu}).Get(t.Context(), fetch.Request{URL: "http://feeds.example/rss"})
	if err != nil || string(res.Body) != rss {
		t.Fatalf("Get through an allowed proxy: %v", err)
	}
	if got := p.asked(); !slices.Equal(got, []string{"feeds.example"}) {
		t.Errorf("proxy was asked for %q, want [feeds.example]", got)
	}

	// The proxy's own address is guarded like any other.
	_, err = fetch.New(fetch.Options{Proxy: pu}).Get(t.Context(), fetch.Request{URL: "http://feeds.example/rss"})
	re, ok := errors.AsType[*fetch.RefusedError](err)
	if !ok || re.Class != fetch.Loopback || re.Proxy != ps.URL {
		t.Fatalf("Get through a proxy on loopback, not allowed: error = %v, want a loopback refusal naming the proxy", err)
	}
	if !strings.Contains(err.Error(), "refused: proxy "+ps.URL+" is at 127.0.0.1, a loopback address") {
		t.Errorf("error %q does not name the proxy", err)
	}

	// Address literals are refused before the proxy sees them: it would
	// reach them from its own network.
	for _, target := range []string{"http://10.0.0.1/feed", "http://[fd00::1]/feed", "http://169.254.169.254/latest/meta-data/",
		"http://[::ffff:192.168.1.1]/feed"} {
		_, err := fetch.New(fetch.Options{Allow: loopback, Proxy: pu}).Get(t.Context(), fetch.Request{URL: target})
		if !isRefusal(err) {
			t.Errorf("Get %s through the proxy: error = %v, want a refusal", target, err)
		}
	}
	if n := len(p.asked()); n != 1 {
		t.Errorf("proxy was asked %d times, want 1: refused targets must not reach it", n)
	}
}

func TestProxyRefusesLocalhostNames(t *testing.T) {
	// A proxy on 127.0.0.2, allowed alone, so that this machine's own
	// 127.0.0.1 and ::1 stay refused.
	p := &proxy{}
	ps := listenOn(t, "127.0.0.2:0", p)
	pu, _ := url.Parse(ps.URL)
	c := fetch.New(fetch.Options{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.2/32")}, Proxy: pu})
	for _, target := range []string{"http://localhost/feed", "http://LOCALHOST./feed", "http://app.localhost/feed", "http://127.0.0.1/feed"} {
		_, err := c.Get(t.Context(), fetch.Request{URL: target})
		if re, ok := errors.AsType[*fetch.RefusedError](err); !ok || re.Class != fetch.Loopback {
			t.Errorf("Get %s through the proxy: error = %v, want a loopback refusal", target, err)
		}
	}
	if _, err := c.Get(t.Context(), fetch.Request{URL: "http://feeds.example/rss"}); err != nil {
		t.Fatalf("Get of a name through the allowed proxy: %v", err)
	}
	if got := p.asked(); !slices.Equal(got, []string{"feeds.example"}) {
		t.Errorf("proxy was asked for %q, want only [feeds.example]", got)
	}
}

func TestProxyFromEnvironmentOnlyWhenAsked(t *testing.T) {
	t.Setenv("HTTP_PROXY", "http://127.0.0.1:3128")
	t.Setenv("HTTPS_PROXY", "http://127.0.0.1:3129")
	t.Setenv("NO_PROXY", "intranet.example")
	tests := []struct {
		name string
		opts fetch.Options
		url  string
		want string
	}{
		{"environment ignored by default", fetch.Options{}, "http://feeds.example/rss", ""},
		{"HTTP_PROXY when asked", fetch.Options{ProxyFromEnvironment: true}, "http://feeds.example/rss", "http://127.0.0.1:3128"},
		{"HTTPS_PROXY when asked", fetch.Options{ProxyFromEnvironment: true}, "https://feeds.example/rss", "http://127.0.0.1:3129"},
		{"NO_PROXY honoured", fetch.Options{ProxyFromEnvironment: true}, "http://intranet.example/rss", ""},
		{"explicit proxy wins", fetch.Options{ProxyFromEnvironment: true, Proxy: &url.URL{Scheme: "http", Host: "proxy.example:8080"}},
			"http://feeds.example/rss", "http://proxy.example:8080"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := fetch.ProxyFor(fetch.New(tt.opts), tt.url); got != tt.want {
				t.Errorf("proxy for %s = %q, want %q", tt.url, got, tt.want)
			}
		})
	}
}
