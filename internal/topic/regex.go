package topic

import (
	"fmt"
	"regexp"
	"regexp/syntax"
	"strings"
	"unicode"
	"unicode/utf8"
)

func (c *compiler) compileRegex(n *node, expr string) {
	path := n.path + ".regex"
	if strings.Contains(expr, "(i?)") {
		c.fail(path, "(i?) is an optional letter i, not a flag, so this regex matches every story",
			"write (?i), or nothing: regexes ignore case unless case: true")
		return
	}
	src := expr
	if !n.caseSens {
		src = "(?i)" + expr
	}
	re, err := regexp.Compile(src)
	if err != nil {
		c.fail(path, "invalid regex: "+strings.TrimPrefix(err.Error(), "error parsing regexp: "), regexHint(expr))
		return
	}
	if matchesEmpty(re) {
		c.fail(path, fmt.Sprintf("regex %q matches empty text, so it matches every story", expr),
			"require at least one character, e.g. + instead of *")
		return
	}
	if r := asciiBoundaryMisuse(src); r != 0 {
		c.fail(path, fmt.Sprintf(`\b beside %q never marks a word boundary there: RE2's \b knows only ASCII letters`, unicode.ToLower(r)),
			`use a term, which matches whole words in any script; or write (^|[^\pL\pN]) and ([^\pL\pN]|$) for a boundary`)
		return
	}
	if cost, limit := regexCost(re); cost > limit {
		c.fail(path, fmt.Sprintf("regex costs %s per story (limit %s)", roundCost(cost), roundCost(limit)),
			"alternatives with no fixed text scan every story for each of them; use terms (deport* for word beginnings) or fewer, literal alternatives")
		return
	}
	n.re = re
	n.needs = requiredLiterals(src)
	if n.fields&leadBit != 0 {
		c.fields |= leadBit // where the lead ends is counted in words
	}
	var notes []string
	if n.caseSens {
		notes = append(notes, "case-sensitive")
	}
	if n.fields != defaultFields {
		notes = append(notes, "in "+n.fields.String())
	}
	n.desc = fmt.Sprintf("regex %q", expr)
	if len(notes) > 0 {
		n.desc += " (" + strings.Join(notes, "; ") + ")"
	}
}

// asciiBoundaryMisuse returns a non-ASCII letter that stands beside a \b
// or \B in expr (RE2 decides those by ASCII word characters only, so
// \bZürich\b cannot match " Zürich "), or 0.
func asciiBoundaryMisuse(expr string) rune {
	re, err := syntax.Parse(expr, syntax.Perl)
	if err != nil {
		return 0
	}
	var found rune
	var walk func(re *syntax.Regexp)
	walk = func(re *syntax.Regexp) {
		if re.Op == syntax.OpConcat {
			for i, sub := range re.Sub {
				if sub.Op != syntax.OpWordBoundary && sub.Op != syntax.OpNoWordBoundary {
					continue
				}
				if i > 0 && re.Sub[i-1].Op == syntax.OpLiteral {
					if r := re.Sub[i-1].Rune; len(r) > 0 && r[len(r)-1] >= utf8.RuneSelf && isWord(r[len(r)-1]) {
						found = r[len(r)-1]
					}
				}
				if i+1 < len(re.Sub) && re.Sub[i+1].Op == syntax.OpLiteral {
					if r := re.Sub[i+1].Rune; len(r) > 0 && r[0] >= utf8.RuneSelf && isWord(r[0]) {
						found = r[0]
					}
				}
			}
		}
		for _, sub := range re.Sub {
			walk(sub)
		}
	}
	walk(re)
	return found
}

// matchesEmpty reports whether re can match empty text (as "a*" or "\b"
// can), which would put every story in the topic.
func matchesEmpty(re *regexp.Regexp) bool {
	for _, sample := range []string{"", " ", "a", "a b", "1"} {
		for _, m := range re.FindAllStringIndex(sample, -1) {
			if m[0] == m[1] {
				return true
			}
		}
	}
	return false
}

// regexHint explains the usual reasons a PCRE or JavaScript regex is not RE2.
func regexHint(expr string) string {
	switch {
	case strings.Contains(expr, "(?=") || strings.Contains(expr, "(?!") ||
		strings.Contains(expr, "(?<=") || strings.Contains(expr, "(?<!"):
		return "RE2 has no lookaround; combine clauses with all and not instead"
	case regexp.MustCompile(`\\[1-9]`).MatchString(expr):
		return "RE2 has no backreferences"
	case strings.Contains(expr, "(?i"):
		return "flags are written (?i) and sit at the start of a group"
	}
	return "regexes use Go RE2 syntax: https://golang.org/s/re2syntax"
}

// literal is text every match of a regex contains. fold says it was
// written case-insensitively: it is lowercase ASCII and is looked for in
// the lowercased field.
type literal struct {
	text string
	fold bool
	// word is the longest run of ASCII letters and digits in a folded
	// text: any match lies inside one word of the field, so it is looked
	// for in the doc's lowercased words, which cost nothing more to search.
	word []byte
}

// requiredLiterals returns literals one of which every match of expr
// contains, or nil when it cannot tell. Go's regexp runs a backtracker or
// NFA over the whole field, which costs far more than strings.Contains;
// with a 5 KB article and a few regexes per config this prefilter is the
// difference between microseconds and milliseconds per story.
func requiredLiterals(expr string) []literal {
	re, err := syntax.Parse(expr, syntax.Perl)
	if err != nil {
		return nil
	}
	return required(re.Simplify())
}

func required(re *syntax.Regexp) []literal {
	switch re.Op {
	case syntax.OpLiteral:
		text := string(re.Rune)
		fold := re.Flags&syntax.FoldCase != 0
		if fold {
			// Only ASCII folds the same way under strings.ToLower and
			// regexp's case folding once NFKC has removed the Kelvin sign
			// and the long s; other scripts go without a prefilter.
			for _, r := range re.Rune {
				if r >= utf8.RuneSelf {
					return nil
				}
			}
			text = strings.ToLower(text)
		}
		l := literal{text: text, fold: fold}
		if fold {
			l.word = longestWord(text)
		}
		return []literal{l}
	case syntax.OpCapture, syntax.OpPlus:
		return required(re.Sub[0])
	case syntax.OpRepeat:
		if re.Min >= 1 {
			return required(re.Sub[0])
		}
	case syntax.OpConcat:
		var best []literal
		for _, sub := range re.Sub {
			if lits := required(sub); lits != nil && (best == nil || shortest(lits) > shortest(best)) {
				best = lits
			}
		}
		return best
	case syntax.OpAlternate:
		var all []literal
		for _, sub := range re.Sub {
			lits := required(sub)
			if lits == nil {
				return nil
			}
			all = append(all, lits...)
		}
		return all
	}
	return nil
}

func shortest(lits []literal) int {
	n := -1
	for _, l := range lits {
		if n < 0 || len(l.text) < n {
			n = len(l.text)
		}
	}
	return n
}

// longestWord returns the longest run of ASCII letters and digits in s.
func longestWord(s string) []byte {
	best, start := "", -1
	for i := 0; i <= len(s); i++ {
		if i < len(s) && isWord(rune(s[i])) {
			if start < 0 {
				start = i
			}
			continue
		}
		if start >= 0 && i-start > len(best) {
			best = s[start:i]
		}
		start = -1
	}
	if best == "" {
		return nil
	}
	return []byte(best)
}
