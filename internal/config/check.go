package config

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // timezone names must resolve in minimal images (distroless has no zoneinfo)

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/robfig/cron/v3"

	"github.com/newsdesk/newsdesk/internal/story"
	"github.com/newsdesk/newsdesk/internal/topic"
)

// checker validates a decoded file and builds the Config, reporting every
// problem at the node it concerns.
type checker struct {
	*decoder
	nodes map[string]ast.Node // YAML path → value node
}

// at reports a problem at path, or at the nearest enclosing node that exists.
func (c *checker) at(path, msg, hint string) {
	c.add(c.node(path), path, msg, hint)
}

// problemAt is a Problem located at n, for a warning found later.
func (c *checker) problemAt(n ast.Node) Problem {
	line, col := position(n)
	return Problem{File: c.file, Line: line, Col: col, Snippet: snippetAt(c.src, lineStarts(c.src), line, col)}
}

// lineOf says where path is written (" on line 12"), or nothing when it is
// not in the file.
func (c *checker) lineOf(path string) string {
	n, ok := c.nodes[path]
	if !ok {
		return ""
	}
	line, _ := position(n)
	return fmt.Sprintf(" on line %d", line)
}

func (c *checker) node(path string) ast.Node {
	for p := path; ; {
		if p == "" {
			return nil // the whole document: point at its start
		}
		if n, ok := c.nodes[p]; ok {
			return n
		}
		i := max(strings.LastIndexByte(p, '.'), strings.LastIndexByte(p, '['))
		if i < 0 {
			p = ""
		} else {
			p = p[:i]
		}
	}
}

func (c *checker) check(f *fileConfig) *Config {
	cfg := &Config{
		Listen:  or(f.Listen, DefaultListen),
		Refresh: or(f.Refresh, DefaultRefresh),
		Admin:   Admin{Listen: or(f.Admin.Listen, DefaultAdmin), Token: f.Admin.Token},
	}
	if _, ok := c.hostPort("listen", cfg.Listen); ok {
		c.site(f.Site, &cfg.Site, cfg.Listen)
	} else {
		c.site(f.Site, &cfg.Site, DefaultListen)
	}
	if n, ok := c.nodes["site.public_url"]; ok {
		cfg.publicURLAt = c.problemAt(n)
	}

	loc, err := time.LoadLocation(or(f.Timezone, "UTC"))
	if err != nil {
		c.at("timezone", fmt.Sprintf("`timezone` %q is not a known time zone", f.Timezone),
			"use an IANA name such as UTC, Europe/Berlin or America/New_York")
		loc = time.UTC
	}
	cfg.Location = loc
	c.cron("refresh", cfg.Refresh)
	if err := cfg.LogLevel.UnmarshalText([]byte(or(f.LogLevel, "info"))); err != nil {
		c.at("log_level", fmt.Sprintf("`log_level` %q is not a level", f.LogLevel), "use debug, info, warn or error")
	}
	switch cfg.LogFormat = LogFormat(or(f.LogFormat, string(LogText))); cfg.LogFormat {
	case LogText, LogJSON:
	default:
		c.at("log_format", fmt.Sprintf("`log_format` %q is not a log format", f.LogFormat), "use text or json")
	}

	cfg.Fetch = Fetch{
		Timeout:        c.duration("fetch.timeout", f.Fetch.Timeout, 30*time.Second),
		ConnectTimeout: c.duration("fetch.connect_timeout", f.Fetch.ConnectTimeout, 10*time.Second),
		IdleTimeout:    c.duration("fetch.idle_timeout", f.Fetch.IdleTimeout, 15*time.Second),
		MaxBody:        c.size("fetch.max_body", f.Fetch.MaxBody, 10<<20),
		MaxRedirects:   c.count("fetch.max_redirects", f.Fetch.MaxRedirects, 5, 0),
		Workers:        c.count("fetch.workers", f.Fetch.Workers, 8, 1),
		PerHost:        c.count("fetch.per_host", f.Fetch.PerHost, 2, 1),
		MinInterval:    c.duration("fetch.min_interval", f.Fetch.MinInterval, 5*time.Minute),
		MaxInterval:    c.duration("fetch.max_interval", f.Fetch.MaxInterval, 6*time.Hour),
	}
	if f.Fetch.IdleTimeout.Node != nil && cfg.Fetch.IdleTimeout >= cfg.Fetch.Timeout {
		c.at("fetch.idle_timeout", fmt.Sprintf("`idle_timeout` %v is not shorter than `timeout` %v, so it would never fire", cfg.Fetch.IdleTimeout, cfg.Fetch.Timeout),
			"make idle_timeout the shorter: it gives up on an upstream that sends nothing, timeout on one that never finishes")
	}
	cfg.Fetch.AllowNetworks = c.networks("fetch.allow_networks", f.Fetch.AllowNetworks)
	cfg.Fetch.Proxy, cfg.Fetch.ProxyFromEnvironment = c.proxy("fetch.proxy", f.Fetch.Proxy)
	if cfg.Fetch.MinInterval > cfg.Fetch.MaxInterval {
		c.at("fetch.min_interval", fmt.Sprintf("`min_interval` %v is longer than `max_interval` %v", cfg.Fetch.MinInterval, cfg.Fetch.MaxInterval),
			"make min_interval the shorter of the two")
	}
	cfg.Retention = Retention{
		MaxAge:     c.duration("retention.max_age", f.Retention.MaxAge, 90*24*time.Hour),
		MaxStories: c.count("retention.max_stories", f.Retention.MaxStories, 100000, 1),
	}
	c.admin(cfg.Admin)
	cfg.Status.Public = c.exposure("status.public", f.Status.Public)
	cfg.LogAccess = c.boolean("log_access", f.LogAccess)
	cfg.HTTP = c.http(f.HTTP)
	cfg.Limits = Limits{PerClientConnections: c.count("limits.per_client_connections", f.Limits.PerClientConnections, 256, 0)}

	cfg.Sources = c.allSources(f.Sources, f.SourcesFrom)
	cfg.Topics, cfg.Set = c.topics(f.Topics, cfg.Sources)
	return cfg
}

