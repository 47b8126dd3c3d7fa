// Package config reads newsdesk's YAML config into a validated Config.
//
// Load decodes strictly (an unknown key is an error, with the nearest valid
// key suggested), then checks every value and reports all problems at once as
// *Errors, each with file:line:col, the YAML path, a hint and a source
// snippet. Topics are compiled with topic.New, so a config that loads is one
// the daemon can run. Watch reloads the file when it changes on disk; SIGHUP
// is left to the caller, which simply calls Load again.
package config

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"net/url"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"

	"github.com/newsdesk/newsdesk/internal/story"
	"github.com/newsdesk/newsdesk/internal/topic"
)

// Config is a validated config with every default filled in.
type Config struct {
	Path      string         // the file it was read from, as given
	Site      Site           // how the published feeds describe themselves
	Listen    string         // public HTTP listen address, e.g. ":8080"
	Refresh   string         // cron spec of the global refresh (robfig/cron, optional seconds or @every)
	Location  *time.Location // zone the cron specs are read in
	Fetch     Fetch
	Retention Retention
	Admin     Admin
	Status    Status
	HTTP      HTTP // how the feeds are served to readers and HTTP caches
	Limits    Limits
	LogLevel  slog.Level
	LogAccess bool // one log line per HTTP request
	// Fingerprint names this version of the file: the first 16 hex digits
	// of the SHA-256 of its bytes (and of the OPML files of sources_from),
	// so an admin can tell which edit runs.
	Fingerprint string
	// SourcesFrom are the OPML files the sources were also read from, as
	// sources_from names them joined to the config's directory.
	SourcesFrom []string
	LogFormat   LogFormat

	Sources []story.Source     // URLs are absolute: http(s):// or file:// of an absolute path
	Topics  []topic.Definition // as compiled by topic.New, defaults filled
	Set     *topic.Set         // the compiled topics, in config order

	publicURLAt Problem // where site.public_url is written, for Warnings
}

// LogFormat is how log lines are written.
type LogFormat string

// The log formats: slog's text handler (key=value lines, for people) and
// its JSON handler (one object a line, for log collectors).
const (
	LogText LogFormat = "text"
	LogJSON LogFormat = "json"
)

// Site describes the published feeds.
type Site struct {
	Title, Description string
	PublicURL          string // absolute http(s) URL without a trailing slash; self links are built from it
	FollowsListen      bool   // public_url is not set: PublicURL is the listen address (see FollowListen)
	Language           string // default "en"
	TagAuthority       string // tag: URI authority for feed and item ids; default the host of PublicURL
	Hubs               []string
}

// Fetch bounds upstream requests and says where they may go.
type Fetch struct {
	Timeout, ConnectTimeout  time.Duration
	IdleTimeout              time.Duration // an upstream silent this long is given up on
	MaxBody                  int64         // bytes
	MaxRedirects             int
	Workers, PerHost         int // concurrent fetches overall and per upstream host
	MinInterval, MaxInterval time.Duration
	// AllowNetworks are the networks, besides public addresses, that
	// http(s) sources and their redirects may reach (masked prefixes).
	AllowNetworks []netip.Prefix
	// Proxy carries http(s) requests when set; ProxyFromEnvironment takes
	// it from HTTP_PROXY, HTTPS_PROXY and NO_PROXY (`proxy: environment`).
	// Neither: no proxy, whatever the environment holds.
	Proxy                *url.URL
	ProxyFromEnvironment bool
}

// Retention bounds what the store keeps.
type Retention struct {
	MaxAge     time.Duration
	MaxStories int
}

// Limits bounds what one client may take from the public listener.
type Limits struct {
	PerClientConnections int // connections held at once by one IPv4 address or IPv6 /64; 0: no limit
}

// Admin configures the admin listener, which is loopback-only unless a token
// is set.
type Admin struct {
	Token  string
	Listen string
}

// Status says who may read the status page, /status.json and /metrics on
// the public listener; the loopback admin listener always serves them.
// They show every source's URL (passwords hidden) and its errors.
type Status struct {
	Public Exposure
}

// Exposure is a value of status.public.
type Exposure string

// The values of status.public. The zero value is ExposeNone.
const (
	ExposeNone  Exposure = ""          // `false`: the admin listener only
	ExposeLocal Exposure = "localhost" // to clients on this machine: a loopback peer, not through a proxy
	ExposeAll   Exposure = "true"      // to everyone
)

// Defaults used when a key is absent.
const (
	DefaultPublicURL = "http://localhost:8080" // what the default listen address gives
	DefaultListen    = ":8080"
	DefaultRefresh   = "@every 15m"
	DefaultAdmin     = "127.0.0.1:0"
)

// maxProblems is how many problems one Errors lists: past that, the admin
// is better served fixing the first ones and running again.
const maxProblems = 50

// Load reads and validates the config at path. Relative source URLs are
// resolved against path's directory. Errors are *Errors, except when the
// file cannot be read.
func Load(path string) (*Config, error) {
	src, err := readFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(path, src)
}

