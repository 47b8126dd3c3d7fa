package topic_test

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/newsdesk/newsdesk/internal/topic"
)

func TestNewErrors(t *testing.T) {
	ok := topic.Definition{Slug: "ok", Title: "OK", Rule: term("visa")}
	with := func(f func(d *topic.Definition)) topic.Definition {
		d := ok
		f(&d)
		return d
	}
	rule := func(r topic.Rule) topic.Definition { return with(func(d *topic.Definition) { d.Rule = r }) }
	tests := []struct {
		name       string
		def        topic.Definition
		path, msg  string
		hintPrefix string
	}{
		{"slug required", with(func(d *topic.Definition) { d.Slug = "" }), "slug", "slug is required", `a short URL name such as "ok"`},
		{"slug with spaces", with(func(d *topic.Definition) { d.Slug = "Asia Pacific!" }), "slug",
			`slug "Asia Pacific!" is not URL-safe`, `try "asia-pacific"`},
		{"slug starting with a hyphen", with(func(d *topic.Definition) { d.Slug = "-x" }), "slug", "is not URL-safe", `try "x"`},
		{"title required", with(func(d *topic.Definition) { d.Title = " " }), "title", "title is required", ""},
		{"negative limit", with(func(d *topic.Definition) { d.Limit = -1 }), "limit", "limit -1 is negative", ""},
		{"negative max_age", with(func(d *topic.Definition) { d.MaxAge = -time.Hour }), "max_age", "max_age -1h0m0s is negative", ""},
		{"empty source name", with(func(d *topic.Definition) { d.Sources = []string{"wire", ""} }), "sources[1]", "source name is empty", ""},
		{"empty rule", rule(topic.Rule{}), "rule", "the rule is empty", "add a term"},
		{"empty clause", rule(topic.Rule{Any: []topic.Rule{term("a"), {}}}), "rule.any[1]",
			"a clause needs exactly one of term, regex, near, any, all, not", "give this clause one of them"},
		{"two kinds in one clause", rule(topic.Rule{Any: []topic.Rule{term("a"), {Term: "b", Regex: "c"}}}), "rule.any[1]",
			"a clause needs exactly one of term, regex, near, any, all, not", "this clause sets term and regex"},
		{"empty any", rule(topic.Rule{Any: []topic.Rule{}}), "rule.any", "any is empty", ""},
		{"empty all deep down", rule(topic.Rule{Not: &topic.Rule{All: []topic.Rule{}}}), "rule.not.all", "all is empty", ""},
		{"term without words", rule(topic.Rule{Term: "--"}), "rule.term", `term "--" has no letters or digits`, "terms match whole words"},
		{"unknown field", rule(topic.Rule{Term: "a", In: []topic.Field{"title", "titel"}}), "rule.in[1]", `unknown field "titel"`,
			"valid fields: title, lead, summary, content, categories, author, source, host"},
		{"empty in", rule(topic.Rule{Term: "a", In: []topic.Field{}}), "rule.in", "in is empty", ""},
		{"invalid regex", rule(topic.Rule{All: []topic.Rule{term("a"), {Regex: "visa("}}}), "rule.all[1].regex",
			"invalid regex: missing closing ): `(?i)visa(`", "regexes use Go RE2 syntax"},
		{"flag typo (i?)", rule(topic.Rule{Regex: "(i?)visa"}), "rule.regex", "(i?) is an optional letter i", "write (?i)"},
		{"lookahead", rule(topic.Rule{Regex: "visa(?!kha)"}), "rule.regex", "invalid regex", "RE2 has no lookaround"},
		{"backreference", rule(topic.Rule{Regex: `(a)\1`}), "rule.regex", "invalid regex", "RE2 has no backreferences"},
		{"regex matching empty text", rule(topic.Rule{Regex: "visa*|"}), "rule.regex", "matches empty text", ""},
		{"regex matching only a boundary", rule(topic.Rule{Regex: `\b`}), "rule.regex", "matches empty text", ""},
		{"negative weight", rule(topic.Rule{Any: []topic.Rule{{Term: "a", Weight: -1}}}), "rule.any[0].weight", "weight -1 is not a positive number", ""},
		{"NaN weight", rule(topic.Rule{Term: "a", Weight: math.NaN()}), "rule.weight", "is not a positive number", ""},
		{"min_score outside any", rule(topic.Rule{All: []topic.Rule{term("a")}, MinScore: 1}), "rule.min_score", "min_score only applies to any", ""},
		{"min_score out of reach", rule(topic.Rule{Any: []topic.Rule{term("a"), {Term: "b", Weight: 2}}, MinScore: 4}), "rule.min_score",
			"min_score 4 can never be reached: the weights under any add up to 3", ""},
		{"negative min_score", rule(topic.Rule{Any: []topic.Rule{term("a")}, MinScore: -1}), "rule.min_score", "min_score -1 is not a positive number", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tp, err := topic.New(tt.def)
			if err == nil {
				t.Fatalf("New = %v, nil; want an error at %s", tp, tt.path)
			}
			if tp != nil {
				t.Errorf("New returned a topic with an error")
			}
			e := findError(err, tt.path)
			if e == nil {
				t.Fatalf("no *topic.Error at %q in %v", tt.path, err)
			}
			if !strings.Contains(e.Msg, tt.msg) {
				t.Errorf("Msg = %q, want it to contain %q", e.Msg, tt.msg)
			}
			if !strings.HasPrefix(e.Hint, tt.hintPrefix) {
				t.Errorf("Hint = %q, want prefix %q", e.Hint, tt.hintPrefix)
			}
		})
	}
}

// findError returns the *topic.Error at path inside the joined err.
func findError(err error, path string) *topic.Error {
	var list []error
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		list = j.Unwrap()
	} else {
		list = []error{err}
	}
	for _, e := range list {
		if te, ok := errors.AsType[*topic.Error](e); ok && te.Path == path {
			return te
		}
	}
	return nil
}

func TestNewCollectsEveryError(t *testing.T) {
	_, err := topic.New(topic.Definition{Slug: "Bad Slug", Limit: -5, Rule: topic.Rule{Any: []topic.Rule{
		{Term: "a", Regex: "b"}, {Regex: "("}, {All: []topic.Rule{{Not: &topic.Rule{}}}}}}})
	for _, path := range []string{"slug", "title", "limit", "rule.any[0]", "rule.any[1].regex", "rule.any[2].all[0].not"} {
		if findError(err, path) == nil {
			t.Errorf("no error at %s in:\n%v", path, err)
		}
	}
}

func TestErrorString(t *testing.T) {
	tests := []struct {
		name string
		err  topic.Error
		want string
	}{
		{"with a hint", topic.Error{Path: "rule.any[2].regex", Msg: "bad", Hint: "fix it"}, "rule.any[2].regex: bad (hint: fix it)"},
		{"without a hint", topic.Error{Path: "slug", Msg: "slug is required"}, "slug: slug is required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.err.Error(); got != tt.want {
				t.Errorf("Error() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestNewDefaults(t *testing.T) {
	tp, err := topic.New(topic.Definition{Slug: "a-1", Title: "A", Rule: term("x")})
	if err != nil {
		t.Fatal(err)
	}
	if tp.Limit != 50 {
		t.Errorf("Limit = %d, want 50", tp.Limit)
	}
	tp, err = topic.New(topic.Definition{Slug: "a", Title: "A", Limit: 7, Rule: term("x")})
	if err != nil {
		t.Fatal(err)
	}
	if tp.Limit != 7 {
		t.Errorf("Limit = %d, want 7", tp.Limit)
	}
}
