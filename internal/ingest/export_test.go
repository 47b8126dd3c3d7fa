package ingest

// WaitWrites waits until the state writer has written every urgent change
// and exited: what a kill -9 right after would find in the store.
func (in *Ingester) WaitWrites() { in.settle() }

// BeforePut makes fn run between classifying a feed and committing it: a
// test stretches that window to put a topic swap inside it.
func (in *Ingester) BeforePut(fn func(source string)) { in.beforePut = fn }
