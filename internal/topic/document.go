package topic

import (
	"bytes"
	"net/url"
	"strings"

	"github.com/newsdesk/newsdesk/internal/story"
)

// fieldOrder lists the fields in the order a doc stores them; a field's
// index is its bit in a fieldMask.
var fieldOrder = [...]Field{Title, Summary, Content, Categories, Author, SourceName, LinkHost}

// fieldMask is a set of fields, one bit per index in fieldOrder.
type fieldMask uint8

const (
	defaultFields fieldMask = 1<<0 | 1<<1 | 1<<2 // title, summary, content
	hostBit       fieldMask = 1 << 6
	// leadBit is the lead: the title and the opening LeadWords words of
	// the summary and of the content. It is a place in fields the doc
	// holds anyway, not a text of its own.
	leadBit fieldMask = 1 << 7
)

// LeadWords is how many words of the summary, and of the content, the
// lead takes: about the first paragraph of a news story, where it states
// its subject.
const LeadWords = 50

func fieldBit(f Field) (fieldMask, bool) {
	if f == Lead {
		return leadBit, true
	}
	for i, g := range fieldOrder {
		if g == f {
			return 1 << i, true
		}
	}
	return 0, false
}

// allFields is every field a clause can name.
const allFields = fieldMask(1<<len(fieldOrder)-1) | leadBit

// String lists the fields in m, comma-separated, in fieldOrder (the lead
// after the title).
func (m fieldMask) String() string {
	var names []string
	for i, f := range fieldOrder {
		if m&(1<<i) != 0 {
			names = append(names, string(f))
		}
		if i == 0 && m&leadBit != 0 {
			names = append(names, string(Lead))
		}
	}
	return strings.Join(names, ",")
}

// words returns the fields whose words m reads: the lead's words are the
// title's, the summary's and the content's.
func (m fieldMask) words() fieldMask {
	if m&leadBit != 0 {
		m = m&^leadBit | defaultFields
	}
	return m
}

// inLead reports whether word i of d is in the lead: in the title, or among
// the first LeadWords words of the summary or the content.
func (d *doc) inLead(i int) bool {
	switch f := d.words[i].field; f {
	case 0:
		return true
	case 1, 2:
		return int32(i)-d.first[f] < LeadWords
	}
	return false
}

// inScope reports whether word i of d stands in one of fields.
func (d *doc) inScope(i int, fields fieldMask) bool {
	return fields&(1<<d.words[i].field) != 0 || fields&leadBit != 0 && d.inLead(i)
}

// leadText returns the part of field f's text in the lead: all of the
// title, the opening words of the summary and the content, nothing of the
// rest.
func (d *doc) leadText(f int) string {
	switch f {
	case 0:
		return d.text[0]
	case 1, 2:
		from, to := d.first[f], d.first[f+1]
		if from == to {
			return ""
		}
		last := min(to, from+LeadWords) - 1
		return d.text[f][:d.words[last].end]
	}
	return ""
}

// multiSep joins the values of a multi-valued field (categories, authors,
// source name and title). No term can contain it (normalize turns it into a
// space), so a phrase never runs from one category into the next.
const multiSep = "\n"

// doc is a story prepared for matching: every field normalized once, split
// into words once, and the words the rules start with located once, so
// that 50 topics cost 50 rule walks and not 50 scans of the text.
type doc struct {
	text  [len(fieldOrder)]string // normalized, original case
	lower []byte                  // every word case-folded, concatenated
	words []word
	// post lists, for each key id, the indexes in words where that key
	// occurs: post[ranges[id][0]:ranges[id][1]]. ranges is zero but at
	// the ids the doc holds, so only those are cleared for the next story.
	post   []int32
	ranges [][2]int32
	ids    []int32 // the key ids the doc holds, each once
	// has and topicIDs are scratch for keySet.
	has      []uint64
	topicIDs []int32
	hits     []hit // scratch for the postings, in word order
	// inLower[i] is the range of d.lower holding field i's words; tokenized
	// says which fields were split into words at all.
	inLower   [len(fieldOrder)][2]int32
	tokenized fieldMask
	// first[i] is the index in words of field i's first word; its words
	// end where field i+1's begin.
	first [len(fieldOrder) + 1]int32
	// folded holds each field's text case-folded, made on first use by a
	// regex prefilter.
	folded [len(fieldOrder)]*string
	// stems[i] is the stem of word i once computed ("" before).
	stems   []string
	stemmed bool // some stem was computed: stems needs clearing
	// cases[i] is 0 before field i's case is known, 1 when it has case
	// information, 2 when it is caseless.
	cases [len(fieldOrder)]uint8
	st    stemmer
	// known is what the doc learnt of the words it met (their keys and
	// stems), kept across the stories of a pooled doc.
	known wordCache
	lex   *lexicon // the lexicon ranges was sized for
	ev    evaluator
}

// hit is one word of a doc that is a rule key.
type hit struct{ id, pos int32 }

