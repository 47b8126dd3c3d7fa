package parse_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/newsdesk/newsdesk/internal/parse"
)

func TestEntityDeclarationsRefused(t *testing.T) {
	for _, file := range []string{"billion-laughs.rss.xml", "xxe.rss.xml", "parameter-entity.atom.xml"} {
		t.Run(file, func(t *testing.T) {
			f, err := parse.Stories(parse.Input{Source: src, Body: mustRead(t, file), URL: feedURL}, now)
			if !errors.Is(err, parse.ErrEntities) {
				t.Fatalf("err = %v, want %v", err, parse.ErrEntities)
			}
			if f != nil {
				t.Errorf("feed = %+v, want nothing", f)
			}
			if want := "parse test-desk: declares XML entities; refused"; err.Error() != want {
				t.Errorf("err = %q, want %q", err, want)
			}
		})
	}
}

func TestExternalDTDStillParses(t *testing.T) {
	f := parseFile(t, "rss091-netscape.xml", "")
	if f.Title != "Café Desk" {
		t.Errorf("feed Title = %q", f.Title)
	}
	s := byTitle(t, f, "Résumé — «déjà vu»")
	if want := "Prix : 5 € © 2026 & more"; s.SummaryText != want { // no-break spaces fold in plain text
		t.Errorf("SummaryText = %q, want %q", s.SummaryText, want)
	}
	if strings.Contains(s.Summary, "&eacute;") || strings.Contains(s.Summary, "&euro;") {
		t.Errorf("Summary keeps an HTML entity name: %q", s.Summary)
	}
	byTitle(t, parseFile(t, "doctype-elements-only.rss.xml", ""), "Still read")
}
