package bolt

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"time"

	bbolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"
)

// Compact writes a compacted copy of the store to dst, which must not exist
// yet. Writers wait while it runs. CompactFile uses it to shrink a store in
// place.
func (db *DB) Compact(dst string) error {
	db.mu.Lock()
	defer db.mu.Unlock()
	return compactInto(dst, db.bolt)
}

// compactInto copies src into a new file dst, made durable.
func compactInto(dst string, src *bbolt.DB) error {
	if _, err := os.Stat(dst); err == nil {
		return fmt.Errorf("compact to %s: file exists", dst)
	}
	out, err := bbolt.Open(dst, 0o600, &bbolt.Options{Timeout: time.Second, NoSync: true})
	if err != nil {
		return fmt.Errorf("compact to %s: %w", dst, err)
	}
	defer func() {
		if r := recover(); r != nil { // a fault reading a damaged src (see salvage)
			out.Close()
			panic(r)
		}
	}()
	if err := bbolt.Compact(out, src, 64<<20); err != nil {
		out.Close()
		return fmt.Errorf("compact to %s: %w", dst, err)
	}
	// NoSync made the copy fast; one fsync at the end makes it durable.
	if err := out.Sync(); err != nil {
		out.Close()
		return fmt.Errorf("compact to %s: %w", dst, err)
	}
	if err := out.Close(); err != nil {
		return fmt.Errorf("compact to %s: %w", dst, err)
	}
	return nil
}

// CompactResult says what CompactFile did.
type CompactResult struct {
	Before, After int64  // file sizes in bytes
	Salvaged      bool   // the original was damaged: what could be read was copied
	Damaged       string // where the damaged original was kept, when Salvaged
}

// CompactFile rewrites the store at path without its free pages, and is
// safe to kill at any moment: it writes the copy beside the original
// (path.compact), makes it durable, checks that it opens as a sound store,
// and only then renames it over the original. A kill leaves the original
// untouched and at worst a stale path.compact, which the next Open or
// CompactFile removes. It needs the store to itself: another process
// holding it gives store.ErrLocked.
//
// A file Open refuses as damaged (ErrDamaged) is salvaged instead: opened
// read-only, everything bbolt can still read is copied into the new file,
// and the damaged original is kept as path.damaged. A file too broken to
// read gives an error and is left as it was.
func CompactFile(path string, opts Options) (CompactResult, error) {
	var res CompactResult
	info, err := os.Stat(path)
	if err != nil {
		return res, fmt.Errorf("compact: %w", err)
	}
	res.Before = info.Size()
	tmp := path + compactSuffix
	if opts.Timeout <= 0 {
		opts.Timeout = 500 * time.Millisecond
	}
	db, err := Open(path, opts) // removes a stale tmp once it holds the lock
	switch {
	case err == nil:
		err = db.Compact(tmp)
		if cerr := db.Close(); err == nil {
			err = cerr
		}
	case errors.Is(err, ErrDamaged):
		res.Salvaged = true
		os.Remove(tmp)
		err = salvage(path, tmp, opts.Timeout)
	}
	if err != nil {
		os.Remove(tmp)
		return res, err
	}
	// The copy must be a store Open accepts before it replaces anything.
	check, err := Open(tmp, Options{Timeout: opts.Timeout, NoSync: opts.NoSync})
	if err != nil {
		os.Remove(tmp)
		return res, fmt.Errorf("compact: the copy does not open: %w", err)
	}
	if err := check.Close(); err != nil {
		os.Remove(tmp)
		return res, err
	}
	if res.Salvaged {
		// A second name for the damaged original first: a kill between the
		// two steps leaves it in place under both.
		res.Damaged = path + damagedSuffix
		os.Remove(res.Damaged)
		if err := os.Link(path, res.Damaged); err != nil {
			os.Remove(tmp)
			return res, fmt.Errorf("compact: keep the damaged file: %w", err)
		}
	}
	if err := os.Rename(tmp, path); err != nil {
		return res, fmt.Errorf("compact: %w", err)
	}
	if err := syncDir(filepath.Dir(path)); err != nil {
		return res, fmt.Errorf("compact: %w", err)
	}
	if info, err := os.Stat(path); err == nil {
		res.After = info.Size()
	}
	return res, nil
}

// salvage copies what bbolt can read of the damaged file src into dst. It
// opens src read-only, which maps the file without bbolt's open-time page
// walk, and turns a fault or a panic of the copy (both on this goroutine)
// into an error.
func salvage(src, dst string, timeout time.Duration) (err error) {
	if info, err := os.Stat(src); err == nil && info.Size() == 0 {
		return fmt.Errorf("compact %s: %w: there is nothing to copy", src, ErrEmpty)
	}
	in, err := bbolt.Open(src, 0o400, &bbolt.Options{ReadOnly: true, Timeout: timeout})
	if errors.Is(err, bolterrors.ErrTimeout) {
		return openError(src, err)
	}
	if err != nil {
		return fmt.Errorf("compact %s: cannot read it (%w); restore a backup", src, err)
	}
	defer in.Close()
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("compact %s: cannot read it (%v); restore a backup", src, r)
		}
	}()
	return compactInto(dst, in)
}
