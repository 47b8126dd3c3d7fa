package store

import (
	"bytes"

	bolt "go.etcd.io/bbolt"
)

// SetReclassifyBatch sets the stories per Reclassify transaction and returns
// a func that restores the old size.
func SetReclassifyBatch(n int) (restore func()) {
	old := reclassifyBatch
	reclassifyBatch = n
	return func() { reclassifyBatch = old }
}

// IndexIDs returns the ids slug's topic indexes hold, raw, with no duplicate
// filtering: byTime in Published order, bySeq in Seq order. Slug "" gives the
// all-stories time index and the Seq index entries not flagged duplicate.
func IndexIDs(db *DB, slug string) (byTime, bySeq []string) {
	_ = db.bolt.View(func(tx *bolt.Tx) error {
		tb, sb := tx.Bucket(bucketTime), tx.Bucket(bucketSeq)
		if slug != "" {
			g := activeGen(tx)
			tb, sb = g.Bucket(bucketTopTime).Bucket([]byte(slug)), g.Bucket(bucketTopSeq).Bucket([]byte(slug))
		}
		if tb != nil {
			_ = tb.ForEach(func(k, _ []byte) error {
				byTime = append(byTime, string(k[8:]))
				return nil
			})
		}
		if sb != nil {
			_ = sb.ForEach(func(_, v []byte) error {
				id := string(v)
				if slug == "" {
					_, flags, sid := splitSeqValue(v)
					if flags&seqDup != 0 {
						return nil
					}
					id = sid
				}
				bySeq = append(bySeq, id)
				return nil
			})
		}
		return nil
	})
	return byTime, bySeq
}

// Undated reports whether the store records story id's Published as the
// FirstSeen fallback.
func Undated(db *DB, id string) bool {
	var undated bool
	_ = db.bolt.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketSeq).ForEach(func(_, v []byte) error {
			if _, flags, sid := splitSeqValue(v); sid == id {
				undated = flags&seqUndated != 0
			}
			return nil
		})
	})
	return undated
}

// MakeLegacy turns db into a file written before seqUndated existed: no
// flags and no marker.
func MakeLegacy(db *DB) error {
	return db.bolt.Update(func(tx *bolt.Tx) error {
		seq := tx.Bucket(bucketSeq)
		var keys, vals [][]byte
		_ = seq.ForEach(func(k, v []byte) error {
			firstSeen, flags, id := splitSeqValue(v)
			keys, vals = append(keys, bytes.Clone(k)), append(vals, seqValue(firstSeen, flags&^seqUndated, id))
			return nil
		})
		for i := range keys {
			if err := seq.Put(keys[i], vals[i]); err != nil {
				return err
			}
		}
		return tx.Bucket(bucketMeta).Delete(metaUndated)
	})
}
