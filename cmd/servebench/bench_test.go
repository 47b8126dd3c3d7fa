package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"testing"
	"time"
)

// These benchmarks run servebench's measurements in Go's benchmark harness,
// so that CI (go test -short -bench . -benchtime=1x) builds and runs each
// one once, small. They fail on wrong answers (errors, stale versions),
// never on timings, which they only report. Full sizes, as the README's
// commands run them, with NEWSDESK_BENCH_FULL=1; the tables come from
// go run ./cmd/servebench.

// benchOptions are the options of cmd, small unless NEWSDESK_BENCH_FULL is
// set, tiny under -short.
func benchOptions(b *testing.B, cmd string, small func(*options)) options {
	var o options
	fs := newFlagSet(cmd, &o)
	if err := fs.Parse(nil); err != nil {
		b.Fatal(err)
	}
	o.log = io.Discard
	if testing.Verbose() {
		o.log = os.Stderr
	}
	if os.Getenv("NEWSDESK_BENCH_FULL") == "" {
		small(&o)
	}
	return o
}

func BenchmarkUnderIngest(b *testing.B) {
	o := benchOptions(b, "ingest", func(o *options) {
		o.feeds, o.perFeed, o.readers, o.idle = 100, 50, 64, 3*time.Second
		if testing.Short() {
			o.feeds, o.perFeed, o.readers, o.idle = 20, 10, 16, time.Second
		}
	})
	// One process, and the daemon behind a reader process
	// (http.reader_process): the readers' answers are checked alike.
	for _, split := range []bool{false, true} {
		name := map[bool]string{false: "one-process", true: "reader-process"}[split]
		b.Run(name, func(b *testing.B) {
			o := o
			o.readerProcess = split
			for b.Loop() {
				r, err := measureIngest(b.Context(), o)
				if err != nil {
					b.Fatal(err)
				}
				if err := r.check(); err != nil {
					b.Fatal(err)
				}
				reportLoad(b, r)
			}
		})
	}
}

func BenchmarkUnderReclassify(b *testing.B) {
	o := benchOptions(b, "reclassify", func(o *options) {
		o.stories, o.readers, o.idle = 50_000, 64, 3*time.Second
		if testing.Short() {
			o.stories, o.readers, o.idle, o.items = 3000, 16, time.Second, 10
		}
	})
	for b.Loop() {
		r, err := measureReclassify(b.Context(), o)
		if err != nil {
			b.Fatal(err)
		}
		if err := r.check(); err != nil {
			b.Fatal(err)
		}
		reportLoad(b, r)
	}
}

func reportLoad(b *testing.B, r *loadResult) {
	b.ReportMetric(float64(r.idle.P99)/1e6, "idle-p99-ms")
	b.ReportMetric(float64(r.busy.P99)/1e6, "loaded-p99-ms")
	b.ReportMetric(float64(r.busy.P99)/float64(max(r.idle.P99, 1)), "p99-ratio")
	b.ReportMetric(r.took.Seconds(), "load-s")
}

func BenchmarkManyTopics(b *testing.B) {
	o := benchOptions(b, "topics", func(o *options) {
		o.topics = 100
		if testing.Short() {
			o.topics, o.items = 20, 10
		}
	})
	for b.Loop() {
		r, err := measureTopics(b.Context(), o)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(r.total.Seconds()*1e3/float64(r.docs), "fill-ms/doc")
		b.ReportMetric(float64(r.rssAfter)/1e6, "rss-MB")
	}
}

// BenchmarkRatio runs the ratio table once, short: it needs wrk, and takes
// minutes even so, so -short skips it.
func BenchmarkRatio(b *testing.B) {
	if testing.Short() {
		b.Skip("the wrk ratio table takes minutes; go run ./cmd/servebench")
	}
	if _, err := exec.LookPath("wrk"); err != nil {
		b.Skip("wrk not installed (Debian wrk)")
	}
	o := benchOptions(b, "ratio", func(o *options) { o.reps, o.duration = 1, time.Second })
	for b.Loop() {
		if err := ratio(b.Context(), o, io.Discard); err != nil {
			b.Fatal(err)
		}
	}
}

// TestMain lets the test binary stand in for servebench when a benchmark
// starts one of its helper processes (readers, the bare server), which are
// this program run again with a command.
func TestMain(m *testing.M) {
	if os.Getenv(childEnv) != "" {
		if err := run(context.Background(), os.Args[1:], os.Stdout, os.Stderr); err != nil {
			fmt.Fprintln(os.Stderr, "servebench:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}
