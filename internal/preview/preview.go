// Package preview shows what a topic's rule selects from the stories already
// stored, and why: the admin's dry run before an edit is applied. It reads
// stories directly (not the topic's index), so it works for a topic that is
// only in an edited config file.
package preview

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/newsdesk/newsdesk/internal/store"
	"github.com/newsdesk/newsdesk/internal/story"
	"github.com/newsdesk/newsdesk/internal/topic"
)

// Options bounds a preview. Zero values take the defaults in brackets.
type Options struct {
	Limit   int  // matches to list [20]
	Explain bool // attach each story's Explanation, and list near misses
	Scan    int  // newest stored stories to examine [5000]
	Now     time.Time
}

// Item is one story in a preview.
type Item struct {
	ID          string             `json:"id"`
	Title       string             `json:"title"`
	Link        string             `json:"link"`
	Source      string             `json:"source"`
	Published   time.Time          `json:"published"`
	Via         string             `json:"via,omitempty"` // the source whose copy matched, when not the listed one
	Explanation *topic.Explanation `json:"explanation,omitempty"`
}

// Result is what the topic selects, newest first, and the near misses: stories
// that some clause of the rule matched but that were left out.
type Result struct {
	Topic      string `json:"topic"`
	Scanned    int    `json:"scanned"`
	Matches    []Item `json:"matches"`
	NearMisses []Item `json:"near_misses,omitempty"`
}

// Store is the part of the store a preview reads.
type Store interface {
	Recent(ctx context.Context, q store.Query) (store.Page, error)
	Get(ctx context.Context, id string) (story.Story, error)
}

// Run previews t over the newest stories in db.
func Run(ctx context.Context, db Store, t *topic.Topic, opts Options) (Result, error) {
	if opts.Limit <= 0 {
		opts.Limit = 20
	}
	if opts.Scan <= 0 {
		opts.Scan = 5000
	}
	if opts.Now.IsZero() {
		opts.Now = time.Now()
	}
	res := Result{Topic: t.Slug, Matches: []Item{}}
	q := store.Query{Limit: 500}
	if t.MaxAge > 0 {
		q.NotBefore = opts.Now.Add(-t.MaxAge)
	}
	for res.Scanned < opts.Scan {
		page, err := db.Recent(ctx, q)
		if err != nil {
			return res, fmt.Errorf("preview %s: %w", t.Slug, err)
		}
		for _, s := range page.Stories {
			res.Scanned++
			ex, via, err := explain(ctx, db, t, s)
			if err != nil {
				return res, fmt.Errorf("preview %s: %w", t.Slug, err)
			}
			it := Item{ID: s.ID, Title: s.Title, Link: s.Link, Source: s.Source, Published: s.Published, Via: via}
			if opts.Explain {
				it.Explanation = &ex
			}
			switch {
			case ex.Matched && len(res.Matches) < opts.Limit:
				res.Matches = append(res.Matches, it)
			case !ex.Matched && opts.Explain && nearMiss(ex) && len(res.NearMisses) < opts.Limit:
				res.NearMisses = append(res.NearMisses, it)
			}
			if len(res.Matches) >= opts.Limit && (!opts.Explain || len(res.NearMisses) >= opts.Limit) {
				return res, nil
			}
		}
		if page.Next == "" {
			break
		}
		q.Before = page.Next
	}
	return res, nil
}

// explain explains s, and when s does not match, the other sources' copies
// of it: a feed lists an article under every topic any of its copies
// belongs to, so the preview must too. via names the copy that matched.
func explain(ctx context.Context, db Store, t *topic.Topic, s story.Story) (topic.Explanation, string, error) {
	ex := t.Explain(s)
	if ex.Matched {
		return ex, "", nil
	}
	for _, ref := range s.AlsoIn {
		dup, err := db.Get(ctx, ref.ID)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return ex, "", err
		}
		if dex := t.Explain(dup); dex.Matched {
			return dex, dup.Source, nil
		}
	}
	return ex, "", nil
}

// nearMiss reports whether a left-out story came close: some positive clause
// matched, or only the admin's block or the source filter kept it out.
func nearMiss(ex topic.Explanation) bool {
	if ex.Blocked || ex.Score > 0 {
		return true
	}
	for _, c := range ex.Clauses {
		if c.Matched && len(c.Words) > 0 {
			return true
		}
	}
	return false
}
