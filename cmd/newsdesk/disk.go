package main

import (
	"log/slog"
	"path/filepath"
)

// lowDisk is the free space under which the store's disk counts as full:
// one refresh of a large feed needs a few MiB.
const lowDisk = 4 << 20

// diskFull says so when the store's disk has no room: the daemon still
// serves what is stored, and every fetch will fail to store until space is
// freed, then ingest resumes by itself.
func diskFull(log *slog.Logger, dataPath string) {
	dir := filepath.Dir(dataPath)
	free, ok := freeBytes(dir)
	if ok && free < lowDisk {
		log.Error("disk full: serving what is stored; new stories cannot be saved until space is freed",
			"dir", dir, "free_bytes", free)
	}
}
