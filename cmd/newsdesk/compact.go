package main

import (
	"fmt"
	"os"
	"time"
)

// compact rewrites the store without its free pages. It needs the store to
// itself: bbolt files never shrink while in use.
func compact(e env, args []string) error {
	var o options
	fs := e.flags("compact", &o)
	if err := fs.Parse(args); err != nil {
		return err
	}
	before, err := os.Stat(o.data)
	if err != nil {
		return fmt.Errorf("compact: %w", err)
	}
	db, err := openStore(o.data, 500*time.Millisecond)
	if err != nil {
		return fmt.Errorf("compact (stop the daemon first): %w", err)
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
