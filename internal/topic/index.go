package topic

import (
	"math/bits"
	"slices"
)

// minIndexed is the number of children (or near terms) from which a clause
// keeps a keyIndex: below it, checking each child's keys costs less than
// looking them up.
const minIndexed = 8

// keyIndex lists, for the children of a big any (or the terms of one side
// of a near), which of them each key can start: the default topics' lists
// of places and security words have hundreds of entries, a story holds a
// few dozen keys, and walking the list to turn each entry away cost most of
// a classification. Entries are indexes into the list, so a walk of the
// candidates visits them in list order, as the full walk does.
type keyIndex struct {
	bits bitset // every key some entry needs
	// rank[w] counts the keys in bits.words[:w]; the key of rank r (its
	// place among the keys, ascending) has its entries, ascending, at
	// entries[start[r]:start[r+1]].
	rank    []int32
	start   []int32
	entries []int32
	always  []int32 // entries that can match without keys, ascending
}

// of returns the entries needing key id, which x holds.
func (x *keyIndex) of(id int32) []int32 {
	w := int(id>>6) - x.bits.off
	r := x.rank[w] + int32(bits.OnesCount64(x.bits.words[w]&(1<<(id&63)-1)))
	return x.entries[x.start[r]:x.start[r+1]]
}

// newKeyIndex indexes nodes by their keys, or returns nil for a short list.
func newKeyIndex(nodes []*node, nkeys int) *keyIndex {
	if len(nodes) < minIndexed {
		return nil
	}
	x := &keyIndex{}
	byKey := map[int32][]int32{}
	var ids []int32
	for i, k := range nodes {
		if k.keys == nil {
			x.always = append(x.always, int32(i))
			continue
		}
		for _, id := range k.keys {
			l := byKey[id]
			if len(l) == 0 {
				ids = append(ids, id)
			}
			if len(l) == 0 || l[len(l)-1] != int32(i) {
				byKey[id] = append(l, int32(i))
			}
		}
	}
	x.bits = *newBitset(ids, nkeys)
	x.rank = make([]int32, len(x.bits.words))
	n := int32(0)
	for w, b := range x.bits.words {
		x.rank[w] = n
		n += int32(bits.OnesCount64(b))
	}
	x.start = make([]int32, 0, n+1)
	for w, b := range x.bits.words {
		for ; b != 0; b &= b - 1 {
			id := int32((x.bits.off+w)<<6 + bits.TrailingZeros64(b))
			x.start = append(x.start, int32(len(x.entries)))
			x.entries = append(x.entries, byKey[id]...)
		}
	}
	x.start = append(x.start, int32(len(x.entries)))
	return x
}

// candidates returns the entries of x that may match the doc (every entry
// without keys, and those whose keys the doc holds), ascending, read-only:
// a list of x's own, or one made on e's scratch, which the caller gives
// back with release(mark) when done.
func (e *evaluator) candidates(x *keyIndex) (list []int32, mark int) {
	mark = len(e.scratch)
	// Mostly one key of the clause's is there, or none: then the list is
	// one of x's own, as it is.
	var one []int32
	found := 0
	has := e.has[x.bits.off:]
	for i, w := range x.bits.words {
		for m := w & has[i]; m != 0; m &= m - 1 {
			if found == 0 {
				one = x.of(int32((x.bits.off+i)<<6 + bits.TrailingZeros64(m)))
			}
			found++
		}
	}
	switch {
	case found == 0:
		return x.always, mark
	case found == 1 && len(x.always) == 0:
		return one, mark
	}
	buf := append(e.scratch, x.always...)
	for i, w := range x.bits.words {
		for m := w & has[i]; m != 0; m &= m - 1 {
			buf = append(buf, x.of(int32((x.bits.off+i)<<6+bits.TrailingZeros64(m)))...)
		}
	}
	list = buf[mark:]
	if len(list) > len(x.always) {
		slices.Sort(list)
		list = slices.Compact(list)
	}
	e.scratch = buf[:mark+len(list)]
	return list, mark
}

// release drops the candidates listed from mark on.
func (e *evaluator) release(mark int) { e.scratch = e.scratch[:mark] }
