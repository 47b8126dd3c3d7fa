package evaluate

import (
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Thresholds are the least scores a run must reach; zero checks nothing.
type Thresholds struct {
	Precision, Recall           float64 // micro averages, over every topic decision
	TopicPrecision, TopicRecall float64 // each topic's own
}

// Check returns one line for every score below its threshold.
func (r *Report) Check(th Thresholds) []string {
	var out []string
	below := func(what string, got, want float64) {
		if got < want {
			out = append(out, fmt.Sprintf("%s %.3f is below %.3f", what, got, want))
		}
	}
	below("micro precision", r.Micro.Precision, th.Precision)
	below("micro recall", r.Micro.Recall, th.Recall)
	for _, t := range r.Topics {
		below(t.Slug+" precision", t.Precision, th.TopicPrecision)
		below(t.Slug+" recall", t.Recall, th.TopicRecall)
	}
	return out
}

// WriteText prints the report for a terminal: the score table, then every
// story filed wrongly, with why.
func (r *Report) WriteText(w io.Writer) error {
	ew := &errWriter{w: w}
	ew.printf("%d stories, %d of them labelled with no topic\n\n", r.Stories, r.Unlabelled)
	width := len("topic")
	for _, t := range r.Topics {
		width = max(width, len(t.Slug))
	}
	row := func(name, labelled string, sc Score, counts bool) {
		tp, fp, fn := "", "", ""
		if counts {
			tp, fp, fn = strconv.Itoa(sc.TP), strconv.Itoa(sc.FP), strconv.Itoa(sc.FN)
		}
		ew.printf("%-*s %8s %5s %5s %5s %9.3f %7.3f %6.3f\n", width, name, labelled, tp, fp, fn, sc.Precision, sc.Recall, sc.F1)
	}
	ew.printf("%-*s %8s %5s %5s %5s %9s %7s %6s\n", width, "topic", "labelled", "TP", "FP", "FN", "precision", "recall", "F1")
	for _, t := range r.Topics {
		row(t.Slug, strconv.Itoa(t.Labelled), t.Score, true)
	}
	row("micro", "", r.Micro, true)
	row("macro", "", r.Macro, false)
	section := func(title string, misses []Miss) {
		if len(misses) == 0 {
			return
		}
		ew.printf("\n%s (%d):\n", title, len(misses))
		for _, m := range misses {
			ew.printf("\nline %d  %s  %q\n    labelled %s; got %s\n", m.Line, m.ID, m.Title, list(m.Want), list(m.Got))
			for _, why := range m.Why {
				mark, what := "-", "missed"
				if why.Filed {
					mark, what = "+", "filed"
				}
				ew.printf("    %s %s %s: %s\n", mark, why.Topic, what, why.Reason)
			}
		}
	}
	section("stories with no topic that got one", r.Stray)
	section("stories filed wrongly", r.Wrong)
	return ew.err
}

func list(slugs []string) string {
	if len(slugs) == 0 {
		return "no topic"
	}
	return strings.Join(slugs, ", ")
}

// errWriter keeps the first write error, so printing goes on unchecked.
type errWriter struct {
	w   io.Writer
	err error
}

func (ew *errWriter) Write(p []byte) (int, error) {
	if ew.err != nil {
		return len(p), nil
	}
	n, err := ew.w.Write(p)
	ew.err = err
	return n, nil
}

func (ew *errWriter) printf(format string, args ...any) { fmt.Fprintf(ew, format, args...) }
