package main

import (
	"os"
	"testing"
)

// TestMain lets this test binary be the daemon behind a reader process: a
// test's `serve` with http.reader_process (the default on Linux) starts
// os.Executable, this binary, as its daemon, and it must then run serve
// as newsdesk would, not the tests.
func TestMain(m *testing.M) {
	if os.Getenv(backEnv) != "" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}
