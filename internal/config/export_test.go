package config

// SetWatchingHook lets external tests wait until Watch has its directory
// watch in place. Tests that use it must not run in parallel.
func SetWatchingHook(f func()) func() {
	testHookWatching = f
	return func() { testHookWatching = nil }
}
