package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/newsdesk/newsdesk/internal/admin"
	"github.com/newsdesk/newsdesk/internal/background"
	"github.com/newsdesk/newsdesk/internal/config"
	"github.com/newsdesk/newsdesk/internal/fetch"
	"github.com/newsdesk/newsdesk/internal/ingest"
	"github.com/newsdesk/newsdesk/internal/preview"
	"github.com/newsdesk/newsdesk/internal/server"
	"github.com/newsdesk/newsdesk/internal/store"
	"github.com/newsdesk/newsdesk/internal/topic"
	"github.com/newsdesk/newsdesk/internal/websub"
)

// serve runs the daemon until ctx ends: one fetch of every source at start-up,
// then the cron schedule; the feeds on the public listener; the admin
// endpoints on a loopback listener; config reloads on file change or SIGHUP.
func serve(ctx context.Context, e env, args []string) (err error) {
	var o options
	fs := e.flags("serve", &o)
	fs.DurationVar(&o.lease, "lease", envDuration(e, "NEWSDESK_LEASE", 0), "on a PostgreSQL store, how long replicas wait for a leader that died before one of them leads instead (env NEWSDESK_LEASE; default min(15s, the refresh interval))")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	cfg, err := config.Load(o.config)
	if err != nil {
		return err
	}
	if o.addr != "" {
		cfg.Listen = o.addr
	}
	if o.lease <= 0 {
		o.lease = defaultLease(cfg)
	}
	log := newLogger(e.stderr, cfg)
	behind, err := daemonBehind(e)
	if err != nil {
		return err
	}
	if behind != nil {
		behind.lower(log)
	}
	// The last line of every run, after the store is closed (defers run
	// last-registered first): an admin reading the log knows it ended, and
	// how.
	defer func() {
		if behind != nil { // the reader process says it, once for both
			behind.stopped(err)
			if err != nil {
				err = loggedError{err}
			}
			return
		}
		if err != nil {
			log.Error("stopped", "err", err)
			err = loggedError{err}
			return
		}
		log.Info("stopped")
	}()
	process := "" // one
	switch {
	case behind != nil:
		process = "daemon"
	case cfg.HTTP.ReaderProcess:
		process = "reader process"
	}
	stopProfiling, err := startProfiling(e, log, process)
	if err != nil {
		return err
	}
	defer stopProfiling()
	if behind == nil && cfg.HTTP.ReaderProcess {
		err := serveReaders(ctx, e, o, cfg, log)
		nr, alone := errors.AsType[noReaderProcess](err)
		if !alone {
			return err
		}
		log.Warn("serving in one process: the daemon cannot run behind a reader process", "err", nr.error,
			"fix", "give TMPDIR a writable directory, or set http.reader_process: false")
	}
	started := time.Now()

	// Bind first: a second daemon on a busy port fails here, before it
	// opens a store or fetches anything. Behind a reader process, that
	// process has bound it and hands on what it does not answer.
	var ln net.Listener
	public := func() string { return ln.Addr().String() }
	if behind != nil {
		ln, public = behind.ln, func() string { return behind.public }
	} else if ln, err = net.Listen("tcp", cfg.Listen); err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	defer ln.Close() // Serve owns it once it runs; this covers the returns before
	aln, err := admin.Listen(cfg.Admin.Listen)
	if err != nil {
		return err
	}
	defer aln.Close()
	cfg.FollowListen(public())
	warn(log, cfg)

	cpu := backgroundCPU()
	defer cpu.Close()                   // last: what still runs at shutdown runs on its caller
	cpu.Pace(ctx, background.HeapFloor) // more processors and fewer collections while it works
	db, err := openStoreOn(o.data, 2*time.Second, cpu)
	if err != nil {
		return err
	}
	defer db.Close()
	// A full disk does not stop the daemon: it serves what is stored, and
	// fetches fail (and are retried) until there is room again.
	diskFull(log, o.data)

	var ready atomic.Bool
	d := &daemon{ctx: ctx, log: log, db: db, hub: websub.New(cfg.Site.Hubs, log), addr: o.addr, bound: public()}
	d.cfg.Store(cfg)
	d.ops = newOps(d, db, o.data, started)
	d.srv = server.New(server.Options{DB: db, Site: site(cfg), Topics: cfg.Set, Caching: caching(cfg), CacheBytes: cfg.HTTP.RenderCache,
		CPU: cpu, RefreshLag: server.DefaultRefreshLag, Log: log, Cache: d.ops.metrics, StatusVisible: d.ops.visible, Mirror: behind != nil,
		Ready: func() error {
			if !ready.Load() {
				return errors.New("starting or stopping")
			}
			return nil
		}})
	d.ops.applied(cfg, false)
	go d.hub.Run(ctx)
	d.fc = fetch.New(fetchOptions(cfg))
	iopts := ingestOptions(cfg, d.changed)
	iopts.Observe = d.ops.fetched
	iopts.CPU = cpu
	// On a store of its own (bbolt) this process always leads: it fetches
	// and classifies from the start. On a shared one (PostgreSQL) it leads
	// only while it holds the lease (see lead), and serves either way.
	sh, shared := db.(sharedStore)
	if shared {
		iopts.SaveEvery = saveEvery // the other replicas' status pages read the source state from the store
		iopts.Resume = true         // a new leader polls each source when the previous one would have, not all at once
	}
	in := ingest.New(d.fc, ingestStore(e, db), cfg.Set, log, iopts)
	d.in = in
	defer func() {
		if err := in.Close(); err != nil {
			log.Error("save source state", "err", err)
		}
	}()
	actions := admin.Actions{Fetch: d.fetch, Preview: d.preview, Backup: db.Backup}

	token := admin.NewToken()
	adminMux := d.ops.pages() // status and metrics, unguarded: only this machine reaches the admin listener
	adminMux.Handle("/admin/", admin.Handler(actions, token))
	adminSrv := server.HTTPServer("", d.ops.observe(adminMux))
	adminSrv.WriteTimeout = 0 // a fetch streams progress for as long as it runs
	go func() {
		if err := adminSrv.Serve(aln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("admin listener stopped; fetch and preview cannot reach the daemon", "err", err)
		}
	}()
	defer func() {
		// Admin fetches stop with the daemon's context (see daemon.fetch);
		// wait for their handlers so no refresh outlives the store.
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := adminSrv.Shutdown(ctx); err != nil {
			adminSrv.Close()
		}
	}()
	// A bbolt store is one process's: fetch and preview find the daemon
	// through the file beside it. Every process opens a PostgreSQL store
	// itself, so there is nothing to announce.
	if !isDatabaseURL(o.data) {
		if unannounce, err := admin.Announce(o.data, "http://"+aln.Addr().String(), token); err != nil {
			// Serving matters more than the command line finding us.
			log.Error("cannot announce the admin address; fetch and preview will not reach this daemon", "err", err)
		} else {
			defer unannounce()
		}
	}

	mux := http.NewServeMux()
	if cfg.Admin.Token != "" {
		mux.Handle("/admin/", admin.Handler(actions, cfg.Admin.Token))
	}
	for _, path := range []string{"/status", "/status.json", "/metrics"} {
		mux.Handle(path, d.ops.guarded()) // as status.public says
	}
	mux.Handle("/", d.srv)
	handler := d.ops.observe(d.srv.Front(mux)) // cached feeds first: they are nearly every request
	var mirroring sync.WaitGroup
	if behind != nil {
		handler = peered(handler)
		// The mirror ends with the daemon, before the store closes.
		mirror, stopMirror := context.WithCancel(context.Background())
		mirroring.Go(func() { behind.serveMirror(mirror, d) })
		defer mirroring.Wait()
		defer stopMirror()
	}
	hs := server.HTTPServer(cfg.Listen, handler)
	errc := make(chan error, 1)
	go func() {
		if behind != nil { // the reader process holds the per-client limits
			errc <- hs.Serve(ln)
			return
		}
		errc <- hs.Serve(server.PerClient(ln, cfg.Limits.PerClientConnections, log))
	}()
	// SIGHUP reloads from the moment the daemon says it is serving: left
	// to its default until the watcher starts, it would kill the daemon.
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	ready.Store(true)
	attrs := []any{"addr", public(), "admin", aln.Addr().String(), "public_url", cfg.Site.PublicURL,
		"status", "http://" + aln.Addr().String() + "/status", "sources", len(cfg.Sources), "topics", len(cfg.Topics)}
	if shared {
		attrs = append(attrs, "replica", d.replica(public()), "lease", o.lease)
	}
	if behind != nil {
		attrs = append(attrs, "behind", "reader process") // which logs its own "serving" once this one is ready
	}
	log.Info("serving", attrs...)
	// Leading starts once the listener serves, so the start-up refresh and
	// re-classification run while readers are answered from the store, and
	// "serving" is logged before anything the refresh logs.
	if !shared {
		if err := d.lead(ctx); err != nil {
			hs.Close()
			if ctx.Err() != nil {
				return nil // stopped while starting
			}
			return err
		}
		defer d.unlead(false) // runs before in.Close and db.Close: writers stop first
	}
	if shared {
		var cluster sync.WaitGroup
		defer cluster.Wait() // the lease is given up, and the scheduler stopped, before the store closes
		cluster.Go(func() { d.campaign(ctx, sh, o.lease, public()) })
		cluster.Go(func() { d.follow(ctx, sh) })
	}

	// Reloads end before the writers stop and the store closes: a reload
	// re-classifying when the daemon is told to stop is cancelled by ctx,
	// and waited for here.
	defer d.reloads.Wait()
	d.reloads.Go(func() { d.watch(ctx, o.config, hup) })

	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	ready.Store(false)
	log.Info("shutting down")
	shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return hs.Shutdown(shutdown)
}

