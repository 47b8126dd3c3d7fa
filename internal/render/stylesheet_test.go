package render_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/newsdesk/newsdesk/internal/render"
)

// TestStylesheet: with Channel.Stylesheet set, RSS and Atom name it in an
// xml-stylesheet instruction right after the declaration, escaped, and are
// otherwise the same bytes, which pass every checker; JSON Feed has no such
// thing and is unchanged.
func TestStylesheet(t *testing.T) {
	for _, f := range formats {
		t.Run(f.String(), func(t *testing.T) {
			plain := write(t, f, channelFor(f), stories())
			ch := channelFor(f)
			ch.Stylesheet = `/news/feed.xsl?v=1&x="2"`
			styled := write(t, f, ch, stories())
			if f == render.JSON {
				if !bytes.Equal(plain, styled) {
					t.Error("a stylesheet changed the JSON Feed")
				}
				return
			}
			const pi = `<?xml-stylesheet type="text/xsl" href="/news/feed.xsl?v=1&amp;x=&#34;2&#34;"?>` + "\n"
			decl := `<?xml version="1.0" encoding="UTF-8"?>` + "\n"
			if !bytes.HasPrefix(styled, []byte(decl+pi)) {
				t.Fatalf("document starts %q, want the declaration then %q", styled[:min(len(styled), 140)], pi)
			}
			if got := strings.Replace(string(styled), pi, "", 1); got != string(plain) {
				t.Error("the instruction is not the only difference")
			}
			check(t, f, styled)
		})
	}
}
