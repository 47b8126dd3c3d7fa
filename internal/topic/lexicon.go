package topic

import "bytes"

// lexicon is how a doc finds, for each of its words, the keys (words, stems,
// prefixes) the rules start their terms with. Most words of a story are in
// no rule: each is turned away by a bit test on its first two bytes, and
// only a word that begins like some rule stem is stemmed at all.
type lexicon struct {
	exact     map[string]int32 // case-folded word → key id
	stems     map[string]int32 // stem → key id
	exactBits bits16           // first two bytes of the exact words
	guardBits bits16           // first two bytes of the stem guards
	guards    map[uint16][]string
	guardAll  bool // some stem has an empty guard: every word is stemmed
	prefBits  bits16
	prefixes  map[uint16][]prefixKey
	n         int // number of keys
}

type prefixKey struct {
	text []byte
	id   int32
}

// bits16 is a set of 16-bit values: the first two bytes of words.
type bits16 [1 << 10]uint64

func (b *bits16) add(k uint16)      { b[k>>6] |= 1 << (k & 63) }
func (b *bits16) has(k uint16) bool { return b[k>>6]&(1<<(k&63)) != 0 }

// key16 is the first two bytes of w (the second 0 when w has one).
func key16[T string | []byte](w T) uint16 {
	switch len(w) {
	case 0:
		return 0
	case 1:
		return uint16(w[0]) << 8
	}
	return uint16(w[0])<<8 | uint16(w[1])
}

// newLexicon indexes keys, whose ids are their indexes.
func newLexicon(keys []key) *lexicon {
	lx := &lexicon{exact: map[string]int32{}, stems: map[string]int32{},
		guards: map[uint16][]string{}, prefixes: map[uint16][]prefixKey{}, n: len(keys)}
	seen := map[string]bool{}
	for id, k := range keys {
		switch k.kind {
		case keyExact:
			lx.exact[k.text] = int32(id)
			lx.exactBits.add(key16(k.text))
		case keyStem:
			lx.stems[k.text] = int32(id)
			if g := stemGuard(k.text); !seen[g] {
				seen[g] = true
				lx.addGuard(g)
			}
		case keyPrefix:
			for _, b := range buckets(k.text) {
				lx.prefBits.add(b)
				lx.prefixes[b] = append(lx.prefixes[b], prefixKey{text: []byte(k.text), id: int32(id)})
			}
		}
	}
	return lx
}

func (lx *lexicon) addGuard(g string) {
	if g == "" {
		lx.guardAll = true
		return
	}
	for _, b := range buckets(g) {
		lx.guardBits.add(b)
		lx.guards[b] = append(lx.guards[b], g)
	}
}

// buckets are the key16 values of the words that begin with p: one for a
// prefix of two bytes or more, every second byte for a one-byte prefix.
func buckets(p string) []uint16 {
	if len(p) >= 2 {
		return []uint16{key16(p)}
	}
	out := make([]uint16, 256)
	for i := range out {
		out[i] = uint16(p[0])<<8 | uint16(i)
	}
	return out
}

// guarded reports whether w (case-folded ASCII letters) begins with a stem
// guard, so its stem may be one the rules use.
func (lx *lexicon) guarded(k uint16, w []byte) bool {
	if lx.guardAll {
		return true
	}
	if !lx.guardBits.has(k) {
		return false
	}
	for _, g := range lx.guards[k] {
		if len(w) >= len(g) && string(w[:len(g)]) == g {
			return true
		}
	}
	return false
}

// prefixIDs returns the ids of the wildcard prefixes w (whose key16 is k)
// begins with, nil for none.
func (lx *lexicon) prefixIDs(k uint16, w []byte) []int32 {
	var ids []int32
	for _, p := range lx.prefixes[k] {
		if bytes.HasPrefix(w, p.text) {
			ids = append(ids, p.id)
		}
	}
	return ids
}

// merge returns a lexicon of the union of several topics' keys, and for
// each topic the translation of its key ids into the merged ones.
func merge(topics []*Topic) (*lexicon, [][]int32) {
	var keys []key
	ids := map[key]int32{}
	remap := make([][]int32, len(topics))
	for i, t := range topics {
		remap[i] = make([]int32, len(t.keys))
		for j, k := range t.keys {
			id, ok := ids[k]
			if !ok {
				id = int32(len(keys))
				ids[k] = id
				keys = append(keys, k)
			}
			remap[i][j] = id
		}
	}
	return newLexicon(keys), remap
}