// contains reports whether field i holds one of lits, so a regex that
// needs one of them is worth running.
func (d *doc) contains(i int, lits []literal) bool {
	for _, l := range lits {
		text := d.text[i]
		if l.word != nil && d.tokenized&(1<<i) != 0 {
			if r := d.inLower[i]; bytes.Contains(d.lower[r[0]:r[1]], l.word) {
				return true
			}
			continue
		}
		if l.fold {
			if d.folded[i] == nil {
				f := foldString(text)
				d.folded[i] = &f
			}
			text = *d.folded[i]
		}
		if strings.Contains(text, l.text) {
			return true
		}
	}
	return false
}

// newDoc prepares s for the rules whose terms read fields (only those
// fields are split into words), whose clauses read texts (no other field is
// normalized at all) and whose terms start with the keys of lx.
func newDoc(s story.Story, fields, texts fieldMask, lx *lexicon) *doc {
	d := &doc{}
	d.reset(s, fields, texts, lx)
	return d
}

// reset prepares d for s as newDoc does, reusing d's buffers (Set.Classify
// keeps docs in a sync.Pool: ingest and Reclassify call it for every story).
func (d *doc) reset(s story.Story, fields, texts fieldMask, lx *lexicon) {
	d.folded = [len(fieldOrder)]*string{}
	d.cases = [len(fieldOrder)]uint8{}
	fields = fields.words() &^ hostBit // hosts are matched by labels, not words
	texts = texts.words() | fields
	d.text = [len(fieldOrder)]string{}
	if texts&(1<<0) != 0 {
		d.text[0] = normalizeText(s.Title)
	}
	if texts&(1<<1) != 0 {
		d.text[1] = textOrHTML(s.SummaryText, s.Summary)
	}
	if texts&(1<<2) != 0 {
		d.text[2] = textOrHTML(s.ContentText, s.Content)
	}
	if texts&(1<<3) != 0 {
		d.text[3] = joinNormalized(s.Categories...)
	}
	if texts&(1<<4) != 0 {
		names := make([]string, len(s.Authors))
		for i, a := range s.Authors {
			names[i] = a.Name
		}
		d.text[4] = joinNormalized(names...)
	}
	if texts&(1<<5) != 0 {
		if s.SourceTitle != "" && s.SourceTitle != s.Source {
			d.text[5] = joinNormalized(s.Source, s.SourceTitle)
		} else {
			d.text[5] = normalizeText(s.Source)
		}
	}
	if texts&hostBit != 0 {
		d.text[6] = linkHost(s.Link)
	}

	n := 0
	for i := range d.text {
		if fields&(1<<i) != 0 {
			n += len(d.text[i])
		}
	}
	if cap(d.lower) < n {
		d.lower = make([]byte, 0, n)
	}
	if want := n/4 + 1; cap(d.words) < want { // English averages about 6 bytes a word with its space, news' short words fewer
		d.words = make([]word, 0, want)
	}
	d.lower, d.words = d.lower[:0], d.words[:0]
	d.tokenized = fields
	for i := range d.text {
		from := int32(len(d.lower))
		d.first[i] = int32(len(d.words))
		if fields&(1<<i) != 0 && d.text[i] != "" {
			d.lower, d.words = words(d.text[i], uint8(i), d.lower, d.words)
		}
		d.inLower[i] = [2]int32{from, int32(len(d.lower))}
	}
	d.first[len(fieldOrder)] = int32(len(d.words))
	if d.stemmed {
		clear(d.stems)
		d.stemmed = false
	}
	d.known.reset(lx)
	if d.lex != lx || len(d.ranges) != lx.n {
		d.ranges, d.lex = make([][2]int32, lx.n), lx
	} else {
		for _, id := range d.ids {
			d.ranges[id] = [2]int32{}
		}
	}

	// Find the words that are keys: a bit test on most words, one probe
	// of the word cache on the few that pass it, and a stem for the fewer
	// still that begin like a rule's stem and were never met before.
	hits := d.hits[:0]
	for i, w := range d.words {
		lw := d.lower[w.lstart:w.lend]
		k := key16(lw)
		exact := lx.exactBits.has(k)
		stem := w.letters && len(lw) >= minStemLen && (lx.guardAll || lx.guardBits.has(k))
		prefix := lx.prefBits.has(k)
		if exact || stem || prefix {
			kw := d.known.slot(lw)
			if exact {
				if kw.exact == unknownID {
					kw.exact = -1
					if id, ok := lx.exact[kw.word]; ok {
						kw.exact = id
					}
				}
				if kw.exact >= 0 {
					hits = append(hits, hit{id: kw.exact, pos: int32(i)})
				}
			}
			if stem {
				if kw.stem == unknownID {
					kw.stem = -1
					if lx.guarded(k, lw) {
						if kw.form == "" {
							kw.form = d.st.stem(kw.word)
						}
						if sid, ok := lx.stems[kw.form]; ok {
							kw.stem = sid
						}
					}
				}
				if kw.stem >= 0 {
					hits = append(hits, hit{id: kw.stem, pos: int32(i)})
				}
			}
			if prefix {
				if !kw.prefixed {
					kw.prefixes, kw.prefixed = lx.prefixIDs(k, lw), true
				}
				for _, id := range kw.prefixes {
					hits = append(hits, hit{id: id, pos: int32(i)})
				}
			}
		}
	}
	d.hits = hits

	// The postings: a count per key, then each key's run of post in the
	// order the doc first holds the keys, filled in word order.
	d.ids = d.ids[:0]
	for _, h := range hits {
		r := &d.ranges[h.id]
		if r[1] == 0 {
			d.ids = append(d.ids, h.id)
		}
		r[1]++
	}
	off := int32(0)
	for _, id := range d.ids {
		r := &d.ranges[id]
		n := r[1]
		r[0], r[1] = off, off
		off += n
	}
	d.post = grow(d.post, len(hits))
	for _, h := range hits {
		r := &d.ranges[h.id]
		d.post[r[1]] = h.pos
		r[1]++
	}
}

