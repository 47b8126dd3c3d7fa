// Package topic decides which stories belong to which topic.
//
// A topic's rule is a tree of clauses. Leaves are a Term or a Regex;
// branches are Any, All and Not, nested to any depth.
//
// Text. Every clause reads one normalized plain text per field: HTML tags
// stripped (inline tags such as <b> vanish, block tags become a space),
// entities decoded, Unicode NFKC (fullwidth letters and ligatures fold to
// their plain forms), every kind of space, zero-width space and control
// character folded to one ASCII space, soft hyphens and bidi marks removed,
// curly quotes folded to ' and ", Unicode hyphens and dashes folded to '-',
// whitespace collapsed. Summary and content are read from SummaryText and
// ContentText when set, else from the HTML. Multi-valued fields
// (categories, author names, source name and title) keep their values
// apart, so a phrase never runs from one value into the next. The host
// field is the link's host, lowercased, without "www.".
//
// Terms. A term is split into words the same way as the text: a word is a
// run of letters, digits and combining marks (any script); everything else,
// including '-' and the apostrophe, is a boundary. A term matches where its
// words appear in sequence, whole, with exactly the same gaps between them:
// "border patrol" matches "Border  Patrol" but not "borderline patrolling",
// "border-patrol" or "border. Patrol"; "nuclear-powered" matches only
// "nuclear-powered"; "nuclear" matches "nuclear-powered"; "South Korea"
// matches "South Korea's". Punctuation at the ends of a term must be there
// too ("C++", "#MeToo"). Matching ignores case (simple Unicode lowercasing)
// unless Case is set.
//
// Regexes are Go RE2 (https://golang.org/s/re2syntax), compiled once by
// New, run over each field's normalized text (not lowercased), with (?i)
// prepended unless Case is set.  and \w are ASCII-only in RE2. A regex
// that can match empty text, or that contains the "(i?)" typo, is refused.
//
// Scope and case. In names the fields a clause and its children read
// (default title, summary, content); a child's In replaces its parent's.
// Case is inherited too: under a case-sensitive parent, every leaf is
// case-sensitive.
//
// Scores. Weight (default 1) is what a clause adds to its parent when it
// matches. Any matches when one child matches or, with MinScore, when the
// weights of its matched children add up to MinScore ("two weak signals or
// one strong one"). A clause's Score in an Explanation is the sum of its
// matched children's weights for Any and All, else its weight when matched.
//
// Gates, in order: Block (story ID or link) keeps a story out and wins
// over Pin; Pin takes a story in regardless of sources, language and rule;
// then the story must come from one of Sources (when set), be in Language
// (when both are known: "en" takes "en-GB", not "eng") and match the rule.
//
// Topics and Sets are immutable after New and NewSet and safe for
// concurrent use.
package topic

