package evaluate_test

import (
	"bytes"
	"math"
	"os"
	"strings"
	"testing"

	"github.com/newsdesk/newsdesk/internal/evaluate"
	"github.com/newsdesk/newsdesk/internal/topic"
)

func testSet(t *testing.T) *topic.Set {
	t.Helper()
	term := func(s string) topic.Rule { return topic.Rule{Term: s} }
	defs := []topic.Definition{
		{Slug: "immigration", Title: "Immigration", Rule: topic.Rule{Any: []topic.Rule{
			term("asylum"), term("deport*"),
			{Near: []topic.Rule{{Term: "ICE", Case: true}}, With: []topic.Rule{term("agent"), term("raid"), term("detain*")}, Within: 5},
		}}},
		{Slug: "weather", Title: "Weather", Rule: topic.Rule{All: []topic.Rule{
			{Any: []topic.Rule{term("storm"), term("snow"), term("flood")}},
			{Not: &topic.Rule{Term: "political storm"}},
		}}},
		{Slug: "telecom", Title: "Telecom", Rule: term("AT&T")},
	}
	var ts []*topic.Topic
	for _, d := range defs {
		tp, err := topic.New(d)
		if err != nil {
			t.Fatal(err)
		}
		ts = append(ts, tp)
	}
	return topic.NewSet(ts...)
}

