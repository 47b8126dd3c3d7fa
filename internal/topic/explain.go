package topic

import (
	"fmt"
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
	var clauses []Clause
	e := &evaluator{d: newDoc(s, t.fields, t.vocab), out: &clauses}
	ok, score := e.eval(t.rule)
	ex := Explanation{Matched: ok, Score: score, Clauses: clauses}
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
		ex.Reason = reason(t.rule, clauses, ok, score)
	}
	return ex
}

// reason sums up the rule's outcome in one line.
func reason(root *node, clauses []Clause, ok bool, score float64) string {
	if ok {
		for _, c := range clauses {
			if c.Matched && c.Field != "" {
				return fmt.Sprintf("%s matched in %s", c.Path, c.Field) + quoteWords(c.Words)
			}
		}
		return root.path + " matched"
	}
	switch root.kind {
	case kindAny:
		if root.minScore > 0 && score > 0 {
			return fmt.Sprintf("score %s below min_score %s", num(score), num(root.minScore))
		}
		return "no clause matched"
	case kindAll:
		for _, c := range clauses[1:] {
			if !c.Matched && strings.Count(c.Path, ".") == 1 {
				return c.Path + " did not match"
			}
		}
	case kindNot:
		return "excluded by " + root.path + quoteWords(clauses[1].Words)
	}
	return "no clause matched"
}

func quoteWords(words []string) string {
	if len(words) == 0 {
		return ""
	}
	return fmt.Sprintf(": %q", words[0])
}
