package feedcheck

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"sync"
)

// pythons are the interpreters tried, in order: the system one first, since
// Debian's python3-feedparser installs there and a python3 earlier on PATH
// (pyenv, a virtualenv) often lacks it.
var pythons = []string{"/usr/bin/python3", "python3"}

// feedparserScript parses stdin and reports what a reader would see.
const feedparserScript = `
import json, sys, feedparser
d = feedparser.parse(sys.stdin.buffer.read())
json.dump({
    "bozo": bool(d.get("bozo")),
    "exception": repr(d.get("bozo_exception")) if d.get("bozo") else "",
    "version": d.get("version", ""),
    "titles": [e.get("title", "") for e in d.entries],
}, sys.stdout)
`

// python returns the first interpreter that can import feedparser, or "".
var python = sync.OnceValue(func() string {
	for _, py := range pythons {
		if exec.Command(py, "-c", "import feedparser").Run() == nil {
			return py
		}
	}
	return ""
})

// HaveFeedparser reports whether a Python 3 with feedparser is installed.
func HaveFeedparser() bool {
	return python() != ""
}

// Feedparser parses doc with Python's feedparser and returns the entry
// titles as it sees them. It fails when feedparser sets bozo (the document
// is not well-formed, or not what it claims to be) or does not recognise the
// format at all. feedparser 6.0, the version Debian ships, reads RSS and
// Atom but not JSON Feed.
func Feedparser(doc []byte) (titles []string, err error) {
	py := python()
	if py == "" {
		return nil, errors.New("feedparser: no python3 that can import feedparser")
	}
	cmd := exec.Command(py, "-c", feedparserScript)
	cmd.Stdin = bytes.NewReader(doc)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("feedparser: %w: %s", err, strings.TrimSpace(stderr.String()))
	}
	var res struct {
		Bozo      bool
		Exception string
		Version   string
		Titles    []string
	}
	if err := json.Unmarshal(out, &res); err != nil {
		return nil, fmt.Errorf("feedparser: read result: %w", err)
	}
	if res.Bozo {
		return res.Titles, fmt.Errorf("feedparser: bozo: %s", res.Exception)
	}
	if res.Version == "" {
		return res.Titles, errors.New("feedparser: format not recognised")
	}
	return res.Titles, nil
}
