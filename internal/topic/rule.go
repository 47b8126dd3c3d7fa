package topic

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
)

type kind uint8

const (
	kindTerm kind = iota
	kindRegex
	kindNear
	kindAny
	kindAll
	kindNot
)

// node is one compiled clause.
type node struct {
	kind     kind
	path     string // "rule.any[2]"
	pos      string // "config/newsdesk.yaml:88:11", or ""
	desc     string // `term "border patrol"`
	weight   float64
	minScore float64 // kindAny only; 0 means any one child is enough
	minCount int     // kindAny and kindNear: the places needed; 0 and 1 mean one
	apart    int     // kindAny with minCount: the words a counted place needs after the last one
	// pseudo bounds the places of a min_count any that are no word: its
	// branches (regex, not, min_score) and host terms.
	pseudo int
	// placeBits (a min_count any only) holds the first key of every term
	// under it, near sides included: a place it finds is a word holding
	// one of them, or one of its pseudo places.
	placeBits []uint64
	fields    fieldMask
	caseSens  bool
	term      *termSpec
	re        *regexp.Regexp
	needs     []literal // a regex match contains one of these; nil when unknown
	near      *nearSpec
	kids      []*node
	// keys are key ids one of which a story must hold for the clause to
	// match, nil when it can match without (not, a regex, a host term):
	// a big any of absent words is turned away without walking it.
	keys    []int32
	keyBits *bitset // keys as a bitset of key ids, for a clause with many
	// index finds, for a big any, the children the story's keys can
	// match, so the others are never visited; nil for a short list.
	index *keyIndex
}

// maxKeys bounds a clause's keys; a clause that would need more is walked.
// A long list costs nothing at match time (it is checked as a bitset
// against the few keys a story holds), so the bound only caps memory.
const maxKeys = 1 << 14

// manyKeys is the length of a key list past which a clause also keeps it
// as a bitset.
const manyKeys = 16

// bitsOf returns keys as a bitset over n key ids, or nil for a short list.
func bitsOf(keys []int32, n int) *bitset {
	if len(keys) <= manyKeys {
		return nil
	}
	return newBitset(keys, n)
}

// bitset is a set of key ids, kept as the words of a bitset over every id
// from the first word holding one of them to the last: a clause's keys were
// compiled together, so their ids are close and a test against a doc's
// keys reads a few words, not the whole id space.
type bitset struct {
	off   int // the index of words[0] in a bitset of every id
	words []uint64
}

// newBitset returns the set of ids, all below n.
func newBitset(ids []int32, n int) *bitset {
	full := make([]uint64, (n+63)/64)
	for _, id := range ids {
		full[id>>6] |= 1 << (id & 63)
	}
	lo, hi := 0, len(full)
	for lo < hi && full[lo] == 0 {
		lo++
	}
	for hi > lo && full[hi-1] == 0 {
		hi--
	}
	return &bitset{off: lo, words: full[lo:hi]}
}

// has reports whether id is in b.
func (b *bitset) has(id int32) bool {
	w := int(id>>6) - b.off
	return w >= 0 && w < len(b.words) && b.words[w]&(1<<(id&63)) != 0
}

// meets reports whether b and the full bitset all share an id.
func (b *bitset) meets(all []uint64) bool {
	for i, w := range b.words {
		if w&all[b.off+i] != 0 {
			return true
		}
	}
	return false
}

// setKeys fills n.keys, bottom-up, once the tree is compiled; nkeys is the
// topic's number of keys.
func setKeys(n *node, nkeys int) {
	defer func() {
		n.keyBits = bitsOf(n.keys, nkeys)
		if n.near != nil {
			n.near.rightBits = bitsOf(n.near.rightKeys, nkeys)
		}
	}()
	for _, k := range n.kids {
		setKeys(k, nkeys)
	}
	if n.near != nil {
		for _, k := range n.near.left {
			setKeys(k, nkeys)
		}
		for _, k := range n.near.right {
			setKeys(k, nkeys)
		}
	}
	switch n.kind {
	case kindTerm:
		if n.term.host != "" || len(n.term.variants) == 0 {
			return
		}
		for _, v := range n.term.variants {
			n.keys = append(n.keys, v.first)
		}
	case kindNear:
		n.keys = union(n.near.left)
		n.near.rightKeys = union(n.near.right)
		n.near.leftIndex, n.near.rightIndex = newKeyIndex(n.near.left, nkeys), newKeyIndex(n.near.right, nkeys)
	case kindAny:
		n.keys = union(n.kids)
		n.index = newKeyIndex(n.kids, nkeys)
		if n.minCount > 1 {
			n.pseudo = branchPlaces(&node{kind: kindAny, kids: n.kids})
			n.placeBits = make([]uint64, (nkeys+63)/64)
			placeKeys(n, n.placeBits)
		}
	case kindAll:
		for _, k := range n.kids {
			if k.keys != nil && (n.keys == nil || len(k.keys) < len(n.keys)) {
				n.keys = k.keys
			}
		}
	}
}

