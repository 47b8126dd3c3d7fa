package store

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"time"

	"github.com/newsdesk/newsdesk/internal/story"
)

// Porter is implemented by an engine whose whole contents can be copied
// into another engine: what `newsdesk migrate-store` moves between bbolt and
// PostgreSQL, and what a PostgreSQL store's Backup writes (see WriteDump).
// Nothing is lost on the way: stories keep their Seq, FirstSeen, dates and
// link-group roles, sources their state, pruned ids their tombstones,
// topics their change times, and the caller's meta keys their values.
type Porter interface {
	// Export calls yield with every record of one consistent snapshot of
	// the store, in this order: one Header, then every Meta, Source,
	// Tombstone and Topic record, then every story by ascending Seq, then
	// every link key. A story is in its stored form (Merged kept apart, not
	// folded in as Listed does) with Topics its own topics, not the union
	// it is listed under. Writers may wait while it runs.
	Export(ctx context.Context, yield func(Record) error) error
	// Import fills an empty store (no story, no source) with the records
	// of an Export, in Export's order, and builds every index from them:
	// afterwards the store answers every method of Store as the exported
	// one did, and the next Put continues its Seq. It refuses a store that
	// is not empty, and a record stream that is not an Export's.
	Import(ctx context.Context, records iter.Seq2[Record, error]) error
}

// Record is one item of an Export: exactly one field is set.
type Record struct {
	Header    *Header      `json:"header,omitempty"`
	Meta      *MetaEntry   `json:"meta,omitempty"`
	Source    *SourceEntry `json:"source,omitempty"`
	Tombstone *Tombstone   `json:"tombstone,omitempty"`
	Topic     *TopicEntry  `json:"topic,omitempty"`
	Story     *story.Story `json:"story,omitempty"`
	Link      *LinkEntry   `json:"link,omitempty"`
}

// DumpFormat names the dump format in its Header; DumpVersion is its
// version.
const (
	DumpFormat  = "newsdesk-store"
	DumpVersion = 1
)

// Header opens an Export: what the stream is, and the store's counters
// that no other record carries.
type Header struct {
	Format  string `json:"format"`  // DumpFormat
	Version int    `json:"version"` // DumpVersion
	// Seq is the last Seq the store assigned: the next Put goes on from
	// it, even when the stories with the highest Seqs were pruned.
	Seq uint64 `json:"seq"`
	// NewestDated is the newest Published of a dated story the store ever
	// held (see Estimates).
	NewestDated time.Time `json:"newest_dated,omitzero"`
	Stories     int       `json:"stories"` // how many Story records follow
}

// MetaEntry is one caller-owned meta key.
type MetaEntry struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// SourceEntry is one source's state.
type SourceEntry struct {
	Name  string      `json:"name"`
	State SourceState `json:"state"`
}

// Tombstone is a pruned id and when it was pruned.
type Tombstone struct {
	ID     string    `json:"id"`
	Pruned time.Time `json:"pruned"`
}

// TopicEntry is the last change time of one topic's index ("" is all
// stories); counts and the newest story follow from the stories.
type TopicEntry struct {
	Slug    string    `json:"slug"`
	Changed time.Time `json:"changed"`
}

// LinkEntry is a link key and the story that holds it (see GroupKeys).
type LinkEntry struct {
	Key string `json:"key"`
	ID  string `json:"id"`
}

// CheckHeader refuses a stream whose first record is not a Header of this
// format and version.
func CheckHeader(r Record) (*Header, error) {
	h := r.Header
	if h == nil || h.Format != DumpFormat {
		return nil, errors.New("not a newsdesk store export (no header)")
	}
	if h.Version != DumpVersion {
		return nil, fmt.Errorf("store export version %d; this newsdesk reads %d", h.Version, DumpVersion)
	}
	return h, nil
}

// WriteDump writes p's Export to w as JSON Lines, one record a line: the
// form a PostgreSQL store's Backup takes, which ReadDump reads back and
// `newsdesk migrate-store --from FILE` imports into either engine.
func WriteDump(ctx context.Context, p Porter, w io.Writer) error {
	bw := bufio.NewWriterSize(w, 1<<16)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	err := p.Export(ctx, func(r Record) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		return enc.Encode(r)
	})
	if err != nil {
		return err
	}
	return bw.Flush()
}

// ReadDump reads the records WriteDump wrote. A line that does not decode
// ends the stream with an error naming the line.
func ReadDump(r io.Reader) iter.Seq2[Record, error] {
	return func(yield func(Record, error) bool) {
		dec := json.NewDecoder(bufio.NewReaderSize(r, 1<<16))
		for line := 1; ; line++ {
			var rec Record
			err := dec.Decode(&rec)
			if errors.Is(err, io.EOF) {
				return
			}
			if err != nil {
				yield(Record{}, fmt.Errorf("read store export, record %d: %w", line, err))
				return
			}
			if !yield(rec, nil) {
				return
			}
		}
	}
}
