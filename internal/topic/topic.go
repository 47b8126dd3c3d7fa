// Package topic decides which stories belong to which topic, and explains
// why.
//
// A topic's rule is a tree of clauses. Leaves are a Term, a Regex or a Near
// (terms within a few words of other terms); branches are Any, All and Not,
// nested to any depth.
//
// Text. Every clause reads one normalized plain text per field. Plain-text
// fields (the title, SummaryText, ContentText, categories, author and source
// names) are matched as they are: never read as HTML a second time, so
// "a<b", "<asylum>" and a literal "&amp;" keep their text. Summary and
// Content are read as HTML only when parse gave no plain text: tags stripped
// (inline tags such as <b> vanish, every other tag becomes a space), entities
// decoded. Then: Unicode NFKC (fullwidth letters and ligatures fold to their
// plain forms), every kind of space, zero-width space and control character
// folded to one ASCII space, soft hyphens and bidi marks removed, curly
// quotes folded to ' and ", Unicode hyphens and dashes folded to '-',
// whitespace collapsed. Multi-valued fields (categories, author names,
// source name and title) keep their values apart, so a phrase never runs
// from one value into the next. The host field is the link's host,
// lowercased, without "www.".
//
// Words. A word is a run of letters, digits and combining marks (any
// script); everything else, including '-' and the apostrophe, is a
// boundary. Han, kana and Hangul letters are each a word of their own, so a
// term in them matches inside a run of them. Case is compared by simple
// Unicode case folding (Σ, σ and ς are one letter).
//
// Terms. A term is split into words the same way as the text and matches
// where its words appear in sequence, whole. Between two words, a space, a
// hyphen or nothing (between CJK letters) are one and the same gap:
// "nuclear-powered" matches "nuclear powered"; other punctuation must be
// there as written ("U.S."). Punctuation at the ends of a term must be
// there too ("C++", "#MeToo"). Unless Exact or Case is set, each word of
// three or more ASCII letters matches its English word forms: the text's
// word and the term's word have the same Snowball English (Porter2) stem
// (deportation, deportations; detain, detained, detains; house, houses,
// housing). A word ending in '*' matches every word it begins (deport*:
// deport, deportee, deportees). A term naming a place (a country, or a
// region or place of the editorial policy) also matches the place's
// adjective and demonym (Japan: Japanese; Peru: Peruvian, Peruvians) unless
// Exact is set or NoDemonyms.
//
// Case. Matching ignores case unless Case is set. A field with no case
// information (no lower-case letter, or no upper-case one: ALL-CAPS and
// all-lower-case headlines) cannot confirm a case-sensitive term, so there
// a case-sensitive Term or Regex does not match on its own; inside a Near it
// matches ignoring case, and the words around it decide.
//
// Near matches where one of its terms and one of its With terms stand in the
// same field at most Within words apart, in either order: adjacent words are
// 1 apart, "ICE and Border Patrol agents" puts agents 4 words from ICE.
// MinCount on a term asks for that many occurrences in the clause's fields;
// on a Near, that many places where the two sides meet; on an Any, that
// many places found by its children together, each place (the word a match
// starts at) counted once however many children find it; a matched All is
// as often there as the clause of it (other than a Not) found least often,
// and a Not, a Regex or an Any with MinScore or MinCount counts one place
// when it matches ("three times in the body": {any: [rent, tenants,
// landlords], min_count: 3}). Apart, with MinCount on an Any, spreads the
// places out: in word order, a place counts only when it stands at least
// Apart words after the last place counted, or in another field, so one
// dense sentence ("Elsewhere, crude rose as OPEC barrels...") is one or two
// places and not four.
//
// Regexes are Go RE2 (https://golang.org/s/re2syntax), compiled once by
// New, run over each field's normalized text (not lowercased), with (?i)
// prepended unless Case is set. \b and \w are ASCII-only in RE2, so New
// refuses a \b beside a non-ASCII letter; terms match words of any script.
// A regex that can match empty text, that contains the "(i?)" typo, or
// whose cost on a long story passes MaxRegexCost, is refused.
//
// Host. A term read in the host field names a domain and matches whole
// labels from the right: "example.com" matches example.com and
// news.example.com, not example.com.evil.test or badexample.com. A term of
// one label names a site under any public suffix: "bbc" matches bbc.co.uk
// and bbc.com but not bbc.example.org, and "com" matches no .com site.
//
// Scope and case. In names the fields a clause and its children read
// (default title, summary, content); a child's In replaces its parent's.
// Case, Exact and NoDemonyms are inherited too.
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
// Examples are stories a topic must and must not match; New refuses a
// Definition whose rule gets one of them wrong, with the explanation.
//
// Topics and Sets are immutable after New and NewSet and safe for
// concurrent use.
package topic

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
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
	// Lead is the title and the opening LeadWords words of the summary and
	// of the content: where a news story states its subject.
	Lead Field = "lead"
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
	Examples    Examples // stories the rule must and must not match, checked by New
}

