package topic_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/newsdesk/newsdesk/internal/story"
	"github.com/newsdesk/newsdesk/internal/topic"
)

// titleCase runs one rule per row over a title.
type titleCase struct {
	name  string
	rule  topic.Rule
	title string
	want  bool
}

func runTitles(t *testing.T, tests []titleCase) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := mustNew(t, tt.rule).Match(story.Story{Title: tt.title}); got != tt.want {
				t.Errorf("%+v on %q: Match = %v, want %v", tt.rule, tt.title, got, tt.want)
			}
		})
	}
}

func exact(s string) topic.Rule { return topic.Rule{Term: s, Exact: true} }

func TestWordForms(t *testing.T) {
	runTitles(t, []titleCase{
		{"plural", term("refugee"), "Refugees cross the river", true},
		{"singular from a plural term", term("refugees"), "A refugee speaks", true},
		{"possessive", term("migrant"), "A migrant's story", true},
		{"verb forms", term("deport"), "Hundreds deported overnight", true},
		{"verb -ing", term("deport"), "Deporting families", true},
		{"noun and verb share a stem", term("deportation"), "Deported to Honduras", true},
		{"word forms inside a phrase", term("border crossing"), "Border crossings fall", true},
		{"later words of a phrase too", term("asylum seeker"), "Asylum seekers wait", true},
		{"-ies plurals", term("policy"), "New policies on visas", true},
		{"state is not statement", term("state"), "A statement from the ministry", false},
		{"statement is not state", term("statement"), "State of emergency", false},
		{"detain is not detention: different stems", term("detain"), "Detention centre opens", false},
		{"gas is not gases in Porter2", term("gas"), "Greenhouse gases rise", false},
		{"house and housing share a stem", term("housing"), "White House statement", true},
		{"exact keeps the word as written", exact("refugee"), "Refugees cross the river", false},
		{"exact still takes the possessive", exact("refugee"), "The refugee's lawyer", true},
		{"case-sensitive words are exact", topic.Rule{Term: "ICE", Case: true}, "ICEs detain", false},
		{"exact is inherited", topic.Rule{Exact: true, Any: []topic.Rule{term("refugee")}}, "Refugees arrive", false},
		{"two-letter words are as written", term("EU"), "EUs meet", false},
		{"words with digits are as written", term("G7"), "G7 summit", true},
		{"non-English words are as written", term("émigré"), "Les émigrés", false},
		{"whole words still", term("visa"), "Visakhapatnam port", false},
	})
}

func TestWildcards(t *testing.T) {
	runTitles(t, []titleCase{
		{"prefix matches longer words", term("deport*"), "Deportees land in Guatemala", true},
		{"prefix matches the word itself", term("deport*"), "They will deport him", true},
		{"prefix is a beginning, not a part", term("deport*"), "Reports of raids", false},
		{"wildcard inside a phrase", term("border cross*"), "Border crossers detained", true},
		{"wildcard and word forms together", term("detain* migrant"), "Detainees and migrants", false},
		{"wildcard and word forms together, adjacent", term("detain* migrant"), "Detained migrants", true},
		{"wildcard keeps case", topic.Rule{Term: "NATO*", Case: true}, "NATO's summit", true},
		{"wildcard keeps case, refusing", topic.Rule{Term: "NATO*", Case: true}, "Natorp spoke", false},
		{"non-ASCII prefix", term("émigr*"), "Les émigrés reviennent", true},
	})
}

func TestDemonyms(t *testing.T) {
	noDem := func(s string) topic.Rule { return topic.Rule{Term: s, NoDemonyms: true} }
	runTitles(t, []titleCase{
		{"Japan: Japanese", term("Japan"), "Japanese destroyer sails", true},
		{"Mexico: Mexicans", term("Mexico"), "Mexicans vote", true},
		{"Peru: Peruvian", term("Peru"), "Peruvian police raid", true},
		{"Peru: Peruvians", term("Peru"), "Peruvians protest", true},
		{"Ukraine: Ukrainians", term("Ukraine"), "Ukrainians return home", true},
		{"Philippines: Filipino", term("Philippines"), "Filipino fishermen", true},
		{"Philippines: Philippine", term("Philippines"), "Philippine coast guard", true},
		{"South Korea: South Korean", term("South Korea"), "South Korean drills", true},
		{"South Korea is not North Korean", term("South Korea"), "North Korean missile", false},
		{"place inside a phrase", term("Japan coast guard"), "Japanese coast guard vessel", true},
		{"region: Latin American", term("Latin America"), "Latin American leaders meet", true},
		{"region: Southeast Asian", term("Southeast Asia"), "Southeast Asian navies", true},
		{"hyphenated place", term("Guinea-Bissau"), "Bissau-Guinean officials", true},
		{"the place itself", term("Japan"), "Japan's defence budget", true},
		{"exact opts out", exact("Japan"), "Japanese destroyer sails", false},
		{"demonyms: false opts out", noDem("Japan"), "Japanese destroyer sails", false},
		{"demonyms: false keeps word forms", noDem("refugee"), "Refugees arrive", true},
		{"only places expand", term("American"), "America first", false},
		{"a case-sensitive place is exact", topic.Rule{Term: "Japan", Case: true}, "Japanese ships", false},
	})
}

