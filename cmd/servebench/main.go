// Command servebench measures newsdesk's read path the way its users meet it:
// from outside the process, over loopback. It builds the newsdesk binary,
// starts it on a generated config and upstream, and compares it with
// reference servers handing out the same bytes.
//
// Usage (from the repository root):
//
//	go run ./cmd/servebench            the ratio table: newsdesk against a bare Go handler (and nginx) under wrk
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

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cmd := "ratio"
	if len(args) > 0 && len(args[0]) > 0 && args[0][0] != '-' {
		cmd, args = args[0], args[1:]
	}
	fs := flag.NewFlagSet("servebench "+cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o options
	o.register(fs, cmd)
	if err := fs.Parse(args); err != nil {
		return err
	}
	o.log = stderr
	switch cmd {
	case "ratio":
		return ratio(ctx, o, stdout)
	case "bare":
		return bare(ctx, o, stdout)
	}
	return fmt.Errorf("unknown command %q (want ratio)", cmd)
}
