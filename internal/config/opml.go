package config

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/goccy/go-yaml/ast"

	"github.com/newsdesk/newsdesk/internal/opml"
	"github.com/newsdesk/newsdesk/internal/story"
	"github.com/newsdesk/newsdesk/internal/topic"
)

// Sources from OPML (sources_from: [subscriptions.opml]): every outline
// without children is a feed, named after its title (else its text, else its
// host) by the one slug rule, topic.SuggestSlug, and made unique within the
// OPML files with -2, -3…. Folders are read to any depth and give the feeds
// nothing: a source has no category in newsdesk (topics select by rule and
// by source name), and `newsdesk sources import` keeps them as comments.
// Every mistake is reported at its file:line:col like a YAML one: a file
// that is not OPML, an outline without xmlUrl, a URL that is not http(s), a
// feed listed twice, a derived name a YAML source already has.

// MaxOPMLSize bounds one OPML file: a subscription list of ten thousand
// feeds is a few MiB.
const MaxOPMLSize = 16 << 20

// maxNameLen bounds a name derived from a title: names appear in the status
// page, metrics and logs, and a headline-long name helps no one.
const maxNameLen = 48

// input is a file besides the config that a parse read (an OPML file), as
// read: Watch watches it, and the fingerprint covers it.
type input struct {
	path string // as the config names it, joined to the config's directory
	src  []byte // nil when it could not be read
}

// opmlFeed is one outline that becomes a source.
type opmlFeed struct {
	opml.Outline
	file string // the OPML file, as reported
	at   string // "file:line", to name it in messages
}

// allSources checks the YAML sources and adds those of the OPML files.
func (c *checker) allSources(yamlSources []fileSource, files []string) []story.Source {
	out := c.sources(yamlSources)
	before := len(c.probs)
	feeds := c.opmlFeeds(files)
	if len(yamlSources) == 0 && len(feeds) == 0 && len(c.probs) == before {
		c.at("sources", "no `sources` are configured",
			"add at least one: sources: [{name: wire, url: https://example.org/feed.xml}], or sources_from: [subscriptions.opml]")
		return out
	}
	names := map[string]string{} // name → where it is given
	urls := map[string]string{}  // feed URL, normalized → where
	for i, s := range out {
		names[s.Name] = fmt.Sprintf("sources[%d] (%s)", i, c.placeOf(fmt.Sprintf("sources[%d].name", i)))
		if s.URL != "" {
			urls[sameFeed(s.URL)] = fmt.Sprintf("sources[%d] (%s)", i, c.placeOf(fmt.Sprintf("sources[%d].url", i)))
		}
	}
	derived := map[string]int{} // base name → how many feeds took it
	for _, f := range feeds {
		base := feedName(f.Outline)
		name := base
		if n := derived[base]; n > 0 {
			name = fmt.Sprintf("%s-%d", base, n+1)
		}
		derived[base]++
		if where, dup := names[name]; dup {
			if strings.HasPrefix(where, "sources[") {
				c.opmlAt(f, fmt.Sprintf("outline %q is named %q, which %s already uses", f.Name(), name, where),
					"rename the YAML source, or retitle the outline")
			} else {
				c.opmlAt(f, fmt.Sprintf("outline %q is named %q, which the outline at %s already uses", f.Name(), name, where),
					"retitle one of them")
			}
			continue
		}
		names[name] = f.at
		key := sameFeed(f.XMLURL)
		if where, dup := urls[key]; dup {
			c.opmlAt(f, fmt.Sprintf("feed %s is listed twice: %s has it too", f.XMLURL, where), "remove one of the two")
			continue
		}
		urls[key] = f.at
		out = append(out, story.Source{Name: name, Title: f.Name(), URL: f.XMLURL})
		c.imported = append(c.imported, imported{source: out[len(out)-1], folders: f.Folders})
	}
	return out
}