// placeKeys adds to bits the first key of every variant of every term
// under n, wherever it stands (more keys only loosen the bound they give).
func placeKeys(n *node, bits []uint64) {
	if n.kind == kindTerm {
		for _, v := range n.term.variants {
			bits[v.first>>6] |= 1 << (v.first & 63)
		}
	}
	for _, k := range n.kids {
		placeKeys(k, bits)
	}
	if n.near != nil {
		for _, k := range n.near.left {
			placeKeys(k, bits)
		}
		for _, k := range n.near.right {
			placeKeys(k, bits)
		}
	}
}

// branchPlaces bounds the places n can find under a min_count any that are
// not words of the story (see evaluator.countAny).
func branchPlaces(n *node) int {
	switch {
	case n.kind == kindTerm && n.term.host == "", n.kind == kindNear:
		return 0
	case n.kind == kindAny && n.minCount <= 1 && n.minScore == 0:
		sum := 0
		for _, k := range n.kids {
			sum += branchPlaces(k)
		}
		return sum
	case n.kind == kindAll:
		sum, positive := 0, false
		for _, k := range n.kids {
			if k.kind != kindNot {
				sum += branchPlaces(k)
				positive = true
			}
		}
		if !positive {
			sum++
		}
		return sum
	}
	return 1
}

// union returns every key of nodes, or nil when one of them can match
// without keys or there are too many.
func union(nodes []*node) []int32 {
	var out []int32
	seen := map[int32]bool{}
	for _, k := range nodes {
		if k.keys == nil {
			return nil
		}
		for _, id := range k.keys {
			if !seen[id] {
				seen[id] = true
				out = append(out, id)
			}
		}
		if len(out) > maxKeys {
			return nil
		}
	}
	return out
}

// nearSpec is a compiled Near: its two sides are term nodes.
type nearSpec struct {
	left, right []*node
	within      int
	rightKeys   []int32 // the keys one of which the with side needs; nil when unknown
	rightBits   *bitset
	// leftIndex and rightIndex find the terms of each side the story's
	// keys can start (nil for a short side).
	leftIndex, rightIndex *keyIndex
}

// scope is what a clause inherits from its parent.
type scope struct {
	fields                      fieldMask
	caseSens, exact, noDemonyms bool
}

// compiler turns a Rule tree into nodes, collecting every problem instead
// of stopping at the first (pitfall: invalid rules must fail loudly, all at once).
type compiler struct {
	errs   []error
	keys   []key         // by id
	ids    map[key]int32 // key → id
	fields fieldMask     // every field some term reads, so docs split only those into words
	texts  fieldMask     // every field some clause reads, so docs normalize only those
	stem   stemmer
}

func newCompiler() *compiler { return &compiler{ids: map[key]int32{}} }

func (c *compiler) fail(path, msg, hint string) {
	c.errs = append(c.errs, &Error{Path: path, Msg: msg, Hint: hint})
}

// id returns the id of k in the topic's keys, adding it when new.
func (c *compiler) id(k key) int32 {
	id, ok := c.ids[k]
	if !ok {
		id = int32(len(c.keys))
		c.ids[k] = id
		c.keys = append(c.keys, k)
	}
	return id
}

