package topic

import "github.com/newsdesk/newsdesk/internal/story"

// MatchExhaustive is t's rule on s walked without the shortcuts that turn
// clauses away before they are evaluated.
func MatchExhaustive(t *Topic, s story.Story) bool {
	e := newEvaluator(newDoc(s, t.fields, t.texts, t.lex()), nil, nil, len(t.keys))
	e.exhaustive = true
	ok, _ := e.eval(t.rule)
	return ok
}