// warn logs what the config allows but probably does not mean.
func warn(log *slog.Logger, cfg *config.Config) {
	for _, w := range cfg.Warnings() {
		log.Warn(strings.TrimPrefix(w.Msg, "warning: "), "at", fmt.Sprintf("%s:%d:%d", w.File, w.Line, w.Col), "hint", w.Hint)
	}
}

// daemon is the running state that a config reload and the admin endpoints
// act on.
type daemon struct {
	ctx   context.Context // ends when the daemon shuts down
	log   *slog.Logger
	db    store.Store
	in    *ingest.Ingester
	fc    *fetch.Client // the ingester's, so a reload can change its allow-list
	srv   *server.Server
	ops   *ops
	hub   *websub.Publisher
	addr  string // --addr, which overrides every config's listen
	bound string // the address the public listener is bound to

	reload  sync.Mutex // one reload, or one start or end of leading, at a time
	schedMu sync.Mutex
	sched   *ingest.Scheduler // while this process leads; nil otherwise
	leading atomic.Bool
	self    string         // this replica's name, on a shared store
	reloads sync.WaitGroup // the watcher, and the reload it runs
	cfg     atomic.Pointer[config.Config]

	refiling *refile // the leader's background re-classification; guarded by reload
}

func (d *daemon) config() *config.Config { return d.cfg.Load() }