func (c *checker) site(f fileSite, s *Site, listen string) {
	*s = Site{Title: f.Title, Description: f.Description, PublicURL: f.PublicURL,
		Language: or(f.Language, "en"), TagAuthority: f.TagAuthority, Hubs: f.Hubs}
	if s.PublicURL == "" {
		// Links follow the address the daemon serves on (see FollowListen),
		// and ids keep one authority whatever that address is.
		s.PublicURL, s.FollowsListen = listenURL(listen), true
		if s.TagAuthority == "" {
			s.TagAuthority = "localhost"
		}
	}
	c.language("site.language", f.Language)
	if s.Title == "" {
		s.Title = "newsdesk"
	}
	u, err := url.Parse(s.PublicURL)
	switch {
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		c.at("site.public_url", fmt.Sprintf("`public_url` %q is not an absolute http(s) URL", s.PublicURL),
			"write the address readers use, e.g. https://news.example.org")
	case u.RawQuery != "" || u.Fragment != "":
		c.at("site.public_url", fmt.Sprintf("`public_url` %q has a query or fragment", s.PublicURL), "remove everything after ? or #")
	default:
		s.PublicURL = strings.TrimRight(s.PublicURL, "/")
		if s.TagAuthority == "" {
			s.TagAuthority = u.Hostname()
		}
	}
	if strings.ContainsAny(s.TagAuthority, " /:") {
		c.at("site.tag_authority", fmt.Sprintf("`tag_authority` %q is not a domain name", s.TagAuthority),
			"write a domain you own, e.g. news.example.org (no scheme, port or path)")
	}
	for i, hub := range s.Hubs {
		if u, err := url.Parse(hub); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			c.at(fmt.Sprintf("site.hubs[%d]", i), fmt.Sprintf("hub %q is not an absolute http(s) URL", hub),
				"write the WebSub hub's URL, e.g. https://pubsubhubbub.appspot.com/")
		}
	}
}

