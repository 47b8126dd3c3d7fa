//go:build unix

package main

import (
	"net"
	"strconv"
	"syscall"
	"testing"
)

// closedPort returns a loopback address that refuses connections for the
// whole test: a TCP socket bound to it and never listening answers every
// connection with a reset, and holds the port, so no other test's server
// (the machine runs many at once) can take it. A port listened on and
// closed again could be, and then answered 404 where the test wanted
// "connection refused".
func closedPort(t *testing.T) string {
	t.Helper()
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Close(fd) })
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		t.Fatal(err)
	}
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(sa.(*syscall.SockaddrInet4).Port))
}