// compile checks and compiles r at path, within the scope inherited from
// its parent. It returns nil when r is unusable (an error was recorded).
func (c *compiler) compile(r *Rule, path string, sc scope) *node {
	sc.caseSens = sc.caseSens || r.Case
	sc.exact = sc.exact || r.Exact
	sc.noDemonyms = sc.noDemonyms || r.NoDemonyms
	n := &node{path: path, pos: r.Pos, weight: 1, caseSens: sc.caseSens}
	if r.In != nil {
		if len(r.In) == 0 {
			c.fail(path+".in", "in is empty", "leave in out to use title, summary and content")
		}
		var m fieldMask
		for i, f := range r.In {
			bit, ok := fieldBit(Field(strings.ToLower(strings.TrimSpace(string(f)))))
			if !ok {
				c.fail(fmt.Sprintf("%s.in[%d]", path, i), fmt.Sprintf("unknown field %q", f),
					"valid fields: "+strings.ReplaceAll(allFields.String(), ",", ", "))
			}
			m |= bit
		}
		if m != 0 {
			sc.fields = m
		}
	}
	n.fields = sc.fields
	c.texts |= n.fields
	switch {
	case math.IsNaN(r.Weight) || math.IsInf(r.Weight, 0) || r.Weight < 0:
		c.fail(path+".weight", fmt.Sprintf("weight %v is not a positive number", r.Weight), "leave weight out for 1")
	case r.Weight > 0:
		n.weight = r.Weight
	}

	var set []string
	if r.Term != "" {
		set = append(set, "term")
	}
	if r.Regex != "" {
		set = append(set, "regex")
	}
	if r.Near != nil {
		set = append(set, "near")
	}
	if r.Any != nil {
		set = append(set, "any")
	}
	if r.All != nil {
		set = append(set, "all")
	}
	if r.Not != nil {
		set = append(set, "not")
	}
	if len(set) != 1 {
		hint := "give this clause one of them"
		if len(set) > 1 {
			hint = "this clause sets " + strings.Join(set, " and ") + "; put them in separate clauses under any or all"
		}
		if path == "rule" && len(set) == 0 {
			c.fail(path, "the rule is empty", "add a term, regex, near, any, all or not")
		} else {
			c.fail(path, "a clause needs exactly one of term, regex, near, any, all, not", hint)
		}
		return nil
	}
	if r.MinScore != 0 && r.Any == nil {
		c.fail(path+".min_score", "min_score only applies to any", "move min_score to an any clause")
	}
	if r.MinCount != 0 && r.Term == "" && r.Any == nil && r.Near == nil {
		c.fail(path+".min_count", "min_count only applies to a term, a near or an any",
			"write it beside the term: {term: grid, min_count: 2}, or on an any of words: {any: [rent, tenants], min_count: 3}")
	}
	if r.MinCount < 0 {
		c.fail(path+".min_count", fmt.Sprintf("min_count %d is negative", r.MinCount), "leave min_count out for 1")
	}
	if r.Apart < 0 {
		c.fail(path+".apart", fmt.Sprintf("apart %d is negative", r.Apart), "leave apart out to count every place")
	}
	if r.Apart != 0 && (r.Any == nil || r.MinCount < 2) {
		c.fail(path+".apart", "apart only applies to an any with min_count of 2 or more",
			"write it beside min_count: {any: [rent, tenants], min_count: 3, apart: 20}")
	}
	if r.MinCount > 1 && r.MinScore != 0 {
		c.fail(path+".min_count", "min_count and min_score cannot both apply to one any",
			"count places (min_count) or add up weights (min_score): nest one any inside the other")
	}
	if r.Near == nil && (r.With != nil || r.Within != 0) {
		c.fail(path+".with", "with and within only apply to near", "write {near: [ICE], with: [agents, raids], within: 8}")
	}

	switch set[0] {
	case "term":
		n.kind = kindTerm
		c.compileTerm(n, r.Term, sc, max(r.MinCount, 1))
	case "regex":
		n.kind = kindRegex
		c.compileRegex(n, r.Regex)
	case "near":
		n.kind = kindNear
		c.compileNear(n, r, sc)
		if r.MinCount > 1 {
			n.minCount = r.MinCount
			n.desc += fmt.Sprintf(" (at least %d places)", r.MinCount)
		}
	case "any", "all":
		kids, name := r.Any, "any"
		n.kind = kindAny
		if r.All != nil {
			kids, name = r.All, "all"
			n.kind = kindAll
		}
		if len(kids) == 0 {
			c.fail(path+"."+name, name+" is empty", "list at least one clause under "+name)
			return nil
		}
		total := 0.0
		for i := range kids {
			kid := c.compile(&kids[i], fmt.Sprintf("%s.%s[%d]", path, name, i), sc)
			if kid != nil {
				n.kids = append(n.kids, kid)
				total += kid.weight
			}
		}
		if len(n.kids) != len(kids) {
			return nil
		}
		n.desc = name
		if r.MinCount > 1 && n.kind == kindAny {
			n.minCount = r.MinCount
			n.desc += fmt.Sprintf(" (at least %d places", r.MinCount)
			if r.Apart > 0 {
				n.apart = r.Apart
				n.desc += fmt.Sprintf(" %d words apart", r.Apart)
			}
			if r.In != nil {
				n.desc += " in " + sc.fields.String()
			}
			n.desc += ")"
		}
		if r.MinScore != 0 && n.kind == kindAny {
			switch {
			case math.IsNaN(r.MinScore) || math.IsInf(r.MinScore, 0) || r.MinScore < 0:
				c.fail(path+".min_score", fmt.Sprintf("min_score %v is not a positive number", r.MinScore), "")
			case r.MinScore > total:
				c.fail(path+".min_score", fmt.Sprintf("min_score %s can never be reached: the weights under any add up to %s",
					num(r.MinScore), num(total)), "lower min_score or raise some weights")
			default:
				n.minScore = r.MinScore
				n.desc += " (min_score " + num(r.MinScore) + ")"
			}
		}
	case "not":
		n.kind = kindNot
		kid := c.compile(r.Not, path+".not", sc)
		if kid == nil {
			return nil
		}
		n.kids = []*node{kid}
		n.desc = "not"
	}
	if n.weight != 1 {
		n.desc += " (weight " + num(n.weight) + ")"
	}
	return n
}

