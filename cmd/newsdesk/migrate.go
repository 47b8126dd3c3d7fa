package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"iter"
	"os"
	"time"

	"github.com/newsdesk/newsdesk/internal/store"
)

// migrateStore copies a whole store into an empty one of either engine:
// --from names a bbolt file, a PostgreSQL URL or a store export (what a
// PostgreSQL store's backup writes); --to a bbolt file or a PostgreSQL URL
// with no newsdesk data yet. Everything moves: stories with their Seq,
// FirstSeen, link groups and served ids, source state, tombstones, topic
// indexes and change times, meta. Stop the daemons on --from first: what
// they write after the copy starts is not copied.
func migrateStore(ctx context.Context, e env, args []string) error {
	var o options
	fs := e.flags("migrate-store", &o)
	from := fs.String("from", "", "the store to copy: a bbolt `path`, a postgres:// URL, or a store export file")
	to := fs.String("to", "", "the empty store to fill: a bbolt `path` (created) or a postgres:// URL")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *from == "" || *to == "" || fs.NArg() > 0 {
		fs.Usage()
		return errors.New("migrate-store: give --from and --to")
	}
	if *from == *to {
		return errors.New("migrate-store: --from and --to name the same store")
	}
	records, closeFrom, err := openRecords(ctx, *from)
	if err != nil {
		return fmt.Errorf("migrate-store: %w", err)
	}
	defer closeFrom()
	dst, err := openStore(*to, 500*time.Millisecond)
	if err != nil {
		return fmt.Errorf("migrate-store: %w", err)
	}
	defer dst.Close()
	p, ok := dst.(store.Porter)
	if !ok {
		return fmt.Errorf("migrate-store: %s cannot import", shownData(*to))
	}
	var counted counts
	if err := p.Import(ctx, counted.count(records)); err != nil {
		return fmt.Errorf("migrate-store: %w", err)
	}
	if c, ok := dst.(interface{ Check(context.Context) error }); ok {
		if err := c.Check(ctx); err != nil {
			return fmt.Errorf("migrate-store: the copy does not check out: %w", err)
		}
	}
	fmt.Fprintf(e.stdout, "copied %d stories, %d sources, %d tombstones and %d meta keys from %s to %s\n",
		counted.stories, counted.sources, counted.tombstones, counted.meta, shownData(*from), shownData(*to))
	return nil
}

// counts tallies the records on their way.
type counts struct{ stories, sources, tombstones, meta int }

func (c *counts) count(in iter.Seq2[store.Record, error]) iter.Seq2[store.Record, error] {
	return func(yield func(store.Record, error) bool) {
		for r, err := range in {
			switch {
			case r.Story != nil:
				c.stories++
			case r.Source != nil:
				c.sources++
			case r.Tombstone != nil:
				c.tombstones++
			case r.Meta != nil:
				c.meta++
			}
			if !yield(r, err) {
				return
			}
		}
	}
}

// openRecords opens what --from names and returns its records.
func openRecords(ctx context.Context, from string) (iter.Seq2[store.Record, error], func(), error) {
	if !isDatabaseURL(from) {
		if _, err := os.Stat(from); err != nil {
			return nil, nil, err // a path that is not there is not a new, empty store to copy
		}
		if isExport(from) {
			f, err := os.Open(from)
			if err != nil {
				return nil, nil, err
			}
			return store.ReadDump(f), func() { f.Close() }, nil
		}
	}
	src, err := openStore(from, 500*time.Millisecond)
	if err != nil {
		return nil, nil, err
	}
	p, ok := src.(store.Porter)
	if !ok {
		src.Close()
		return nil, nil, fmt.Errorf("%s cannot export", shownData(from))
	}
	return exported(ctx, p), func() { src.Close() }, nil
}

// errStop ends an Export early: the importer stopped reading.
var errStop = errors.New("stop")

// exported turns p's Export into a sequence Import ranges over.
func exported(ctx context.Context, p store.Porter) iter.Seq2[store.Record, error] {
	return func(yield func(store.Record, error) bool) {
		err := p.Export(ctx, func(r store.Record) error {
			if !yield(r, nil) {
				return errStop
			}
			return nil
		})
		if err != nil && !errors.Is(err, errStop) {
			yield(store.Record{}, err)
		}
	}
}

// isExport reports whether the file at path is a store export (JSON Lines
// opening with the header) rather than a bbolt file.
func isExport(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	head := make([]byte, 16)
	n, _ := bufio.NewReader(f).Read(head)
	return bytes.HasPrefix(head[:n], []byte(`{"header":`))
}
