package main

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/newsdesk/newsdesk/internal/config"
	"github.com/newsdesk/newsdesk/internal/ingest"
	"github.com/newsdesk/newsdesk/internal/metrics"
	"github.com/newsdesk/newsdesk/internal/server"
	"github.com/newsdesk/newsdesk/internal/status"
	"github.com/newsdesk/newsdesk/internal/store"
)

// ops is what the daemon tells about itself: the status pages, the metrics
// and the access log, fed by the ingester's reports, the render cache and
// the config reloads.
type ops struct {
	d       *daemon
	live    *status.Live
	status  *status.Gatherer
	metrics *metrics.Metrics
}

func newOps(d *daemon, db store.Store, data string, started time.Time) *ops {
	o := &ops{d: d}
	o.live = status.NewLive(status.LiveOptions{Started: started, NextRun: func() time.Time {
		if sched := d.scheduler(); sched != nil {
			return sched.Next()
		}
		return time.Time{}
	}})
	opts := status.Options{Store: db, Config: d.config, Live: o.live, Version: version(), StorePath: shownData(data),
		Schedule: o.schedule}
	if sh, ok := db.(sharedStore); ok {
		opts.Cluster = func(ctx context.Context) (*status.Cluster, error) { return d.cluster(ctx, sh) }
	}
	o.status = status.New(opts)
	o.metrics = metrics.New(metrics.Options{
		Version: version(),
		Store:   db,
		Topics: func() []string {
			var slugs []string
			for _, t := range d.config().Topics {
				slugs = append(slugs, t.Slug)
			}
			return slugs
		},
		Sources: o.status.States,
	})
	return o
}

// schedule is the ingester's account of every source.
func (o *ops) schedule(ctx context.Context) (ingest.Status, error) {
	if o.d.in == nil { // before the ingester exists
		return ingest.Status{}, nil
	}
	return o.d.in.Status(ctx)
}

// fetched sees every refresh as it ends (ingest.Options.Observe).
func (o *ops) fetched(r ingest.Report) {
	o.live.Fetched(r)
	o.metrics.Fetched(r)
}

// changed is told that stories moved (the ingester's Changed hook).
func (o *ops) changed() { o.live.Changed() }

// applied records that cfg runs: at start-up, or after a good reload.
func (o *ops) applied(cfg *config.Config, reload bool) {
	now := time.Now()
	o.live.Applied(cfg, now)
	o.metrics.Applied(now, reload)
	names := make([]string, 0, len(cfg.Sources))
	for _, s := range cfg.Sources {
		names = append(names, s.Name)
	}
	o.metrics.Retain(names)
}

// refused records a reload that was refused.
func (o *ops) refused(err error) {
	o.live.Refused(err, time.Now())
	o.metrics.Refused()
}

// pages serves /status, /status.json and /metrics unguarded: the admin
// listener's, which only this machine reaches.
func (o *ops) pages() *http.ServeMux {
	mux := http.NewServeMux()
	sh := o.status.Handler(func() status.Page {
		cfg := o.d.config()
		return status.Page{Site: cfg.Site.Title, Home: cfg.Site.PublicURL + "/"}
	}, o.d.log)
	mux.Handle("GET /status", sh)
	mux.Handle("GET /status.json", sh)
	mux.Handle("GET /metrics", o.metrics.Handler())
	return mux
}

// guarded is pages as the public listener serves them: to whom
// status.public says, read per request so that a reload applies.
func (o *ops) guarded() http.Handler {
	pages := o.pages()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cfg := o.d.config()
		if !status.Allowed(r, cfg.Status.Public, cfg.Admin.Token) {
			o.d.srv.NotFound(w, r) // as status.Expose would, in the server's words: hidden is absent
			return
		}
		pages.ServeHTTP(w, r)
	})
}

// visible reports whether the public listener's status page answers r, as
// guarded decides without a token (a browser following the index's link
// sends none): the index links the page for those requests only.
func (o *ops) visible(r *http.Request) bool {
	return status.Allowed(r, o.d.config().Status.Public, "")
}

// observe wraps a listener's handler: every request is counted in the
// metrics by route, and logged when log_access is on.
func (o *ops) observe(h http.Handler) http.Handler {
	return server.Observe(h, o.record)
}

// record counts an answered request and logs it when access logging is on:
// this process's own (observe) and those a reader process answered.
func (o *ops) record(r server.Request) {
	o.metrics.Request(r.Route, r.Status, r.Duration)
	if o.d.config().LogAccess {
		route := r.Route
		if route == "" {
			route = "unmatched"
		}
		o.d.log.LogAttrs(context.Background(), slog.LevelInfo, "request",
			slog.String("method", r.Method), slog.String("route", route), slog.String("path", clip(r.Path, 256)),
			slog.Int("status", r.Status), slog.Int64("bytes", r.Bytes), slog.Duration("took", r.Duration),
			slog.String("remote", r.Remote))
	}
}

// counted counts n requests a reader process answered, with r's route and
// status, their durations averaging r.Duration in one of the metrics'
// buckets (server.Requests.Counted): with the access log off, what record
// would have done with each.
func (o *ops) counted(r server.Request, n int) {
	o.metrics.Requests(r.Route, r.Status, r.Duration, n)
}

// clip bounds what a client's path puts into one log line.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
