package config

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/fsnotify/fsnotify"
)

// debounce is how long Watch waits after the last event before reading the
// file: an in-place save arrives as several WRITE events, and reading after
// the first can see a half-written file.
const debounce = 250 * time.Millisecond

// testHookWatching, when set by a test, is called once the directory watch
// is in place, so a test can edit the file without racing the watcher.
var testHookWatching func()

// Watch reloads the config at path whenever it changes on disk, until ctx
// is done. A valid config is passed to apply; an invalid one (or an
// unreadable file) to refused, and watching goes on, so the caller keeps
// running with its old config. Saving the same content again is ignored.
//
// Watch watches path's directory, not the file: editors save by writing a
// temporary file and renaming it over the old one, which ends a watch on the
// file itself; Kubernetes ConfigMaps swap a "..data" symlink. SIGHUP is the
// caller's business: it calls Load and applies the result itself.
//
// apply and refused run on Watch's goroutine, one at a time. Watch returns
// nil when ctx ends, or an error if the watch cannot be set up.
func Watch(ctx context.Context, path string, apply func(*Config), refused func(error)) error {
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return fmt.Errorf("watch %s: %w", path, err)
	}
	defer w.Close()
	dir := filepath.Dir(path)
	if err := w.Add(dir); err != nil {
		return fmt.Errorf("watch %s: %w", dir, err)
	}
	// What is on disk now is what the caller loaded; only later changes count.
	last := hashFile(path)
	if testHookWatching != nil {
		testHookWatching()
	}

	timer := time.NewTimer(debounce)
	timer.Stop()
	target := filepath.Clean(path)
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev, ok := <-w.Events:
			if !ok {
				return nil
			}
			name := filepath.Clean(ev.Name)
			if name == target || strings.HasPrefix(filepath.Base(name), "..") {
				timer.Reset(debounce)
			}
		case err, ok := <-w.Errors:
			if !ok {
				return nil
			}
			refused(fmt.Errorf("watch %s: %w", dir, err))
		case <-timer.C:
			src, err := os.ReadFile(path)
			if err != nil {
				// Mid-rename or deleted: the next event brings it back, and
				// the caller keeps its config meanwhile.
				refused(fmt.Errorf("read config: %w", err))
				continue
			}
			sum := sha256.Sum256(src)
			if bytes.Equal(sum[:], last) {
				continue
			}
			last = sum[:]
			cfg, err := Parse(path, src)
			if err != nil {
				refused(err)
				continue
			}
			apply(cfg)
		}
	}
}

func hashFile(path string) []byte {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	sum := sha256.Sum256(src)
	return sum[:]
}