func (c *checker) hostPort(path, addr string) (host string, ok bool) {
	host, port, err := net.SplitHostPort(addr)
	if err == nil {
		_, err = strconv.ParseUint(port, 10, 16)
	}
	if err != nil {
		c.at(path, fmt.Sprintf("`%s` %q is not a host:port address", last(path), addr), `write ":8080" for every interface or "127.0.0.1:8080" for this machine only`)
		return "", false
	}
	return host, true
}

// admin keeps the admin listener off the network: it can trigger refreshes
// and reclassification, and the command line reaches it with a per-run token
// from a file beside the store. Remote admin goes through the public listener,
// which serves /admin/ once admin.token is set. (admin.Listen refuses the same
// addresses at start-up.)
func (c *checker) admin(a Admin) {
	host, ok := c.hostPort("admin.listen", a.Listen)
	if !ok {
		return
	}
	ip := net.ParseIP(host)
	if host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		c.at("admin.listen", fmt.Sprintf("`admin.listen` %q is not a loopback address", a.Listen),
			"listen on 127.0.0.1; for remote admin set admin.token, which serves /admin/ on the public listener")
	}
}

// exposure reads status.public: false, true or localhost.
func (c *checker) exposure(path string, v scalar) Exposure {
	switch strings.ToLower(v.Text) {
	case "", "false":
		return ExposeNone
	case "true":
		return ExposeAll
	case "localhost":
		return ExposeLocal
	}
	c.at(path, fmt.Sprintf("`public` %s is not false, true or localhost", kindName(v.Node)),
		"false serves the status page and metrics on the admin listener only; localhost also to clients on this machine; true to everyone")
	return ExposeNone
}

// boolean reads a true/false value; absent is false.
func (c *checker) boolean(path string, v scalar) bool { return c.booleanOr(path, v, false) }

// booleanOr is boolean with def when the key is absent (or its value
// wrong).
func (c *checker) booleanOr(path string, v scalar, def bool) bool {
	switch strings.ToLower(v.Text) {
	case "":
		return def
	case "false":
		return false
	case "true":
		return true
	}
	c.at(path, fmt.Sprintf("`%s` %s is not true or false", last(path), kindName(v.Node)), "write true or false")
	return def
}

// networks reads fetch.allow_networks: CIDR prefixes, written as networks
// (no host bits), IPv4 ones in IPv4 form, so the list means what it says.
func (c *checker) networks(path string, list []string) []netip.Prefix {
	var out []netip.Prefix
	for i, raw := range list {
		at := fmt.Sprintf("%s[%d]", path, i)
		s := strings.TrimSpace(raw)
		if addr, err := netip.ParseAddr(s); err == nil {
			bits := 32
			if addr.Is6() {
				bits = 128
			}
			c.at(at, fmt.Sprintf("`allow_networks` entry %q is an address, not a network", raw),
				fmt.Sprintf("write %s/%d to allow this one address", addr.WithZone(""), bits))
			continue
		}
		p, err := netip.ParsePrefix(s)
		if err != nil {
			why := err.Error()
			if _, after, ok := strings.Cut(why, "): "); ok {
				why = after // netip repeats the input before its reason
			}
			if !strings.Contains(s, "/") && strings.ContainsFunc(s, func(r rune) bool { return r > '9' && r != ':' && !strings.ContainsRune("abcdefABCDEF", r) }) {
				c.at(at, fmt.Sprintf("`allow_networks` entry %q is a host name, not a network", raw),
					"the guard checks the address a name resolves to when connecting: write the network it resolves into, e.g. 10.20.0.0/16")
				continue
			}
			c.at(at, fmt.Sprintf("`allow_networks` entry %q is not a network: %s", raw, why),
				"write a network in CIDR form, e.g. 10.20.0.0/16, 127.0.0.1/32 or fd00:1::/48")
			continue
		}
		if p.Addr().Is4In6() {
			v4 := netip.PrefixFrom(p.Addr().Unmap(), max(p.Bits()-96, 0)).Masked()
			c.at(at, fmt.Sprintf("`allow_networks` entry %q is an IPv4-mapped network", raw),
				fmt.Sprintf("write it as %s: IPv4 entries also cover the mapped spelling", v4))
			continue
		}
		if p != p.Masked() {
			c.at(at, fmt.Sprintf("`allow_networks` entry %q has address bits set beyond its /%d", raw, p.Bits()),
				fmt.Sprintf("write %s for the network, or %s/%d for the one address", p.Masked(), p.Addr(), p.Addr().BitLen()))
			continue
		}
		out = append(out, p)
	}
	return out
}

