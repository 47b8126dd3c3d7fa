package topic

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
)

type kind uint8

const (
	kindTerm kind = iota
	kindRegex
	kindAny
	kindAll
	kindNot
)

// node is one compiled clause.
type node struct {
	kind     kind
	path     string // "rule.any[2]"
	desc     string // `term "border patrol" in title,summary,content`
	weight   float64
	minScore float64 // kindAny only; 0 means any one child is enough
	fields   fieldMask
	caseSens bool
	term     *termPattern
	re       *regexp.Regexp
	needs    []literal // a regex match contains one of these; nil when unknown
	kids     []*node
}

// termPattern is a Term split the way text is split: its words, the exact
// gaps between them, and any punctuation glued to its ends.
type termPattern struct {
	low    []string // lowercased words
	orig   []string // words as written (after normalize), for case-sensitive terms
	gaps   []string // gaps[k] sits between word k and word k+1: " " for a space, "-" for a hyphen
	prefix string   // punctuation before the first word, e.g. "#" in "#MeToo"
	suffix string   // punctuation after the last word, e.g. "++" in "C++"
	first  int32    // vocabulary id of low[0] in the topic's vocabulary
}

// compiler turns a Rule tree into nodes, collecting every problem instead
// of stopping at the first (pitfall: invalid rules must fail loudly, all at once).
type compiler struct {
	errs   []error
	vocab  map[string]int32
	fields fieldMask // every field some term reads, so docs split only those into words
}

func (c *compiler) fail(path, msg, hint string) {
	c.errs = append(c.errs, &Error{Path: path, Msg: msg, Hint: hint})
}

// compile checks and compiles r at path. scope and caseSens are inherited
// from the parent. It returns nil when r is unusable (an error was recorded).
func (c *compiler) compile(r *Rule, path string, scope fieldMask, caseSens bool) *node {
	n := &node{path: path, weight: 1, fields: scope, caseSens: caseSens || r.Case}
	if r.In != nil {
		if len(r.In) == 0 {
			c.fail(path+".in", "in is empty", "leave in out to use title, summary and content")
		}
		var m fieldMask
		for i, f := range r.In {
			bit, ok := fieldBit(Field(strings.ToLower(strings.TrimSpace(string(f)))))
			if !ok {
				c.fail(fmt.Sprintf("%s.in[%d]", path, i), fmt.Sprintf("unknown field %q", f),
					"valid fields: "+strings.ReplaceAll(fieldMask(1<<len(fieldOrder)-1).String(), ",", ", "))
			}
			m |= bit
		}
		if m != 0 {
			n.fields = m
		}
	}
	switch {
	case math.IsNaN(r.Weight) || math.IsInf(r.Weight, 0) || r.Weight < 0:
		c.fail(path+".weight", fmt.Sprintf("weight %v is not a positive number", r.Weight), "leave weight out for 1")
	case r.Weight > 0:
		n.weight = r.Weight
	}

	var set []string
	if r.Term != "" {
		set = append(set, "term")
	}
	if r.Regex != "" {
		set = append(set, "regex")
	}
	if r.Any != nil {
		set = append(set, "any")
	}
	if r.All != nil {
		set = append(set, "all")
	}
	if r.Not != nil {
		set = append(set, "not")
	}
	if len(set) != 1 {
		hint := "give this clause one of them"
		if len(set) > 1 {
			hint = "this clause sets " + strings.Join(set, " and ") + "; put them in separate clauses under any or all"
		}
		if path == "rule" && len(set) == 0 {
			c.fail(path, "the rule is empty", "add a term, regex, any, all or not")
		} else {
			c.fail(path, "a clause needs exactly one of term, regex, any, all, not", hint)
		}
		return nil
	}
	if r.MinScore != 0 && r.Any == nil {
		c.fail(path+".min_score", "min_score only applies to any", "move min_score to an any clause")
	}

	switch set[0] {
	case "term":
		n.kind = kindTerm
		c.compileTerm(n, r.Term)
	case "regex":
		n.kind = kindRegex
		c.compileRegex(n, r.Regex)
	case "any", "all":
		kids, name := r.Any, "any"
		n.kind = kindAny
		if r.All != nil {
			kids, name = r.All, "all"
			n.kind = kindAll
		}
		if len(kids) == 0 {
			c.fail(path+"."+name, name+" is empty", "list at least one clause under "+name)
			return nil
		}
		total := 0.0
		for i := range kids {
			kid := c.compile(&kids[i], fmt.Sprintf("%s.%s[%d]", path, name, i), n.fields, n.caseSens)
			if kid != nil {
				n.kids = append(n.kids, kid)
				total += kid.weight
			}
		}
		if len(n.kids) != len(kids) {
			return nil
		}
		n.desc = fmt.Sprintf("%s of %d", name, len(kids))
		if r.MinScore != 0 && n.kind == kindAny {
			switch {
			case math.IsNaN(r.MinScore) || math.IsInf(r.MinScore, 0) || r.MinScore < 0:
				c.fail(path+".min_score", fmt.Sprintf("min_score %v is not a positive number", r.MinScore), "")
			case r.MinScore > total:
				c.fail(path+".min_score", fmt.Sprintf("min_score %s can never be reached: the weights under any add up to %s",
					num(r.MinScore), num(total)), "lower min_score or raise some weights")
			default:
				n.minScore = r.MinScore
				n.desc += " (min_score " + num(r.MinScore) + ")"
			}
		}
	case "not":
		n.kind = kindNot
		kid := c.compile(r.Not, path+".not", n.fields, n.caseSens)
		if kid == nil {
			return nil
		}
		n.kids = []*node{kid}
		n.desc = "not"
	}
	if n.weight != 1 {
		n.desc += " weight " + num(n.weight)
	}
	return n
}

func (c *compiler) compileTerm(n *node, term string) {
	text := normalize(term)
	lowerBytes, spans := words(text, 0, nil, nil)
	if len(spans) == 0 {
		c.fail(n.path+".term", fmt.Sprintf("term %q has no letters or digits", term),
			"terms match whole words; use regex to match punctuation")
		return
	}
	low := string(lowerBytes)
	t := &termPattern{prefix: text[:spans[0].start], suffix: text[spans[len(spans)-1].end:]}
	for i, sp := range spans {
		t.low = append(t.low, low[sp.lstart:sp.lend])
		t.orig = append(t.orig, text[sp.start:sp.end])
		if i > 0 {
			t.gaps = append(t.gaps, text[spans[i-1].end:sp.start])
		}
	}
	id, ok := c.vocab[t.low[0]]
	if !ok {
		id = int32(len(c.vocab))
		c.vocab[t.low[0]] = id
	}
	t.first = id
	n.term = t
	c.fields |= n.fields
	n.desc = fmt.Sprintf("term %q in %s", text, n.fields)
	if n.caseSens {
		n.desc += " case-sensitive"
	}
}

// num formats a weight or score without trailing zeros.
func num(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }
