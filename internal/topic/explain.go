package topic

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/newsdesk/newsdesk/internal/story"
)

// Explain says why s does or does not belong to t. Every clause is
// evaluated, even after the outcome is known, so near misses show which
// clauses did match.
func (t *Topic) Explain(s story.Story) Explanation {
	if t.rule == nil {
		return Explanation{Reason: "topic was not compiled by topic.New"}
	}
	ex, nodes := t.explainRule(s)
	ex.Pinned, ex.Blocked = t.pinned(s), t.blocked(s)
	gate := t.gate(s)
	switch {
	case ex.Blocked:
		ex.Matched, ex.Reason = false, "blocked by admin"
	case ex.Pinned:
		ex.Matched, ex.Reason = true, "pinned by admin"
	case gate != "":
		ex.Matched, ex.Reason = false, gate
	default:
		ex.Reason = reason(ex.Clauses, nodes)
	}
	return ex
}

// ExplainRule is Explain without the gates (pin, block, sources, language):
// what the rule alone says about s.
func (t *Topic) ExplainRule(s story.Story) Explanation {
	if t.rule == nil {
		return Explanation{Reason: "topic was not compiled by topic.New"}
	}
	ex, nodes := t.explainRule(s)
	ex.Reason = reason(ex.Clauses, nodes)
	return ex
}

// explainRule evaluates every clause of the rule on s, returning the
// outcome and, beside each recorded clause, its node.
func (t *Topic) explainRule(s story.Story) (Explanation, []*node) {
	var clauses []Clause
	e := newEvaluator(newDoc(s, t.fields, t.texts, t.lex()), nil, nil, len(t.keys))
	e.out = &clauses
	ok, score := e.eval(t.rule)
	nodes := make([]*node, 0, len(clauses))
	walk(t.rule, func(n *node) { nodes = append(nodes, n) })
	for i := range clauses {
		clauses[i].Kind = nodes[i].kind.String()
	}
	return Explanation{Matched: ok, Score: score, Clauses: clauses}, nodes
}

// walk calls f on n and its descendants in the order eval records them.
func walk(n *node, f func(*node)) {
	f(n)
	if n.kind == kindNear {
		return // near records itself only
	}
	for _, k := range n.kids {
		walk(k, f)
	}
}

func (k kind) String() string {
	return [...]string{"term", "regex", "near", "any", "all", "not"}[k]
}

// reason sums up the rule's outcome in one sentence: the clause that took
// the story in, or else the nearest miss.
func reason(clauses []Clause, nodes []*node) string {
	if len(clauses) == 0 {
		return ""
	}
	if clauses[0].Matched {
		if i := fired(clauses); i >= 0 {
			return clauses[i].Sentence()
		}
		return clauses[0].Name() + " matched"
	}
	return miss(clauses, nodes, 0)
}

// fired returns the index of the first matched leaf whose every ancestor
// matched: the clause that took the story in. -1 when the rule matched
// through a not only.
func fired(clauses []Clause) int {
	var ok []bool // ok[d]: the open ancestor at depth d matched
	for i, c := range clauses {
		ok = append(ok[:c.Depth], c.Matched)
		if !c.Matched || c.Field == "" {
			continue
		}
		all := true
		for _, m := range ok {
			all = all && m
		}
		if all {
			return i
		}
	}
	return -1
}

// children returns the indexes of the clauses directly under clause i.
func children(clauses []Clause, i int) []int {
	var kids []int
	for j := i + 1; j < len(clauses) && clauses[j].Depth > clauses[i].Depth; j++ {
		if clauses[j].Depth == clauses[i].Depth+1 {
			kids = append(kids, j)
		}
	}
	return kids
}

// closeness says how near clause i came to matching, from 0 (found
// nothing) to 1 (matched), so an explanation can name the nearest miss.
func closeness(clauses []Clause, nodes []*node, i int) float64 {
	c, n := clauses[i], nodes[i]
	switch {
	case c.Matched:
		return 1
	case n.kind == kindAll:
		return float64(c.Hits) / float64(c.Of)
	case n.kind == kindAny && n.minScore > 0:
		return c.Score / n.minScore
	case n.kind == kindAny:
		best := 0.0
		for _, k := range children(clauses, i) {
			best = max(best, closeness(clauses, nodes, k))
		}
		return best
	case n.kind == kindNear && len(c.Words) > 0, n.kind == kindTerm && c.Count > 0:
		return 0.5
	}
	return 0
}

// miss explains why clause i did not match.
func miss(clauses []Clause, nodes []*node, i int) string {
	c, n := clauses[i], nodes[i]
	kids := children(clauses, i)
	switch n.kind {
	case kindAny:
		if n.minScore > 0 && c.Score > 0 {
			return fmt.Sprintf("%s scored %s, short of its min_score %s", c.Name(), num(c.Score), num(n.minScore)) +
				foundList(clauses, kids)
		}
		best, bestAt := 0.0, -1
		for _, k := range kids {
			if v := closeness(clauses, nodes, k); v > best {
				best, bestAt = v, k
			}
		}
		if bestAt < 0 {
			if len(kids) == 1 {
				return miss(clauses, nodes, kids[0])
			}
			return fmt.Sprintf("none of the %d clauses of %s found anything", len(kids), c.Name())
		}
		return "nearest miss: " + miss(clauses, nodes, bestAt)
	case kindAll:
		var missing []int
		for _, k := range kids {
			if !clauses[k].Matched {
				missing = append(missing, k)
			}
		}
		s := fmt.Sprintf("%s matched %d of its %d clauses", c.Name(), c.Hits, c.Of) + foundList(clauses, kids)
		if len(missing) > 0 {
			s += "; but " + miss(clauses, nodes, missing[0])
		}
		return s
	case kindNot:
		return clauses[kids[0]].Sentence() + ", so " + c.Name() + " kept the story out"
	}
	return c.Sentence()
}

// foundList names what the matched clauses among kids found: `: "Taiwan"
// in the title`.
func foundList(clauses []Clause, kids []int) string {
	var parts []string
	for _, k := range kids {
		if c := clauses[k]; c.Matched && len(c.Words) > 0 {
			parts = append(parts, strconv.Quote(c.Words[0])+" in the "+string(c.Field))
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return " (found " + strings.Join(parts, ", ") + ")"
}

// Name names the clause the way an editor finds it: what it looks for and
// where it is written (`term "ICE" (case-sensitive) at newsdesk.yaml:92:11`),
// or its path in the rule when its place is unknown.
func (c Clause) Name() string {
	if c.Pos != "" {
		return c.Desc + " at " + c.Pos
	}
	return c.Desc + " (" + c.Path + ")"
}

// Sentence says in words what the clause found.
func (c Clause) Sentence() string {
	name := c.Name()
	switch c.Kind {
	case "any":
		if c.Matched {
			return fmt.Sprintf("%s matched %d of its %d clauses", name, c.Hits, c.Of)
		}
		return fmt.Sprintf("%s: none of its %d clauses matched", name, c.Of)
	case "all":
		return fmt.Sprintf("%s matched %d of its %d clauses", name, c.Hits, c.Of)
	case "not":
		if c.Matched {
			return name + " let the story through: its clause found nothing"
		}
		return name + " kept the story out"
	}
	where := ""
	if c.Field != "" {
		where = " in the " + string(c.Field)
	}
	switch {
	case c.Matched && c.Of > 1:
		return fmt.Sprintf("%s found %s%s, %d times", name, quoteList(c.Words), where, c.Count)
	case c.Matched:
		return fmt.Sprintf("%s found %s%s", name, quoteList(c.Words), where)
	case c.Of > 1 && c.Count > 0:
		return fmt.Sprintf("%s found %s%s only %d of the %d times it needs", name, quoteList(c.Words), where, c.Count, c.Of)
	case c.Kind == "near" && len(c.Words) > 0:
		return fmt.Sprintf("%s found %s%s, but nothing of the other side close enough", name, quoteList(c.Words), where)
	}
	return name + " found nothing"
}

// quoteList quotes the first snippets: `"ICE", "Border Patrol"`.
func quoteList(words []string) string {
	if len(words) == 0 {
		return "it"
	}
	if len(words) > 3 {
		words = words[:3]
	}
	q := make([]string, len(words))
	for i, w := range words {
		q[i] = strconv.Quote(w)
	}
	return strings.Join(q, ", ")
}

// checkExamples runs the Definition's examples, returning an *Error for
// each one the rule gets wrong, with the explanation.
func (t *Topic) checkExamples() []error {
	var errs []error
	check := func(list []Example, name string, want bool) {
		for i, x := range list {
			path := fmt.Sprintf("examples.%s[%d]", name, i)
			if strings.TrimSpace(x.Title) == "" {
				errs = append(errs, &Error{Path: path, Msg: "example has no title", Hint: "write the headline, e.g. - ICE agents detain farmworkers"})
				continue
			}
			ex := t.ExplainRule(x.Story())
			if ex.Matched == want {
				continue
			}
			msg := fmt.Sprintf("example %q should match %s but does not: %s", x.Title, t.Slug, ex.Reason)
			hint := "widen the rule, or move the example to no_match if the policy leaves it out"
			if !want {
				msg = fmt.Sprintf("example %q should not match %s but does: %s", x.Title, t.Slug, ex.Reason)
				hint = "add an exclusion ({not: ...}) or context ({near: ...}), or move the example to match"
			}
			errs = append(errs, &Error{Path: path, Msg: msg, Hint: hint})
		}
	}
	check(t.Examples.Match, "match", true)
	check(t.Examples.NoMatch, "no_match", false)
	return errs
}
