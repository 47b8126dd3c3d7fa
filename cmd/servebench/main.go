// Command servebench measures newsdesk's read path the way its users meet it:
// from outside the process, over loopback. It builds the newsdesk binary,
// starts it on a generated config and upstream, and compares it with
// reference servers handing out the same bytes.
//
// Usage (from the repository root):
//
//	go run ./cmd/servebench            the ratio table: newsdesk against a bare Go handler (and nginx) under wrk
//	go run ./cmd/servebench ingest     readers' latency while a first fetch of 1,000 × 50 feeds runs
//	go run ./cmd/servebench reclassify readers' latency while a topic edit re-files 1M stories
//	go run ./cmd/servebench topics     memory and fill time of 1,000 topics × 3 formats
//
// Each prints its table on stdout and how it ran on stderr. Timings are
// figures to read, never a pass/fail: the tool exits non-zero only when a
// run could not be made (a server would not start, a response was wrong).
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "servebench:", err)
		os.Exit(1)
	}
}

// childEnv marks a helper process (readers, the bare server) this program
// started of itself; a test binary's TestMain runs it as the command.
const childEnv = "SERVEBENCH_CHILD"

// newFlagSet returns cmd's flags, bound to o.
func newFlagSet(cmd string, o *options) *flag.FlagSet {
	fs := flag.NewFlagSet("servebench "+cmd, flag.ContinueOnError)
	o.register(fs, cmd)
	return fs
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cmd := "ratio"
	if len(args) > 0 && len(args[0]) > 0 && args[0][0] != '-' {
		cmd, args = args[0], args[1:]
	}
	var o options
	fs := newFlagSet(cmd, &o)
	fs.SetOutput(stderr)
	if err := fs.Parse(args); err != nil {
		return err
	}
	o.log = stderr
	switch cmd {
	case "ratio":
		return ratio(ctx, o, stdout)
	case "ingest":
		return underIngest(ctx, o, stdout)
	case "reclassify":
		return underReclassify(ctx, o, stdout)
	case "topics":
		return manyTopics(ctx, o, stdout)
	case "bare":
		return bare(ctx, o, stdout)
	case "readers":
		o.readerOpts.paths = strings.Split(o.paths, ",")
		return runReaders(ctx, o.readerOpts, os.Stdin, stdout)
	}
	return fmt.Errorf("unknown command %q (want ratio, ingest, reclassify or topics)", cmd)
}