func near(left, right []topic.Rule, within int) topic.Rule {
	return topic.Rule{Near: left, With: right, Within: within}
}

func terms(s ...string) []topic.Rule {
	out := make([]topic.Rule, len(s))
	for i, w := range s {
		out[i] = term(w)
	}
	return out
}

func TestNear(t *testing.T) {
	agency := near(terms("ICE"), terms("agents", "raid", "detain*", "immigration"), 4)
	runTitles(t, []titleCase{
		{"within the distance", agency, "ICE and Border Patrol agents", true},
		{"adjacent", agency, "ICE agents detain a farmworker", true},
		{"too far apart", agency, "ICE said on Tuesday that its agents", false},
		{"either order", agency, "Agents of ICE", true},
		{"word forms on both sides", agency, "Immigration raids: ICE confirms", true},
		{"no partner", agency, "Ice storm hits Texas", false},
		{"within 1 is adjacent", near(terms("power"), terms("grid"), 1), "Power grid strain", true},
		{"within 1 refuses a word between", near(terms("power"), terms("grid"), 1), "Power and grid", false},
		{"phrases on a side", near(terms("power grid"), terms("outage"), 5), "Outages hit the power grid", true},
		{"default distance is 10 words", near(terms("grid"), terms("outage"), 0), "grid a b c d e f g h i outage", true},
		{"default distance is 10 words, not 11", near(terms("grid"), terms("outage"), 0), "grid a b c d e f g h i j outage", false},
		{"overlapping words are not near", near(terms("grid"), terms("power grid"), 3), "the power grid", false},
	})
	tp := mustNew(t, agency)
	if tp.Match(story.Story{Title: "ICE", SummaryText: "agents"}) {
		t.Error("near matched across fields")
	}
	if !tp.Match(story.Story{Title: "Raids", SummaryText: "ICE agents"}) {
		t.Error("near missed in the summary")
	}
}