// imported is a source taken from OPML, with the folders it was in.
type imported struct {
	source  story.Source
	folders []string
}

// ImportOPML reads the OPML file at path (relative to the working
// directory) as sources_from reads it and returns the YAML of the same
// sources, a `sources:` block with each folder as a comment, for an admin
// who prefers one file. Errors are *Errors, with the file's line and column,
// except when the file cannot be read.
func ImportOPML(path string) ([]byte, error) {
	if _, err := readOPML(path); err != nil {
		if pe, ok := errors.AsType[*fs.PathError](err); ok {
			err = pe.Err
		}
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	// A config beside the file, as if it said sources_from: [its name].
	d := newDecoder(filepath.Join(filepath.Dir(abs), "newsdesk.yaml"), nil)
	c := &checker{decoder: d, nodes: map[string]ast.Node{}}
	c.allSources(nil, []string{filepath.Base(abs)})
	for i := range c.probs {
		if c.probs[i].File == filepath.Join(filepath.Dir(abs), filepath.Base(abs)) {
			c.probs[i].File = path // as the admin named it
		}
	}
	if len(c.probs) == 1 && c.probs[0].File == d.file {
		return nil, fmt.Errorf("%s lists no feeds", path) // the config's "no sources", had it one
	}
	if len(c.probs) > 0 {
		return nil, d.errors()
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "# The %d feeds of %s, as sources_from reads them (newsdesk sources import).\n", len(c.imported), filepath.Base(path))
	b.WriteString("sources:\n")
	folder := ""
	for _, im := range c.imported {
		if f := strings.Join(im.folders, " / "); f != folder {
			folder = f
			if f != "" {
				fmt.Fprintf(&b, "  # %s\n", strings.Join(strings.Fields(f), " ")) // a comment is one line
			}
		}
		// Quoted, names too: a name like "true" or "123" would not be text.
		fmt.Fprintf(&b, "  - name: %s\n    title: %s\n    url: %s\n", strconv.Quote(im.source.Name), strconv.Quote(im.source.Title), strconv.Quote(im.source.URL))
	}
	return b.Bytes(), nil
}

// opmlFeeds reads each file of sources_from and returns its feeds, checked
// one by one: an outline that is reported is left out.
func (c *checker) opmlFeeds(files []string) []opmlFeed {
	var out []opmlFeed
	for i, name := range files {
		at := fmt.Sprintf("sources_from[%d]", i)
		if strings.TrimSpace(name) == "" {
			c.at(at, "`sources_from` entry is empty", "name an OPML file, relative to this config file")
			continue
		}
		path := filepath.FromSlash(name)
		if !filepath.IsAbs(path) {
			path = filepath.Join(filepath.Dir(c.file), path)
		}
		src, err := readOPML(path)
		c.inputs = append(c.inputs, input{path: path, src: src})
		if err != nil {
			c.opmlRefused = true
		}
		switch {
		case errors.Is(err, fs.ErrNotExist):
			c.at(at, fmt.Sprintf("`sources_from` %q: no such file %s", name, path),
				"check the path; a relative path is read from the config file's directory")
			continue
		case err != nil:
			if pe, ok := errors.AsType[*fs.PathError](err); ok {
				err = pe.Err // the path is in the message already
			}
			c.at(at, fmt.Sprintf("`sources_from` %q: %v", name, err), "name a readable OPML file")
			continue
		}
		outlines, err := opml.Read(bytes.NewReader(src))
		if err != nil {
			line, col, msg := 0, 0, err.Error()
			if se, ok := errors.AsType[*opml.SyntaxError](err); ok {
				line, col, msg = se.Line, se.Col, se.Msg
			}
			c.opmlRefused = true
			c.probs = append(c.probs, Problem{File: path, Line: line, Col: col, Path: at, Msg: "not an OPML file: " + msg,
				Hint: "export the subscriptions again from the feed reader, or fix the XML here", Snippet: snippet(src, line, col)})
			continue
		}
		for _, o := range outlines {
			f := opmlFeed{Outline: o, file: path, at: path + ":" + strconv.Itoa(o.Line)}
			problem := func(msg, hint string) {
				c.probs = append(c.probs, Problem{File: path, Line: o.Line, Col: o.Col, Path: at, Msg: msg, Hint: hint,
					Snippet: snippet(src, o.Line, o.Col)})
			}
			switch u, err := url.Parse(o.XMLURL); {
			case strings.EqualFold(o.Type, "include"):
				problem(fmt.Sprintf("outline %q includes another OPML file", o.Name()), "newsdesk does not follow includes: list that file in sources_from")
			case o.XMLURL == "":
				problem(fmt.Sprintf("outline %q has no xmlUrl", o.Name()),
					`give the feed's address (xmlUrl="https://…"), or remove the outline: every outline without children is read as a feed`)
			case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
				problem(fmt.Sprintf("outline %q: xmlUrl %q is not an http(s) URL", o.Name(), o.XMLURL),
					"give the feed's absolute http:// or https:// address")
			default:
				out = append(out, f)
			}
		}
	}
	return out
}

// placeOf says where a YAML path is written: "newsdesk.yaml:12".
func (c *checker) placeOf(path string) string {
	line, _ := position(c.node(path))
	return c.file + ":" + strconv.Itoa(line)
}

// opmlAt reports a problem at an outline.
func (c *checker) opmlAt(f opmlFeed, msg, hint string) {
	var src []byte
	for _, in := range c.inputs {
		if in.path == f.file {
			src = in.src
		}
	}
	c.probs = append(c.probs, Problem{File: f.file, Line: f.Line, Col: f.Col, Path: "sources_from",
		Msg: msg, Hint: hint, Snippet: snippet(src, f.Line, f.Col)})
}

// readOPML reads an OPML file, refusing one over MaxOPMLSize before it is
// read into memory.
func readOPML(path string) ([]byte, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	if fi, err := fh.Stat(); err == nil && fi.IsDir() {
		return nil, errors.New("is a directory")
	}
	src, err := io.ReadAll(io.LimitReader(fh, MaxOPMLSize+1))
	if err != nil {
		return nil, err
	}
	if len(src) > MaxOPMLSize {
		return nil, fmt.Errorf("larger than %d MiB", MaxOPMLSize>>20)
	}
	return src, nil
}

// feedName derives a source name from an outline: its title (else text),
// else its feed's host, by the project's one slug rule, cut at a word to
// maxNameLen.
func feedName(o opml.Outline) string {
	name := topic.SuggestSlug(o.Name(), "")
	if name == "" {
		if u, err := url.Parse(o.XMLURL); err == nil {
			name = topic.SuggestSlug(strings.TrimPrefix(u.Hostname(), "www."), "")
		}
	}
	if name == "" {
		name = "feed"
	}
	for len(name) > maxNameLen {
		i := strings.LastIndexByte(name[:maxNameLen], '-')
		if i <= 0 {
			name = strings.TrimRight(name[:maxNameLen], "-")
			break
		}
		name = name[:i]
	}
	return name
}

// sameFeed is the form in which two URLs of one feed compare equal: scheme
// and host are case-insensitive (RFC 3986 §6.2.2.1).
func sameFeed(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	u.Scheme, u.Host = strings.ToLower(u.Scheme), strings.ToLower(u.Host)
	return u.String()
}

// fingerprint names a config version: the SHA-256 of its bytes, and of each
// OPML file it reads (with its path), so an edit of either shows.
func fingerprint(src []byte, inputs []input) string {
	h := sha256.New()
	h.Write(src)
	for _, in := range inputs {
		fmt.Fprintf(h, "\x00%s\x00%d\x00", in.path, len(in.src))
		h.Write(in.src)
	}
	return hex.EncodeToString(h.Sum(nil)[:8])
}
