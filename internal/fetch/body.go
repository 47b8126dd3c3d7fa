package fetch

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"sync"
)

// readBody reads at most limit decompressed bytes; one byte more is ErrTooLarge.
func readBody(resp *http.Response, limit int64) ([]byte, error) {
	if n := resp.ContentLength; n > limit && !resp.Uncompressed {
		// Content-Length counts the bytes on the wire; when the transport did
		// not decompress, those are the body bytes, so fail before reading.
		return nil, fmt.Errorf("%w: Content-Length %d exceeds the %d-byte limit", ErrTooLarge, n, limit)
	}
	if n := resp.ContentLength; n >= 0 {
		body := make([]byte, 0, min(n, limit)+1) // +1: room to see a lying Content-Length without a regrow
		buf := bytes.NewBuffer(body)
		if _, err := readLimited(buf, resp.Body, limit); err != nil {
			return nil, err
		}
		return buf.Bytes(), nil
	}
	// Unknown length (chunked, or decompressed): grow a pooled buffer, then
	// copy out once, so a 90 KB feed costs one 90 KB allocation, not the
	// 256 KB of doublings.
	buf := bufPool.Get().(*bytes.Buffer)
	defer func() {
		if buf.Cap() <= maxPooled {
			buf.Reset()
			bufPool.Put(buf)
		}
	}()
	buf.Reset()
	if _, err := readLimited(buf, resp.Body, limit); err != nil {
		return nil, err
	}
	return bytes.Clone(buf.Bytes()), nil
}

// readLimited reads r into buf up to limit bytes, and errs on one more.
func readLimited(buf *bytes.Buffer, r io.Reader, limit int64) (int64, error) {
	n, err := buf.ReadFrom(io.LimitReader(r, limit+1))
	if err != nil {
		return n, fmt.Errorf("read body: %w", err)
	}
	if n > limit {
		return n, fmt.Errorf("%w: more than %d bytes (decompressed)", ErrTooLarge, limit)
	}
	return n, nil
}

// maxPooled keeps one rare huge feed from pinning megabytes in the pool.
const maxPooled = 1 << 20

var bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}
