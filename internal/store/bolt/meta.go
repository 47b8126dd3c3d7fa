package bolt

import (
	"context"
	"fmt"

	bbolt "go.etcd.io/bbolt"
)

// appMeta prefixes the meta keys callers own, so they never collide with the
// store's own counters.
const appMeta = "app:"

// Meta returns the value the caller stored under key, "" when none.
func (db *DB) Meta(ctx context.Context, key string) (string, error) {
	var v string
	err := db.view(ctx, func(tx *bbolt.Tx) error {
		v = string(tx.Bucket(bucketMeta).Get([]byte(appMeta + key)))
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("read meta %s: %w", key, err)
	}
	return v, nil
}

// SetMeta stores value under key; the ingester keeps the fingerprint of the
// topics the stories were last classified with here.
func (db *DB) SetMeta(ctx context.Context, key, value string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("write meta %s: %w", key, err)
	}
	err := db.bolt.Update(func(tx *bbolt.Tx) error {
		return tx.Bucket(bucketMeta).Put([]byte(appMeta+key), []byte(value))
	})
	if err != nil {
		return fmt.Errorf("write meta %s: %w", key, err)
	}
	return nil
}
