package server

import (
	"io"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// PerClient wraps ln so that one client holds at most max connections at
// once: past that, a new connection from it gets a 503 and is closed before
// the HTTP server sees it, so a single address (slowloris, a runaway
// poller) cannot take every socket and goroutine. A client is an IPv4
// address or an IPv6 /64, the block one subscriber is usually given.
// max <= 0 returns ln unchanged.
//
// Behind a reverse proxy every reader has the proxy's address: raise max
// above the proxy's connection pool, or turn the limit off there.
func PerClient(ln net.Listener, max int, log *slog.Logger) net.Listener {
	if max <= 0 {
		return ln
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &perClient{Listener: ln, max: max, log: log, open: map[string]int{}}
}

// refusing bounds the goroutines that answer refused connections; past it a
// refused connection is simply closed.
const refusing = 64

type perClient struct {
	net.Listener
	max int
	log *slog.Logger

	mu   sync.Mutex
	open map[string]int // connections held, by client

	answering atomic.Int32 // goroutines writing a 503
	refused   atomic.Int64 // since the last log line
	lastLog   atomic.Int64 // unix seconds
}

// Accept returns the next connection its client may open.
func (l *perClient) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		key := clientKey(c.RemoteAddr())
		l.mu.Lock()
		ok := l.open[key] < l.max
		if ok {
			l.open[key]++
		}
		l.mu.Unlock()
		if ok {
			return &limitedConn{Conn: c, release: func() { l.release(key) }}, nil
		}
		l.refuse(c, key)
	}
}

func (l *perClient) release(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.open[key]--; l.open[key] <= 0 {
		delete(l.open, key) // the map holds only clients with connections open
	}
}

// tooMany is the whole answer to a connection over the limit. It is written
// before the request is read: the connection will not be served whatever
// the request says.
const tooMany = "HTTP/1.1 503 Service Unavailable\r\n" +
	"Content-Type: text/plain; charset=utf-8\r\n" +
	"Retry-After: 10\r\n" +
	"Connection: close\r\n" +
	"Content-Length: 39\r\n\r\n" +
	"too many connections from your address\n"

func (l *perClient) refuse(c net.Conn, key string) {
	n := l.refused.Add(1)
	if now := time.Now().Unix(); now-l.lastLog.Load() >= 10 && l.lastLog.Swap(now) != now {
		l.refused.Store(0)
		l.log.Warn("connections refused: too many from one client", "client", key, "limit", l.max, "refused", n)
	}
	if l.answering.Add(1) > refusing {
		l.answering.Add(-1)
		c.Close()
		return
	}
	go func() {
		defer l.answering.Add(-1)
		defer c.Close()
		c.SetDeadline(time.Now().Add(time.Second))
		if _, err := io.WriteString(c, tooMany); err != nil {
			return
		}
		// Close after the client has sent its request, not while it is
		// unread: closing a socket with unread data resets it, and the
		// client would see the reset instead of the 503.
		if cw, ok := c.(interface{ CloseWrite() error }); ok {
			cw.CloseWrite()
		}
		io.Copy(io.Discard, io.LimitReader(c, 64<<10))
	}()
}

// clientKey is the address a connection counts against: the IP for IPv4,
// the /64 for IPv6.
func clientKey(addr net.Addr) string {
	var ip net.IP
	switch a := addr.(type) {
	case *net.TCPAddr:
		ip = a.IP
	default:
		host, _, err := net.SplitHostPort(addr.String())
		if err != nil {
			return addr.String()
		}
		ip = net.ParseIP(host)
	}
	if ip4 := ip.To4(); ip4 != nil {
		return ip4.String()
	}
	if ip == nil {
		return addr.String()
	}
	return ip.Mask(net.CIDRMask(64, 128)).String() + "/64"
}

// limitedConn gives its slot back once, when it is closed.
type limitedConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *limitedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}

// CloseWrite lets net/http half-close the connection (it does before a
// lingering close), as it would on the bare TCP connection.
func (c *limitedConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

// ReadFrom keeps the TCP connection's sendfile/splice path.
func (c *limitedConn) ReadFrom(r io.Reader) (int64, error) {
	if rf, ok := c.Conn.(io.ReaderFrom); ok {
		return rf.ReadFrom(r)
	}
	return io.Copy(c.Conn, r)
}