// stem returns the stem of word i: Porter2 for a word of three or more ASCII
// letters, else the case-folded word. It is computed once per doc.
func (d *doc) stem(i int) string {
	w := d.words[i]
	if !w.letters || w.lend-w.lstart < minStemLen {
		return string(d.lower[w.lstart:w.lend])
	}
	if len(d.stems) < len(d.words) {
		if cap(d.stems) >= len(d.words) {
			d.stems = d.stems[:len(d.words)]
		} else {
			d.stems = make([]string, len(d.words))
		}
	}
	if d.stems[i] == "" {
		kw := d.known.slot(d.lower[w.lstart:w.lend])
		if kw.form == "" {
			kw.form = d.st.stem(kw.word)
		}
		d.stems[i] = kw.form
		d.stemmed = true
	}
	return d.stems[i]
}

// isCaseless reports whether field f has no case information.
func (d *doc) isCaseless(f uint8) bool {
	if d.cases[f] == 0 {
		d.cases[f] = 1
		if caseless(d.text[f]) {
			d.cases[f] = 2
		}
	}
	return d.cases[f] == 2
}

// textOrHTML is the normalized plain text of a field parse gave as text, or
// else of its HTML.
func textOrHTML(text, html string) string {
	if text != "" {
		return normalizeText(text)
	}
	return normalizeHTML(html)
}

// keySet returns the key ids of a topic of nkeys keys that d holds, as a
// bitset and as a list, translating d's key ids by inv (nil: d was built
// from the topic's lexicon). The result lives in d's scratch until the next
// call.
func (d *doc) keySet(inv []int32, nkeys int) ([]uint64, []int32) {
	words := (nkeys + 63) / 64
	if cap(d.has) < words {
		d.has = make([]uint64, words)
	}
	has := d.has[:words]
	clear(has)
	ids := d.topicIDs[:0]
	for _, id := range d.ids {
		if inv != nil {
			if id = inv[id]; id < 0 {
				continue
			}
		}
		has[id>>6] |= 1 << (id & 63)
		ids = append(ids, id)
	}
	d.has, d.topicIDs = has, ids
	return has, ids
}

// release drops d's references to story text before it goes back to a pool.
func (d *doc) release() {
	d.text = [len(fieldOrder)]string{}
	d.folded = [len(fieldOrder)]*string{}
}

// grow returns s resliced to n elements, reallocated when too small.
func grow(s []int32, n int) []int32 {
	if cap(s) < n {
		return make([]int32, n)
	}
	return s[:n]
}

// occurrences returns the positions in d.words of the vocabulary word id.
func (d *doc) occurrences(id int32) []int32 {
	r := d.ranges[id]
	return d.post[r[0]:r[1]]
}

// orig returns word i in its original case.
func (d *doc) orig(i int) string {
	w := d.words[i]
	return d.text[w.field][w.start:w.end]
}

// low returns word i case-folded.
func (d *doc) low(i int) []byte {
	w := d.words[i]
	return d.lower[w.lstart:w.lend]
}

// gapBefore returns the text between word i and the word before it in the
// same field, or the text before it at the start of its field.
func (d *doc) gapBefore(i int) string {
	w := d.words[i]
	prev := int32(0)
	if i > 0 && d.words[i-1].field == w.field {
		prev = d.words[i-1].end
	}
	return d.text[w.field][prev:w.start]
}

// gapAfter returns the text between word i and the next word in its field.
func (d *doc) gapAfter(i int) string {
	w := d.words[i]
	next := int32(len(d.text[w.field]))
	if i+1 < len(d.words) && d.words[i+1].field == w.field {
		next = d.words[i+1].start
	}
	return d.text[w.field][w.end:next]
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func joinNormalized(values ...string) string {
	switch len(values) {
	case 0:
		return ""
	case 1:
		return normalizeText(values[0])
	}
	parts := make([]string, 0, len(values))
	for _, v := range values {
		if v = normalizeText(v); v != "" {
			parts = append(parts, v)
		}
	}
	return strings.Join(parts, multiSep)
}

// linkHost returns the lowercased host of link without a leading "www.".
func linkHost(link string) string {
	if link == "" {
		return ""
	}
	u, err := url.Parse(link)
	if err != nil {
		return ""
	}
	return strings.TrimPrefix(strings.ToLower(u.Hostname()), "www.")
}
