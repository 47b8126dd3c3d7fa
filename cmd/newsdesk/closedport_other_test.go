//go:build !unix

package main

import (
	"net"
	"testing"
)

// closedPort returns a loopback address nothing listens on (for a moment:
// on unix the port is held for the whole test).
func closedPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}
