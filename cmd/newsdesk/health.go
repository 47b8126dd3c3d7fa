package main

import (
	"cmp"
	"context"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/newsdesk/newsdesk/internal/config"
)

// health asks the daemon on this machine whether it is ready: the container
// image's HEALTHCHECK, where no curl exists.
func health(ctx context.Context, e env, args []string) error {
	var o options
	fs := e.flags("health", &o)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	addr := cmp.Or(o.addr, listenOf(o.config))
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("health: %w", err)
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	ctx, cancel := context.WithTimeout(ctx, 4*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+net.JoinHostPort(host, port)+"/readyz", nil)
	if err != nil {
		return err
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("health: %w", err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("health: %s", res.Status)
	}
	fmt.Fprintln(e.stdout, "ready")
	return nil
}

// listenOf is the listen address of the config at path, so the health check
// asks the port the daemon really serves on; a config that does not load
// (the daemon keeps its last good one) falls back to the default.
func listenOf(path string) string {
	if cfg, err := config.Load(path); err == nil && cfg.Listen != "" {
		return cfg.Listen
	}
	return config.DefaultListen
}