// proxy reads fetch.proxy: "" (none), "environment", or a proxy URL.
func (c *checker) proxy(path, raw string) (*url.URL, bool) {
	switch strings.TrimSpace(raw) {
	case "":
		return nil, false
	case "environment":
		return nil, true
	}
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || u.Host == "" || !slices.Contains([]string{"http", "https", "socks5", "socks5h"}, u.Scheme) {
		c.at(path, fmt.Sprintf("`proxy` %q is not a proxy URL", raw),
			"write http://host:port (or https://, socks5://), or `environment` to take HTTP_PROXY, HTTPS_PROXY and NO_PROXY")
		return nil, false
	}
	return u, false
}

// cron checks a schedule with the parser ingest uses. cron v3.0.1 panics on
// some inputs ("CRON_TZ=Asia/Tokyo" alone), hence the recover.
func (c *checker) cron(path, spec string) {
	if err := parseCron(spec); err != nil {
		c.at(path, fmt.Sprintf("`%s` %q is not a valid schedule: %v", last(path), spec, err),
			`use "@every 15m", "@hourly" or five cron fields such as "*/15 * * * *"`)
	}
}

func parseCron(spec string) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = errors.New("malformed time zone prefix")
		}
	}()
	if every, ok := strings.CutPrefix(strings.TrimSpace(spec), "@every "); ok {
		// cron rounds anything under a second up to one: a typo like
		// "@every 0s" would poll every second.
		if d, perr := time.ParseDuration(every); perr == nil && d < time.Second {
			return fmt.Errorf("@every needs at least 1s, not %s", every)
		}
	}
	p := cron.NewParser(cron.SecondOptional | cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)
	sched, err := p.Parse(spec)
	if err != nil {
		return err
	}
	if sched.Next(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)).IsZero() {
		return errors.New("it never fires (no such date)")
	}
	return nil
}

// languageTag matches the BCP 47 tags feeds use: a 2-3 letter language,
// then optional subtags ("en", "en-GB", "zh-Hant-TW").
var languageTag = regexp.MustCompile(`^[A-Za-z]{2,3}([-_][A-Za-z0-9]{1,8})*$`)

func (c *checker) language(path, tag string) {
	if tag != "" && !languageTag.MatchString(tag) {
		c.at(path, fmt.Sprintf("`language` %q is not a language tag", tag),
			`use a BCP 47 tag such as "en", "en-GB" or "pt-BR"`)
	}
}

// duration parses Go durations ("90m", "2h30m") plus whole days ("90d"),
// which Go lacks and retention wants.
func (c *checker) duration(path string, s scalar, def time.Duration) time.Duration {
	if s.Node == nil {
		return def
	}
	d, err := parseDuration(s.Text)
	if err != nil || d <= 0 {
		c.add(s.Node, path, fmt.Sprintf("`%s` %q is not a positive duration", last(path), s.Text),
			`write a number with a unit: "30s", "15m", "6h" or "90d"`)
		return def
	}
	return d
}

