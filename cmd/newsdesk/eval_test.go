package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/newsdesk/newsdesk/internal/evaluate"
)

const evalConfig = `sources:
  - {name: wire, url: "https://wire.example/feed.xml"}
topics:
  - slug: immigration
    title: Immigration
    rule:
      any:
        - asylum
        - deport*
        - near: [{term: ICE, case: true}]
          with: [agent, raid, detain*]
  - slug: weather
    title: Weather
    rule: {any: [storm, snow, flood*]}
`

const evalStories = `{"id": "1", "title": "Asylum claims rise", "source": "wire", "topics": ["immigration"]}
{"id": "2", "title": "ICE AGENTS RAID A FARM", "source": "wire", "topics": ["immigration"]}
{"id": "3", "title": "Ice storm hits Texas", "source": "wire", "topics": ["weather"]}
{"id": "4", "title": "Visa backlog grows", "source": "wire", "topics": ["immigration"]}
{"id": "5", "title": "Storm over deportations", "source": "wire", "topics": ["immigration"]}
{"id": "6", "title": "Markets rally", "source": "wire", "topics": []}
`

func evalFiles(t *testing.T) (cfg, stories string) {
	t.Helper()
	dir := t.TempDir()
	cfg, stories = filepath.Join(dir, "newsdesk.yaml"), filepath.Join(dir, "labelled.jsonl")
	if err := os.WriteFile(cfg, []byte(evalConfig), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(stories, []byte(evalStories), 0o644); err != nil {
		t.Fatal(err)
	}
	return cfg, stories
}

func TestEval(t *testing.T) {
	cfg, stories := evalFiles(t)
	out, err := newsdesk(t, "eval", stories, "--config", cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"6 stories, 1 of them labelled with no topic",
		"immigration        4     3     0     1     1.000   0.750  0.857",
		"weather            1     1     1     0     0.500   1.000  0.667",
		"micro                    4     1     1     0.800   0.800  0.800",
		`line 4  4  "Visa backlog grows"`,
		"    - immigration missed: none of the 3 clauses of any at " + cfg + ":7:7 found anything",
		`    + weather filed: term "storm" at ` + cfg + `:14:18 found "Storm" in the title`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("eval output lacks %q:\n%s", want, out)
		}
	}

	out, err = newsdesk(t, "eval", "--config", cfg, "--json", stories)
	if err != nil {
		t.Fatal(err)
	}
	var rep evaluate.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("--json output is not a report: %v\n%s", err, out)
	}
	if rep.Micro.TP != 4 || len(rep.Wrong) != 2 || rep.Topics[1].Slug != "weather" {
		t.Errorf("--json report = %+v", rep)
	}

	_, err = newsdesk(t, "eval", stories, "--config", cfg, "--min-precision", "0.8", "--min-recall", "0.9", "--min-topic-precision", "0.6")
	if err == nil || !strings.Contains(err.Error(), "micro recall 0.800 is below 0.900; weather precision 0.500 is below 0.600") {
		t.Errorf("eval under its thresholds = %v", err)
	}
	if _, err := newsdesk(t, "eval", stories, "--config", cfg, "--min-precision", "0.8", "--min-topic-recall", "0.75"); err != nil {
		t.Errorf("eval at its thresholds = %v", err)
	}
	if _, err := newsdesk(t, "eval", "--config", cfg); err == nil || !strings.Contains(err.Error(), "eval needs a file") {
		t.Errorf("eval without a file = %v", err)
	}
	if _, err := newsdesk(t, "eval", filepath.Join(t.TempDir(), "absent.jsonl"), "--config", cfg); err == nil {
		t.Error("eval of a missing file succeeded")
	}
}

func TestValidateReportsFailingExamples(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "newsdesk.yaml")
	src := evalConfig + `    examples:
      match: [Snow closes schools, Heatwave grips Spain]
      no_match: [Snowden leaks, Stormzy tour]
`
	if err := os.WriteFile(cfg, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := newsdesk(t, "validate", "--config", cfg)
	if err == nil {
		t.Fatal("validate passed a config whose examples fail")
	}
	want := cfg + `:16:36: example "Heatwave grips Spain" should match weather but does not: none of the 3 clauses of any at ` + cfg + `:14:12 found anything`
	if !strings.Contains(err.Error(), want) {
		t.Errorf("validate = %v\nwant it to contain %s", err, want)
	}
	if strings.Count(err.Error(), "should ") != 1 {
		t.Errorf("validate reported passing examples too:\n%v", err)
	}
}
