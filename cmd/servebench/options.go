package main

import (
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/newsdesk/newsdesk/internal/config"
)

// options are the flags of every command; each command reads the ones it
// needs.
type options struct {
	log io.Writer

	// ratio
	reps     int
	duration time.Duration
	conns    intList
	threads  int
	nginx    string // "auto", "on" or "off"
	profile  string // folder for newsdesk's profiles; "" takes none

	// the generated upstream
	items, itemBytes int

	// ingest, reclassify, topics
	feeds, perFeed int
	readers        int
	stories        int
	topics         int
	idle           time.Duration
	readerProcess  bool // http.reader_process for the daemon (ratio, ingest, reclassify, topics)

	// bare (internal: the reference server started by ratio)
	dir, listen string

	// readers (internal: the polling clients of ingest and reclassify)
	readerOpts  readersOptions
	rate        float64
	paths       string
	renderCache string

	keep bool   // keep the temporary folder
	bin  string // a newsdesk binary to run instead of building one
}

func (o *options) register(fs *flag.FlagSet, cmd string) {
	fs.BoolVar(&o.keep, "keep", false, "keep the temporary folder (config, store, logs, profiles) and print its path")
	fs.StringVar(&o.bin, "newsdesk", "", "`path` of a newsdesk binary to measure instead of building the working tree's (e.g. an older commit's)")
	fs.IntVar(&o.items, "items", 50, "items in each generated upstream feed and topic page")
	fs.IntVar(&o.itemBytes, "item-bytes", 6000, "approximate bytes of HTML content per item")
	switch cmd {
	case "ratio":
		o.conns = intList{32, 128}
		fs.IntVar(&o.reps, "reps", 3, "interleaved repetitions; the table shows medians")
		fs.DurationVar(&o.duration, "d", 5*time.Second, "duration of each wrk run")
		fs.Var(&o.conns, "c", "comma-separated wrk connection counts")
		fs.IntVar(&o.threads, "t", 2, "wrk threads")
		fs.StringVar(&o.nginx, "nginx", "auto", "nginx column: auto (when installed), on or off")
		fs.StringVar(&o.profile, "profile", "", "`folder` to write newsdesk's cpu, heap, allocs, mutex and block profiles and gctrace to, taken under load")
		o.readerProcessFlag(fs)
	case "ingest":
		o.itemBytes = 1500 // the ingest benchmark's feeds: ~90 KB each
		fs.IntVar(&o.feeds, "feeds", 1000, "upstream feeds fetched for the first time")
		fs.IntVar(&o.perFeed, "per-feed", 50, "items per upstream feed")
		fs.IntVar(&o.readers, "readers", 256, "keep-alive readers polling cached feeds")
		fs.Float64Var(&o.rate, "rate", 8, "polls per second of each reader")
		fs.DurationVar(&o.idle, "idle", 10*time.Second, "how long readers are measured with no ingest, before it and again after it")
		fs.IntVar(&o.reps, "reps", 5, "runs, each on a new daemon and store; the summary shows medians")
		fs.StringVar(&o.profile, "profile", "", "`folder` for newsdesk's CPU profile, execution trace, allocation profiles (before and after) and GC lines taken during the first fetch (builds with -tags pprof)")
		o.readerProcessFlag(fs)
	case "reclassify":
		o.itemBytes = 1500
		fs.IntVar(&o.stories, "stories", 1_000_000, "stories in the store the topic edit re-files")
		fs.IntVar(&o.readers, "readers", 256, "keep-alive readers polling cached feeds")
		fs.Float64Var(&o.rate, "rate", 8, "polls per second of each reader")
		fs.DurationVar(&o.idle, "idle", 10*time.Second, "how long readers are measured with no re-classification, before it and again after it")
		fs.IntVar(&o.reps, "reps", 3, "runs, each on a new daemon and store; the summary shows medians")
		fs.StringVar(&o.profile, "profile", "", "`folder` for newsdesk's CPU profile, execution trace, allocation profiles (before and after) and GC lines taken during the re-classification (builds with -tags pprof)")
		o.readerProcessFlag(fs)
	case "topics":
		fs.IntVar(&o.topics, "topics", 1000, "topics, each cached in 3 formats")
		fs.StringVar(&o.renderCache, "render-cache", "", "http.render_cache for the daemon (default the config's default)")
		o.readerProcessFlag(fs)
	case "readers":
		fs.StringVar(&o.readerOpts.base, "base", "", "the daemon's base URL")
		fs.StringVar(&o.paths, "paths", "", "comma-separated paths to poll")
		fs.IntVar(&o.readerOpts.conns, "conns", 256, "readers, one connection each")
		fs.Float64Var(&o.readerOpts.rate, "rate", 8, "polls per second of each reader")
	case "bare":
		fs.StringVar(&o.dir, "dir", "", "folder holding the response to serve")
		fs.StringVar(&o.listen, "listen", "127.0.0.1:0", "listen address")
	}
}

// readerProcessFlag is -reader-process, the daemon's http.reader_process.
func (o *options) readerProcessFlag(fs *flag.FlagSet) {
	fs.BoolVar(&o.readerProcess, "reader-process", config.DefaultReaderProcess,
		"http.reader_process: cached feeds answered by a process of their own, the daemon behind it at the lowest priority (default the config's default); false: one process")
}

// intList is a comma-separated list of positive integers.
type intList []int

func (l *intList) String() string {
	var s []string
	for _, n := range *l {
		s = append(s, strconv.Itoa(n))
	}
	return strings.Join(s, ",")
}

func (l *intList) Set(v string) error {
	*l = nil
	for _, f := range strings.Split(v, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			return fmt.Errorf("%q is not a positive integer", f)
		}
		*l = append(*l, n)
	}
	return nil
}
