package config

import (
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/goccy/go-yaml"
)

// tricky is YAML whose comments, brackets and block scalars a byte-level
// scan could misread: each must mean the same with its comments removed.
var tricky = []string{
	"a: b # comment\n# full line\nc: [d, e] # after flow\n",
	"a: 'it''s # not a comment'\nb: \"quote \\\" # still not\"\n",
	"a: x#y\nb: [x#y, z]\n",
	"a: |\n  # content, not a comment\n  more\n# a comment\nb: c\n",
	"a: >-\n    folded # text\n\n    para\nb: |2\n   indented\n",
	"- |\n  # content\n- >\n  x\n",
	"- key: |\n    # content\n  # comment? no: inside the scalar's indentation\n- b\n",
	"a:\n  |\n  # content of a scalar on its own line\n",
	"a: [\n  b, # in flow\n  c\n  # between\n]\n",
	"a: {b: c, # x\n  d: e}\n",
	"a: plain [with] {brackets}\nb: \"[not flow\"\n",
	"a: |\n  x\n# comment right after a block\n\n# and another\nb: c\n",
	"a: \"multi\n  line # not a comment\n  end\"\n",
	"--- # doc\na: b\n... # end\n",
	"a: &x [b, c] # anchored\nd: *x # aliased\n",
	"? complex # key\n: value\n",
	"a:\n- b\n- c # seq at the key's indentation\n",
	"a:\t# tab before\n  b: c\n",
	"a: b\r\n# crlf\r\nc: d\r\n",
	"#\r0",         // a lone CR ends a comment (found by FuzzScan)
	"0 #\n00",      // a comment ends a plain scalar the next line would continue
	"0\n: \"0 #\n", // ": " opening a line is an indicator, not text
}

func TestCommentsRemovedKeepMeaning(t *testing.T) {
	for _, src := range tricky {
		res := scan([]byte(src))
		if res.prob != nil {
			t.Errorf("scan refused %q: %+v", src, res.prob)
			continue
		}
		sameMeaning(t, []byte(src), res.withoutComments([]byte(src)))
	}
}

// sameMeaning fails when goccy reads stripped differently from src.
func sameMeaning(t *testing.T, src, stripped []byte) {
	t.Helper()
	var a, b any
	errA := yaml.Unmarshal(src, &a)
	errB := yaml.Unmarshal(stripped, &b)
	if (errA == nil) != (errB == nil) || !reflect.DeepEqual(a, b) {
		t.Errorf("removing comments changed the meaning of\n%s\n--- now:\n%s\n--- %#v (%v)\nvs %#v (%v)", src, stripped, a, errA, b, errB)
	}
}

// FuzzScan: the scan never refuses what is small and shallow, and removing
// the comments it finds never changes what goccy reads.
func FuzzScan(f *testing.F) {
	for _, src := range tricky {
		f.Add(src)
	}
	if src, err := os.ReadFile("../../config/newsdesk.yaml"); err == nil {
		f.Add(string(src))
	}
	f.Fuzz(func(t *testing.T, src string) {
		if len(src) > 4096 {
			return
		}
		res := scan([]byte(src))
		if res.prob != nil {
			if !strings.Contains(res.prob.Msg, "blank lines") && !strings.Contains(res.prob.Msg, "deeper") {
				t.Fatalf("scan refused a small document: %+v", res.prob)
			}
			return
		}
		sameMeaning(t, []byte(src), res.withoutComments([]byte(src)))
	})
}

func TestScanLimits(t *testing.T) {
	src := "sources:\n  - {name: a, url: \"http://example.org/feed\"}\n"
	tests := []struct {
		name string
		doc  string
		line int
		msg  string
	}{
		{"over the file size", src + strings.Repeat("# x\n", MaxFileSize/4+1), 0, "larger than 16 MiB"},
		{"deep flow", src + "site: {title: " + strings.Repeat("[", 100_000) + "}\n", 3, "deeper than 128 levels"},
		{"deep flow never closed", src + "a: " + strings.Repeat("{", 200) + "\n", 3, "deeper than 128 levels"},
		{"deep dashes", src + "hubs:\n  " + strings.Repeat("- ", 200) + "x\n", 4, "deeper than 128 levels"},
		{"deep indentation", src + indented(200), 131, "deeper than 128 levels"},
		{"too many nodes", src + "a: [" + strings.Repeat("a,", maxWritten) + "a]\n", 3, "more than 100000 YAML nodes"},
		{"too many keys in one map", src + manyKeys(maxMapKeys+1), 204, "more than 200 keys"},
		{"too much text", src + "a: \"" + strings.Repeat("x", maxText) + "\"\n", 3, "more than 2 MiB of text"},
		{"too many lines", strings.Repeat("\n", maxLines+1), maxLines + 1, "more than 200000 lines"},
		{"blank lines ending a block scalar", src + "a: |\n  x\n" + strings.Repeat("\n", maxBlankRun+1) + "b: c\n", 5, "blank lines in a row"},
		{"many values nested deep", src + "a:\n" + strings.Repeat("  - "+strings.Repeat("[", 100)+strings.Repeat("]", 100)+"\n", 500), 0, "too many values too deep"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := scan([]byte(tt.doc))
			if res.prob == nil {
				t.Fatalf("scan accepted it")
			}
			if !strings.Contains(res.prob.Msg, tt.msg) || (tt.line != 0 && res.prob.Line != tt.line) {
				t.Errorf("got %d: %s, want line %d: %q", res.prob.Line, res.prob.Msg, tt.line, tt.msg)
			}
		})
	}
}

func indented(n int) string {
	var b strings.Builder
	for i := range n {
		b.WriteString(strings.Repeat(" ", i) + "k:\n")
	}
	return b.String()
}

func manyKeys(n int) string {
	var b strings.Builder
	b.WriteString("site:\n")
	for i := range n {
		b.WriteString("  k" + strings.Repeat("x", i%7) + string(rune('a'+i%26)) + ": v\n")
	}
	return b.String()
}

// TestScanAcceptsShippedConfigs: every limit is far above what the bundled
// configs need.
func TestScanAcceptsShippedConfigs(t *testing.T) {
	for _, path := range []string{"../../config/newsdesk.yaml"} {
		src, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		s := &scanner{src: src, line: 1}
		s.lines()
		if s.res.prob != nil {
			t.Fatalf("%s refused: %+v", path, s.res.prob)
		}
		// A tenth of each limit: the default topics grow as they are tuned.
		if s.nodes > maxWritten/10 || s.weight > maxWeight/10 || s.text > maxText/10 {
			t.Errorf("%s is close to a limit: %d nodes, weight %d, %d bytes of text", path, s.nodes, s.weight, s.text)
		}
		t.Logf("%s: %d nodes, weight %d, %d bytes of text, %d lines", path, s.nodes, s.weight, s.text, s.line)
	}
}
