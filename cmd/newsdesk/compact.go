package main

import (
	"errors"
	"fmt"
	"time"

	"github.com/newsdesk/newsdesk/internal/store"
	"github.com/newsdesk/newsdesk/internal/store/bolt"
)

// compact rewrites the store without its free pages, or salvages a damaged
// one. It needs the store to itself: bbolt files never shrink while in use.
// It is safe to kill: see bolt.CompactFile.
func compact(e env, args []string) error {
	var o options
	fs := e.flags("compact", &o)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if isDatabaseURL(o.data) {
		return errors.New("compact rewrites a bbolt file; a database server reclaims its own space (PostgreSQL: VACUUM)")
	}
	res, err := bolt.CompactFile(o.data, bolt.Options{Timeout: 500 * time.Millisecond})
	if errors.Is(err, store.ErrLocked) {
		return fmt.Errorf("compact (stop the daemon first): %w", err)
	}
	if err != nil {
		return err
	}
	if res.Salvaged {
		fmt.Fprintf(e.stdout, "%s was damaged: what could be read is now in %s (%d bytes); the damaged file is kept as %s\n",
			o.data, o.data, res.After, res.Damaged)
		return nil
	}
	fmt.Fprintf(e.stdout, "%s: %d bytes, was %d\n", o.data, res.After, res.Before)
	return nil
}
