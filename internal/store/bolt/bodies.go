package bolt

import (
	"encoding/binary"
	"errors"
	"fmt"

	bbolt "go.etcd.io/bbolt"
)

// storyBucket is where stories live: stories/<id> holds a reference (refTag
// and the story's be64 Seq) to bodies/<Seq>, which holds the encoded story
// (codec.go). Older files hold the story itself under stories/<id>, which
// reads as it is and moves to bodies/ when the story is next rewritten.
//
// Why two buckets: ids are hashes, so each new story lands in a random leaf
// of stories/, and bbolt keeps at least two values to a leaf: storing a
// 5 KB story there rewrote its neighbours too, and with them a first pass
// over 1,000 feeds wrote 1.8 GB for 265 MB of stories. Seq only grows, so
// bodies/ is written at its end, each story about once, and the leaves of
// stories/ hold a hundred small references.
type storyBucket struct {
	ids, bodies *bbolt.Bucket
}

// refTag starts a stories/ value that refers to bodies/; a story stored
// in place starts with '{' (JSON) or codecV1.
const refTag = 2

func storiesOf(tx *bbolt.Tx) storyBucket {
	b := storyBucket{ids: tx.Bucket(bucketStories), bodies: tx.Bucket(bucketBodies)}
	if tx.Writable() {
		b.bodies.FillPercent = appendFill
	}
	return b
}

// ref returns the Seq a stories/ value refers to.
func ref(v []byte) (uint64, bool) {
	if len(v) != 9 || v[0] != refTag {
		return 0, false
	}
	return binary.BigEndian.Uint64(v[1:]), true
}

// Get returns the encoded story with id, nil when there is none (or its
// body is missing, which Check reports).
func (b storyBucket) Get(id []byte) []byte {
	v := b.ids.Get(id)
	if seq, ok := ref(v); ok {
		return b.bodies.Get(be64(seq))
	}
	return v
}

// Put stores v, a story encoded by encode, under id: its body at
// bodies/<its Seq>, and the reference to it unless stories/ holds that
// already (an update rewrites only the body).
func (b storyBucket) Put(id, v []byte) error {
	seq, err := encodedSeq(v)
	if err != nil {
		return fmt.Errorf("store story %s: %w", id, err)
	}
	if held := b.bodies.Get(be64(seq)); held != nil {
		// Seqs are unique (NextSequence); an import that repeats one must
		// not hand one story's body to another.
		if other, err := encodedID(held); err != nil || other != string(id) {
			return fmt.Errorf("store story %s: Seq %d holds story %q", id, seq, other)
		}
	}
	if err := b.bodies.Put(be64(seq), v); err != nil {
		return err
	}
	r := append([]byte{refTag}, be64(seq)...)
	if old, ok := ref(b.ids.Get(id)); ok && old == seq {
		return nil
	} else if ok {
		// A story's Seq never changes; an import or a repair that gave it
		// another leaves no body behind.
		if err := b.bodies.Delete(be64(old)); err != nil {
			return err
		}
	}
	return b.ids.Put(id, r)
}

// encodedSeq reads the Seq of a story encode wrote.
func encodedSeq(v []byte) (uint64, error) {
	if len(v) < 2 || v[0] != codecV1 {
		return 0, errors.New("not a binary story")
	}
	seq, n := binary.Uvarint(v[1:])
	if n <= 0 {
		return 0, errShort
	}
	return seq, nil
}

// encodedID reads the ID of a story encode wrote.
func encodedID(v []byte) (string, error) {
	if len(v) < 2 || v[0] != codecV1 {
		return "", errors.New("not a binary story")
	}
	d := decoder{s: string(v[1:min(len(v), 1+2*binary.MaxVarintLen64+maxIDLen)])}
	d.uvarint()
	id := d.string()
	return id, d.err
}

// Delete removes the story with id and its body.
func (b storyBucket) Delete(id []byte) error {
	if seq, ok := ref(b.ids.Get(id)); ok {
		if err := b.bodies.Delete(be64(seq)); err != nil {
			return err
		}
	}
	return b.ids.Delete(id)
}

// ForEach calls fn with each story's id and encoded story, in id order; a
// reference whose body is missing comes with a nil story.
func (b storyBucket) ForEach(fn func(id, v []byte) error) error {
	return b.ids.ForEach(func(id, v []byte) error {
		if seq, ok := ref(v); ok {
			v = b.bodies.Get(be64(seq))
		}
		return fn(id, v)
	})
}

// NextSequence, Sequence and SetSequence are stories/'s: the Seq counter.
func (b storyBucket) NextSequence() (uint64, error) { return b.ids.NextSequence() }
func (b storyBucket) Sequence() uint64              { return b.ids.Sequence() }
func (b storyBucket) SetSequence(n uint64) error    { return b.ids.SetSequence(n) }
