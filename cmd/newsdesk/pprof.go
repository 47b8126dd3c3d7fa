//go:build pprof

package main

import (
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"runtime"
)

// startProfiling serves net/http/pprof on the loopback address in
// NEWSDESK_PPROF, in binaries built with -tags pprof only (servebench
// -profile builds one), and the daemon behind a reader process on the
// same host and a port of its own, each logged ("profiling … of=…"): the
// profiles of a daemon under load, taken from outside. It also turns on the mutex and block profiles, which cost a
// little on every contended lock, so a profiling build is never the one a
// benchmark's table is taken from.
func startProfiling(e env, log *slog.Logger, process string) (stop func(), err error) {
	addr := e.getenv("NEWSDESK_PPROF")
	if addr == "" {
		return func() {}, nil
	}
	host, _, err := net.SplitHostPort(addr)
	if ip := net.ParseIP(host); err != nil || ip == nil || !ip.IsLoopback() {
		return nil, errors.New("NEWSDESK_PPROF must be a loopback address such as 127.0.0.1:6060")
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	runtime.SetMutexProfileFraction(10)
	runtime.SetBlockProfileRate(100_000) // one sample per 100µs blocked
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	srv := &http.Server{Handler: mux}
	go srv.Serve(ln)
	if process != "" { // which of the two: the daemon behind a reader process profiles on a port of its own
		log.Info("profiling", "addr", ln.Addr().String(), "of", process)
	} else {
		log.Info("profiling", "addr", ln.Addr().String())
	}
	return func() { srv.Close() }, nil
}
