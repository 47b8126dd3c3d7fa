package store

// SetReclassifyBatch sets the stories per Reclassify transaction and returns
// a func that restores the old size.
func SetReclassifyBatch(n int) (restore func()) {
	old := reclassifyBatch
	reclassifyBatch = n
	return func() { reclassifyBatch = old }
}
