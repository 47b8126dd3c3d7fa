package ingest

// WaitWrites waits until the state writer has written every urgent change
// and exited: what a kill -9 right after would find in the store.
func (in *Ingester) WaitWrites() { in.writers.Wait() }