// readFile reads a config, but never more than one byte past MaxFileSize:
// a wrong path (a disk image, /dev/zero) must not be read into memory
// before Parse refuses it.
func readFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	defer f.Close()
	if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() && fi.Size() > MaxFileSize {
		return nil, &Errors{tooLarge(path)}
	}
	src, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1)) // a pipe or device says no size
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	return src, nil
}

// Parse validates src as if read from path (used in messages and to resolve
// relative source URLs). Errors are *Errors.
func Parse(path string, src []byte) (*Config, error) {
	return newDecoder(path, src).parse()
}

func newDecoder(path string, src []byte) *decoder {
	return &decoder{src: src, file: path, anchors: anchors{}}
}

// parse is Parse of d's document. Afterwards d.inputs holds the OPML files
// it read, whether or not the config is valid: Watch watches them.
func (d *decoder) parse() (_ *Config, err error) {
	path, orig := d.file, d.src
	// YAML allows a byte order mark, and Windows editors write one: it is
	// read past, and lines and columns are counted as an editor shows them.
	src := bytes.TrimPrefix(orig, utf8BOM)
	d.src = src
	// A hot reload must never take the daemon down: goccy has had panics on
	// malformed input, so one becomes a problem like any other.
	defer func() {
		if r := recover(); r != nil {
			d.probs = append(d.probs, Problem{File: path, Msg: fmt.Sprintf("the YAML parser failed: %v", r),
				Hint: "check the file for unusual syntax (anchors, tags, deep nesting) and report this input as a bug"})
			err = d.errors()
		}
	}()
	if p := encoding(src); p != nil && len(src) <= MaxFileSize { // else the scan says it is too large
		d.addAt(p.Line, p.Col, "", p.Msg, p.Hint)
		return nil, d.errors()
	}
	// The parser's cost grows faster than the file: measure first.
	scanned := scan(src)
	if p := scanned.prob; p != nil {
		d.addAt(p.Line, p.Col, "", p.Msg, p.Hint)
		return nil, d.errors()
	}
	f, err := parser.ParseBytes(scanned.withoutComments(src), 0)
	if err != nil {
		d.syntaxError(err, scanned)
		return nil, d.errors()
	}
	var body ast.Node
	if len(f.Docs) > 0 {
		body = f.Docs[0].Body
	}
	if len(f.Docs) > 1 {
		d.add(f.Docs[1].Body, "", "the file holds more than one YAML document", "remove the second '---' and everything after it")
	}
	if isNull(body) {
		d.add(nil, "", "the config is empty", "start from the bundled config/newsdesk.yaml")
		return nil, d.errors()
	}
	if !d.resolve(body) {
		return nil, d.errors()
	}
	body = d.merge(body)
	d.pass()
	if d.walk(body, reflect.TypeFor[fileConfig](), "") || d.visits > maxNodes {
		// Nothing sensible is left to decode.
		return nil, d.errors()
	}
	// The walk reported every key and value of the wrong shape and nulled the
	// values; the rest still decodes and goes through the semantic checks.
	// Unknown keys are reported already, so only a clean walk decodes strictly.
	shape := len(d.probs)
	var opts []yaml.DecodeOption
	if shape == 0 {
		opts = append(opts, yaml.Strict())
	}
	var fc fileConfig
	// goccy expands aliases too; resolve has bounded that expansion.
	if err := yaml.NodeToValue(body, &fc, opts...); err != nil {
		if shape == 0 {
			d.yamlError(err)
		}
		return nil, d.errors()
	}
	nodes := map[string]ast.Node{}
	d.pass()
	d.index(body, "", nodes)
	d.pass()
	c := &checker{decoder: d, nodes: nodes}
	cfg := c.check(&fc)
	if shape > 0 {
		d.dropEchoes(shape)
	}
	if len(d.probs) > 0 {
		return nil, d.errors()
	}
	cfg.Path = path
	cfg.Fingerprint = fingerprint(orig, d.inputs) // of the file as Watch reads it
	for _, in := range d.inputs {
		cfg.SourcesFrom = append(cfg.SourcesFrom, in.path)
	}
	return cfg, nil
}

// dropEchoes removes the semantic problems, found after the first n shape
// problems, that only echo one of them: a problem about a value the walk
// nulled, or about a map or list that holds it ("source has no `url`" after
// "`url` expects text").
func (d *decoder) dropEchoes(n int) {
	shape, semantic := d.probs[:n], d.probs[n:]
	echoes := func(p Problem) bool {
		return p.Path == "" || slices.ContainsFunc(shape, func(s Problem) bool { return within(s.Path, p.Path) })
	}
	d.probs = append(shape[:n:n], slices.DeleteFunc(semantic, echoes)...)
}

// within reports whether the YAML path a is b or lies inside it.
func within(a, b string) bool {
	return a == b || strings.HasPrefix(a, b+".") || strings.HasPrefix(a, b+"[")
}

