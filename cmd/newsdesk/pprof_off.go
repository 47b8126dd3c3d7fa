//go:build !pprof

package main

import "log/slog"

// startProfiling does nothing in a normal build: the profiling endpoint is
// compiled in only with -tags pprof (see pprof.go).
func startProfiling(env, *slog.Logger, string) (stop func(), err error) { return func() {}, nil }