// watch reloads the config when its file changes or on SIGHUP. A config that
// does not validate is refused and the last good one keeps running.
func (d *daemon) watch(ctx context.Context, path string, hup <-chan os.Signal) {
	running := d.config().Fingerprint // what was loaded; an edit since then is applied once the watch is in place
	var watcher sync.WaitGroup
	defer watcher.Wait() // it may be applying a reload
	watcher.Go(func() {
		if err := config.Watch(ctx, path, running, d.apply, d.refused); err != nil && ctx.Err() == nil {
			d.log.Warn("config watch stopped; SIGHUP still reloads", "err", err)
		}
	})
	for {
		select {
		case <-ctx.Done():
			return
		case <-hup:
			cfg, err := config.Load(path)
			if err != nil {
				d.refused(err)
				continue
			}
			d.apply(cfg)
		}
	}
}

// refused logs a config that does not validate: one line saying so, then
// one line per problem (file:line:col, what, the hint), so each reads on its
// own instead of as one escaped blob.
func (d *daemon) refused(err error) {
	d.ops.refused(err) // the status page shows it verbatim until a good edit replaces it
	probs, ok := errors.AsType[*config.Errors](err)
	if !ok {
		d.log.Error("config refused; keeping the last good config", "err", err)
		return
	}
	d.log.Error("config refused; keeping the last good config", "problems", len(*probs))
	for _, p := range *probs {
		at := p.File
		if p.Line > 0 {
			at = fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Col)
		}
		attrs := []any{"at", at, "problem", p.Msg}
		if p.Hint != "" {
			attrs = append(attrs, "hint", p.Hint)
		}
		d.log.Error("config problem", attrs...)
	}
}

// sameServing reports whether everything the server is configured with
// (the site, caching and the topics as written) is the same in a and b:
// an edit of the sources alone (a first fetch of new ones begins that
// way) then leaves the served documents as they are, where a
// reconfiguration renders every polled document again for the new
// configuration and hands readers over to it.
func sameServing(a, b *config.Config) bool {
	return reflect.DeepEqual(site(a), site(b)) && caching(a) == caching(b) && reflect.DeepEqual(a.Topics, b.Topics)
}