import (
	"errors"
	"fmt"
	"strings"
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

// Topic is a compiled Definition. New fills defaults into the Definition
// (Limit 0 becomes 50).
type Topic struct {
	Definition
	rule   *node
	vocab  map[string]int32 // first words of the rule's terms
	fields fieldMask        // fields the rule's terms read
	pin    map[string]bool
	block  map[string]bool
	source map[string]bool // nil: every source
}

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

// DefaultLimit is the number of stories a topic feed carries when the
// Definition says 0.
const DefaultLimit = 50

// New checks and compiles def. It reports every problem it finds, as
// errors.Join of *Error values, so an admin fixes a config in one pass.
func New(def Definition) (*Topic, error) {
	c := &compiler{vocab: map[string]int32{}}
	switch {
	case def.Slug == "":
		c.fail("slug", "slug is required", "a short URL name such as "+strconvQuote(SuggestSlug(def.Title, "immigration")))
	case !ValidSlug(def.Slug):
		c.fail("slug", fmt.Sprintf("slug %q is not URL-safe: use lowercase letters, digits and hyphens, starting with a letter or digit", def.Slug),
			"try "+strconvQuote(SuggestSlug(def.Slug, "topic")))
	}
	if strings.TrimSpace(def.Title) == "" {
		c.fail("title", "title is required", "the human name shown in feed readers")
	}
	switch {
	case def.Limit < 0:
		c.fail("limit", fmt.Sprintf("limit %d is negative", def.Limit), "leave limit out for 50")
	case def.Limit == 0:
		def.Limit = DefaultLimit
	}
	if def.MaxAge < 0 {
		c.fail("max_age", fmt.Sprintf("max_age %s is negative", def.MaxAge), "leave max_age out for no limit")
	}
	for i, name := range def.Sources {
		if strings.TrimSpace(name) == "" {
			c.fail(fmt.Sprintf("sources[%d]", i), "source name is empty", "")
		}
	}
	t := &Topic{Definition: def, rule: c.compile(&def.Rule, "rule", defaultFields, false)}
	if len(c.errs) > 0 {
		return nil, errors.Join(c.errs...)
	}
	t.vocab, t.fields = c.vocab, c.fields
	t.pin, t.block = set(def.Pin), set(def.Block)
	if len(def.Sources) > 0 {
		t.source = set(def.Sources)
	}
	return t, nil
}

func set(list []string) map[string]bool {
	m := make(map[string]bool, len(list))
	for _, s := range list {
		if s != "" {
			m[s] = true
		}
	}
	return m
}

// ValidSlug reports whether s is lowercase letters and digits in words
// joined by single hyphens ("asia-pacific-security"): the form of topic slugs
// and source names, which appear in URLs and store keys.
func ValidSlug(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '-' {
			if i == 0 || i == len(s)-1 || s[i-1] == '-' {
				return false
			}
			continue
		}
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9') {
			return false
		}
	}
	return s != ""
}

// SuggestSlug turns s into a valid slug ("Asia Pacific!" → "asia-pacific"),
// or returns fallback when nothing is left.
func SuggestSlug(s, fallback string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(normalize(s)) {
		if 'a' <= r && r <= 'z' || '0' <= r && r <= '9' {
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			dash = false
			b.WriteRune(r)
		} else {
			dash = true
		}
	}
	if b.Len() == 0 {
		return fallback
	}
	return b.String()
}

func strconvQuote(s string) string { return `"` + s + `"` }

// Match reports whether s belongs to t: not blocked, and pinned or (from
// one of t's sources, in t's language, and matched by the rule).
// MaxAge is not applied here; the store query applies it.
func (t *Topic) Match(s story.Story) bool {
	return t.match(s, &evaluator{d: newDoc(s, t.fields, t.vocab)})
}

func (t *Topic) match(s story.Story, e *evaluator) bool {
	switch {
	case t.blocked(s):
		return false
	case t.pinned(s):
		return true
	case t.gate(s) != "" || t.rule == nil: // nil: a Topic not made by New
		return false
	}
	ok, _ := e.eval(t.rule)
	return ok
}

func (t *Topic) blocked(s story.Story) bool {
	return t.block[s.ID] || s.Link != "" && t.block[s.Link]
}

func (t *Topic) pinned(s story.Story) bool {
	return t.pin[s.ID] || s.Link != "" && t.pin[s.Link]
}

// gate returns why s is outside t's sources or language, or "".
func (t *Topic) gate(s story.Story) string {
	if t.source != nil && !t.source[s.Source] {
		return fmt.Sprintf("source %q not in topic sources", s.Source)
	}
	if !languageMatch(t.Language, s.Language) {
		return fmt.Sprintf("language %q is not %q", s.Language, t.Language)
	}
	return ""
}

// languageMatch reports whether the story language have is within want:
// "en" takes "en", "en-GB" and "en_gb" but not "eng". Either side empty
// means unknown, which is let through.
func languageMatch(want, have string) bool {
	if want == "" || have == "" {
		return true
	}
	want = strings.ToLower(strings.ReplaceAll(want, "_", "-"))
	have = strings.ToLower(strings.ReplaceAll(have, "_", "-"))
	return have == want || strings.HasPrefix(have, want+"-")
}
