package topic

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// keyKind says how a rule word is compared with the words of a story.
type keyKind uint8

const (
	keyExact  keyKind = iota // the case-folded word, as written
	keyStem                  // the word's Porter2 stem
	keyPrefix                // the case-folded beginning of the word (deport*)
)

// key is what a doc indexes a word under: postings list, for every key a
// rule starts a term with, where that key occurs.
type key struct {
	kind keyKind
	text string
}

// termWord is one word of a term.
type termWord struct {
	kind keyKind
	text string // case-folded word, stem or prefix
	orig string // as written (normalized), for case-sensitive terms
	gap  string // the text between this word and the one before; "" for the first
}

// termPattern is one way of writing a term: the term itself, or the term
// with a place replaced by its demonym.
type termPattern struct {
	words          []termWord
	prefix, suffix string // punctuation glued to the ends: "#" in "#MeToo", "++" in "C++"
	first          int32  // key id of words[0]
	// also are key ids one of which a story holds wherever the pattern
	// matches: the keys of its longest word after the first (the rarest,
	// most likely), so a phrase whose other word is nowhere in the story
	// ("border crossings" in a story of border agents) is turned away
	// without checking it at every place of its first word. nil for a
	// pattern of one word.
	also []int32
}

// termSpec is a compiled Term.
type termSpec struct {
	text     string         // as written, normalized, for descriptions
	variants []*termPattern // the term, then its place forms
	host     string         // the term as a domain name, when the clause reads the host
	minCount int
}

// maxVariants bounds the variants a term's place names may multiply into.
const maxVariants = 16

// minPrefix is the shortest prefix a wildcard may have, in letters: "dep*"
// is a choice, "de*" would take half the dictionary.
const minPrefix = 3

func (c *compiler) compileTerm(n *node, term string, sc scope, minCount int) {
	text := normalizeText(term)
	spec := &termSpec{text: text, minCount: minCount}
	n.term = spec
	if n.fields&hostBit != 0 {
		spec.host = c.hostDomain(n, text)
	}
	if n.fields&^hostBit == 0 {
		n.desc = c.describeTerm(n, sc)
		return // a host-only term needs no words
	}
	base, ok := c.pattern(n, text, sc, true)
	if !ok {
		return
	}
	spec.variants = append(spec.variants, base)
	if !sc.exact && !sc.caseSens && !sc.noDemonyms {
		for _, v := range c.placeVariants(n, base, text, sc) {
			spec.variants = append(spec.variants, v)
		}
	}
	for _, v := range spec.variants {
		v.first = c.id(key{v.words[0].kind, v.words[0].text})
		if len(v.words) > 1 {
			w := v.words[1]
			for _, x := range v.words[2:] {
				if len(x.text) > len(w.text) {
					w = x
				}
			}
			v.also = []int32{c.id(key{w.kind, w.text})}
			if w.kind == keyStem {
				// A phrase compares a word of digits or of fewer than
				// three letters with a stem as written (doc.stem), and a
				// doc files such words under their exact keys only.
				v.also = append(v.also, c.id(key{keyExact, w.text}))
			}
		}
	}
	c.fields |= n.fields &^ hostBit
	n.desc = c.describeTerm(n, sc)
}

// describeTerm says what the term looks for: `term "deport*" (case-sensitive)`.
func (c *compiler) describeTerm(n *node, sc scope) string {
	spec := n.term
	d := fmt.Sprintf("term %q", spec.text)
	var notes []string
	switch {
	case sc.caseSens:
		notes = append(notes, "case-sensitive")
	case sc.exact:
		notes = append(notes, "exact")
	}
	if len(spec.variants) > 1 {
		forms := make([]string, 0, len(spec.variants)-1)
		for _, v := range spec.variants[1:] {
			forms = append(forms, v.String())
		}
		notes = append(notes, "or "+strings.Join(forms, ", "))
	}
	if spec.minCount > 1 {
		notes = append(notes, fmt.Sprintf("at least %d times", spec.minCount))
	}
	if n.fields != defaultFields {
		notes = append(notes, "in "+n.fields.String())
	}
	if len(notes) > 0 {
		d += " (" + strings.Join(notes, "; ") + ")"
	}
	return d
}

// String writes the pattern back as a phrase, for descriptions.
func (p *termPattern) String() string {
	var b strings.Builder
	b.WriteString(p.prefix)
	for i, w := range p.words {
		if i > 0 {
			b.WriteString(w.gap)
		}
		b.WriteString(w.orig)
		if w.kind == keyPrefix {
			b.WriteByte('*')
		}
	}
	b.WriteString(p.suffix)
	return b.String()
}

