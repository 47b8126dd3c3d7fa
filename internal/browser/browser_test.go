package browser_test

import (
	"bytes"
	"image/png"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/newsdesk/newsdesk/internal/browser"
)

// start runs a browser for the test, or skips it where there is none
// (unless NEWSDESK_REQUIRE_BROWSER=1, as CI sets).
func start(t *testing.T) *browser.Browser {
	t.Helper()
	path, err := browser.Find()
	if err != nil {
		if os.Getenv("NEWSDESK_REQUIRE_BROWSER") == "1" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	b, err := browser.Start(t.Context(), path, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := b.Close(); err != nil {
			t.Errorf("close browser: %v", err)
		}
	})
	return b
}

// TestBrowser: the driver reports what a page did, status, type, DOM,
// title, console errors, exceptions and failed loads, and it takes a
// screenshot; an outside host is never reached.
func TestBrowser(t *testing.T) {
	b := start(t)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write([]byte(`<!doctype html><title>Hello</title><h1 style="color:red">Made by script?</h1>
<img src="http://cdn.example.com/x.png"><img src="/missing.png">
<script>document.querySelector('h1').textContent = 'Made by script'; console.error('told', 42); undefinedFunction();</script>`))
	})
	mux.HandleFunc("GET /feed.xml", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/xml")
		w.Write([]byte(`<?xml version="1.0"?><?xml-stylesheet type="text/xsl" href="/s.xsl"?><doc><name>styled</name></doc>`))
	})
	mux.HandleFunc("GET /s.xsl", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/xsl")
		w.Write([]byte(`<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform">
<xsl:template match="/"><html><body><p id="out"><xsl:value-of select="doc/name"/></p></body></html></xsl:template></xsl:stylesheet>`))
	})
	var outside bool
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if r.Host != "" && !strings.HasPrefix(r.Host, "127.0.0.1") {
			outside = true // a proxied request for another host would arrive like this
		}
		http.NotFound(w, r)
	})
	ts := httptest.NewServer(mux)
	defer ts.Close()

	p, err := b.Open(t.Context(), ts.URL+"/", browser.Options{Screenshot: true})
	if err != nil {
		t.Fatal(err)
	}
	if p.Status != 200 || p.ContentType != "text/html" || p.Title != "Hello" || !strings.Contains(p.DOM, "<h1") || !strings.Contains(p.DOM, ">Made by script</h1>") {
		t.Errorf("page: status %d type %q title %q dom %.200q", p.Status, p.ContentType, p.Title, p.DOM)
	}
	var sawConsole, sawException, sawMissing, sawOutside bool
	for _, pr := range p.Problems {
		t.Log(pr)
		switch {
		case pr.Source == "console" && pr.Text == "told 42":
			sawConsole = true
		case pr.Source == "exception" && strings.Contains(pr.Text, "undefinedFunction"):
			sawException = true
		case pr.Source == "network" && strings.HasSuffix(pr.URL, "/missing.png"):
			sawMissing = true
		case pr.Source == "network" && strings.Contains(pr.URL, "cdn.example.com"):
			sawOutside = true
		}
	}
	if !sawConsole || !sawException || !sawMissing || !sawOutside {
		t.Errorf("problems: console %v, exception %v, missing image %v, outside image %v", sawConsole, sawException, sawMissing, sawOutside)
	}
	if outside {
		t.Error("the browser sent a request for an outside host")
	}
	img, err := png.Decode(bytes.NewReader(p.Screenshot))
	if err != nil || img.Bounds().Dx() != 1280 {
		t.Errorf("screenshot: %v", err)
	}

	p, err = b.Open(t.Context(), ts.URL+"/feed.xml", browser.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if p.ContentType != "application/xml" || !strings.Contains(p.DOM, `<p id="out">styled</p>`) {
		t.Errorf("styled XML: type %q dom %.300q", p.ContentType, p.DOM)
	}
}
