package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/newsdesk/newsdesk/internal/config"
	"github.com/newsdesk/newsdesk/internal/evaluate"
)

// evalCmd scores the topics of --config against a file of labelled stories
// (JSON Lines; - reads stdin) and prints each topic's precision and recall
// and every story filed wrongly, with why. It fails when a score is below
// its --min-* threshold, so a test or CI job can hold the topics to a level.
func evalCmd(e env, args []string) error {
	var o options
	fl := e.flags("eval", &o)
	var th evaluate.Thresholds
	fl.Float64Var(&th.Precision, "min-precision", 0, "fail when the micro-averaged precision is below `P`")
	fl.Float64Var(&th.Recall, "min-recall", 0, "fail when the micro-averaged recall is below `R`")
	fl.Float64Var(&th.TopicPrecision, "min-topic-precision", 0, "fail when any topic's precision is below `P`")
	fl.Float64Var(&th.TopicRecall, "min-topic-recall", 0, "fail when any topic's recall is below `R`")
	asJSON := fl.Bool("json", false, "print the report as JSON")
	// Allow flags after the file: `eval stories.jsonl --min-recall 0.9`.
	var file string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		file, args = args[0], args[1:]
	}
	if err := fl.Parse(args); err != nil {
		return err
	}
	if file == "" && fl.NArg() > 0 {
		file = fl.Arg(0)
	}
	if file == "" {
		return errors.New("eval needs a file of labelled stories: newsdesk eval FILE.jsonl [--min-precision P] [--min-recall R] [--json]")
	}
	cfg, err := config.Load(o.config)
	if err != nil {
		return err
	}
	var in io.Reader = os.Stdin
	if file != "-" {
		f, err := os.Open(file)
		if err != nil {
			return fmt.Errorf("eval: %w", err)
		}
		defer f.Close()
		in = f
	}
	labelled, err := evaluate.Read(in)
	if err != nil {
		return fmt.Errorf("eval %s:\n%w", file, err)
	}
	rep, err := evaluate.Run(cfg.Set, labelled)
	if err != nil {
		return fmt.Errorf("eval %s:\n%w", file, err)
	}
	if *asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return err
		}
	} else {
		fmt.Fprintf(e.stdout, "%s on %s: ", o.config, file)
		if err := rep.WriteText(e.stdout); err != nil {
			return err
		}
	}
	if below := rep.Check(th); len(below) > 0 {
		return fmt.Errorf("eval %s: %s", file, strings.Join(below, "; "))
	}
	return nil
}