func TestMinCount(t *testing.T) {
	grid := topic.Rule{Term: "grid", MinCount: 2, In: []topic.Field{topic.Content}}
	// "In the title, or at least twice in the body."
	titleOrTwice := topic.Rule{Any: []topic.Rule{{Term: "grid", In: []topic.Field{topic.Title}}, grid}}
	tests := []struct {
		name string
		rule topic.Rule
		s    story.Story
		want bool
	}{
		{"twice", grid, story.Story{ContentText: "The grid held. Grid operators relaxed."}, true},
		{"once is not enough", grid, story.Story{ContentText: "Verstappen starts from the back of the grid."}, false},
		{"word forms count", grid, story.Story{ContentText: "Grids and more grids."}, true},
		{"only its fields count", grid, story.Story{Title: "Grid", ContentText: "the grid"}, false},
		{"title or twice: title", titleOrTwice, story.Story{Title: "Grid under strain", ContentText: "Demand rose."}, true},
		{"title or twice: twice in the body", titleOrTwice, story.Story{Title: "Heatwave", ContentText: "The grid held; grid operators relaxed."}, true},
		{"title or twice: once in the body", titleOrTwice, story.Story{Title: "Race report", ContentText: "He started tenth on the grid."}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := mustNew(t, tt.rule).Match(tt.s); got != tt.want {
				t.Errorf("Match = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestLead: the lead is the title and the opening words of the summary and
// of the content, where a story says what it is about; a word deeper in a
// long body is a passing mention.
func TestLead(t *testing.T) {
	filler := strings.Repeat("word ", topic.LeadWords-1)
	lead := topic.Rule{Term: "tenants", In: []topic.Field{topic.Lead}}
	leadRegex := topic.Rule{Regex: `\btenants\b`, In: []topic.Field{topic.Lead}}
	nearInLead := topic.Rule{Near: terms("rent"), With: terms("tenants"), Within: 3, In: []topic.Field{topic.Lead}}
	tests := []struct {
		name string
		rule topic.Rule
		s    story.Story
		want bool
	}{
		{"in the title", lead, story.Story{Title: "Tenants win", ContentText: "A ruling."}, true},
		{"opening of the summary", lead, story.Story{Title: "A ruling", SummaryText: "Tenants won on Monday."}, true},
		{"opening of the content", lead, story.Story{Title: "A ruling", ContentText: "Tenants won on Monday."}, true},
		{"last word of the lead", lead, story.Story{Title: "A ruling", ContentText: filler + "tenants and more"}, true},
		{"first word past the lead", lead, story.Story{Title: "A ruling", ContentText: filler + "word tenants"}, false},
		{"deep in the body", lead, story.Story{Title: "A ruling", SummaryText: "A ruling.", ContentText: filler + "word tenants"}, false},
		{"not the categories", lead, story.Story{Title: "A ruling", Categories: []string{"Tenants"}}, false},
		{"regex in the lead", leadRegex, story.Story{Title: "A ruling", SummaryText: "Tenants won."}, true},
		{"regex past the lead", leadRegex, story.Story{Title: "A ruling", ContentText: filler + "word tenants"}, false},
		{"near in the lead", nearInLead, story.Story{Title: "A ruling", SummaryText: "Rent rises for tenants."}, true},
		{"near past the lead", nearInLead, story.Story{Title: "A ruling", SummaryText: filler + "word rent rises for tenants"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := mustNew(t, tt.rule).Match(tt.s); got != tt.want {
				t.Errorf("Match = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestMinCountPlaces: min_count on an any counts the places its clauses
// find together, each word once; on a near, the places the sides meet.
func TestMinCountPlaces(t *testing.T) {
	body := []topic.Field{topic.Summary, topic.Content}
	three := topic.Rule{Any: terms("rent", "tenants", "landlord", "rent control"), MinCount: 3, In: body}
	withBranch := topic.Rule{Any: []topic.Rule{term("rent"), {All: terms("eviction", "court")}}, MinCount: 2, In: body}
	allPlaces := topic.Rule{Any: []topic.Rule{{All: []topic.Rule{term("visa"), {Not: &topic.Rule{Term: "football"}}}}}, MinCount: 2}
	allRarest := topic.Rule{Any: []topic.Rule{{All: terms("Cuba", "sanctions")}}, MinCount: 2}
	twoPlaces := topic.Rule{Near: terms("grid"), With: terms("power"), Within: 2, MinCount: 2}
	// A near that asks for two places and finds one does not match, so
	// under a min_count any it finds none.
	nearInAny := topic.Rule{Any: []topic.Rule{twoPlaces, term("outage")}, MinCount: 2}
	// Places spread out: one dense sentence is one place.
	spread := topic.Rule{Any: terms("crude", "OPEC", "barrels", "refinery"), MinCount: 3, Apart: 6, In: body}
	filler := " The report runs to many pages and covers a range of matters."
	spread2 := topic.Rule{Any: terms("crude", "barrels"), MinCount: 2, Apart: 6, In: body}
	tests := []struct {
		name string
		rule topic.Rule
		s    story.Story
		want bool
	}{
		{"three words", three, story.Story{ContentText: "Rent rose; tenants and a landlord met."}, true},
		{"one word three times", three, story.Story{ContentText: "Rent, rents and more rent."}, true},
		{"two places", three, story.Story{ContentText: "Rent rose; tenants met."}, false},
		{"a place found by two terms is one place", three, story.Story{ContentText: "Rent control; tenants met."}, false},
		{"only its fields", three, story.Story{Title: "Rent", ContentText: "Tenants; a landlord."}, false},
		{"a branch is one place", withBranch, story.Story{ContentText: "Rent rose; eviction court."}, true},
		{"a branch that does not match counts nothing", withBranch, story.Story{ContentText: "Rent rose; eviction."}, false},
		{"a matched all finds its clauses' places", allPlaces, story.Story{ContentText: "Visa rules; a visa fee."}, true},
		{"an all is as often there as its rarest clause", allRarest, story.Story{ContentText: "Cuba, Cuba and Cuba under sanctions."}, false},
		{"an all found twice", allRarest, story.Story{ContentText: "Cuba under sanctions; Cuba's sanctions bite."}, true},
		{"an all kept out by its not counts nothing", allPlaces, story.Story{ContentText: "Visa rules; a visa fee; football."}, false},
		{"near twice", twoPlaces, story.Story{Title: "Power grid down; the grid lost power"}, true},
		{"near once", twoPlaces, story.Story{Title: "Power grid down; the grid"}, false},
		{"a near short of its min_count counts nothing", nearInAny, story.Story{Title: "Power grid down after an outage"}, false},
		{"a near with its places counts them", nearInAny, story.Story{Title: "Power grid down; the grid lost power"}, true},
		{"places crowded in one sentence", spread, story.Story{ContentText: "Elsewhere OPEC crude barrels rose." + filler}, false},
		{"places spread over the story", spread, story.Story{ContentText: "OPEC met." + filler + " Crude rose." + filler + " Barrels."}, true},
		{"exactly apart words after the last", spread, story.Story{ContentText: "Crude one two three four five OPEC one two three four five barrels"}, true},
		{"one word short", spread, story.Story{ContentText: "Crude one two three four OPEC one two three four barrels"}, false},
		{"another field is apart", spread2, story.Story{SummaryText: "Crude rose.", ContentText: "Barrels fell."}, true},
		{"the same field is not", spread2, story.Story{ContentText: "Crude rose. Barrels fell."}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tp := mustNew(t, tt.rule)
			if got := tp.Match(tt.s); got != tt.want {
				t.Errorf("Match = %v, want %v", got, tt.want)
			}
			if ex := tp.Explain(tt.s); ex.Matched != tt.want {
				t.Errorf("Explain.Matched = %v, want %v: %s", ex.Matched, tt.want, ex.Reason)
			}
		})
	}
}

// TestCaseInCaselessText: a title in ALL CAPS or all lower case says nothing
// about case, so a case-sensitive term neither matches every ALL-CAPS "ICE"
// nor needs the agency's capitals there: near clauses decide.
func TestCaseInCaselessText(t *testing.T) {
	ice := topic.Rule{Term: "ICE", Case: true}
	agency := topic.Rule{Any: []topic.Rule{
		ice,
		near([]topic.Rule{ice}, terms("agent", "raid", "detain*", "deport*", "immigration", "arrest"), 5),
	}}
	runTitles(t, []titleCase{
		{"cased text: the agency", ice, "ICE agents detain a farmworker", true},
		{"cased text: the weather", ice, "Ice storm hits Texas", false},
		{"ALL CAPS is no evidence for the term alone", ice, "ICE STORM HITS TEXAS", false},
		{"lower case is no evidence either", ice, "ice agents detain a farmworker", false},
		{"ALL CAPS: context says agency", agency, "ICE AGENTS DETAIN A FARMWORKER", true},
		{"ALL CAPS: context says weather", agency, "ICE STORM HITS TEXAS", false},
		{"lower case: context says agency", agency, "ice agents detain a farmworker", true},
		{"lower case: context says weather", agency, "ice storm glazes roads", false},
		{"cased text: near keeps the case", agency, "Ice agents of the hockey club", false},
		{"case-sensitive regex too", topic.Rule{Regex: `\bICE\b`, Case: true}, "ICE STORM HITS TEXAS", false},
	})
}

// TestIssue7Bugs holds one regression test for each bug issue 7 lists; each
// failed on the engine before the fix.
func TestIssue7Bugs(t *testing.T) {
	host := func(s string) topic.Rule { return topic.Rule{Term: s, In: []topic.Field{topic.LinkHost}} }
	tests := []struct {
		name string
		rule topic.Rule
		s    story.Story
		want bool
	}{
		{"plain title with a<b keeps its words", term("asylum seekers"), story.Story{Title: "Why a<b matters for asylum seekers"}, true},
		{"plain title with a literal <asylum>", term("asylum"), story.Story{Title: "The word <asylum> in law"}, true},
		{"plain summary text is not read as HTML", term("asylum"), story.Story{SummaryText: "x<asylum>y", Summary: "x&lt;asylum&gt;y"}, true},
		{"plain title is not decoded twice", term("AT&T"), story.Story{Title: "AT&amp;T merger"}, false},
		{"the literal text still matches", term("AT&amp;T"), story.Story{Title: "AT&amp;T merger"}, true},
		{"header is a word boundary in HTML", term("migrants detained"), story.Story{Content: "<header>Migrants</header>detained"}, true},
		{"footer, aside, nav, main too", term("asylum"), story.Story{Content: "<nav>a</nav>asylum<footer>b</footer><aside>c</aside><main>d</main>"}, true},
		{"Greek final sigma folds", term("Οδυσσευς"), story.Story{Title: "ΟΔΥΣΣΕΥΣ"}, true},
		{"Greek final sigma folds the other way", term("ΟΔΥΣΣΕΥΣ"), story.Story{Title: "Οδυσσευς"}, true},
		{"CJK term inside a run of CJK text", term("尖閣"), story.Story{Title: "尖閣諸島の周辺で中国海警局の船"}, true},
		{"CJK term not there", term("尖閣"), story.Story{Title: "台湾海峡で演習"}, false},
		{"Korean noun with its particle", term("북한"), story.Story{Title: "북한의 미사일 발사"}, true},
		{"hyphen and space: nuclear-powered", term("nuclear-powered"), story.Story{Title: "A nuclear powered submarine"}, true},
		{"hyphen and space: Border Patrol", term("Border Patrol"), story.Story{Title: "Border-Patrol agents"}, true},
		{"host: the domain", host("example.com"), story.Story{Link: "https://example.com/a"}, true},
		{"host: a subdomain", host("example.com"), story.Story{Link: "https://news.example.com/a"}, true},
		{"host: not a longer name to the right", host("example.com"), story.Story{Link: "https://example.com.evil.test/a"}, false},
		{"host: not a longer label", host("example.com"), story.Story{Link: "https://badexample.com/a"}, false},
		{"host: com is no site", host("com"), story.Story{Link: "https://www.example.com/a"}, false},
		{"host: one label names a site under any suffix", host("bbc"), story.Story{Link: "https://www.bbc.co.uk/news/1"}, true},
		{"host: one label, another suffix", host("bbc"), story.Story{Link: "https://bbc.com/news/1"}, true},
		{"host: one label is not a subdomain", host("bbc"), story.Story{Link: "https://bbc.example.org/"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := mustNew(t, tt.rule).Match(tt.s); got != tt.want {
				t.Errorf("Match(%+v) = %v, want %v", tt.s, got, tt.want)
			}
		})
	}
}

func TestNewRefuses(t *testing.T) {
	var alts []string
	for i := range 100 {
		alts = append(alts, fmt.Sprintf(`[a-z]{%d}\s[a-z]{%d}\d`, 2+i%7, 3+i%5))
	}
	tests := []struct {
		name      string
		rule      topic.Rule
		path, msg string
	}{
		{"ASCII-only \\b beside a non-ASCII letter", topic.Rule{Regex: `\bÉmigré`}, "rule.regex", `\b beside 'é'`},
		{"ASCII-only \\b after a non-ASCII letter", topic.Rule{Regex: `émigré\b`}, "rule.regex", `\b beside 'é'`},
		{"a costly regex, with its cost", topic.Rule{Any: []topic.Rule{term("x"), {Regex: strings.Join(alts, "|")}}}, "rule.any[1].regex", "per story (limit "},
		{"wildcard too short", term("de*"), "rule.term", `wildcard "de*" is too short`},
		{"star inside a word", term("de*port"), "rule.term", "has a '*' inside a word"},
		{"star alone", term("* border"), "rule.term", "follows no word"},
		{"min_count on an all", topic.Rule{All: terms("a"), MinCount: 2}, "rule.min_count", "only applies to a term, a near or an any"},
		{"min_count on a regex", topic.Rule{Regex: "a+", MinCount: 2}, "rule.min_count", "only applies to a term, a near or an any"},
		{"min_count with min_score", topic.Rule{Any: terms("a", "b"), MinCount: 2, MinScore: 1}, "rule.min_count", "cannot both apply"},
		{"apart without min_count", topic.Rule{Any: terms("a", "b"), Apart: 5}, "rule.apart", "only applies to an any with min_count"},
		{"apart on a near", topic.Rule{Near: terms("a"), With: terms("b"), MinCount: 2, Apart: 5}, "rule.apart", "only applies to an any"},
		{"negative apart", topic.Rule{Any: terms("a", "b"), MinCount: 2, Apart: -1}, "rule.apart", "apart -1 is negative"},
		{"with outside near", topic.Rule{Term: "a", With: terms("b")}, "rule.with", "only apply to near"},
		{"near of a regex", topic.Rule{Near: []topic.Rule{{Regex: "x"}}, With: terms("b")}, "rule.near[0]", "near and with list terms"},
		{"near without with", topic.Rule{Near: terms("a")}, "rule.with", "with is empty"},
		{"negative within", near(terms("a"), terms("b"), -1), "rule.within", "within -1 is negative"},
		{"host term that is no domain", topic.Rule{Term: "a b", In: []topic.Field{topic.LinkHost}}, "rule.term", "is not a domain name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := topic.New(topic.Definition{Slug: "t", Title: "T", Rule: tt.rule})
			e := findError(err, tt.path)
			if e == nil {
				t.Fatalf("no error at %s in %v", tt.path, err)
			}
			if !strings.Contains(e.Msg, tt.msg) {
				t.Errorf("Msg = %q, want it to contain %q", e.Msg, tt.msg)
			}
		})
	}
	// Ordinary regexes pass the cost check with room to spare.
	for _, expr := range []string{`\bdeport(s|ed|ing)?\b`, `\bZürich\b`, `\b(\w+ )?(asylum|refugee)s?\b`, `[A-Z]{2,5}`} {
		if _, err := topic.New(topic.Definition{Slug: "t", Title: "T", Rule: topic.Rule{Regex: expr}}); err != nil {
			t.Errorf("ordinary regex %s refused: %v", expr, err)
		}
	}
}

func TestExamples(t *testing.T) {
	def := topic.Definition{Slug: "immigration", Title: "Immigration",
		Rule: topic.Rule{Any: []topic.Rule{term("asylum"), {Term: "ICE", Case: true, Pos: "t.yaml:3:5"}}},
		Examples: topic.Examples{
			Match: []topic.Example{{Title: "Asylum claims rise"}, {Title: "Border wall funding", Summary: "Congress votes"}},
			NoMatch: []topic.Example{{Title: "Ice storm"},
				{Title: "ICE agents at the rink", Categories: []string{"Hockey"}}},
		}}
	_, err := topic.New(def)
	if err == nil {
		t.Fatal("New accepted a topic whose examples fail")
	}
	e := findError(err, "examples.match[1]")
	if e == nil || !strings.Contains(e.Msg, `"Border wall funding" should match immigration but does not: none of the 2 clauses`) {
		t.Errorf("failing match example = %v", e)
	}
	e = findError(err, "examples.no_match[1]")
	if e == nil || !strings.Contains(e.Msg, `should not match immigration but does: term "ICE" (case-sensitive) at t.yaml:3:5 found "ICE" in the title`) {
		t.Errorf("failing no_match example = %v", e)
	}
	if findError(err, "examples.match[0]") != nil || findError(err, "examples.no_match[0]") != nil {
		t.Errorf("passing examples reported: %v", err)
	}
	def.Examples.Match = def.Examples.Match[:1]
	def.Examples.NoMatch = def.Examples.NoMatch[:1]
	if _, err := topic.New(def); err != nil {
		t.Errorf("New refused passing examples: %v", err)
	}
}

// TestReadmeWordForms holds the README's table of word forms to what the
// engine does: every form it says a term matches, and every one it says it
// does not.
func TestReadmeWordForms(t *testing.T) {
	table := []struct {
		term      string
		match, no []string
	}{
		{"refugee", []string{"refugee", "refugees", "refugee's"}, []string{"refuge"}},
		{"deportation", []string{"deportation", "deportations", "deport", "deported", "deporting", "deports"}, []string{"deportee"}},
		{"migrant", []string{"migrant", "migrants", "migrant's"}, []string{"migration", "migratory"}},
		{"policy", []string{"policy", "policies"}, []string{"police", "political"}},
		{"state", []string{"state", "states", "stated"}, []string{"statement", "statehood"}},
		{"detain", []string{"detain", "detained", "detaining"}, []string{"detention", "detainee"}},
		{"border crossing", []string{"border crossings", "border-crossing", "border crossed"}, []string{"crossing the border"}},
		{"gas", []string{"gas"}, []string{"gases"}},
		{"housing", []string{"housing", "house", "houses", "housed"}, nil},
		{"deport*", []string{"deport", "deportee", "deportation"}, []string{"report"}},
		{"migra*", []string{"migrant", "migration", "migratory"}, nil},
	}
	for _, row := range table {
		tp := mustNew(t, term(row.term))
		for _, s := range row.match {
			if !tp.Match(story.Story{Title: "x " + s + " y"}) {
				t.Errorf("%q does not match %q, as the README says it does", row.term, s)
			}
		}
		for _, s := range row.no {
			if tp.Match(story.Story{Title: "x " + s + " y"}) {
				t.Errorf("%q matches %q, which the README says it does not", row.term, s)
			}
		}
	}
}
