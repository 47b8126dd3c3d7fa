package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"time"

	"github.com/newsdesk/newsdesk/internal/admin"
	"github.com/newsdesk/newsdesk/internal/background"
	"github.com/newsdesk/newsdesk/internal/config"
	"github.com/newsdesk/newsdesk/internal/fetch"
	"github.com/newsdesk/newsdesk/internal/ingest"
	"github.com/newsdesk/newsdesk/internal/server"
	"github.com/newsdesk/newsdesk/internal/store"
	"github.com/newsdesk/newsdesk/internal/store/bolt"
	"github.com/newsdesk/newsdesk/internal/store/postgres"
)

// This file translates the config into each package's options: the only
// place that knows both sides.

// newLogger builds the one logger of the process, in the config's format.
func newLogger(w io.Writer, cfg *config.Config) *slog.Logger {
	opts := &slog.HandlerOptions{Level: cfg.LogLevel}
	if cfg.LogFormat == config.LogJSON {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

func fetchOptions(cfg *config.Config) fetch.Options {
	return fetch.Options{
		Timeout:              cfg.Fetch.Timeout,
		ConnectTimeout:       cfg.Fetch.ConnectTimeout,
		IdleTimeout:          cfg.Fetch.IdleTimeout,
		MaxBody:              cfg.Fetch.MaxBody,
		MaxRedirects:         cfg.Fetch.MaxRedirects,
		PerHost:              cfg.Fetch.PerHost,
		UserAgent:            userAgent(),
		Allow:                cfg.Fetch.AllowNetworks,
		Proxy:                cfg.Fetch.Proxy,
		ProxyFromEnvironment: cfg.Fetch.ProxyFromEnvironment,
	}
}

func ingestOptions(cfg *config.Config, changed func(...string)) ingest.Options {
	return ingest.Options{
		Workers:     cfg.Fetch.Workers,
		MinInterval: cfg.Fetch.MinInterval,
		MaxInterval: cfg.Fetch.MaxInterval,
		MaxAge:      cfg.Retention.MaxAge,
		MaxStories:  cfg.Retention.MaxStories,
		Changed:     func(slugs []string) { changed(slugs...) },
	}
}

// backgroundCPU is the pool the daemon's background work (parsing and
// classifying fetched feeds, store commits, re-classifying, rendering
// changed feeds ahead of readers) shares: a worker for each core Go runs
// on, at the lowest priority, so that ingest has every core nobody else
// wants and readers always find one however much ingest has to do.
func backgroundCPU() *background.Pool { return background.New(runtime.GOMAXPROCS(0)) }

func plan(cfg *config.Config) ingest.Plan {
	return ingest.Plan{Spec: cfg.Refresh, Location: cfg.Location, Sources: cfg.Sources}
}

func site(cfg *config.Config) server.Site {
	return server.Site{
		Title:        cfg.Site.Title,
		Description:  cfg.Site.Description,
		PublicURL:    cfg.Site.PublicURL,
		Language:     cfg.Site.Language,
		TagAuthority: cfg.Site.TagAuthority,
		Hubs:         cfg.Site.Hubs,
	}
}

// caching is how long HTTP caches may keep what the server answers: the
// http section, max-age derived from the schedule unless it sets one.
func caching(cfg *config.Config) server.Caching {
	h := cfg.HTTP
	maxAge := h.MaxAge
	if maxAge == 0 {
		maxAge = cacheMaxAge(cfg)
	}
	return server.Caching{MaxAge: maxAge, SharedMaxAge: cmp.Or(h.SharedMaxAge, maxAge),
		StaleWhileRevalidate: h.StaleWhileRevalidate, StaleIfError: h.StaleIfError}
}

// cacheMaxAge derives the feeds' Cache-Control max-age from the refresh
// schedule: content changes at most once per interval, so a reader polling
// more often than half of it gains nothing.
func cacheMaxAge(cfg *config.Config) time.Duration {
	sched, err := ingest.ParseSpec(cfg.Refresh)
	if err != nil {
		return 5 * time.Minute
	}
	t1 := sched.Next(time.Now())
	interval := sched.Next(t1).Sub(t1)
	return min(max(interval/2, time.Minute), time.Hour)
}

// openOrDial opens the store for a one-shot command, or, when a running
// daemon holds it, returns a client for that daemon instead: exactly one of
// db and c is set when err is nil.
func openOrDial(data string) (db store.Store, c *admin.Client, err error) {
	db, err = openStore(data, 500*time.Millisecond)
	if !errors.Is(err, store.ErrLocked) {
		return db, nil, err
	}
	c, derr := admin.Dial(data)
	if derr != nil {
		return nil, nil, fmt.Errorf("%w; and %w", err, derr)
	}
	return nil, c, nil
}

// openStore opens the store --data names, choosing its engine: this is the
// one place that knows the engines. A postgres:// or postgresql:// URL
// selects PostgreSQL; anything else is the path of a bbolt file. A store
// another process holds gives an error wrapping store.ErrLocked (bbolt only:
// any number of processes share a PostgreSQL store).
func openStore(data string, timeout time.Duration) (store.Store, error) {
	return openStoreOn(data, timeout, nil)
}

// openStoreOn is openStore with the store's background work (bbolt's
// commits) on cpu.
func openStoreOn(data string, timeout time.Duration, cpu *background.Pool) (store.Store, error) {
	if isDatabaseURL(data) {
		// A server that does not answer fails the open, with its URL
		// (password hidden) and the reason.
		ctx, cancel := context.WithTimeout(context.Background(), max(timeout, 15*time.Second))
		defer cancel()
		return postgres.Open(ctx, data, postgres.Options{})
	}
	db, err := bolt.Open(data, bolt.Options{Timeout: timeout, Background: cpu})
	if err != nil {
		return nil, err // "open PATH: …", one line with the way out
	}
	return db, nil
}

// isDatabaseURL reports whether --data names a database server rather than
// a file.
func isDatabaseURL(data string) bool { return postgres.IsURL(data) }

// shownData is --data as messages, logs and the status page show it: a
// database URL without its password.
func shownData(data string) string {
	if isDatabaseURL(data) {
		return postgres.Redact(data)
	}
	return data
}
