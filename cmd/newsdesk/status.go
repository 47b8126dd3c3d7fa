package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/newsdesk/newsdesk/internal/config"
	"github.com/newsdesk/newsdesk/internal/status"
	"github.com/newsdesk/newsdesk/internal/story"
)

// statusCmd prints what the daemon is doing: every source's health, every
// topic, the config and the process. A running daemon answers for itself
// (it knows its refreshes and a refused edit); otherwise the store is read
// directly.
func statusCmd(ctx context.Context, e env, args []string) error {
	var o options
	fs := e.flags("status", &o)
	asJSON := fs.Bool("json", false, "print the report as JSON (what /status.json serves)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("status takes no arguments (got %q)", fs.Arg(0))
	}
	db, daemon, err := openOrDial(o.data)
	if err != nil {
		return err
	}
	var rep status.Report
	if daemon != nil {
		if rep, err = daemon.Status(ctx); err != nil {
			return err
		}
	} else {
		defer db.Close()
		// A config that does not load still shows the store, with the
		// config's problems where a daemon shows a refused edit.
		cfg, cerr := config.Load(o.config)
		if _, ok := errors.AsType[*config.Errors](cerr); ok {
			cfg = &config.Config{Path: o.config, Refresh: config.DefaultRefresh, Location: time.UTC}
			states, err := db.Sources(ctx)
			if err != nil {
				return err
			}
			for name := range states {
				cfg.Sources = append(cfg.Sources, story.Source{Name: name, Title: name})
			}
			slices.SortFunc(cfg.Sources, func(a, b story.Source) int { return strings.Compare(a.Name, b.Name) })
		} else if cerr != nil {
			return cerr
		}
		g := status.New(status.Options{Store: db, Config: func() *config.Config { return cfg }, Version: version(), StorePath: shownData(o.data)})
		if rep, err = g.Gather(ctx); err != nil {
			return err
		}
		if cerr != nil {
			rep.Config.Refused = &status.Refusal{At: rep.Generated, Messages: status.Messages(cerr)}
		}
	}
	if *asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	return status.Text(e.stdout, rep)
}
