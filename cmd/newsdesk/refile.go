package main

import (
	"context"
	"errors"

	"github.com/newsdesk/newsdesk/internal/config"
	"github.com/newsdesk/newsdesk/internal/ingest"
	"github.com/newsdesk/newsdesk/internal/story"
)

// refile is the re-classification the leader starts in the background when
// it begins to lead (at start-up, on a bbolt store) and the stored stories
// were filed under other topics, or by another matching engine (an
// upgrade): the daemon serves the previous filing meanwhile, which the
// store keeps whole until the new one replaces it at once, so a big store
// is served from the first second instead of after minutes of re-filing.
type refile struct {
	fingerprint string // of the topics it files under
	cancel      context.CancelCauseFunc
	done        chan struct{}
}

// errSuperseded cancels a background re-classification that a reload with
// other topics replaces.
var errSuperseded = errors.New("superseded by a config reload")

// startRefile re-files the stored stories under cfg's topics in the
// background, when the store says they were filed under others
// (ingest.Ingester.SyncTopics); ctx ends it. d.reload is held.
func (d *daemon) startRefile(ctx context.Context, cfg *config.Config) {
	ctx, cancel := context.WithCancelCause(ctx)
	r := &refile{fingerprint: topicsFingerprint(cfg), cancel: cancel, done: make(chan struct{})}
	d.refiling = r
	go func() {
		defer close(r.done)
		defer cancel(nil)
		err := d.in.SyncTopics(ctx, cfg.Set, r.fingerprint)
		switch {
		case err == nil:
		case errors.Is(context.Cause(ctx), errSuperseded):
			d.log.Info("re-classification superseded by a config reload")
		case ctx.Err() != nil:
			d.log.Info("re-classification cancelled; the next start (or leader) does it again")
		default:
			// The previous filing keeps serving; the next start (or a
			// topic edit) re-files.
			d.log.Error("re-classification failed; serving the stored topics", "err", err)
		}
	}()
}

// settleRefile ends the background re-classification before a reload to
// cfg syncs the topics itself: one filing under cfg's topics is waited for
// (the reload's sync then finds the store up to date), one under other
// topics is cancelled (the reload re-files for its own). d.reload is held.
func (d *daemon) settleRefile(cfg *config.Config) {
	r := d.refiling
	if r == nil {
		return
	}
	if r.fingerprint != topicsFingerprint(cfg) {
		r.cancel(errSuperseded)
	}
	<-r.done
	d.refiling = nil
}

// stopRefile cancels the background re-classification, if one runs, and
// waits for it: before the scheduler stops (its refreshes wait for the
// re-classification) and the store closes. d.reload is held.
func (d *daemon) stopRefile() {
	if r := d.refiling; r != nil {
		r.cancel(nil)
		<-r.done
		d.refiling = nil
	}
}

// classifyHook is the ingester's store with a hook that runs before each
// stored story is re-classified, on the re-classifying goroutine, inside
// the store's transaction: tests (env.classifying) hold a re-classification
// open with it.
type classifyHook struct {
	ingest.Store
	hook func(context.Context)
}

func (h classifyHook) Reclassify(ctx context.Context, classify func(story.Story) []string) ([]string, error) {
	return h.Store.Reclassify(ctx, func(s story.Story) []string {
		h.hook(ctx)
		return classify(s)
	})
}

// ingestStore is the store the ingester writes to: db, hooked when a test
// asks.
func ingestStore(e env, db ingest.Store) ingest.Store {
	if e.classifying == nil {
		return db
	}
	return classifyHook{Store: db, hook: e.classifying}
}
