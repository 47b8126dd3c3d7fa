package config_test

import (
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/newsdesk/newsdesk/internal/config"
)

// The fetch section's address-guard, proxy and idle keys.

func TestFetchGuardKeys(t *testing.T) {
	src := minimal + `fetch:
  idle_timeout: 5s
  allow_networks:
    - 10.20.0.0/16
    - 127.0.0.1/32
    - fd00:1::/48
  proxy: http://proxy.example:3128
`
	cfg, err := config.Parse("newsdesk.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	want := []netip.Prefix{netip.MustParsePrefix("10.20.0.0/16"), netip.MustParsePrefix("127.0.0.1/32"), netip.MustParsePrefix("fd00:1::/48")}
	if !slices.Equal(cfg.Fetch.AllowNetworks, want) {
		t.Errorf("AllowNetworks = %v, want %v", cfg.Fetch.AllowNetworks, want)
	}
	if cfg.Fetch.IdleTimeout != 5*time.Second {
		t.Errorf("IdleTimeout = %v, want 5s", cfg.Fetch.IdleTimeout)
	}
	if cfg.Fetch.Proxy == nil || cfg.Fetch.Proxy.String() != "http://proxy.example:3128" || cfg.Fetch.ProxyFromEnvironment {
		t.Errorf("Proxy = %v, from environment %v; want http://proxy.example:3128, false", cfg.Fetch.Proxy, cfg.Fetch.ProxyFromEnvironment)
	}

	env, err := config.Parse("newsdesk.yaml", []byte(minimal+"fetch: {proxy: environment}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if env.Fetch.Proxy != nil || !env.Fetch.ProxyFromEnvironment {
		t.Errorf("proxy: environment gave Proxy %v, from environment %v; want nil, true", env.Fetch.Proxy, env.Fetch.ProxyFromEnvironment)
	}

	def, err := config.Parse("newsdesk.yaml", []byte(minimal))
	if err != nil {
		t.Fatal(err)
	}
	if def.Fetch.AllowNetworks != nil || def.Fetch.Proxy != nil || def.Fetch.ProxyFromEnvironment || def.Fetch.IdleTimeout != 15*time.Second {
		t.Errorf("defaults: allow %v, proxy %v, from environment %v, idle %v; want none, none, false, 15s",
			def.Fetch.AllowNetworks, def.Fetch.Proxy, def.Fetch.ProxyFromEnvironment, def.Fetch.IdleTimeout)
	}
	// A short total timeout with the idle default is no problem: the
	// total one simply fires first.
	if _, err := config.Parse("newsdesk.yaml", []byte(minimal+"fetch: {timeout: 10s}\n")); err != nil {
		t.Errorf("timeout 10s with the default idle_timeout: %v", err)
	}
}

func TestFetchGuardKeysInvalid(t *testing.T) {
	list := func(entries ...string) string {
		return minimal + "fetch:\n  allow_networks:\n    - " + strings.Join(entries, "\n    - ") + "\n"
	}
	tests := []struct {
		name      string
		src       string
		line, col int
		msg, hint string
	}{
		{"bare IPv4 address", list("10.0.0.1"), 5, 7, "`allow_networks` entry \"10.0.0.1\" is an address, not a network", "write 10.0.0.1/32"},
		{"bare IPv6 address", list("10.20.0.0/16", "'::1'"), 6, 7, "is an address, not a network", "write ::1/128"},
		{"prefix too long", list("10.0.0.0/33"), 5, 7, "\"10.0.0.0/33\" is not a network: prefix length out of range", "CIDR form"},
		{"not an address", list("10.0.0.300/24"), 5, 7, "is not a network", "CIDR form"},
		{"a host name", list("intranet.example"), 5, 7, "\"intranet.example\" is a host name, not a network", "the address a name resolves to"},
		{"host bits set", list("10.20.1.5/16"), 5, 7, "has address bits set beyond its /16", "write 10.20.0.0/16 for the network, or 10.20.1.5/32"},
		{"IPv6 host bits set", list("fd00::1/64"), 5, 7, "beyond its /64", "write fd00::/64"},
		{"IPv4-mapped network", list("'::ffff:10.0.0.0/104'"), 5, 7, "is an IPv4-mapped network", "write it as 10.0.0.0/8"},
		{"one value, not a list", minimal + "fetch: {allow_networks: 10.0.0.0/8}\n", 3, 25, "`allow_networks` expects a list", "write `allow_networks: [10.0.0.0/8]`"},
		{"proxy with an unknown scheme", minimal + "fetch: {proxy: 'ftp://proxy:21'}\n", 3, 16, "`proxy` \"ftp://proxy:21\" is not a proxy URL", "environment"},
		{"proxy without scheme", minimal + "fetch: {proxy: 'proxy.example:3128'}\n", 3, 16, "is not a proxy URL", "http://host:port"},
		{"proxy keyword misspelt", minimal + "fetch: {proxy: env}\n", 3, 16, "`proxy` \"env\" is not a proxy URL", "`environment`"},
		{"idle not shorter than total", minimal + "fetch: {timeout: 20s, idle_timeout: 20s}\n", 3, 37, "`idle_timeout` 20s is not shorter than `timeout` 20s", "shorter"},
		{"idle not a duration", minimal + "fetch: {idle_timeout: soon}\n", 3, 23, "`idle_timeout` \"soon\" is not a positive duration", "30s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			errs := problems(t, tt.src)
			for _, p := range errs {
				if p.Line == tt.line && p.Col == tt.col && strings.Contains(p.Msg, tt.msg) {
					if p.File != "newsdesk.yaml" || !strings.Contains(p.Hint, tt.hint) {
						t.Errorf("problem %+v: want File newsdesk.yaml and a hint containing %q", p, tt.hint)
					}
					return
				}
			}
			t.Errorf("no problem at %d:%d containing %q; got:\n%v", tt.line, tt.col, tt.msg, &errs)
		})
	}
	// Every bad entry is reported, not only the first.
	errs := problems(t, list("10.0.0.1", "10.0.0.0/8", "bogus", "fd00::1/8"))
	if len(errs) != 3 {
		t.Errorf("three bad entries gave %d problems:\n%v", len(errs), &errs)
	}
}
