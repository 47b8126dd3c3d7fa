package ingest

import (
	"context"
	"errors"
	"math/rand/v2"
	"net/http"
	"time"

	"github.com/newsdesk/newsdesk/internal/fetch"
	"github.com/newsdesk/newsdesk/internal/store"
	"github.com/newsdesk/newsdesk/internal/story"
)

// state returns the source's state, from the cache or the store.
func (in *Ingester) state(ctx context.Context, name string) (store.SourceState, error) {
	in.mu.Lock()
	st, ok := in.states[name]
	in.mu.Unlock()
	if ok {
		return st, nil
	}
	st, err := in.db.Source(ctx, name)
	if err != nil {
		return st, err
	}
	in.remember(name, st, false)
	return st, nil
}

func (in *Ingester) remember(name string, st store.SourceState, dirty bool) {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.states[name] = st
	if dirty {
		in.dirty[name] = true
	} else {
		delete(in.dirty, name)
	}
}

// keep records st. A change of timestamps alone stays in memory until Close,
// so that an unchanged upstream costs no store write; anything else (status,
// validators, failures) is written at once.
func (in *Ingester) keep(ctx context.Context, name string, prev, st store.SourceState) error {
	if material(prev) == material(st) {
		in.remember(name, st, true)
		return nil
	}
	if err := in.db.PutSource(ctx, name, st); err != nil {
		in.remember(name, st, true)
		return err
	}
	in.remember(name, st, false)
	return nil
}

// material is st without what moves on every healthy poll: the times, and
// the difference between a 200 with the same bytes and a 304.
func material(st store.SourceState) store.SourceState {
	st.LastAttempt, st.LastSuccess, st.NextFetch = time.Time{}, time.Time{}, time.Time{}
	if st.Status == story.StatusNotModified {
		st.Status = story.StatusOK
	}
	if st.Status == story.StatusOK {
		st.LastStatus = 0
	}
	return st
}

// succeeded is st after the good answer res: its validators and final URL
// are kept for the next conditional request. wait is how long upstream asked
// us to wait (ttl, max-age); it is honoured up to MaxInterval, and a source is
// never polled more often than MinInterval, whatever its schedule says.
func (in *Ingester) succeeded(st store.SourceState, now time.Time, res *fetch.Result, wait time.Duration, status story.Status) store.SourceState {
	st.ETag, st.LastModified, st.FinalURL = res.Validators.ETag, res.Validators.LastModified, res.FinalURL
	st.LastSuccess = now
	st.LastStatus = res.Status
	st.LastError = ""
	st.Failures = 0
	st.Status = status
	st.NextFetch = now.Add(min(max(wait, in.opts.MinInterval), in.opts.MaxInterval))
	return st
}

// failed is st after err: the status word, the failure count, and when to try
// again (Retry-After when upstream gave one, else exponential backoff).
func (in *Ingester) failed(st store.SourceState, now time.Time, err error) store.SourceState {
	st.Failures++
	st.LastError = err.Error()
	st.Status = story.StatusFailing
	st.LastStatus = 0
	wait := in.backoff(st.Failures)
	if _, ok := errors.AsType[*fetch.RefusedError](err); ok {
		st.Status = story.StatusRefused
	}
	if se, ok := errors.AsType[*fetch.StatusError](err); ok {
		st.LastStatus = se.Code
		switch {
		case se.Code == http.StatusGone:
			st.Status = story.StatusGone
		case se.Code == http.StatusUnauthorized || se.Code == http.StatusForbidden || se.Challenge:
			st.Status = story.StatusBlocked
		}
		if se.RetryAfter > 0 {
			wait = min(se.RetryAfter, in.opts.MaxInterval)
		}
	}
	st.NextFetch = now.Add(wait)
	return st
}

// backoff is the wait after n consecutive failures: MinInterval doubled per
// failure, capped at MaxInterval, with ±20% jitter so that sources failing
// together do not retry together.
func (in *Ingester) backoff(n int) time.Duration {
	d := in.opts.MinInterval
	for i := 1; i < n && d < in.opts.MaxInterval; i++ {
		d *= 2
	}
	return min(time.Duration(float64(d)*(0.8+0.4*rand.Float64())), in.opts.MaxInterval)
}