// Rule is one clause of the rule language. Exactly one of Term, Regex,
// Near, Any, All or Not is set.
type Rule struct {
	Term       string  // word or phrase, matched on word boundaries, with word forms
	Regex      string  // RE2
	Near       []Rule  // terms that must stand within Within words of one of With
	With       []Rule  // the other side of Near
	Within     int     // with Near: how many words apart the two sides may be (1: adjacent); 0 means DefaultWithin
	Case       bool    // case-sensitive (Term, Regex and Near's terms); inherited
	Exact      bool    // no word forms and no demonyms: the words as written; inherited
	NoDemonyms bool    // a place name matches only itself, not its adjective and demonym; inherited
	MinCount   int     // with Term, Near or Any: places needed in the clause's fields (see Count); 0 means 1
	Apart      int     // with MinCount on an Any: a place counts only this many words or more after the last one counted
	Any        []Rule  // matches when any child matches (or, with MinScore, when matched children's weights reach it)
	All        []Rule  // matches when every child matches
	Not        *Rule   // matches when the child does not
	In         []Field // fields this clause and its children look at; inherited; default title+summary+content
	Weight     float64 // score this clause adds when it matches; 0 means 1
	MinScore   float64 // with Any: the score the matched children must reach
	// Pos is where the clause is written ("config/newsdesk.yaml:88:11"), so
	// explanations can name it the way an editor finds it. It does not take
	// part in matching, nor in Fingerprint.
	Pos string `json:",omitempty"`
}

// Examples are stories a topic's rule must match and must not match: unit
// tests an editor writes beside the rule.
type Examples struct {
	Match, NoMatch []Example
}

// Example is one example story, in plain text.
type Example struct {
	Title      string
	Summary    string
	Categories []string
	Link       string
	Pos        string `json:",omitempty"` // where it is written, as Rule.Pos
}

// Story returns the example as a story, its summary as parse would give
// a plain-text one.
func (ex Example) Story() story.Story {
	return story.Story{Title: ex.Title, Summary: ex.Summary, SummaryText: ex.Summary,
		Categories: ex.Categories, Link: ex.Link}
}

// DefaultWithin is how many words apart Near lets its two sides be when
// Within is 0.
const DefaultWithin = 10

// Error is one problem in a Definition.
type Error struct {
	Path string // inside the Definition: "slug", "rule.any[2].regex", "examples.match[0]"
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
	keys   []key     // the words, stems and prefixes the rule's terms start with, by id
	fields fieldMask // fields the rule's terms read
	texts  fieldMask // fields some clause reads (a regex, a host term): the only ones a doc normalizes
	lex    func() *lexicon
	pin    map[string]bool
	block  map[string]bool
	source map[string]bool // nil: every source
}

// Explanation says why a story does or does not belong to a topic.
type Explanation struct {
	Matched, Pinned, Blocked bool
	Score                    float64
	// Reason is one sentence: the clause that took the story in, or the
	// nearest miss.
	Reason  string
	Clauses []Clause
}

