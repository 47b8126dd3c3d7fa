package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/newsdesk/newsdesk/internal/store/bolt"
)

// backup writes a consistent copy of the store to FILE, from the running
// daemon when one holds the store (so a backup never needs a stop), else
// from the store directly. The copy is written beside FILE and renamed into
// place once whole and durable, so FILE is always a complete backup: the
// previous one or the new one.
func backup(ctx context.Context, e env, args []string) error {
	var o options
	fs := e.flags("backup", &o)
	fs.Usage = func() {
		fmt.Fprintln(e.stderr, "usage: newsdesk backup [--data F] FILE")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return errors.New("backup: name the file to write")
	}
	dst := fs.Arg(0)
	if !isDatabaseURL(o.data) {
		if same, err := sameFile(dst, o.data); err != nil || same {
			return fmt.Errorf("backup: %s is the store itself; name another file", dst)
		}
	}
	tmp, err := os.CreateTemp(filepath.Dir(dst), "."+filepath.Base(dst)+".*.tmp")
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	defer os.Remove(tmp.Name()) // after a successful rename there is nothing left to remove
	if err := copyStore(ctx, e, o.data, tmp); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("backup: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	if !isDatabaseURL(o.data) {
		if err := bolt.CheckFile(tmp.Name()); err != nil {
			return fmt.Errorf("backup: the copy does not check out: %w", err)
		}
	}
	if err := os.Rename(tmp.Name(), dst); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	info, err := os.Stat(dst)
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	fmt.Fprintf(e.stdout, "backup of %s written to %s (%d bytes)\n", shownData(o.data), dst, info.Size())
	return nil
}

// copyStore writes the store's backup to w, through the daemon if one holds it.
func copyStore(ctx context.Context, e env, data string, w io.Writer) error {
	db, daemon, err := openOrDial(data)
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	if daemon != nil {
		fmt.Fprintln(e.stderr, "a running daemon holds the store; it takes the backup")
		if err := daemon.Backup(ctx, w); err != nil {
			return fmt.Errorf("backup: %w", err)
		}
		return nil
	}
	defer db.Close()
	if err := db.Backup(ctx, w); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	return nil
}

// sameFile reports whether a and b name one file (a missing a is not b).
func sameFile(a, b string) (bool, error) {
	ia, err := os.Stat(a)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	ib, err := os.Stat(b)
	if err != nil {
		return false, nil
	}
	return os.SameFile(ia, ib), nil
}
