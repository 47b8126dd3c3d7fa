package topic

import (
	"regexp"
	"testing"

	"github.com/newsdesk/newsdesk/internal/story"
)

func TestRequiredLiterals(t *testing.T) {
	tests := []struct {
		name, expr string
		want       []literal
	}{
		{"plain word folds", `(?i)Deport`, []literal{{text: "deport", fold: true}}},
		{"longest literal of a concatenation", `(?i)\bimmigra(tion|nts?)\b`, []literal{{text: "immigra", fold: true}}},
		{"alternation needs every branch", `(?i)visa|asylum`, []literal{{text: "visa", fold: true}, {text: "asylum", fold: true}}},
		{"optional branch gives up", `(?i)visa|a*`, nil},
		{"optional literal gives up", `(?i)(visa)?x*`, nil},
		{"plus keeps its literal", `(?i)(visa)+`, []literal{{text: "visa", fold: true}}},
		{"case-sensitive literal kept as written", `ICE\b`, []literal{{text: "ICE", fold: false}}},
		{"non-ASCII folded literal gives up", `(?i)émigré`, nil},
		{"class gives up", `(?i)[a-z]+`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := requiredLiterals(tt.expr)
			if len(got) != len(tt.want) {
				t.Fatalf("requiredLiterals(%q) = %v, want %v", tt.expr, got, tt.want)
			}
			for i := range got {
				if got[i].text != tt.want[i].text || got[i].fold != tt.want[i].fold {
					t.Errorf("requiredLiterals(%q) = %v, want %v", tt.expr, got, tt.want)
				}
			}
		})
	}
}

// FuzzPrefilter checks the regex prefilter never hides a match: whenever a
// regex matches normalized text, the text holds one of its literals.
func FuzzPrefilter(f *testing.F) {
	f.Add(`deport(ed|ation)`, "DEPORTATION flights", false)
	f.Add(`ICE|visa`, "Ice and VISA", true)
	f.Add(`k\w+`, "\u212a elvin", false)
	f.Add(`s+t`, "\u017ft", false)
	f.Fuzz(func(t *testing.T, expr, text string, caseSens bool) {
		src := expr
		if !caseSens {
			src = "(?i)" + expr
		}
		re, err := regexp.Compile(src)
		if err != nil {
			return
		}
		lits := requiredLiterals(src)
		if lits == nil {
			return
		}
		for _, fields := range []fieldMask{defaultFields, 0} { // words searched, or the text lowercased
			d := newDoc(story.Story{Title: text}, fields, defaultFields, newLexicon(nil))
			if re.MatchString(d.text[0]) && !d.contains(0, lits) {
				t.Fatalf("regex %q matches %q but the prefilter (fields %v) wants one of %v", src, d.text[0], fields, lits)
			}
		}
	})
}
