package fetch_test

import (
	"errors"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/newsdesk/newsdesk/internal/fetch"
)

// fileURL is the file:/// URL of an absolute path, percent-encoded.
func fileURL(path string) string {
	return (&url.URL{Scheme: "file", Path: filepath.ToSlash(path)}).String()
}

func TestFileURL(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sample wire.rss.xml") // a space to exercise escaping
	if err := os.WriteFile(path, []byte(rss), 0o644); err != nil {
		t.Fatal(err)
	}
	mtime := time.Date(2026, 3, 3, 10, 0, 0, 0, time.UTC)
	if err := os.Chtimes(path, mtime, mtime); err != nil {
		t.Fatal(err)
	}
	c := fetch.New(fetch.Options{})
	u := fileURL(path)

	first, err := c.Get(t.Context(), fetch.Request{URL: u})
	if err != nil {
		t.Fatal(err)
	}
	if string(first.Body) != rss || first.FinalURL != u || first.Status != 200 {
		t.Errorf("Result = %q, FinalURL %q, Status %d; want the file, %q, 200", first.Body, first.FinalURL, first.Status, u)
	}
	if want := mtime.Format(http.TimeFormat); first.Validators.LastModified != want {
		t.Errorf("LastModified = %q, want the file's mtime %q", first.Validators.LastModified, want)
	}

	// Same conditional-GET path as http: the file server answers 304.
	if _, err := c.Get(t.Context(), fetch.Request{URL: u, Validators: first.Validators}); !errors.Is(err, fetch.ErrNotModified) {
		t.Errorf("Get with the file's Last-Modified: error = %v, want ErrNotModified", err)
	}

	// A touched file is read again.
	if err := os.Chtimes(path, mtime.Add(time.Hour), mtime.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Get(t.Context(), fetch.Request{URL: u, Validators: first.Validators}); err != nil {
		t.Errorf("Get after the file changed: %v", err)
	}

	// localhost is the one host a file URL may name (RFC 8089).
	if _, err := c.Get(t.Context(), fetch.Request{URL: "file://localhost" + (&url.URL{Path: path}).EscapedPath()}); err != nil {
		t.Errorf("Get of a file://localhost/ URL: %v", err)
	}
}

func TestFileMissing(t *testing.T) {
	u := fileURL(filepath.Join(t.TempDir(), "gone.xml"))
	_, err := fetch.New(fetch.Options{}).Get(t.Context(), fetch.Request{URL: u})
	se, ok := errors.AsType[*fetch.StatusError](err)
	if !ok || se.Code != http.StatusNotFound || se.URL != u {
		t.Fatalf("Get of a missing file: error = %v, want a 404 StatusError naming %s", err, u)
	}
}

func TestFileMaxBody(t *testing.T) {
	path := filepath.Join(t.TempDir(), "big.xml")
	if err := os.WriteFile(path, make([]byte, 2000), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := fetch.New(fetch.Options{}).Get(t.Context(), fetch.Request{URL: fileURL(path), MaxBody: 1000})
	if !errors.Is(err, fetch.ErrTooLarge) {
		t.Errorf("Get of a 2000-byte file with MaxBody 1000: error = %v, want ErrTooLarge", err)
	}
}
