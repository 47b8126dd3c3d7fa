// Package topic decides which stories belong to which topic.
package topic

import (
	"errors"
	"time"

	"github.com/newsdesk/newsdesk/internal/story"
)

// Field names a part of a story a clause can look at.
type Field string

// The fields a clause can scope to. The default scope is title, summary and content.
const (
	Title      Field = "title"
	Summary    Field = "summary"
	Content    Field = "content"
	Categories Field = "categories"
	Author     Field = "author"
	SourceName Field = "source"
	LinkHost   Field = "host"
)

// Definition is a topic as an admin writes it in the config.
type Definition struct {
	Slug        string
	Title       string
	Description string
	Sources     []string      // source names; empty means all
	Limit       int           // stories per feed; 0 means 50
	MaxAge      time.Duration // 0 means no limit
	Language    string        // only stories in this language (prefix match, "en" takes "en-GB"); "" takes all
	Pin         []string      // story links or ids forced in
	Block       []string      // story links or ids forced out
	Rule        Rule
}

// Rule is one clause of the rule language. Exactly one of Term, Regex, Any,
// All or Not is set.
type Rule struct {
	Term     string  // word or phrase, matched on word boundaries
	Regex    string  // RE2
	Case     bool    // case-sensitive (Term and Regex)
	Any      []Rule  // matches when any child matches (or, with MinScore, when matched children's weights reach it)
	All      []Rule  // matches when every child matches
	Not      *Rule   // matches when the child does not
	In       []Field // fields this clause and its children look at; inherited; default title+summary+content
	Weight   float64 // score this clause adds when it matches; 0 means 1
	MinScore float64 // with Any: the score the matched children must reach
}

// Error is one problem in a Definition.
type Error struct {
	Path string // inside the Definition: "slug", "rule.any[2].regex"
	Msg  string
	Hint string
}

func (e *Error) Error() string {
	if e.Hint == "" {
		return e.Path + ": " + e.Msg
	}
	return e.Path + ": " + e.Msg + " (hint: " + e.Hint + ")"
}

// Topic is a compiled Definition.
type Topic struct {
	Definition
}

// Set is the compiled topics of one config.
type Set struct{ topics []*Topic }

// Explanation says why a story does or does not belong to a topic.
type Explanation struct {
	Matched, Pinned, Blocked bool
	Score                    float64
	Reason                   string
	Clauses                  []Clause
}

// Clause is the outcome of one clause of the rule.
type Clause struct {
	Path, Desc string
	Matched    bool
	Score      float64
	Field      Field
	Words      []string
}

// New compiles def.
func New(def Definition) (*Topic, error) { return nil, errors.New("topic: not implemented") }

// NewSet returns a Set of the given topics, in order.
func NewSet(topics ...*Topic) *Set { return &Set{topics: topics} }

// Topics returns the topics in config order.
func (set *Set) Topics() []*Topic { return set.topics }

// Lookup returns the topic with slug, or nil.
func (set *Set) Lookup(slug string) *Topic { return nil }

// Match reports whether s belongs to t.
func (t *Topic) Match(s story.Story) bool { return false }

// Explain says why s does or does not belong to t.
func (t *Topic) Explain(s story.Story) Explanation { return Explanation{} }

// Classify returns the slugs of the topics s belongs to.
func (set *Set) Classify(s story.Story) []string { return nil }
