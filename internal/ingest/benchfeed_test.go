package ingest_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/newsdesk/newsdesk/internal/benchfeed"
	"github.com/newsdesk/newsdesk/internal/parse"
	"github.com/newsdesk/newsdesk/internal/story"
)

var update = flag.Bool("update", false, "rewrite testdata/benchfeeds.sha256 with current output")

// TestBenchFeedsParseAsBefore pins what parse makes of BenchmarkIngest's
// feeds (RSS and Atom, full HTML articles with relative links and images)
// to a digest per feed, so that making the write path faster cannot change
// a byte of what it stores. (internal/parse's testdata/golden holds the
// fixtures' output in full, where a change can be read.)
func TestBenchFeedsParseAsBefore(t *testing.T) {
	at := time.Date(2026, 1, 30, 12, 0, 0, 0, time.UTC)
	var got bytes.Buffer
	for n := range 12 {
		src := story.Source{Name: fmt.Sprintf("feed-%d", n), Title: "Feed"}
		f, err := parse.Stories(parse.Input{Source: src, Body: benchfeed.Feed(n), ContentType: "application/xml",
			URL: fmt.Sprintf("http://127.0.0.1:8080/feed/%d", n)}, at)
		if err != nil {
			t.Fatal(err)
		}
		if len(f.Stories) != 50 {
			t.Fatalf("feed %d: %d stories, want 50", n, len(f.Stories))
		}
		out, err := json.Marshal(f)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&got, "%x feed-%d\n", sha256.Sum256(out), n)
	}
	golden := filepath.Join("testdata", "benchfeeds.sha256")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(golden, got.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Bytes(), want) {
		t.Errorf("parse output of the benchmark's feeds changed:\n%s\nwant\n%s", got.Bytes(), want)
	}
}
