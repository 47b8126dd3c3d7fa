package config

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
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

// Watch reloads the config at path whenever it, or an OPML file it takes
// sources from (sources_from), changes on disk, until ctx is done. A valid
// config is passed to apply; an invalid one (or an unreadable file) to
// refused, and watching goes on, so the caller keeps running with its old
// config. Saving the same content again is ignored.
//
// Watch watches the directories of those files, not the files: editors save
// by writing a temporary file and renaming it over the old one, which ends a
// watch on the file itself; Kubernetes ConfigMaps swap a "..data" symlink.
// An edit that names another OPML file adds its directory. SIGHUP is the
// caller's business: it calls Load and applies the result itself.
//
// running is the Fingerprint of the config the caller runs. When what is on
// disk once the watch is in place differs from it — an edit saved between the
// caller's Load and the watch — Watch reloads at once rather than waiting for
// an event that has already passed. An empty running takes what is on disk
// then as the caller's.
//
// apply and refused run on Watch's goroutine, one at a time. Watch returns
// nil when ctx ends, or an error if the watch cannot be set up.
func Watch(ctx context.Context, path, running string, apply func(*Config), refused func(error)) error {
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return fmt.Errorf("watch %s: %w", path, err)
	}
	defer w.Close()
	dirs := map[string]bool{}
	watchDir := func(dir string) error {
		if dirs[dir] {
			return nil
		}
		if err := w.Add(dir); err != nil {
			return fmt.Errorf("watch %s: %w", dir, err)
		}
		dirs[dir] = true
		return nil
	}
	if err := watchDir(filepath.Dir(path)); err != nil {
		return err
	}
	targets := map[string]bool{filepath.Clean(path): true}
	// follow watches the OPML files a parse read. One in a directory that
	// cannot be watched is still read on every reload of the config.
	follow := func(inputs []input) {
		for _, in := range inputs {
			targets[filepath.Clean(in.path)] = true
			if err := watchDir(filepath.Dir(in.path)); err != nil && !errors.Is(err, fs.ErrNotExist) {
				refused(err)
			}
		}
	}
	// Only changes from what the caller runs count.
	onDisk, inputs := snapshot(path)
	follow(inputs)
	last := running
	if last == "" {
		last = onDisk
	}
	if testHookWatching != nil {
		testHookWatching()
	}

	timer := time.NewTimer(debounce)
	if onDisk == last {
		timer.Stop()
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev, ok := <-w.Events:
			if !ok {
				return nil
			}
			if targets[filepath.Clean(ev.Name)] || strings.HasPrefix(filepath.Base(ev.Name), "..") {
				timer.Reset(debounce)
			}
		case err, ok := <-w.Errors:
			if !ok {
				return nil
			}
			refused(fmt.Errorf("watch: %w", err))
		case <-timer.C:
			src, err := readFile(path)
			if err != nil {
				// Mid-rename or deleted: the next event brings it back, and
				// the caller keeps its config meanwhile. (Or too large.)
				refused(err)
				continue
			}
			d := newDecoder(path, src)
			cfg, err := d.parse()
			follow(d.inputs)
			if sum := fingerprint(src, d.inputs); sum == last {
				continue
			} else {
				last = sum
			}
			if err != nil {
				refused(err)
				continue
			}
			apply(cfg)
		}
	}
}

// snapshot is the fingerprint of the config at path and the OPML files it
// reads, as they are on disk now, and those files.
func snapshot(path string) (string, []input) {
	src, err := readFile(path)
	if err != nil {
		return "", nil
	}
	d := newDecoder(path, src)
	d.parse()
	return fingerprint(src, d.inputs), d.inputs
}
