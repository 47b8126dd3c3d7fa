// Package feedcheck checks feed documents against the rules of their specs,
// for tests: RSS 2.0 (with the RSS Best Practices Profile), Atom 1.0
// (RFC 4287, with jing and the Appendix B schema when jing is installed) and
// JSON Feed 1.1, plus a round trip through Python's feedparser, the parser
// most readers' behaviour resembles.
//
// Each checker returns nil or a Problems error listing every rule broken, so
// one failing test shows all of them. The package imports only the standard
// library so any package's tests can use it.
package feedcheck

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"strings"
)

// Problems lists the rules a document breaks, one sentence each.
type Problems []string

// Error joins the problems, one per line.
func (p Problems) Error() string {
	return strings.Join(p, "\n")
}

// add records a problem, formatted like fmt.Sprintf.
func (p *Problems) add(format string, args ...any) {
	*p = append(*p, fmt.Sprintf(format, args...))
}

// err returns p as an error, or nil when there are no problems. A nil
// Problems must not become a non-nil error interface.
func (p Problems) err() error {
	if len(p) == 0 {
		return nil
	}
	return p
}

// node is one element of a parsed XML document. Checking against a tree
// rather than unmarshalling into structs keeps namespaces exact: an
// encoding/xml field tagged "link" would also swallow atom:link.
type node struct {
	name xml.Name
	attr []xml.Attr
	text string // character data directly inside, concatenated
	kids []*node
}

// parseXML parses doc strictly (well-formedness, declared prefixes, legal
// characters) and returns its root element.
func parseXML(doc []byte) (*node, error) {
	dec := xml.NewDecoder(bytes.NewReader(doc))
	dec.Strict = true
	var root *node
	var stack []*node
	var text [][]byte // character data of each open element
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("not well-formed: %w", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			n := &node{name: t.Name, attr: t.Attr}
			if len(stack) == 0 {
				if root != nil {
					return nil, fmt.Errorf("not well-formed: second root element <%s>", t.Name.Local)
				}
				root = n
			} else {
				parent := stack[len(stack)-1]
				parent.kids = append(parent.kids, n)
			}
			stack = append(stack, n)
			text = append(text, nil)
		case xml.EndElement:
			n := stack[len(stack)-1]
			n.text = string(text[len(text)-1])
			stack, text = stack[:len(stack)-1], text[:len(text)-1]
		case xml.CharData:
			if len(text) > 0 {
				text[len(text)-1] = append(text[len(text)-1], t...)
			}
		}
	}
	if root == nil {
		return nil, fmt.Errorf("not well-formed: no root element")
	}
	return root, nil
}

// all returns the children named space+local.
func (n *node) all(space, local string) []*node {
	var out []*node
	for _, k := range n.kids {
		if k.name.Space == space && k.name.Local == local {
			out = append(out, k)
		}
	}
	return out
}

// one returns the first child named space+local, or nil.
func (n *node) one(space, local string) *node {
	for _, k := range n.kids {
		if k.name.Space == space && k.name.Local == local {
			return k
		}
	}
	return nil
}

// get returns the value of the un-namespaced attribute local.
func (n *node) get(local string) (string, bool) {
	for _, a := range n.attr {
		if a.Name.Space == "" && a.Name.Local == local {
			return a.Value, true
		}
	}
	return "", false
}

// textOf returns the trimmed text of n, or "" for a nil node.
func textOf(n *node) string {
	if n == nil {
		return ""
	}
	return strings.TrimSpace(n.text)
}