// apply switches the daemon to cfg without a restart: topics re-classified,
// schedules replaced, new sources fetched, cached feeds dropped.
func (d *daemon) apply(cfg *config.Config) {
	d.reload.Lock()
	defer d.reload.Unlock()
	old := d.config()
	if d.addr != "" {
		cfg.Listen = d.addr
	}
	if cfg.Listen != old.Listen || cfg.Admin != old.Admin || cfg.HTTP.RenderCache != old.HTTP.RenderCache || cfg.Limits != old.Limits ||
		cfg.HTTP.ReaderProcess != old.HTTP.ReaderProcess {
		d.log.Warn("listen, admin, limits, http.render_cache and http.reader_process change only on restart")
	}
	if fetchRestartOnly(old.Fetch) != fetchRestartOnly(cfg.Fetch) {
		d.log.Warn("fetch settings other than allow_networks change only on restart")
	}
	cfg.FollowListen(d.bound)
	warn(d.log, cfg)
	sched := d.scheduler()
	if sched != nil {
		if err := sched.Replace(plan(cfg)); err != nil {
			d.refused(err)
			return
		}
	}
	// The server switches first; re-classifying then invalidates the topics
	// whose stories moved, and only then are hubs pinged about them.
	d.cfg.Store(cfg)
	if !sameServing(old, cfg) {
		d.srv.Reconfigure(site(cfg), cfg.Set, caching(cfg))
	}
	d.hub.SetHubs(cfg.Site.Hubs) // the feeds now advertise these
	// An admin told "refused: …; allow it with fetch.allow_networks" edits
	// the config and expects the next fetch to go through.
	d.fc.SetAllowed(cfg.Fetch.AllowNetworks)
	// Only the leader re-classifies; another replica serves the new topics
	// as the leader re-files the stories, and drops its renders as the
	// store's change counter says (follow).
	if sched != nil {
		d.settleRefile(cfg)
		if err := d.in.SyncTopics(d.ctx, cfg.Set, topicsFingerprint(cfg)); err != nil {
			if d.ctx.Err() != nil {
				d.log.Info("re-classification cancelled by shutdown; the next start does it again")
				return
			}
			d.log.Error("reclassify after reload", "err", err)
		}
		if err := d.db.SetMeta(d.ctx, leaderConfigKey, cfg.Fingerprint); err != nil {
			d.log.Warn("record the leader's config fingerprint", "err", err)
		}
	}
	d.ops.applied(cfg, true)
	d.log.Info("config reloaded", "sources", len(cfg.Sources), "topics", len(cfg.Topics))
}

// changed is told which topics' stories changed: their cached renders are
// dropped, so the next request serves the new bytes, and then the WebSub hubs
// are told (a hub fetches the topic when pinged, so the order matters).
func (d *daemon) changed(slugs ...string) {
	d.ops.changed()
	d.srv.Invalidate(slugs...)
	d.hub.Notify(d.srv.FeedURLs(slugs...)...)
}

// fetch runs an admin-requested fetch.
func (d *daemon) fetch(ctx context.Context, names []string, force bool, progress func(ingest.Report)) ([]ingest.Report, error) {
	if d.scheduler() == nil {
		return nil, errors.New("this replica does not lead, so it does not fetch: run `newsdesk fetch --data URL` anywhere, which fetches straight into the database")
	}
	// The request's context ends when the caller goes away; the daemon's
	// when it shuts down. Either stops the fetch.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	defer context.AfterFunc(d.ctx, cancel)()
	cfg := d.config()
	srcs, err := pickSources(cfg, names)
	if err != nil {
		return nil, err
	}
	reports := d.in.RefreshAll(ctx, srcs, force, progress)
	err = d.in.Prune(ctx)
	d.srv.Flush() // whoever asked for the fetch reads the feeds next: no lag for them
	return reports, err
}

// preview runs an admin-requested preview.
func (d *daemon) preview(ctx context.Context, req admin.PreviewRequest) (preview.Result, error) {
	var t *topic.Topic
	if req.Definition != nil {
		var err error
		if t, err = topic.New(*req.Definition); err != nil {
			return preview.Result{}, err
		}
	} else if t = d.config().Set.Lookup(req.Topic); t == nil {
		return preview.Result{}, fmt.Errorf("no topic %q in the running config", req.Topic)
	}
	return preview.Run(ctx, d.db, t, preview.Options{Limit: req.Limit, Explain: req.Explain})
}

// fetchRestartOnly is the part of the fetch settings that a reload cannot
// change, in a comparable form.
func fetchRestartOnly(f config.Fetch) string {
	f.AllowNetworks = nil
	proxy := ""
	if f.Proxy != nil {
		proxy = f.Proxy.String()
	}
	f.Proxy = nil
	return fmt.Sprintf("%+v %s", f, proxy)
}