func readFixture(t *testing.T) []evaluate.Labelled {
	t.Helper()
	f, err := os.Open("testdata/labelled.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	labelled, err := evaluate.Read(f)
	if err != nil {
		t.Fatal(err)
	}
	return labelled
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

func TestRun(t *testing.T) {
	labelled := readFixture(t)
	if len(labelled) != 11 || labelled[5].Line != 8 {
		t.Fatalf("Read = %d stories, the sixth on line %d; want 11, line 8 (comments and blank lines skipped)", len(labelled), labelled[5].Line)
	}
	rep, err := evaluate.Run(testSet(t), labelled)
	if err != nil {
		t.Fatal(err)
	}
	want := []evaluate.TopicScore{
		{Slug: "immigration", Labelled: 6, Score: evaluate.Score{TP: 5, FP: 0, FN: 1, Precision: 1, Recall: 5.0 / 6}},
		{Slug: "weather", Labelled: 2, Score: evaluate.Score{TP: 2, FP: 2, FN: 0, Precision: 0.5, Recall: 1}},
		// The title's &amp; is decoded once, as parse does for a feed.
		{Slug: "telecom", Labelled: 1, Score: evaluate.Score{TP: 1, FP: 1, FN: 0, Precision: 0.5, Recall: 1}},
	}
	for i, w := range want {
		g := rep.Topics[i]
		if g.Slug != w.Slug || g.Labelled != w.Labelled || g.TP != w.TP || g.FP != w.FP || g.FN != w.FN ||
			!near(g.Precision, w.Precision) || !near(g.Recall, w.Recall) {
			t.Errorf("topic %d = %+v, want %+v", i, g, w)
		}
		if f1 := 2 * w.Precision * w.Recall / (w.Precision + w.Recall); !near(g.F1, f1) {
			t.Errorf("%s F1 = %v, want %v", g.Slug, g.F1, f1)
		}
	}
	if m := rep.Micro; m.TP != 8 || m.FP != 3 || m.FN != 1 || !near(m.Precision, 8.0/11) || !near(m.Recall, 8.0/9) {
		t.Errorf("micro = %+v", m)
	}
	if m := rep.Macro; !near(m.Precision, 2.0/3) || !near(m.Recall, (5.0/6+2)/3) {
		t.Errorf("macro = %+v", m)
	}
	if rep.Stories != 11 || rep.Unlabelled != 2 {
		t.Errorf("stories %d, unlabelled %d; want 11 and 2", rep.Stories, rep.Unlabelled)
	}
	if len(rep.Stray) != 1 || rep.Stray[0].ID != "s10" || len(rep.Stray[0].Why) != 2 ||
		rep.Stray[0].Why[0].Reason != `term "flood" (rule.all[0].any[2]) found "Flood" in the title` {
		t.Errorf("stray = %+v, want s10 filed under weather on flood, and telecom", rep.Stray)
	}
	var wrong []string
	for _, m := range rep.Wrong {
		wrong = append(wrong, m.ID)
	}
	if strings.Join(wrong, " ") != "s4 s8" {
		t.Errorf("wrong = %q, want s4 (missed) and s8 (filed under weather)", wrong)
	}
	if w := rep.Wrong[0].Why[0]; w.Topic != "immigration" || w.Filed || !strings.Contains(w.Reason, "none of the 3 clauses of any (rule) found anything") {
		t.Errorf("why s4 was missed = %+v", w)
	}

	var out bytes.Buffer
	if err := rep.WriteText(&out); err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{
		"11 stories, 2 of them labelled with no topic",
		"topic       labelled    TP    FP    FN precision  recall     F1",
		"immigration        6     5     0     1     1.000   0.833  0.909",
		"micro                    8     3     1     0.727   0.889  0.800",
		"macro                                      0.667   0.944  0.747",
		"stories with no topic that got one (1):",
		`line 12  s10  "Flood of AT&amp;T complaints"`,
		`    + weather filed: term "flood" (rule.all[0].any[2]) found "Flood" in the title`,
		"stories filed wrongly (2):",
		"    - immigration missed: none of the 3 clauses",
	} {
		if !strings.Contains(out.String(), line) {
			t.Errorf("report lacks %q:\n%s", line, out.String())
		}
	}

	th := evaluate.Thresholds{Precision: 0.7, Recall: 0.9, TopicPrecision: 0.5, TopicRecall: 0.8}
	if got := rep.Check(th); strings.Join(got, "; ") != "micro recall 0.889 is below 0.900" {
		t.Errorf("Check = %q", got)
	}
	if got := rep.Check(evaluate.Thresholds{}); got != nil {
		t.Errorf("Check with no thresholds = %q", got)
	}
}

func TestReadRefuses(t *testing.T) {
	in := strings.Join([]string{
		`{"id": "a", "title": "A", "topics": []}`,
		`{"id": "b", "titel": "B", "topics": []}`,
		`{"id": "a", "title": "again", "topics": []}`,
		`{"id": "c", "topics": []}`,
		`{"title": "no id"}`,
		`not json`,
		`{"id": "d", "title": "D", "topics": "immigration"}`,
		`{"id": "e", "title": "E"} {"id": "f", "title": "F"}`,
	}, "\n")
	_, err := evaluate.Read(strings.NewReader(in))
	if err == nil {
		t.Fatal("Read accepted broken lines")
	}
	for _, want := range []string{
		`line 2: json: unknown field "titel"`,
		`line 3: id "a" is already used on line 1`,
		`line 4: story "c" has no title`,
		`line 5: no id`,
		"line 6: invalid character",
		"line 7: json: cannot unmarshal string",
		"line 8: more than one JSON value",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
}

func TestReadRefusesAHugeLine(t *testing.T) {
	in := `{"id": "a", "title": "A", "topics": []}` + "\n" + `{"id": "b", "title": "` + strings.Repeat("x", 2<<20) + `"}` + "\n"
	_, err := evaluate.Read(strings.NewReader(in))
	if err == nil || !strings.Contains(err.Error(), "line 2: longer than 1048576 bytes") {
		t.Errorf("Read = %v", err)
	}
}

func TestRunRefusesUnknownTopics(t *testing.T) {
	_, err := evaluate.Run(testSet(t), []evaluate.Labelled{{ID: "x", Title: "X", Topics: []string{"imigration"}, Line: 3}})
	if err == nil || !strings.Contains(err.Error(), `line 3: topic "imigration" is not in the config (topics: immigration, weather, telecom)`) {
		t.Errorf("Run = %v", err)
	}
}

// TestRunHostileText: text a feed could carry goes through as a feed's
// would, and cannot break the document the stories are read from.
func TestRunHostileText(t *testing.T) {
	labelled := []evaluate.Labelled{
		{ID: "x1", Title: "]]></title></item><item><title>injected", Topics: []string{}},
		{ID: "x2\x00", Title: "asylum\u00a0seekers <script>alert(1)</script>", Summary: "<b>deport</b>ation", Topics: []string{"immigration"}},
		// A zero-width space is a space; all lower case, the words decide.
		{ID: "x3", Title: "ice\u200bagents", Categories: []string{"<", "&"}, Topics: []string{"immigration"}},
	}
	for i := range labelled {
		labelled[i].Line = i + 1
	}
	rep, err := evaluate.Run(testSet(t), labelled)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Stories != 3 || rep.Topics[0].TP != 2 || rep.Micro.FP != 0 || rep.Micro.FN != 0 {
		t.Errorf("report = %+v", rep)
	}
}