func parseDuration(text string) (time.Duration, error) {
	if days, ok := strings.CutSuffix(text, "d"); ok {
		n, err := strconv.ParseUint(days, 10, 16)
		if err != nil {
			return 0, fmt.Errorf("parse days %q: %w", text, err)
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	return time.ParseDuration(text)
}

var sizeRE = regexp.MustCompile(`^\s*(\d+)\s*(B|KB|KiB|MB|MiB|GB|GiB)?\s*$`)

var sizeUnits = map[string]int64{"": 1, "B": 1, "KB": 1e3, "KiB": 1 << 10, "MB": 1e6, "MiB": 1 << 20, "GB": 1e9, "GiB": 1 << 30}

// size parses a byte count: an integer, or a number with a unit ("10MiB").
func (c *checker) size(path string, s scalar, def int64) int64 {
	if s.Node == nil {
		return def
	}
	m := sizeRE.FindStringSubmatch(s.Text)
	var n int64
	var err error
	if m != nil {
		n, err = strconv.ParseInt(m[1], 10, 64)
	}
	if m == nil || err != nil || n <= 0 || n > (1<<40)/sizeUnits[m[2]] {
		c.add(s.Node, path, fmt.Sprintf("`%s` %q is not a size", last(path), s.Text),
			`write bytes (10485760) or a number with a unit: "512KiB", "10MiB", "1GB"`)
		return def
	}
	return n * sizeUnits[m[2]]
}

func (c *checker) count(path string, v *int, def, least int) int {
	if v == nil {
		return def
	}
	if *v < least {
		c.at(path, fmt.Sprintf("`%s` is %d; it must be at least %d", last(path), *v, least), "raise it, or remove the line to use the default")
		return def
	}
	return *v
}

// sources checks the YAML sources (allSources adds the OPML ones and says
// when there are none at all).
func (c *checker) sources(fs []fileSource) []story.Source {
	seen := map[string]int{}
	out := make([]story.Source, 0, len(fs))
	for i, f := range fs {
		path := fmt.Sprintf("sources[%d]", i)
		c.name(path+".name", f.Name, "source")
		if j, dup := seen[f.Name]; dup && f.Name != "" {
			c.at(path+".name", fmt.Sprintf("source name %q is already used by sources[%d]%s", f.Name, j, c.lineOf(fmt.Sprintf("sources[%d].name", j))),
				"give each source a unique name")
		}
		seen[f.Name] = i
		src := story.Source{Name: f.Name, Title: or(f.Title, f.Name), Schedule: f.Schedule,
			MaxBody: c.size(path+".max_body", f.MaxBody, 0), Timeout: c.duration(path+".timeout", f.Timeout, 0)}
		src.URL = c.sourceURL(path+".url", f.URL)
		if f.Schedule != "" {
			c.cron(path+".schedule", f.Schedule)
		}
		out = append(out, src)
	}
	return out
}

// sourceURL passes http(s) and file URLs through and turns a path into a
// file:// URL, relative to the config file's directory so a config and its
// feeds can move together.
func (c *checker) sourceURL(path, raw string) string {
	if raw == "" {
		c.at(path, "`url` is missing", "give the feed's http(s) URL, or a path relative to this file")
		return ""
	}
	u, err := url.Parse(raw)
	if err == nil && len(u.Scheme) > 1 { // one letter is a Windows drive, not a scheme
		switch {
		case (u.Scheme == "http" || u.Scheme == "https") && u.Host != "":
			return raw
		case u.Scheme == "file" && strings.HasPrefix(u.Path, "/"):
			c.localFile(path, raw, filepath.FromSlash(u.Path))
			return raw
		case u.Scheme == "file":
			c.at(path, fmt.Sprintf("`url` %q is not an absolute file URL", raw), "write file:///absolute/path, or a plain path relative to this file")
		default:
			c.at(path, fmt.Sprintf("`url` %q has unsupported scheme %q", raw, u.Scheme), "use http://, https://, file:// or a path relative to this file")
		}
		return ""
	}
	if err != nil && strings.Contains(raw, "://") {
		c.at(path, fmt.Sprintf("`url` %q is not a valid URL: %v", raw, err), "check it for spaces and stray characters")
		return ""
	}
	p := filepath.FromSlash(raw)
	if !filepath.IsAbs(p) {
		p = filepath.Join(filepath.Dir(c.file), p)
	}
	abs, err := filepath.Abs(p)
	if err != nil {
		c.at(path, fmt.Sprintf("resolve `url` %q: %v", raw, err), "write an absolute file:// URL")
		return ""
	}
	c.localFile(path, raw, abs)
	return (&url.URL{Scheme: "file", Path: filepath.ToSlash(abs)}).String()
}

// localFile reports a file source that cannot be read now: a daemon started
// with it would report it failing at every fetch, so validate says so first.
func (c *checker) localFile(path, raw, file string) {
	fi, err := os.Stat(file)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		hint := "check the path"
		if dir, err := filepath.Abs(filepath.Dir(c.file)); err == nil && !filepath.IsAbs(filepath.FromSlash(raw)) && !strings.Contains(raw, "://") {
			hint = fmt.Sprintf("a relative path is read from the config file's directory, %s", dir)
		}
		c.at(path, fmt.Sprintf("`url` %q: no such file %s", raw, file), hint)
	case err != nil:
		c.at(path, fmt.Sprintf("`url` %q: %v", raw, err), "check the file's permissions")
	case fi.IsDir():
		c.at(path, fmt.Sprintf("`url` %q is a directory, not a feed file", raw), "name the feed file inside it")
	}
}

// name checks a source name or topic slug: they appear in URLs and store
// keys, so they are lowercase words joined by hyphens.
func (c *checker) name(path, name, what string) {
	key := last(path)
	switch {
	case name == "":
		c.at(path, fmt.Sprintf("%s has no `%s`", what, key), fmt.Sprintf("add `%s: some-%s` (lowercase words joined by -)", key, what))
	case !topic.ValidSlug(name):
		hint := "use lowercase letters, digits and single hyphens"
		if s := topic.SuggestSlug(name, ""); s != "" {
			hint = fmt.Sprintf("write `%s: %s`", key, s)
		}
		c.at(path, fmt.Sprintf("%s `%s` %q is not lowercase words joined by hyphens", what, key, name), hint)
	}
}

func (c *checker) topics(fs []fileTopic, sources []story.Source) ([]topic.Definition, *topic.Set) {
	known := map[string]bool{}
	for _, s := range sources {
		known[s.Name] = true
	}
	seen := map[string]int{}
	defs := make([]topic.Definition, 0, len(fs))
	compiled := make([]*topic.Topic, 0, len(fs))
	for i, f := range fs {
		path := fmt.Sprintf("topics[%d]", i)
		before := len(c.probs)
		c.name(path+".slug", f.Slug, "topic")
		if j, dup := seen[f.Slug]; dup && f.Slug != "" {
			c.at(path+".slug", fmt.Sprintf("topic slug %q is already used by topics[%d]%s", f.Slug, j, c.lineOf(fmt.Sprintf("topics[%d].slug", j))),
				"give each topic a unique slug")
		}
		seen[f.Slug] = i
		who := path
		if f.Slug != "" {
			who = strconv.Quote(f.Slug)
		}
		if strings.TrimSpace(f.Title) == "" {
			c.at(path+".title", fmt.Sprintf("topic %s has no `title`", who), "add `title: …`, the name readers see in their feed reader")
		}
		for j, s := range f.Sources {
			// A refused OPML file's feeds are unknown here, not misnamed.
			if !known[s] && !c.opmlRefused {
				hint := "list names from `sources:` at the top level"
				if near := closest(s, keys(known)); near != "" {
					hint = fmt.Sprintf("did you mean `%s`? ", near) + hint
				}
				c.at(fmt.Sprintf("%s.sources[%d]", path, j), fmt.Sprintf("topic %s names unknown source %q", who, s), hint)
			}
		}
		c.language(path+".language", f.Language)
		if f.Limit < 0 {
			c.at(path+".limit", fmt.Sprintf("`limit` is %d; it must be 0 (default 50) or more", f.Limit), "write e.g. `limit: 50`")
		}
		def := topic.Definition{Slug: f.Slug, Title: f.Title, Description: f.Description, Sources: f.Sources,
			Limit: f.Limit, MaxAge: c.duration(path+".max_age", f.MaxAge, 0), Language: f.Language,
			Pin: f.Pin, Block: f.Block}
		if isNull(f.Rule.Node) {
			c.at(path+".rule", fmt.Sprintf("topic %s has no `rule`", who), "add e.g. `rule: {any: [asylum, deportation]}`")
		} else {
			def.Rule, _ = c.rule(f.Rule.Node, path+".rule")
		}
		def.Examples = c.examples(f.Examples, path+".examples")
		if c.visits > maxNodes {
			defs = append(defs, def)
			continue
		}
		t, err := topic.New(def)
		if err != nil {
			// New also checks what is already reported (a missing title, an
			// empty clause); report only what it adds, such as a bad regex
			// beside a misshapen clause.
			c.topicErrors(path, err, c.probs[before:])
			defs = append(defs, def)
			continue
		}
		defs = append(defs, t.Definition)
		compiled = append(compiled, t)
	}
	return defs, topic.NewSet(compiled...)
}

// examples converts a topic's example stories.
func (c *checker) examples(f fileExamples, path string) topic.Examples {
	var out topic.Examples
	// A misshapen example is reported here and kept in its place, so the
	// indexes topic.New reports by stay those of the file.
	for i, x := range f.Match {
		ex, _ := c.example(x.Node, fmt.Sprintf("%s.match[%d]", path, i))
		out.Match = append(out.Match, ex)
	}
	for i, x := range f.NoMatch {
		ex, _ := c.example(x.Node, fmt.Sprintf("%s.no_match[%d]", path, i))
		out.NoMatch = append(out.NoMatch, ex)
	}
	return out
}

// topicErrors maps topic.New's errors, whose paths are relative to the
// topic ("rule.any[2].regex"), to the YAML nodes they concern.
func (c *checker) topicErrors(path string, err error, reported []Problem) {
	var errs []error
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs = j.Unwrap()
	} else {
		errs = []error{err}
	}
	for _, e := range errs {
		te, ok := errors.AsType[*topic.Error](e)
		if !ok {
			c.at(path, fmt.Sprintf("topic %s: %v", path, e), "fix the topic definition")
			continue
		}
		p := path
		if te.Path != "" {
			p = path + "." + te.Path
		}
		if slices.ContainsFunc(reported, func(r Problem) bool { return within(p, r.Path) || within(r.Path, p) }) {
			continue
		}
		c.at(p, te.Msg, te.Hint)
	}
}