// Clause is the outcome of one clause of the rule, in tree order.
type Clause struct {
	Path    string // in the Definition: "rule.any[2]"
	Pos     string `json:",omitempty"` // where it is written, from Rule.Pos
	Kind    string // term, regex, near, any, all or not
	Desc    string // what the clause looks for: `term "border patrol"`
	Depth   int    // 0 for the rule itself
	Matched bool
	Score   float64
	Field   Field    // where it matched first
	Words   []string // the text it matched (at most a few snippets)
	Count   int      `json:",omitempty"` // occurrences found, for a term with MinCount
	Of      int      `json:",omitempty"` // any and all: their number of clauses; a term with MinCount: the count needed
	Need    int      `json:",omitempty"` // an any or a near with MinCount: the places needed (Count says how many were found)
	Hits    int      `json:",omitempty"` // any and all: how many of their clauses matched
}

// DefaultLimit is the number of stories a topic feed carries when the
// Definition says 0.
const DefaultLimit = 50

// New checks and compiles def. It reports every problem it finds, as
// errors.Join of *Error values, so an admin fixes a config in one pass.
// An example the rule gets wrong is a problem too, explained.
func New(def Definition) (*Topic, error) {
	c := newCompiler()
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
	t := &Topic{Definition: def, rule: c.compile(&def.Rule, "rule", scope{fields: defaultFields})}
	if len(c.errs) > 0 {
		return nil, errors.Join(c.errs...)
	}
	setKeys(t.rule, len(c.keys))
	t.keys, t.fields, t.texts = c.keys, c.fields, c.texts
	t.lex = sync.OnceValue(func() *lexicon { return newLexicon(t.keys) })
	t.pin, t.block = set(def.Pin), set(def.Block)
	if len(def.Sources) > 0 {
		t.source = set(def.Sources)
	}
	if errs := t.checkExamples(); len(errs) > 0 {
		return nil, errors.Join(errs...)
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
	for _, r := range strings.ToLower(normalizeText(s)) {
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
	return t.match(s, newEvaluator(newDoc(s, t.fields, t.texts, t.lex()), nil, nil, len(t.keys)))
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

// MatchRule reports whether t's rule matches s, leaving out the gates (pin,
// block, sources, language): what examples and evaluations test.
func (t *Topic) MatchRule(s story.Story) bool {
	if t.rule == nil {
		return false
	}
	ok, _ := newEvaluator(newDoc(s, t.fields, t.texts, t.lex()), nil, nil, len(t.keys)).eval(t.rule)
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

// engineVersion changes whenever the same rules may match differently (word
// forms, tokenization), so that a new engine re-files stored stories.
const engineVersion = "2"

// Fingerprint is a digest of the topic definitions as far as matching goes:
// when it changes, stored stories must be re-classified. Where clauses are
// written (Rule.Pos) and the examples do not count, so a comment added
// above a rule re-files nothing.
func Fingerprint(defs []Definition) string {
	h := sha256.New()
	h.Write([]byte(engineVersion))
	enc := json.NewEncoder(h)
	for _, d := range defs {
		d.Rule = withoutPos(d.Rule)
		d.Examples = Examples{}
		enc.Encode(d) // plain data: cannot fail
	}
	return hex.EncodeToString(h.Sum(nil))
}

// withoutPos returns a copy of r with every Pos cleared.
func withoutPos(r Rule) Rule {
	r.Pos = ""
	clean := func(rs []Rule) []Rule {
		if rs == nil {
			return nil
		}
		out := make([]Rule, len(rs))
		for i, k := range rs {
			out[i] = withoutPos(k)
		}
		return out
	}
	r.Any, r.All, r.Near, r.With = clean(r.Any), clean(r.All), clean(r.Near), clean(r.With)
	if r.Not != nil {
		k := withoutPos(*r.Not)
		r.Not = &k
	}
	return r
}
