package main

import (
	"fmt"
	"strings"

	"github.com/newsdesk/newsdesk/internal/config"
	"github.com/newsdesk/newsdesk/internal/topic"
)

// validate checks the whole config and prints every problem with its
// file:line:column and a hint; the daemon runs the same check at start-up and
// on reload.
func validate(e env, args []string) error {
	var o options
	fs := e.flags("validate", &o)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		o.config = fs.Arg(0) // `newsdesk validate edited.yaml` reads naturally too
	}
	cfg, err := config.Load(o.config)
	if err != nil {
		return err
	}
	if o.addr != "" {
		cfg.Listen = o.addr // what serve --addr would listen on
		cfg.FollowListen(o.addr)
	}
	for _, w := range cfg.Warnings() {
		fmt.Fprintln(e.stderr, w.String())
		if w.Snippet != "" {
			fmt.Fprintln(e.stderr, w.Snippet)
		}
	}
	from := ""
	if len(cfg.SourcesFrom) > 0 {
		from = ", sources also from " + strings.Join(cfg.SourcesFrom, ", ")
	}
	fmt.Fprintf(e.stdout, "%s: ok (%d sources, %d topics%s)\n", o.config, len(cfg.Sources), len(cfg.Topics), from)
	return nil
}

// topicsFingerprint is a digest of the topic definitions: a change means the
// stored stories must be re-classified.
func topicsFingerprint(cfg *config.Config) string { return topic.Fingerprint(cfg.Topics) }
