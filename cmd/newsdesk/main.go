// Command newsdesk serves curated topic feeds (RSS, Atom, JSON Feed) built
// from upstream feeds it aggregates into a bbolt store on a cron schedule.
//
// Usage:
//
//	newsdesk serve    [--config F] [--data F] [--addr A]   run the daemon
//	newsdesk fetch    [--source NAME]... [--force]          fetch now, print a summary, exit
//	newsdesk validate [--config F]                          check the config, print every problem
//	newsdesk sources import FILE.opml                       print the YAML sources of an OPML file
//	newsdesk preview  TOPIC [--explain] [--limit N]         what a topic selects from the store
//	newsdesk eval     FILE [--min-precision P] [--json]     score the topics on labelled stories
//	newsdesk status   [--json]                              every source's and topic's health, the config, the process
//	newsdesk compact  [--data F]                            shrink (or salvage) a stopped store
//	newsdesk backup   [--data F] FILE                       copy the store, while the daemon runs too
//	newsdesk migrate-store --from A --to B                  copy a store into another engine (bbolt ⇄ PostgreSQL)
//	newsdesk version
//
// --config, --data and --addr also come from NEWSDESK_CONFIG, NEWSDESK_DATA
// and NEWSDESK_ADDR.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if _, ok := errors.AsType[usageError](err); ok {
		os.Exit(2) // the flag package has printed the error and the usage
	}
	if _, ok := errors.AsType[loggedError](err); ok {
		os.Exit(1) // the daemon's log has said it, as its last line
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "newsdesk:", err)
		os.Exit(1)
	}
}

// env is the environment the command runs in; tests supply their own.
type env struct {
	getenv         func(string) string
	stdout, stderr io.Writer
	// classifying, set by tests only, runs before each stored story is
	// re-classified (see classifyHook).
	classifying func(context.Context)
}

// options are the flags every subcommand shares.
type options struct {
	config, data, addr string
	lease              time.Duration // serve only
}

const usage = `usage: newsdesk <command> [flags]

commands:
  serve              run the daemon: fetch on schedule, serve topic feeds
  fetch              fetch sources now, print a summary and exit
  validate           check the config and print every problem
  sources import F   print the YAML sources: block of the feeds in the OPML file F
  preview TOPIC      show what a topic selects from the stored stories
  eval FILE          score the topics against labelled stories (JSON Lines)
  status             show every source's health, every topic, the config and the process
  compact            rewrite the stopped store without its free pages (or salvage a damaged one)
  backup FILE        write a consistent copy of the store to FILE, while the daemon runs too
  migrate-store      copy a whole store into an empty one: bbolt to PostgreSQL, or back
  health             exit 0 when the daemon on --addr is ready (for container health checks)
  version            print the version

Run 'newsdesk <command> -h' for a command's flags.
`

// run picks the subcommand by args[0].
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	e := env{getenv: getenv, stdout: stdout, stderr: stderr}
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errors.New("no command given")
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "serve":
		return serve(ctx, e, rest)
	case "fetch":
		return fetchCmd(ctx, e, rest)
	case "validate":
		return validate(e, rest)
	case "sources":
		return sourcesCmd(e, rest)
	case "preview":
		return previewCmd(ctx, e, rest)
	case "eval":
		return evalCmd(e, rest)
	case "status":
		return statusCmd(ctx, e, rest)
	case "compact":
		return compact(e, rest)
	case "backup":
		return backup(ctx, e, rest)
	case "migrate-store":
		return migrateStore(ctx, e, rest)
	case "health":
		return health(ctx, e, rest)
	case "version":
		fmt.Fprintln(stdout, version())
		return nil
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return fmt.Errorf("unknown command %q", cmd)
}

// usageError is a command-line mistake the FlagSet has already printed,
// with the command's usage: main must not print it again.
type usageError struct{ error }

func (e usageError) Unwrap() error { return e.error }

// loggedError is an error serve has already written to its log as the
// "stopped" line, so main exits without printing it a second time.
type loggedError struct{ error }

func (e loggedError) Unwrap() error { return e.error }

// parseFlags parses args, marking a mistake in them as already reported.
func parseFlags(fs *flag.FlagSet, args []string) error {
	err := fs.Parse(args)
	if err != nil && !errors.Is(err, flag.ErrHelp) {
		return usageError{err}
	}
	return err
}

// flags returns a FlagSet for command with the shared flags, their defaults
// taken from the environment.
func (e env) flags(command string, o *options) *flag.FlagSet {
	fs := flag.NewFlagSet("newsdesk "+command, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	def := func(name, fallback string) string {
		if v := e.getenv(name); v != "" {
			return v
		}
		return fallback
	}
	fs.StringVar(&o.config, "config", def("NEWSDESK_CONFIG", "config/newsdesk.yaml"), "`path` of the YAML config (env NEWSDESK_CONFIG)")
	fs.StringVar(&o.data, "data", def("NEWSDESK_DATA", "data/newsdesk.db"), "`path` of the bbolt story database (its folder is created), or a postgres:// URL (env NEWSDESK_DATA)")
	fs.StringVar(&o.addr, "addr", def("NEWSDESK_ADDR", ""), "listen `address`, overriding the config's listen (env NEWSDESK_ADDR; default :8080)")
	return fs
}
