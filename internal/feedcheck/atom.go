package feedcheck

import (
	"bytes"
	_ "embed"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// atomSchema is the RELAX NG compact schema of RFC 4287 Appendix B.
//
//go:embed atom.rnc
var atomSchema []byte

// HaveJing reports whether jing, the RELAX NG validator, is on PATH.
func HaveJing() bool {
	_, err := exec.LookPath("jing")
	return err == nil
}

// Atom checks an Atom 1.0 document with AtomRules and, when jing is
// installed, validates it against the RFC 4287 Appendix B schema too.
func Atom(doc []byte) error {
	p, _ := AtomRules(doc).(Problems)
	if HaveJing() {
		if err := jing(doc); err != nil {
			p.add("%v", err)
		}
	}
	return p.err()
}

// AtomRules checks an Atom 1.0 document in Go alone (no jing, so it is fast):
// well-formed XML with an atom:feed (or atom:entry) root; exactly one id,
// title and updated on the feed and each entry, with RFC 3339 dates; and the
// two Schematron rules of RFC 4287 that jing ignores (an entry has an author
// or its feed does; an entry has a link rel="alternate" or content).
func AtomRules(doc []byte) error {
	root, err := parseXML(doc)
	if err != nil {
		return Problems{err.Error()}
	}
	var p Problems
	switch {
	case root.name.Space != nsAtom:
		p.add("root element <%s> is not in the Atom namespace", root.name.Local)
	case root.name.Local == "feed":
		checkAtomFeed(&p, root)
	case root.name.Local == "entry":
		checkAtomEntry(&p, "entry", root, false)
	default:
		p.add("root element is <%s>, want <feed> or <entry>", root.name.Local)
	}
	return p.err()
}

func checkAtomFeed(p *Problems, feed *node) {
	checkAtomMeta(p, "feed", feed)
	feedAuthor := len(feed.all(nsAtom, "author")) > 0
	self := false
	for _, l := range feed.all(nsAtom, "link") {
		rel, _ := l.get("rel")
		self = self || rel == "self"
	}
	if !self {
		p.add("feed has no link rel=\"self\" (RFC 4287 SHOULD)")
	}
	for i, e := range feed.all(nsAtom, "entry") {
		checkAtomEntry(p, fmt.Sprintf("entry %d", i+1), e, feedAuthor)
	}
}

func checkAtomEntry(p *Problems, where string, e *node, feedAuthor bool) {
	checkAtomMeta(p, where, e)
	if d := e.one(nsAtom, "published"); d != nil {
		checkRFC3339(p, where+" published", textOf(d))
	}
	src := e.one(nsAtom, "source")
	if !feedAuthor && len(e.all(nsAtom, "author")) == 0 && (src == nil || len(src.all(nsAtom, "author")) == 0) {
		p.add("%s has no author and neither has its feed", where)
	}
	alternate := false
	for _, l := range e.all(nsAtom, "link") {
		rel, ok := l.get("rel")
		alternate = alternate || !ok || rel == "alternate"
	}
	if !alternate && e.one(nsAtom, "content") == nil {
		p.add("%s has neither link rel=\"alternate\" nor content", where)
	}
}

// checkAtomMeta checks the elements a feed and an entry both require once.
func checkAtomMeta(p *Problems, where string, n *node) {
	for _, name := range []string{"id", "title", "updated"} {
		switch k := len(n.all(nsAtom, name)); {
		case k == 0:
			p.add("%s has no %s", where, name)
		case k > 1:
			p.add("%s has %d %s elements, want one", where, k, name)
		}
	}
	if id := n.one(nsAtom, "id"); id != nil && textOf(id) == "" {
		p.add("%s id is empty", where)
	}
	if u := n.one(nsAtom, "updated"); u != nil {
		checkRFC3339(p, where+" updated", textOf(u))
	}
}

func checkRFC3339(p *Problems, what, s string) {
	if _, err := time.Parse(time.RFC3339, s); err != nil {
		p.add("%s %q is not an RFC 3339 date", what, s)
	}
}

// jing validates doc against the Appendix B schema. The schema and document
// go to a temporary directory because jing reads files, not stdin.
func jing(doc []byte) error {
	dir, err := os.MkdirTemp("", "feedcheck-")
	if err != nil {
		return fmt.Errorf("jing: %w", err)
	}
	defer os.RemoveAll(dir)
	schema, file := filepath.Join(dir, "atom.rnc"), filepath.Join(dir, "feed.atom")
	if err := os.WriteFile(schema, atomSchema, 0o600); err != nil {
		return fmt.Errorf("jing: %w", err)
	}
	if err := os.WriteFile(file, doc, 0o600); err != nil {
		return fmt.Errorf("jing: %w", err)
	}
	out, err := exec.Command("jing", "-c", schema, file).CombinedOutput()
	if err == nil {
		return nil
	}
	// Debian's wrapper prints "[warning] … Unable to locate …" lines about
	// optional jars; they are not about the document.
	var msgs []string
	for line := range strings.Lines(string(bytes.ReplaceAll(out, []byte(dir+string(filepath.Separator)), nil))) {
		if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "[warning]") {
			msgs = append(msgs, line)
		}
	}
	return fmt.Errorf("jing (RFC 4287 schema): %v: %s", err, strings.Join(msgs, "; "))
}
