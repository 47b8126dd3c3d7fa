package topic

// maxWords caps the snippets an explanation keeps per clause.
const maxWords = 5

// evaluator runs compiled clauses against one doc. remap translates a
// topic's vocabulary ids into the doc's (nil when the doc was built from the
// topic's own vocabulary). When out is non-nil every clause is evaluated and
// recorded, in tree order, for Explain; otherwise evaluation stops as soon as
// the outcome is known.
type evaluator struct {
	d     *doc
	remap []int32
	out   *[]Clause
}

// eval reports whether n matches and its score: the weights of the matched
// children for any and all, else n's weight when it matches.
func (e *evaluator) eval(n *node) (bool, float64) {
	slot := -1
	if e.out != nil {
		slot = len(*e.out)
		*e.out = append(*e.out, Clause{Path: n.path, Desc: n.desc})
	}
	var matched bool
	var score float64
	var field Field
	var words []string
	switch n.kind {
	case kindTerm:
		matched, field, words = e.term(n)
	case kindRegex:
		matched, field, words = e.regex(n)
	case kindAny:
		for _, k := range n.kids {
			if ok, _ := e.eval(k); ok {
				score += k.weight
				if e.out == nil && (n.minScore == 0 || score >= n.minScore) {
					break
				}
			}
		}
		matched = score > 0 && score >= n.minScore
	case kindAll:
		matched = true
		for _, k := range n.kids {
			if ok, _ := e.eval(k); ok {
				score += k.weight
			} else {
				matched = false
				if e.out == nil {
					break
				}
			}
		}
	case kindNot:
		ok, _ := e.eval(n.kids[0])
		matched = !ok
	}
	if n.kind != kindAny && n.kind != kindAll && matched {
		score = n.weight
	}
	if slot >= 0 {
		c := &(*e.out)[slot]
		c.Matched, c.Score, c.Field, c.Words = matched, score, field, words
	}
	return matched, score
}

// term finds n's phrase in the doc: each place its first word occurs (from
// the doc's postings, no scan) is checked word by word, gap by gap.
func (e *evaluator) term(n *node) (bool, Field, []string) {
	t, d := n.term, e.d
	id := t.first
	if e.remap != nil {
		id = e.remap[id]
	}
	var field Field
	var found []string
	for _, p32 := range d.occurrences(id) {
		p := int(p32)
		w := d.words[p]
		if n.fields&(1<<w.field) == 0 || !e.phraseAt(t, p, n.caseSens) {
			continue
		}
		if e.out == nil {
			return true, "", nil
		}
		if field == "" {
			field = fieldOrder[w.field]
		}
		last := d.words[p+len(t.low)-1]
		snippet := d.text[w.field][w.start:last.end]
		if len(found) < maxWords && !contains(found, snippet) {
			found = append(found, snippet)
		}
	}
	return field != "", field, found
}

// phraseAt reports whether t's words, gaps and end punctuation sit at word p.
func (e *evaluator) phraseAt(t *termPattern, p int, caseSens bool) bool {
	d := e.d
	if p+len(t.low) > len(d.words) {
		return false
	}
	field := d.words[p].field
	for k := range t.low {
		q := p + k
		if d.words[q].field != field {
			return false
		}
		if k > 0 && (!d.lowIs(q, t.low[k]) || d.gapBefore(q) != t.gaps[k-1]) {
			return false
		}
		if caseSens && d.orig(q) != t.orig[k] {
			return false
		}
	}
	if t.prefix != "" && !hasSuffix(d.gapBefore(p), t.prefix) {
		return false
	}
	if t.suffix != "" && !hasPrefix(d.gapAfter(p+len(t.low)-1), t.suffix) {
		return false
	}
	return true
}

// regex runs n's regex over each field in scope, in field order.
func (e *evaluator) regex(n *node) (bool, Field, []string) {
	var field Field
	var found []string
	for i, text := range e.d.text {
		if n.fields&(1<<i) == 0 || text == "" || n.needs != nil && !e.d.contains(i, n.needs) {
			continue
		}
		if e.out == nil {
			if n.re.MatchString(text) {
				return true, "", nil
			}
			continue
		}
		for _, m := range n.re.FindAllString(text, maxWords) {
			if field == "" {
				field = fieldOrder[i]
			}
			if len(found) < maxWords && !contains(found, m) {
				found = append(found, m)
			}
		}
	}
	return field != "", field, found
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func hasPrefix(s, prefix string) bool { return len(s) >= len(prefix) && s[:len(prefix)] == prefix }
func hasSuffix(s, suffix string) bool {
	return len(s) >= len(suffix) && s[len(s)-len(suffix):] == suffix
}
