package topic

import (
	"sync"

	"github.com/newsdesk/newsdesk/internal/story"
)

// Set is the compiled topics of one config.
type Set struct {
	topics []*Topic
	bySlug map[string]*Topic
	lex    *lexicon  // union of the topics' keys
	remap  [][]int32 // remap[i][topic key id] = set key id, for topics[i]
	inv    [][]int32 // inv[i][set key id] = topics[i]'s key id, or -1
	fields fieldMask
	texts  fieldMask
	docs   sync.Pool // *doc buffers reused across Classify calls
}

// NewSet returns a Set of the given topics, in order. The set merges the
// topics' keys so Classify prepares each story once for all of them.
func NewSet(topics ...*Topic) *Set {
	set := &Set{topics: topics, bySlug: make(map[string]*Topic, len(topics))}
	for _, t := range topics {
		if _, dup := set.bySlug[t.Slug]; !dup {
			set.bySlug[t.Slug] = t
		}
		set.fields |= t.fields
		set.texts |= t.texts
	}
	set.lex, set.remap = merge(topics)
	set.inv = make([][]int32, len(topics))
	for i, remap := range set.remap {
		inv := make([]int32, set.lex.n)
		for j := range inv {
			inv[j] = -1
		}
		for tid, sid := range remap {
			inv[sid] = int32(tid)
		}
		set.inv[i] = inv
	}
	return set
}

// Topics returns the topics in config order.
func (set *Set) Topics() []*Topic { return set.topics }

// Lookup returns the topic with slug, or nil.
func (set *Set) Lookup(slug string) *Topic { return set.bySlug[slug] }

// Classify returns the slugs of the topics s belongs to, in set order. The
// story is normalized and split into words once for all topics.
func (set *Set) Classify(s story.Story) []string {
	if len(set.topics) == 0 {
		return nil
	}
	d, _ := set.docs.Get().(*doc)
	if d == nil {
		d = &doc{}
	}
	d.reset(s, set.fields, set.texts, set.lex)
	var slugs []string
	for i, t := range set.topics {
		if t.match(s, newEvaluator(d, set.remap[i], set.inv[i], len(set.remap[i]))) {
			slugs = append(slugs, t.Slug)
		}
	}
	d.release()
	set.docs.Put(d)
	return slugs
}
