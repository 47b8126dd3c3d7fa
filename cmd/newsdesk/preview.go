package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"

	"github.com/newsdesk/newsdesk/internal/admin"
	"github.com/newsdesk/newsdesk/internal/config"
	"github.com/newsdesk/newsdesk/internal/preview"
	"github.com/newsdesk/newsdesk/internal/topic"
)

// previewCmd lists the stored stories a topic selects, newest first, and with
// --explain which clauses matched on which words, and the near misses. The
// topic comes from --config, so an edited file can be tried before it is
// applied; when a daemon holds the store, the daemon runs the preview.
func previewCmd(ctx context.Context, e env, args []string) error {
	var o options
	fl := e.flags("preview", &o)
	explain := fl.Bool("explain", false, "say for each story which clauses matched on which words, and list near misses")
	limit := fl.Int("limit", 20, "list at most `N` stories")
	// Allow flags after the topic: `preview immigration --explain`.
	var slug string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		slug, args = args[0], args[1:]
	}
	if err := parseFlags(fl, args); err != nil {
		return err
	}
	if slug == "" && fl.NArg() > 0 {
		slug = fl.Arg(0)
	}
	if slug == "" {
		return errors.New("preview needs a topic: newsdesk preview TOPIC [--explain] [--limit N]")
	}
	if *limit <= 0 {
		return fmt.Errorf("--limit must be positive, not %d", *limit)
	}
	cfg, err := config.Load(o.config)
	if err != nil {
		return err
	}
	t := cfg.Set.Lookup(slug)
	if t == nil {
		var all []string
		for _, d := range cfg.Topics {
			all = append(all, d.Slug)
		}
		return fmt.Errorf("no topic %q in %s (topics: %s)", slug, o.config, strings.Join(all, ", "))
	}
	def := t.Definition

	var res preview.Result
	if _, err := os.Stat(o.data); !isDatabaseURL(o.data) && errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("no store at %s yet: run `newsdesk fetch` or `newsdesk serve` first", o.data)
	}
	db, daemon, err := openOrDial(o.data)
	switch {
	case err != nil:
		return err
	case daemon != nil:
		res, err = daemon.Preview(ctx, admin.PreviewRequest{Topic: slug, Definition: &def, Limit: *limit, Explain: *explain})
		if err != nil {
			return err
		}
	default:
		defer db.Close()
		res, err = preview.Run(ctx, db, t, preview.Options{Limit: *limit, Explain: *explain})
		if err != nil {
			return err
		}
	}
	printPreview(e.stdout, def, res, *explain)
	return nil
}

func printPreview(w io.Writer, def topic.Definition, res preview.Result, explain bool) {
	fmt.Fprintf(w, "%s (%s): %s selected from the %s stored\n", def.Title, def.Slug,
		plural(len(res.Matches), "story", "stories"), plural(res.Scanned, "newest story", "newest stories"))
	for _, it := range res.Matches {
		printItem(w, it, explain)
	}
	if explain && len(res.NearMisses) > 0 {
		fmt.Fprintf(w, "\nnear misses (left out):\n")
		for _, it := range res.NearMisses {
			printItem(w, it, true)
		}
	}
}

func printItem(w io.Writer, it preview.Item, explain bool) {
	fmt.Fprintf(w, "\n%s  %s  [%s]\n    %s\n", it.Published.UTC().Format("2006-01-02 15:04"), it.Title, it.Source, it.Link)
	if it.Via != "" {
		fmt.Fprintf(w, "    selected through the copy from %s\n", it.Via)
	}
	ex := it.Explanation
	if !explain || ex == nil {
		return
	}
	verdict := "in"
	if !ex.Matched {
		verdict = "left out"
	}
	fmt.Fprintf(w, "    %s (score %g): %s\n", verdict, ex.Score, ex.Reason)
	// Then every clause that found something: the evidence, in words.
	for _, c := range ex.Clauses {
		switch {
		case c.Matched && (c.Kind == "term" || c.Kind == "regex" || c.Kind == "near"):
			fmt.Fprintf(w, "    + %s\n", c.Sentence())
		case !c.Matched && c.Kind == "not":
			fmt.Fprintf(w, "    - %s\n", c.Sentence())
		}
	}
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}
