package config

import (
	"fmt"
	"runtime"
	"time"
)

// HTTP is how the feeds are served: what Cache-Control tells readers and
// shared caches (RFC 9111, RFC 5861), and how much memory the render cache
// may use.
type HTTP struct {
	MaxAge               time.Duration // max-age and the feeds' ttl; 0: derive it from the refresh schedule
	SharedMaxAge         time.Duration // s-maxage; 0: the same as max-age
	StaleWhileRevalidate time.Duration // 0: left out
	StaleIfError         time.Duration // 0: left out
	RenderCache          int64         // bytes
	// ReaderProcess answers the polls of cached documents from a process
	// of their own, at the readers' priority, while fetching,
	// classifying, storing and rendering run in a second one at the
	// lowest: see the README's Configuration, http.reader_process. The
	// default is DefaultReaderProcess.
	ReaderProcess bool
}

// Defaults of the http section.
const (
	DefaultStaleWhileRevalidate = time.Minute
	DefaultStaleIfError         = 24 * time.Hour
	DefaultRenderCache          = 256 << 20
	minRenderCache              = 1 << 20
)

// DefaultReaderProcess is http.reader_process when the config leaves it
// out: on Linux, where the daemon behind the reader process runs at the
// lowest priority and stops when the reader process dies. Elsewhere
// neither holds, and one process serves.
const DefaultReaderProcess = runtime.GOOS == "linux"

type fileHTTP struct {
	MaxAge               scalar `yaml:"max_age"`
	SharedMaxAge         scalar `yaml:"s_maxage"`
	StaleWhileRevalidate scalar `yaml:"stale_while_revalidate"`
	StaleIfError         scalar `yaml:"stale_if_error"`
	RenderCache          scalar `yaml:"render_cache"`
	ReaderProcess        scalar `yaml:"reader_process"`
}

func (c *checker) http(f fileHTTP) HTTP {
	h := HTTP{
		MaxAge:               c.duration("http.max_age", f.MaxAge, 0),
		SharedMaxAge:         c.duration("http.s_maxage", f.SharedMaxAge, 0),
		StaleWhileRevalidate: c.durationOrOff("http.stale_while_revalidate", f.StaleWhileRevalidate, DefaultStaleWhileRevalidate),
		StaleIfError:         c.durationOrOff("http.stale_if_error", f.StaleIfError, DefaultStaleIfError),
		RenderCache:          c.size("http.render_cache", f.RenderCache, DefaultRenderCache),
		ReaderProcess:        c.booleanOr("http.reader_process", f.ReaderProcess, DefaultReaderProcess),
	}
	if h.RenderCache < minRenderCache {
		c.add(f.RenderCache.Node, "http.render_cache", fmt.Sprintf("`render_cache` %q is smaller than 1MiB", f.RenderCache.Text),
			"give it room for the feeds readers poll: a 50-item topic renders to a few hundred KB per format")
		h.RenderCache = DefaultRenderCache
	}
	return h
}

// durationOrOff is duration, except that zero ("0s", or 0) is allowed and
// turns the setting off.
func (c *checker) durationOrOff(path string, s scalar, def time.Duration) time.Duration {
	if s.Node != nil && (s.Text == "0" || s.Text == "0s") {
		return 0
	}
	return c.duration(path, s, def)
}
