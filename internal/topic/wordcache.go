package topic

import "hash/maphash"

// wordCache is what a doc has learnt about the words it met, case-folded:
// their exact key, the key of their stem, the stem itself and the wildcard
// prefixes they begin with. News repeats its words and a pooled doc keeps
// the cache across stories, so most words are looked up in the lexicon and
// stemmed once per process, and a word of a story costs one probe of this
// table instead of a map lookup per kind of key. It is an open-addressing
// table (linear probing, hashed with a random seed, so no feed can choose
// words that collide) whose slots are updated in place.
type wordCache struct {
	seed  maphash.Seed
	slots []wordSlot // a power of two long; the empty word marks a free slot
	n     int
	lex   *lexicon // the lexicon the ids were looked up in
}

// wordSlot is one word of a wordCache.
type wordSlot struct {
	word  string
	exact int32  // key id of the word in lex.exact, -1 for none, unknownID before it was looked up
	stem  int32  // key id of its stem in lex.stems, -1 for none, unknownID before it was looked up
	form  string // its Porter2 stem, "" until computed
	// prefixes are the key ids of the wildcard prefixes it begins with,
	// once prefixed is set.
	prefixes []int32
	prefixed bool
}

// unknownID marks an id not yet looked up.
const unknownID = -2

const (
	minSlots = 1 << 6
	// maxSlots bounds the table; when it is half full it starts afresh.
	maxSlots = 1 << 15
)

// reset empties c when it was filled against another lexicon. A new table
// starts small and doubles as words come (a doc made for one Match meets
// one story's words; a pooled one, those of many).
func (c *wordCache) reset(lx *lexicon) {
	if c.lex == lx && c.slots != nil {
		return
	}
	if c.slots == nil {
		c.seed = maphash.MakeSeed()
		c.slots = make([]wordSlot, minSlots)
	} else {
		clear(c.slots)
	}
	c.n, c.lex = 0, lx
}

// slot returns the slot of w, adding it (nothing known yet) when new. The
// pointer is good until the next call.
func (c *wordCache) slot(w []byte) *wordSlot {
	mask := uint64(len(c.slots) - 1)
	for i := maphash.Bytes(c.seed, w) & mask; ; i = (i + 1) & mask {
		s := &c.slots[i]
		if s.word == "" {
			if c.n+1 > len(c.slots)/2 {
				if len(c.slots) < maxSlots {
					c.grow()
				} else {
					clear(c.slots) // start afresh: a cache, not a record
					c.n = 0
				}
				return c.slot(w)
			}
			c.n++
			*s = wordSlot{word: string(w), exact: unknownID, stem: unknownID}
			return s
		}
		if s.word == string(w) {
			return s
		}
	}
}

// grow doubles the table.
func (c *wordCache) grow() {
	old := c.slots
	c.slots = make([]wordSlot, 2*len(old))
	mask := uint64(len(c.slots) - 1)
	for _, s := range old {
		if s.word == "" {
			continue
		}
		i := maphash.String(c.seed, s.word) & mask
		for c.slots[i].word != "" {
			i = (i + 1) & mask
		}
		c.slots[i] = s
	}
}
