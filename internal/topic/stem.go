package topic

import (
	"github.com/blevesearch/snowballstem"
	"github.com/blevesearch/snowballstem/english"
)

// minStemLen is the shortest word that word forms apply to. Shorter words
// are abbreviations far more often than English words ("EU", "UN", "AI",
// the U and S of "U.S."), and Porter2 leaves them as they are anyway.
const minStemLen = 3

// stemmer computes Snowball English (Porter2) stems. It reuses one
// snowballstem.Env, so it is not safe for concurrent use: each doc and each
// compiler has its own.
type stemmer struct{ env *snowballstem.Env }

// stem returns the Porter2 stem of w, a case-folded word of ASCII letters.
func (s *stemmer) stem(w string) string {
	if len(w) < minStemLen {
		return w
	}
	if s.env == nil {
		s.env = snowballstem.NewEnv("")
	}
	s.env.SetCurrent(w)
	english.Stem(s.env)
	return s.env.Current()
}

// stemGuard returns a prefix that every word whose stem is st begins with,
// so a doc stems only the words that could match some rule's stem (stemming
// every word of a 5 KB story would cost more than classifying it).
//
// Porter2 only rewrites the end of a word, and of what it writes only a final
// e, i, l or y can be new (hope←hoping, happi←happy, possibl←possibility,
// sky←skies); apart from the exceptions dying, lying and tying, every word
// begins with its stem minus such a letter. FuzzStemGuard checks this.
func stemGuard(st string) string {
	switch n := len(st); {
	case n >= 2 && st[n-2:] == "ie":
		return st[:n-2] // die←dying, lie←lying, tie←tying
	case n >= 1 && (st[n-1] == 'e' || st[n-1] == 'i' || st[n-1] == 'l' || st[n-1] == 'y'):
		return st[:n-1]
	}
	return st
}