// errors returns the problems in file order, as a compiler reports them,
// at most maxProblems of them.
func (d *decoder) errors() *Errors {
	// The config's own problems first, then each OPML file's, in the order
	// sources_from names them.
	rank := map[string]int{d.file: 0}
	for i, in := range d.inputs {
		if _, ok := rank[in.path]; !ok {
			rank[in.path] = i + 1
		}
	}
	slices.SortStableFunc(d.probs, func(a, b Problem) int {
		return cmp.Or(cmp.Compare(rank[a.File], rank[b.File]), cmp.Compare(a.Line, b.Line), cmp.Compare(a.Col, b.Col))
	})
	// A value reached twice (through an alias or a merge) is reported once.
	d.probs = slices.CompactFunc(d.probs, func(a, b Problem) bool {
		return a.Line == b.Line && a.Col == b.Col && a.Msg == b.Msg && a.Line > 0
	})
	if n := len(d.probs); n > maxProblems {
		d.probs = append(d.probs[:maxProblems], Problem{File: d.file,
			Msg: fmt.Sprintf("and %d more problems", n-maxProblems), Hint: "fix the ones above first"})
	}
	// Snippets only for what is listed: a file of 10,000 bad sources must
	// not split itself into lines 10,000 times.
	lines := lineStarts(d.src)
	for i := range d.probs {
		if p := &d.probs[i]; p.Line > 0 && p.Snippet == "" {
			p.Snippet = snippetAt(d.src, lines, p.Line, p.Col)
		}
	}
	return &d.probs
}

// syntaxError reports the parser's error, unless the scan explains it
// better: a bracket never closed is reported where it opens, not at the end
// of the file where the parser gives up; a closer of the wrong kind names
// the bracket it fails to close.
func (d *decoder) syntaxError(err error, scanned scanResult) {
	line, col := 1<<31-1, 0
	if ye, ok := errors.AsType[yaml.Error](err); ok && ye.GetToken() != nil && ye.GetToken().Position != nil {
		line, col = ye.GetToken().Position.Line, ye.GetToken().Position.Column
	}
	after := func(m mark) bool { return line > m.line || (line == m.line && col >= m.col) }
	switch {
	case scanned.stray != nil && after(scanned.stray.opener.at(d.src)):
		c, o := scanned.stray.closer.at(d.src), scanned.stray.opener.at(d.src)
		d.addAt(c.line, c.col, "", fmt.Sprintf("`%c` does not close the `%c` opened at %d:%d", scanned.stray.closer.ch, scanned.stray.opener.ch, o.line, o.col),
			fmt.Sprintf("close `%c` with `%c`", scanned.stray.opener.ch, closerOf(scanned.stray.opener.ch)))
	case scanned.unclosed != nil && after(scanned.unclosed.at(d.src)):
		o := scanned.unclosed.at(d.src)
		msg := fmt.Sprintf("this `%c` is never closed", scanned.unclosed.ch)
		if line != o.line && line < 1<<31-1 {
			msg += fmt.Sprintf(" (the parser gave up at line %d)", line)
		}
		d.addAt(o.line, o.col, "", msg, fmt.Sprintf("close it with `%c`; a bracketed list or map may span lines, but needs its closer", closerOf(scanned.unclosed.ch)))
	default:
		d.yamlError(err)
	}
}

func closerOf(c byte) byte {
	if c == '[' {
		return ']'
	}
	return '}'
}

// yamlError turns goccy's first syntax or type error into a Problem.
func (d *decoder) yamlError(err error) {
	var ye yaml.Error
	if !errors.As(err, &ye) || ye.GetToken() == nil || ye.GetToken().Position == nil {
		d.probs = append(d.probs, Problem{File: d.file, Msg: err.Error(), Hint: "check the YAML syntax"})
		return
	}
	pos := ye.GetToken().Position
	msg := strings.ReplaceAll(ye.GetMessage(), "'\t'", "tab")
	hint := syntaxHint(err, msg)
	if q := quoteHint(d.src, pos.Line, pos.Column); q != "" && strings.Contains(msg, "not allowed in this context") {
		hint = q
	}
	d.probs = append(d.probs, Problem{File: d.file, Line: pos.Line, Col: pos.Column, Msg: msg, Hint: hint})
}

// quoteHint explains "mapping value is not allowed" when the parser stopped
// at the value of a key and that value holds ": " (`title: Asia: Security`):
// unquoted, the second ": " starts another key. The same message for a key
// at the wrong indentation stops at the key itself, not after one.
func quoteHint(src []byte, line, col int) string {
	lines := strings.Split(string(src), "\n")
	if line < 1 || line > len(lines) {
		return ""
	}
	text := []rune(strings.TrimRight(lines[line-1], "\r"))
	if col < 2 || col > len(text) {
		return ""
	}
	before, value := string(text[:col-1]), string(text[col-1:])
	if c, _, found := strings.Cut(value, " #"); found {
		value = c
	}
	value = strings.TrimSpace(value)
	key := strings.TrimSpace(before)
	if !strings.HasSuffix(key, ":") || !strings.Contains(value, ": ") {
		return ""
	}
	key = strings.TrimSpace(strings.TrimLeft(key, "-{, "))
	return fmt.Sprintf("quote the value: `%s %s`; unquoted, the `: ` inside it starts another key", key, strconv.Quote(value))
}
