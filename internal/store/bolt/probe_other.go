//go:build !unix

package bolt

import (
	"io"
	"os"
	"time"
)

// mapFile reads the first size bytes of f: without mmap, the probe reads
// the pages it walks into memory.
func mapFile(f *os.File, size int) ([]byte, func(), error) {
	data := make([]byte, size)
	if _, err := io.ReadFull(io.NewSectionReader(f, 0, int64(size)), data); err != nil {
		return nil, nil, err
	}
	return data, func() {}, nil
}

// lockFile does nothing here: bbolt's own lock, taken right after, keeps a
// second process out.
func lockFile(*os.File, time.Duration) (func(), error) { return func() {}, nil }