func keys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// syntaxHint says how to fix goccy's first syntax or type error.
func syntaxHint(err error, msg string) string {
	var (
		dup     *yaml.DuplicateKeyError
		unknown *yaml.UnknownFieldError
		typ     *yaml.TypeError
	)
	lower := strings.ToLower(msg)
	switch {
	case errors.As(err, &dup):
		return "remove one of the two; a key may appear once per map"
	case errors.As(err, &unknown):
		return "check the spelling and the indentation"
	case errors.As(err, &typ):
		return "check the value's type: a number, text, a list (- item) or a map (key: value)"
	case strings.Contains(lower, "quote") || strings.Contains(lower, "end character"):
		return "close the quote on the same line, or use a block scalar (|) for long text"
	case strings.Contains(lower, "already defined"):
		return "remove one of the two; a key may appear once per map"
	case strings.Contains(lower, "found character tab"):
		return "indent with spaces, never tabs"
	case strings.Contains(lower, "end token"):
		return "close the bracket or brace on the same line, or write one item per line"
	case strings.Contains(lower, "indent") || strings.Contains(lower, "not allowed in this context") || strings.Contains(lower, "sequence"):
		return "check the indentation: keys of one map start in the same column and list items start with '- '"
	}
	return "check the YAML syntax here and on the line above"
}
