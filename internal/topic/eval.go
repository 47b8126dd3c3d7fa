package topic

import "slices"

// maxWords caps the snippets an explanation keeps per clause.
const maxWords = 5

// evaluator runs compiled clauses against one doc. remap translates a
// topic's key ids into the doc's (nil when the doc was built from the
// topic's own lexicon). When out is non-nil every clause is evaluated and
// recorded, in tree order, for Explain; otherwise evaluation stops as soon as
// the outcome is known.
type evaluator struct {
	d     *doc
	remap []int32
	inv   []int32 // the inverse of remap: a doc key id → the topic's, or -1; nil with remap
	// has is the set of the topic's key ids the doc holds (a bitset) and
	// ids the same as a list: made once per topic and story, so that the
	// key pre-check of every clause is a few bit tests.
	has []uint64
	ids []int32
	// scratch holds the candidate lists of the clauses being walked (see
	// candidates), a stack: each clause truncates it back when done.
	scratch []int32
	// left and right are the buffers of nearSpans, reused from one near
	// to the next (a near's spans are done with before the next near).
	left, right []span
	out         *[]Clause
	depth       int
	// exhaustive turns the shortcuts off (the key pre-checks, a min_count
	// any given up for want of words), for the test that holds them to
	// the full walk.
	exhaustive bool
}

// quiet returns an evaluator of the same doc that records nothing.
func (e *evaluator) quiet() *evaluator {
	return &evaluator{d: e.d, remap: e.remap, inv: e.inv, has: e.has, ids: e.ids, exhaustive: e.exhaustive}
}

// newEvaluator returns an evaluator of d for a topic of nkeys keys, whose
// key ids remap translates into d's (nil: d was built from the topic's own
// lexicon) and inv back.
func newEvaluator(d *doc, remap, inv []int32, nkeys int) *evaluator {
	// The doc's own evaluator, so its buffers serve story after story: a
	// doc is walked by one evaluator at a time.
	e := &d.ev
	*e = evaluator{d: d, remap: remap, inv: inv, scratch: e.scratch[:0], left: e.left[:0], right: e.right[:0]}
	e.has, e.ids = d.keySet(inv, nkeys)
	return e
}

