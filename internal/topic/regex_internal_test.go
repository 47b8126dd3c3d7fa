package topic

import (
	"regexp"
	"strings"
	"testing"
)

func TestRequiredLiterals(t *testing.T) {
	tests := []struct {
		name, expr string
		want       []literal
	}{
		{"plain word folds", `(?i)Deport`, []literal{{"deport", true}}},
		{"longest literal of a concatenation", `(?i)\bimmigra(tion|nts?)\b`, []literal{{"immigra", true}}},
		{"alternation needs every branch", `(?i)visa|asylum`, []literal{{"visa", true}, {"asylum", true}}},
		{"optional branch gives up", `(?i)visa|a*`, nil},
		{"optional literal gives up", `(?i)(visa)?x*`, nil},
		{"plus keeps its literal", `(?i)(visa)+`, []literal{{"visa", true}}},
		{"case-sensitive literal kept as written", `ICE\b`, []literal{{"ICE", false}}},
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
				if got[i] != tt.want[i] {
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
		text = normalize(text)
		if lits == nil || !re.MatchString(text) {
			return
		}
		lower := strings.ToLower(text)
		for _, l := range lits {
			if l.fold && strings.Contains(lower, l.text) || !l.fold && strings.Contains(text, l.text) {
				return
			}
		}
		t.Errorf("regex %q matches %q but the prefilter wants one of %v", src, text, lits)
	})
}
