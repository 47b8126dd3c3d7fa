package server

import (
	"bytes"
	"sync/atomic"
	"testing"
)

// TestCachedBodiesHoldNoSlack: a document rendered into a buffer that grew
// by doubling is kept in an array of its own size, and the byte bound
// counts what the cache holds (capacity), so a bound of N bytes holds about
// N bytes of documents, not up to twice that.
func TestCachedBodiesHoldNoSlack(t *testing.T) {
	var hits, fills atomic.Uint64
	c := newCache(1<<30, map[key]*atomic.Pointer[entry]{}, &hits, &fills, noObserver{})
	c.gz = &gzipWriters{}
	var buf bytes.Buffer
	for i := range 30_000 {
		buf.WriteString("<item>story ")
		buf.WriteByte(byte('a' + i%26))
		buf.WriteString("</item>\n")
	}
	if cap(buf.Bytes()) < len(buf.Bytes())*5/4 {
		t.Fatalf("setup: the buffer has no slack to trim (len %d, cap %d)", buf.Len(), cap(buf.Bytes()))
	}
	e, err := c.get(key{kind: "rss", slug: "t"}, func() (content, error) {
		return content{body: buf.Bytes(), contentType: "application/rss+xml"}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if cap(e.body) > len(e.body)*17/16 || !bytes.Equal(e.body, buf.Bytes()) {
		t.Errorf("cached body: len %d, cap %d (the render's buffer had cap %d)", len(e.body), cap(e.body), cap(buf.Bytes()))
	}
	if want := int64(cap(e.body)+cap(e.gzBody)) + entryOverhead; c.size != want {
		t.Errorf("cache size %d, want the arrays held (%d)", c.size, want)
	}
}