// eval reports whether n matches and its score: the weights of the matched
// children for any and all, else n's weight when it matches.
func (e *evaluator) eval(n *node) (bool, float64) {
	slot := -1
	if e.out != nil {
		slot = len(*e.out)
		*e.out = append(*e.out, Clause{Path: n.path, Pos: n.pos, Desc: n.desc, Depth: e.depth})
		e.depth++
	}
	var (
		matched bool
		score   float64
		res     found
		hits    int
	)
	if slot < 0 && n.keys != nil && !e.present(n.keys, n.keyBits) {
		return false, 0 // none of the words it needs is in the story
	}
	switch n.kind {
	case kindTerm:
		if e.out == nil && n.term.minCount == 1 {
			matched = e.termAny(n) // the hot path: no counting, no snippets
			break
		}
		res = e.term(n, n.term.minCount, false)
		matched = res.count >= n.term.minCount
	case kindRegex:
		res = e.regex(n)
		matched = res.count > 0
	case kindNear:
		res = e.nearby(n, max(n.minCount, 1))
		matched = res.count >= max(n.minCount, 1)
	case kindAny:
		if n.minCount > 1 {
			res.count = e.countAny(n, n.minCount)
			matched = res.count >= n.minCount
			if e.out == nil {
				break
			}
			for _, k := range n.kids { // recorded for the explanation
				if ok, _ := e.eval(k); ok {
					hits++
				}
			}
			if matched {
				score = n.weight
			}
			break
		}
		if e.out == nil && !e.exhaustive && n.index != nil {
			// Only the children the story's keys can match: the others
			// would be turned away by their keys, one by one.
			list, mark := e.candidates(n.index)
			for _, i := range list {
				k := n.kids[i]
				if ok, _ := e.eval(k); ok {
					score += k.weight
					if n.minScore == 0 || score >= n.minScore {
						break
					}
				}
			}
			e.release(mark)
			matched = score > 0 && score >= n.minScore
			break
		}
		for _, k := range n.kids {
			if ok, _ := e.eval(k); ok {
				score += k.weight
				hits++
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
				hits++
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
	if (n.kind != kindAny || n.minCount > 1) && n.kind != kindAll && matched {
		score = n.weight
	}
	if slot >= 0 {
		e.depth--
		c := &(*e.out)[slot]
		c.Matched, c.Score, c.Field, c.Words = matched, score, res.field, res.words
		switch n.kind {
		case kindAny, kindAll:
			c.Hits, c.Of = hits, len(n.kids)
			if n.minCount > 1 {
				c.Count, c.Need = res.count, n.minCount
			}
		case kindNear:
			if n.minCount > 1 {
				c.Count, c.Need = res.count, n.minCount
			}
		case kindTerm:
			if n.term.minCount > 1 {
				c.Count, c.Of = res.count, n.term.minCount
			}
		}
	}
	return matched, score
}

// present reports whether the doc holds one of the keys (bits, when not
// nil, is the same set as a bitset of topic key ids). A story holds few of
// the rules' keys and a clause may need hundreds, so the shorter side is
// walked.
func (e *evaluator) present(keys []int32, bits *bitset) bool {
	if e.exhaustive {
		return true
	}
	has := e.has
	if bits != nil {
		if len(e.ids) < len(bits.words) {
			for _, id := range e.ids {
				if bits.has(id) {
					return true
				}
			}
			return false
		}
		return bits.meets(has)
	}
	for _, id := range keys {
		if has[id>>6]&(1<<(id&63)) != 0 {
			return true
		}
	}
	return false
}

// holds reports whether the doc holds one of ids (topic key ids), so that
// a pattern whose also keys are all absent is skipped; always true for the
// exhaustive walk.
func (e *evaluator) holds(ids []int32) bool {
	if ids == nil || e.exhaustive {
		return true
	}
	for _, id := range ids {
		if e.has[id>>6]&(1<<(id&63)) != 0 {
			return true
		}
	}
	return false
}

// found is what a leaf clause found: how often, where first, and snippets
// (only when explaining).
type found struct {
	count int
	field Field
	words []string
}

func (f *found) add(e *evaluator, field uint8, snippet string) {
	f.count++
	if e.out == nil {
		return
	}
	if f.field == "" {
		f.field = fieldOrder[field]
	}
	if len(f.words) < maxWords && !contains(f.words, snippet) {
		f.words = append(f.words, snippet)
	}
}

// span is one place a term matched: words [from, to) of a field.
type span struct {
	field    uint8
	from, to int32
}

// term finds n's phrase, any of its variants, in the doc, stopping at need
// matches unless explaining. Each place the first word occurs (from the
// doc's postings, no scan) is checked word by word, gap by gap. loose says
// the term is inside a near, where a case-sensitive term matches a field
// without case information ignoring case.
func (e *evaluator) term(n *node, need int, loose bool) found {
	var f found
	t, d := n.term, e.d
	if n.fields&hostBit != 0 && t.host != "" && hostMatch(t.host, d.text[6]) {
		f.add(e, 6, d.text[6])
		if f.count >= need && e.out == nil {
			return f
		}
	}
	for _, v := range t.variants {
		id := v.first
		if e.remap != nil {
			id = e.remap[id]
		}
		occ := d.occurrences(id)
		if len(occ) == 0 || !e.holds(v.also) {
			continue
		}
		for _, p := range occ {
			to, ok := e.phraseAt(v, int(p), n.fields, n.caseSens, loose)
			if !ok {
				continue
			}
			w := d.words[p]
			f.add(e, w.field, d.text[w.field][w.start:d.words[to-1].end])
			if f.count >= need && e.out == nil {
				return f
			}
		}
	}
	return f
}

// termAny reports whether n's phrase, or one of its variants, is in the doc.
func (e *evaluator) termAny(n *node) bool {
	t, d := n.term, e.d
	if t.host != "" && n.fields&hostBit != 0 && hostMatch(t.host, d.text[6]) {
		return true
	}
	for _, v := range t.variants {
		id := v.first
		if e.remap != nil {
			id = e.remap[id]
		}
		occ := d.occurrences(id)
		if len(occ) == 0 || !e.holds(v.also) {
			continue
		}
		for _, p := range occ {
			if _, ok := e.phraseAt(v, int(p), n.fields, n.caseSens, false); ok {
				return true
			}
		}
	}
	return false
}

// spans lists every place n's phrase matches, for near.
func (e *evaluator) spans(n *node, out []span) []span {
	d := e.d
	for _, v := range n.term.variants {
		id := v.first
		if e.remap != nil {
			id = e.remap[id]
		}
		occ := d.occurrences(id)
		if len(occ) == 0 || !e.holds(v.also) {
			continue
		}
		for _, p := range occ {
			if to, ok := e.phraseAt(v, int(p), n.fields, n.caseSens, true); ok {
				out = append(out, span{field: d.words[p].field, from: p, to: int32(to)})
			}
		}
	}
	return out
}

// phraseAt reports whether pattern v sits at word p within fields, and
// where it ends.
func (e *evaluator) phraseAt(v *termPattern, p int, fields fieldMask, caseSens, loose bool) (int, bool) {
	d := e.d
	if p+len(v.words) > len(d.words) {
		return 0, false
	}
	field := d.words[p].field
	if !d.inScope(p, fields) {
		return 0, false
	}
	if caseSens && d.isCaseless(field) {
		if !loose {
			return 0, false // no case information: the words around it must decide
		}
		caseSens = false
	}
	for k, tw := range v.words {
		q := p + k
		if k > 0 {
			if d.words[q].field != field {
				return 0, false
			}
			switch tw.kind {
			case keyExact:
				if string(d.low(q)) != tw.text {
					return 0, false
				}
			case keyStem:
				if d.stem(q) != tw.text {
					return 0, false
				}
			case keyPrefix:
				if !hasPrefix(string(d.low(q)), tw.text) {
					return 0, false
				}
			}
			if g := d.gapBefore(q); g != tw.gap && !(softGap(g) && softGap(tw.gap)) {
				return 0, false
			}
		}
		if caseSens {
			orig := d.orig(q)
			if tw.kind == keyPrefix && !hasPrefix(orig, tw.orig) || tw.kind != keyPrefix && orig != tw.orig {
				return 0, false
			}
		}
	}
	end := p + len(v.words)
	if v.prefix != "" && !hasSuffix(d.gapBefore(p), v.prefix) {
		return 0, false
	}
	if v.suffix != "" && !hasPrefix(d.gapAfter(end-1), v.suffix) {
		return 0, false
	}
	return end, true
}

// nearby finds the places where a term of one side of n stands within
// n.near.within words of a term of the other, stopping at need unless
// explaining. A place is an occurrence of the near side with a with term
// close enough.
func (e *evaluator) nearby(n *node, need int) found {
	var f found
	left, right := e.nearSpans(n)
	d := e.d
	for _, a := range left {
		for _, b := range right {
			close, _ := nearTo(a, b, n.near.within)
			if !close {
				continue
			}
			from, to := min(a.from, b.from), max(a.to, b.to)
			f.add(e, a.field, d.text[a.field][d.words[from].start:d.words[to-1].end])
			if f.count >= need && e.out == nil {
				return f
			}
			break // one place per occurrence of the near side
		}
	}
	if f.count < need && e.out != nil && len(right) == 0 {
		// Say what one side found: the nearest miss an editor needs.
		if len(left) == 0 {
			for _, k := range n.near.left {
				left = e.spans(k, left)
			}
		}
		for _, a := range left {
			f.add(e, a.field, d.text[a.field][d.words[a.from].start:d.words[a.to-1].end])
		}
		f.count = 0
	}
	return f
}

// nearSpans lists where near n's two sides match, or nothing when one side
// cannot: the with side's words are looked up before either side's places
// are listed, since a place word alone is common and its context rare.
func (e *evaluator) nearSpans(n *node) (left, right []span) {
	if n.near.rightKeys != nil && !e.present(n.near.rightKeys, n.near.rightBits) {
		return nil, nil
	}
	left = e.sideSpans(n.near.left, n.near.leftIndex, e.left[:0])
	e.left = left
	if len(left) == 0 {
		return nil, nil
	}
	right = e.sideSpans(n.near.right, n.near.rightIndex, e.right[:0])
	e.right = right
	return left, right
}

// sideSpans appends to out the spans of the terms of one side of a near,
// in side order; x (when not nil) finds the terms whose first words the
// story holds, the others having no span.
func (e *evaluator) sideSpans(side []*node, x *keyIndex, out []span) []span {
	if x == nil || e.exhaustive {
		for _, k := range side {
			out = e.spans(k, out)
		}
		return out
	}
	list, mark := e.candidates(x)
	for _, i := range list {
		out = e.spans(side[i], out)
	}
	e.release(mark)
	return out
}

// countAny counts the places n's children find, each word a match starts
// at once, up to need.
func (e *evaluator) countAny(n *node, need int) int {
	if e.out == nil && !e.exhaustive && e.placeWords(n.placeBits, need-n.pseudo, n.apart) < need-n.pseudo {
		return 0 // a place is a word holding one of n's keys, or one of n's branches
	}
	all := need // how many places a clause's list may stop at
	if n.apart > 0 {
		all = 1 << 30 // every place, to spread them out
	}
	branches := int32(0)
	var places func(n *node) []int32
	places = func(n *node) []int32 {
		if n.keys != nil && !e.present(n.keys, n.keyBits) {
			return nil
		}
		switch {
		case n.kind == kindTerm:
			return e.termPlaces(n, all)
		case n.kind == kindNear:
			return e.nearPlaces(n)
		case n.kind == kindAny && n.minCount <= 1 && n.minScore == 0:
			var out []int32
			if n.index != nil && !e.exhaustive {
				list, mark := e.candidates(n.index)
				for _, i := range list {
					if out = union32(out, places(n.kids[i])); len(out) >= all {
						break
					}
				}
				e.release(mark)
				return out
			}
			for _, k := range n.kids {
				if out = union32(out, places(k)); len(out) >= all {
					break
				}
			}
			return out
		case n.kind == kindAll:
			// A matched all ("Cuba, and sanctions"; "visa, and not
			// football") is as often there as its rarest clause. A
			// clause that finds no place does not match.
			var fewest []int32
			counted := false
			for _, k := range n.kids {
				if k.kind == kindNot {
					continue
				}
				p := places(k)
				if len(p) == 0 {
					return nil
				}
				if !counted || len(p) < len(fewest) {
					fewest, counted = p, true
				}
			}
			for _, k := range n.kids {
				if k.kind == kindNot {
					if ok, _ := e.quiet().eval(k); !ok {
						return nil
					}
				}
			}
			if counted {
				return fewest
			}
		default:
			if ok, _ := e.quiet().eval(n); !ok {
				return nil
			}
		}
		branches--
		return []int32{branches} // a place of its own, never a word's
	}
	var seen []int32
	if n.index != nil && !e.exhaustive {
		list, mark := e.candidates(n.index)
		for _, i := range list {
			if seen = union32(seen, places(n.kids[i])); len(seen) >= all {
				break
			}
		}
		e.release(mark)
	} else {
		for _, k := range n.kids {
			if seen = union32(seen, places(k)); len(seen) >= all {
				break
			}
		}
	}
	if n.apart > 0 {
		return e.spread(seen, n.apart)
	}
	return len(seen)
}

// spread counts places (word indexes, or negative for places that are no
// word) keeping only the words at least apart words after the last one
// kept in the same field.
func (e *evaluator) spread(places []int32, apart int) int {
	slices.Sort(places)
	count, last := 0, int32(-1)
	for _, p := range places {
		switch {
		case p < 0:
			count++
		case last < 0 || e.d.words[p].field != e.d.words[last].field || int(p-last) >= apart:
			count, last = count+1, p
		}
	}
	return count
}

// placeWords counts the words of the doc holding a key of bits (topic key
// ids), up to need; with apart, only words that many words after the last
// one counted in the same field, as spread counts places. Every place a
// min_count any finds is such a word, and counting the earliest word first
// keeps the most of any set of them, so this bounds what the any can find.
func (e *evaluator) placeWords(bits []uint64, need, apart int) int {
	d := e.d
	n, last := 0, int32(-1)
	for _, h := range d.hits { // in word order
		id := h.id
		if e.inv != nil {
			if id = e.inv[id]; id < 0 {
				continue
			}
		}
		if h.pos == last || bits[id>>6]&(1<<(id&63)) == 0 {
			continue
		}
		if apart > 0 && last >= 0 && d.words[h.pos].field == d.words[last].field && int(h.pos-last) < apart {
			continue
		}
		if n, last = n+1, h.pos; n >= need {
			break
		}
	}
	return n
}

// union32 appends to a the values of b it lacks.
func union32(a, b []int32) []int32 {
	for _, v := range b {
		if !slices.Contains(a, v) {
			a = append(a, v)
		}
	}
	return a
}

// termPlaces returns the words at which term n matches (a host match is
// place -1), up to need; none when the term has MinCount and matches
// fewer times.
func (e *evaluator) termPlaces(n *node, need int) []int32 {
	t, d := n.term, e.d
	var out []int32
	if n.fields&hostBit != 0 && t.host != "" && hostMatch(t.host, d.text[6]) {
		out = append(out, -1<<30)
	}
	for _, v := range t.variants {
		id := v.first
		if e.remap != nil {
			id = e.remap[id]
		}
		occ := d.occurrences(id)
		if len(occ) == 0 || !e.holds(v.also) {
			continue
		}
		for _, p := range occ {
			if _, ok := e.phraseAt(v, int(p), n.fields, n.caseSens, false); ok {
				out = append(out, p)
				if len(out) >= max(need, t.minCount) {
					return out
				}
			}
		}
	}
	if len(out) < t.minCount {
		return nil
	}
	return out
}

// nearPlaces returns the words at which near n's places start.
func (e *evaluator) nearPlaces(n *node) []int32 {
	left, right := e.nearSpans(n)
	var out []int32
	for _, a := range left {
		for _, b := range right {
			if close, from := nearTo(a, b, n.near.within); close {
				out = append(out, from)
				break
			}
		}
	}
	if len(out) < n.minCount {
		return nil // the near does not match
	}
	return out
}

// nearTo reports whether spans a and b stand in the same field at most
// within words apart, without overlapping, and where the pair starts.
func nearTo(a, b span, within int) (bool, int32) {
	if a.field != b.field {
		return false, 0
	}
	var apart int32 // 1 for adjacent words
	switch {
	case b.from >= a.to:
		apart = b.from - a.to + 1
	case a.from >= b.to:
		apart = a.from - b.to + 1
	default:
		return false, 0 // overlapping: the same words
	}
	return int(apart) <= within, min(a.from, b.from)
}

// regex runs n's regex over each field in scope, in field order. A
// case-sensitive regex does not match a field without case information.
func (e *evaluator) regex(n *node) found {
	var f found
	for i, text := range e.d.text {
		if n.fields&(1<<i) == 0 {
			if n.fields&leadBit == 0 {
				continue
			}
			text = e.d.leadText(i)
		}
		if text == "" || n.needs != nil && !e.d.contains(i, n.needs) {
			continue
		}
		if n.caseSens && e.d.isCaseless(uint8(i)) {
			continue
		}
		if e.out == nil {
			if n.re.MatchString(text) {
				f.count++
				return f
			}
			continue
		}
		for _, m := range n.re.FindAllString(text, maxWords) {
			f.add(e, uint8(i), m)
		}
	}
	return f
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
