package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"time"

	"github.com/newsdesk/newsdesk/internal/config"
	"github.com/newsdesk/newsdesk/internal/ingest"
	"github.com/newsdesk/newsdesk/internal/status"
	"github.com/newsdesk/newsdesk/internal/store/postgres"
)

// sharedStore is a store several newsdesk processes open at once
// (PostgreSQL): one of them leads, fetching and classifying, and every one
// serves. The database chooses the leader (a lease row) and counts changes,
// so no coordinator is needed.
type sharedStore interface {
	Lead(ctx context.Context, period time.Duration, info string, lead func(context.Context)) error
	LeadOnce(ctx context.Context, period time.Duration, info string, lead func(context.Context)) (bool, error)
	Leader(ctx context.Context) (postgres.Leadership, error)
	Changes(ctx context.Context, after int64) (int64, []string, error)
	Self() string
}

// leaderConfigKey is the store meta key under which the leader records the
// fingerprint of the config file it runs, so every replica's status page
// can say whether it runs the same file.
const leaderConfigKey = "leader-config-fingerprint"

// saveEvery is how often the leader of a shared store writes the source
// state that only its ingester holds (the times of polls that changed
// nothing else), so that every replica's status page, which reads the
// store, shows the leader's polls this much behind at most.
const saveEvery = 3 * time.Second

// followEvery is how often a replica that does not lead asks the store what
// changed: its cached renders are at most this much behind the leader's.
const followEvery = time.Second

// defaultLease is the lease period when none is given: 15 s, shorter when
// the refresh interval is (the bound: at most one interval).
func defaultLease(cfg *config.Config) time.Duration {
	lease := 15 * time.Second
	if sched, err := ingest.ParseSpec(cfg.Refresh); err == nil {
		t1 := sched.Next(time.Now())
		lease = min(lease, max(sched.Next(t1).Sub(t1), time.Second))
	}
	return lease
}

// envDuration reads a duration from the environment; fallback when unset
// or unreadable (the flag's parse reports a bad value given on the line).
func envDuration(e env, name string, fallback time.Duration) time.Duration {
	if d, err := time.ParseDuration(e.getenv(name)); err == nil {
		return d
	}
	return fallback
}

// replica names this process for the other replicas: host and listen
// address.
func (d *daemon) replica(addr string) string {
	if d.self == "" {
		host, _ := os.Hostname()
		d.self = fmt.Sprintf("%s %s pid %d", host, addr, os.Getpid())
	}
	return d.self
}

func (d *daemon) scheduler() *ingest.Scheduler {
	d.schedMu.Lock()
	defer d.schedMu.Unlock()
	return d.sched
}

// lead makes this process the one that fetches and classifies: the
// scheduler started from every source's stored state (validators, backoff,
// next poll), and the stored stories re-classified in the background if
// the topics changed since the last leader classified them (see refile).
func (d *daemon) lead(ctx context.Context) error {
	d.reload.Lock()
	defer d.reload.Unlock()
	cfg := d.config()
	if err := d.db.SetMeta(ctx, leaderConfigKey, cfg.Fingerprint); err != nil {
		if ctx.Err() != nil {
			return err
		}
		d.log.Error("record the config this leader runs", "err", err)
	}
	sched, err := d.in.Schedule(ctx, plan(cfg))
	if err != nil {
		return err
	}
	d.schedMu.Lock()
	d.sched = sched
	d.schedMu.Unlock()
	d.leading.Store(true)
	d.startRefile(ctx, cfg)
	return nil
}

// unlead stops fetching: running refreshes cancelled, source state
// written; or, when the lease was lost, dropped (the store refuses this
// process's writes now, and the sources belong to the new leader, which
// polls them from the state it reads).
func (d *daemon) unlead(lost bool) {
	d.reload.Lock()
	defer d.reload.Unlock()
	d.schedMu.Lock()
	sched := d.sched
	d.sched = nil
	d.schedMu.Unlock()
	d.leading.Store(false)
	d.stopRefile() // first: refreshes wait for it between fetching and classifying
	switch {
	case sched == nil:
	case lost:
		sched.Abandon()
	default:
		sched.Stop()
	}
}

// campaign leads whenever the store's lease says so, until ctx ends.
func (d *daemon) campaign(ctx context.Context, sh sharedStore, lease time.Duration, addr string) {
	err := sh.Lead(ctx, lease, d.replica(addr), func(ctx context.Context) {
		d.log.Info("leading: this replica fetches and classifies", "replica", d.self)
		if err := d.lead(ctx); err != nil {
			if ctx.Err() == nil {
				d.log.Error("start leading", "err", err)
			}
		} else {
			<-ctx.Done()
		}
		d.unlead(errors.Is(context.Cause(ctx), postgres.ErrNotLeader))
		if d.ctx.Err() == nil {
			d.log.Warn("no longer leading: another replica may fetch now", "replica", d.self)
		}
	})
	if err != nil {
		d.log.Error("leader election stopped", "err", err)
	}
}

// follow keeps the render cache in step with the store: every followEvery
// it reads the store's change counter and drops the renders of the topics
// that changed. A replica that does not lead learns of every change so;
// the leader learns of its own as it makes them (daemon.changed), and of a
// second writer's (`newsdesk fetch` beside it) here, at the cost of
// dropping its own changes' renders once more. A replica that has just
// started drops every render once, since it cannot know what it missed.
func (d *daemon) follow(ctx context.Context, sh sharedStore) {
	tick := time.NewTicker(followEvery)
	defer tick.Stop()
	var at int64
	synced := false
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		after := at
		if !synced {
			after = 0 // the counter alone
		}
		n, slugs, err := sh.Changes(ctx, after)
		if err != nil {
			if ctx.Err() == nil {
				d.log.Warn("read the store's changes", "err", err)
			}
			continue
		}
		switch {
		case !synced:
			d.ops.changed()
			d.srv.Invalidate()
		case n > at:
			slugs = slices.DeleteFunc(slugs, func(s string) bool { return s == "" })
			d.ops.changed()
			if len(slugs) > 0 {
				d.srv.Invalidate(slugs...)
			} else {
				d.srv.Invalidate()
			}
		}
		at, synced = n, true
	}
}

// cluster is the status page's account of the replicas.
func (d *daemon) cluster(ctx context.Context, sh sharedStore) (*status.Cluster, error) {
	l, err := sh.Leader(ctx)
	if err != nil {
		return nil, err
	}
	c := &status.Cluster{Replica: d.self, Leader: l.Info, Leading: l.Self && d.leading.Load(),
		Topics: topicsFingerprint(d.config())}
	if c.Replica == "" {
		c.Replica = sh.Self()
	}
	if c.LeaderConfig, err = d.db.Meta(ctx, leaderConfigKey); err != nil {
		return nil, err
	}
	if c.Classified, err = d.db.Meta(ctx, ingest.TopicsKey); err != nil {
		return nil, err
	}
	return c, nil
}