// compileNear compiles both sides of a near clause: lists of terms.
func (c *compiler) compileNear(n *node, r *Rule, sc scope) {
	spec := &nearSpec{within: r.Within}
	switch {
	case r.Within < 0:
		c.fail(n.path+".within", fmt.Sprintf("within %d is negative", r.Within), "leave within out for 10 words")
	case r.Within == 0:
		spec.within = DefaultWithin
	case r.Within > 1000:
		c.fail(n.path+".within", fmt.Sprintf("within %d is more words than a story has", r.Within), "use all: [...] for words anywhere in the story")
	}
	side := func(items []Rule, name string) []*node {
		if len(items) == 0 {
			c.fail(n.path+"."+name, name+" is empty", "list the words, e.g. "+name+": [agents, raids]")
			return nil
		}
		var out []*node
		for i := range items {
			it := &items[i]
			p := fmt.Sprintf("%s.%s[%d]", n.path, name, i)
			if it.Term == "" || it.Regex != "" || it.Near != nil || it.Any != nil || it.All != nil || it.Not != nil ||
				it.In != nil || it.Weight != 0 || it.MinScore != 0 || it.MinCount != 0 {
				c.fail(p, "near and with list terms", "write words or phrases, or {term: ..., case: true}; the fields come from the near clause")
				continue
			}
			isc := sc
			isc.caseSens = isc.caseSens || it.Case
			isc.exact = isc.exact || it.Exact
			isc.noDemonyms = isc.noDemonyms || it.NoDemonyms
			k := &node{kind: kindTerm, path: p, pos: it.Pos, weight: 1, fields: n.fields &^ hostBit, caseSens: isc.caseSens}
			c.compileTerm(k, it.Term, isc, 1)
			out = append(out, k)
		}
		return out
	}
	spec.left, spec.right = side(r.Near, "near"), side(r.With, "with")
	n.near = spec
	n.desc = fmt.Sprintf("%s near %s within %d words", termList(spec.left), termList(spec.right), spec.within)
}

// termList names the terms of a near side for descriptions: "ICE" or
// "agents/raids/detained".
func termList(nodes []*node) string {
	var names []string
	for _, k := range nodes {
		if k.term != nil {
			names = append(names, k.term.text)
		}
	}
	if len(names) > 4 {
		names = append(names[:4], "…")
	}
	return strconv.Quote(strings.Join(names, "/"))
}

// num formats a weight or score without trailing zeros.
func num(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }
