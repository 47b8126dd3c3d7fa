package main

import (
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/newsdesk/newsdesk/internal/store"
	"github.com/newsdesk/newsdesk/internal/store/bolt"
)

// compact rewrites the store without its free pages. It needs the store to
// itself: bbolt files never shrink while in use.
func compact(e env, args []string) error {
	var o options
	fs := e.flags("compact", &o)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if isDatabaseURL(o.data) {
		return errors.New("compact rewrites a bbolt file; a database server reclaims its own space (PostgreSQL: VACUUM)")
	}
	before, err := os.Stat(o.data)
	if err != nil {
		return fmt.Errorf("compact: %w", err)
	}
	db, err := bolt.Open(o.data, bolt.Options{Timeout: 500 * time.Millisecond})
	if errors.Is(err, store.ErrLocked) {
		return fmt.Errorf("compact (stop the daemon first): %w", err)
	}
	if err != nil {
		return fmt.Errorf("compact: %w", err)
	}
	tmp := o.data + ".compact"
	os.Remove(tmp)
	if err := db.Compact(tmp); err != nil {
		db.Close()
		os.Remove(tmp)
		return err
	}
	if err := db.Close(); err != nil {
		os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, o.data); err != nil {
		return fmt.Errorf("compact: %w", err)
	}
	after, err := os.Stat(o.data)
	if err != nil {
		return fmt.Errorf("compact: %w", err)
	}
	fmt.Fprintf(e.stdout, "%s: %d bytes, was %d\n", o.data, after.Size(), before.Size())
	return nil
}
