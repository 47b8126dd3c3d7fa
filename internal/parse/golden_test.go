package parse_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/newsdesk/newsdesk/internal/parse"
)

var update = flag.Bool("update", false, "rewrite testdata/golden/parsed.golden with current output")

// TestParsedGolden holds what Stories makes of every fixture in testdata/
// and every bundled feed, byte for byte: a faster code path (a fast path
// beside the sanitizer, the tokenizer pass beside the tree) must leave it as
// it was. Regenerate with -update and review the diff.
func TestParsedGolden(t *testing.T) {
	var inputs []string
	for _, dir := range []string{"testdata", filepath.Join("..", "..", "feeds")} {
		entries, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			if e.IsDir() || strings.HasSuffix(e.Name(), ".md") {
				continue
			}
			inputs = append(inputs, filepath.Join(dir, e.Name()))
		}
	}
	slices.Sort(inputs)
	var got bytes.Buffer
	for _, path := range inputs {
		body, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		ct := "application/xml"
		if strings.HasSuffix(path, ".json") {
			ct = "application/feed+json"
		}
		fmt.Fprintf(&got, "=== %s\n", filepath.ToSlash(path))
		f, err := parse.Stories(parse.Input{Source: src, Body: body, ContentType: ct, URL: feedURL}, now)
		if err != nil {
			fmt.Fprintf(&got, "error: %v\n", err)
			continue
		}
		out, err := json.MarshalIndent(f, "", "\t")
		if err != nil {
			t.Fatal(err)
		}
		got.Write(out)
		got.WriteByte('\n')
	}
	golden := filepath.Join("testdata", "golden", "parsed.golden")
	if *update {
		if err := os.WriteFile(golden, got.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Bytes(), want) {
		t.Errorf("%s differs; run go test -update and review git diff", golden)
	}
}