// pattern splits text into the words of a term. top says text is the term
// as the admin wrote it (errors are reported against it); place forms are
// compiled with top false.
func (c *compiler) pattern(n *node, text string, sc scope, top bool) (*termPattern, bool) {
	lowerBytes, spans := words(text, 0, nil, nil)
	if len(spans) == 0 {
		if top {
			c.fail(n.path+".term", fmt.Sprintf("term %q has no letters or digits", text),
				"terms match whole words; use regex to match punctuation")
		}
		return nil, false
	}
	low := string(lowerBytes)
	p := &termPattern{prefix: text[:spans[0].start]}
	if strings.Contains(p.prefix, "*") {
		if top {
			c.fail(n.path+".term", fmt.Sprintf("term %q has a '*' that follows no word", text),
				"a wildcard ends a word: deport* matches deport, deported, deportee")
		}
		return nil, false
	}
	gap := ""
	for i, sp := range spans {
		w := termWord{text: low[sp.lstart:sp.lend], orig: text[sp.start:sp.end], gap: gap}
		after := text[sp.end:]
		if i+1 < len(spans) {
			after = text[sp.end:spans[i+1].start]
		}
		if strings.HasPrefix(after, "*") {
			if after == "*" && i+1 < len(spans) {
				if top {
					c.fail(n.path+".term", fmt.Sprintf("term %q has a '*' inside a word", text),
						"a wildcard ends a word: deport* matches deport, deported, deportee")
				}
				return nil, false
			}
			w.kind = keyPrefix
			if utf8.RuneCountInString(w.text) < minPrefix {
				if top {
					c.fail(n.path+".term", fmt.Sprintf("wildcard %q is too short: a prefix needs at least %d letters", w.orig+"*", minPrefix),
						"write more of the word, or list the words")
				}
				return nil, false
			}
			after = after[1:]
		}
		if strings.Contains(after, "*") {
			if top {
				c.fail(n.path+".term", fmt.Sprintf("term %q has a '*' that follows no word", text),
					"a wildcard ends a word: deport* matches deport, deported, deportee")
			}
			return nil, false
		}
		w.kind = c.kindOf(w, sp, sc)
		p.words = append(p.words, w)
		gap = after
	}
	p.suffix = gap
	for i := range p.words {
		if p.words[i].kind == keyStem {
			p.words[i].text = c.stem.stem(p.words[i].text)
		}
	}
	return p, true
}

// kindOf decides how a rule word is compared: by its stem when word forms
// apply (three or more ASCII letters, neither exact nor case-sensitive),
// else as written.
func (c *compiler) kindOf(w termWord, sp word, sc scope) keyKind {
	switch {
	case w.kind == keyPrefix:
		return keyPrefix
	case sc.exact || sc.caseSens || !sp.letters || len(w.text) < minStemLen:
		return keyExact
	}
	return keyStem
}

// placeVariants returns the patterns of base with each place it names
// replaced by one of the place's forms: "Japan coast guard" gives "Japanese
// coast guard".
func (c *compiler) placeVariants(n *node, base *termPattern, text string, sc scope) []*termPattern {
	pl := placeForms()
	lowerBytes, spans := words(text, 0, nil, nil)
	folded := make([]string, len(spans))
	for i, sp := range spans {
		folded[i] = string(lowerBytes[sp.lstart:sp.lend])
	}
	variants := []*termPattern{base}
	for i := 0; i < len(spans); {
		found := 0
		var forms []string
		for j := min(len(spans), i+pl.maxWords); j > i; j-- {
			if base.words[j-1].kind == keyPrefix {
				continue
			}
			if f, ok := pl.forms[strings.Join(folded[i:j], " ")]; ok {
				found, forms = j-i, f
				break
			}
		}
		if found == 0 {
			i++
			continue
		}
		var next []*termPattern
		for _, v := range variants {
			next = append(next, v)
			for _, form := range forms {
				fp, ok := c.pattern(n, form, sc, false)
				if !ok || len(next) >= maxVariants {
					continue
				}
				next = append(next, splice(v, i, i+found, fp, len(base.words)))
			}
		}
		variants = next
		i += found
	}
	return variants[1:]
}

// splice returns v with its words [i, j) (counted in the base pattern's
// words, of which there are n) replaced by the words of form.
func splice(v *termPattern, i, j int, form *termPattern, n int) *termPattern {
	// A variant may already be longer or shorter than the base where an
	// earlier place was replaced; count from the end, which is unchanged.
	fromEnd := n - j
	end := len(v.words) - fromEnd
	start := end - (j - i)
	out := &termPattern{prefix: v.prefix, suffix: v.suffix}
	out.words = append(out.words, v.words[:start]...)
	for k, w := range form.words {
		if k == 0 {
			w.gap = v.words[start].gap
		}
		out.words = append(out.words, w)
	}
	out.words = append(out.words, v.words[end:]...)
	if start == 0 {
		out.prefix = v.prefix + form.prefix
	}
	if end == len(v.words) {
		out.suffix = form.suffix + v.suffix
	}
	return out
}
