package server

import (
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
)

// Header values shared by every response; never appended to.
var (
	varyAcceptEncoding = []string{"Accept-Encoding"}
	nosniff            = []string{"nosniff"}
	gzipEncoding       = []string{"gzip"}
)

// serve writes a cached document. Every header a cache needs to revalidate is
// set before http.ServeContent, which then answers If-None-Match (first) or
// If-Modified-Since, HEAD and Range, and keeps ETag, Cache-Control, Vary and
// Link on a 304. The hit path allocates nothing in proportion to the body: the
// bytes, their gzip twin and the header values were all made at fill time.
func serve(w http.ResponseWriter, r *http.Request, st *state, e *entry) {
	h := w.Header()
	h["Content-Type"] = e.contentType
	h["Cache-Control"] = st.cacheControl
	h["Vary"] = varyAcceptEncoding
	h["X-Content-Type-Options"] = nosniff
	if len(e.links) > 0 {
		h["Link"] = e.links
	}
	body := e.body
	if acceptsGzip(r.Header["Accept-Encoding"]) {
		body = e.gzBody
		h["Content-Encoding"] = gzipEncoding
		h["Etag"] = e.gzETag
		// ServeContent leaves Content-Length to us when Content-Encoding is
		// set; a Range request still gets its own. Ranges apply to the gzip
		// bytes, which the -gz ETag names (RFC 9110 §14.1).
		h["Content-Length"] = e.gzLength
	} else {
		h["Etag"] = e.etag
	}
	bw := &bodyWriter{ResponseWriter: w, body: bodyReader{b: body}}
	http.ServeContent(bw, r, "", e.modified, &bw.body)
}

// bodyWriter hands ServeContent's copy of a cached body straight to Write.
// ServeContent copies with io.CopyN, which wraps the body in an
// io.LimitedReader; through net/http's ReadFrom that reaches
// net.TCPConn.ReadFrom, whose generic io.Copy allocates a buffer as large as
// the body (up to 32 KiB) on every response. Writing the slice directly
// allocates nothing, and one bodyWriter (with its reader) is the only
// allocation a hit adds.
type bodyWriter struct {
	http.ResponseWriter
	body bodyReader
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *bodyWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// ReadFrom writes the requested part of the cached body in one Write. Any
// other reader (a multipart byte-range response) is copied the ordinary way.
func (w *bodyWriter) ReadFrom(src io.Reader) (int64, error) {
	if lr, ok := src.(*io.LimitedReader); ok && lr.R == &w.body {
		b := w.body.b[w.body.off:]
		if int64(len(b)) > lr.N {
			b = b[:lr.N]
		}
		n, err := w.ResponseWriter.Write(b)
		w.body.off += int64(n)
		lr.N -= int64(n)
		return int64(n), err
	}
	return io.Copy(writerOnly{w.ResponseWriter}, src)
}

// writerOnly hides ReadFrom, so io.Copy does not call back into bodyWriter.
type writerOnly struct{ io.Writer }

// bodyReader is a bytes.Reader over a cached body whose unread bytes
// bodyWriter can reach without copying.
type bodyReader struct {
	b   []byte
	off int64
}

func (r *bodyReader) Read(p []byte) (int, error) {
	if r.off >= int64(len(r.b)) {
		return 0, io.EOF
	}
	n := copy(p, r.b[r.off:])
	r.off += int64(n)
	return n, nil
}

func (r *bodyReader) Seek(offset int64, whence int) (int64, error) {
	switch whence {
	case io.SeekCurrent:
		offset += r.off
	case io.SeekEnd:
		offset += int64(len(r.b))
	}
	if offset < 0 {
		return 0, errors.New("seek before start")
	}
	r.off = offset
	return offset, nil
}

// acceptsGzip reports whether an Accept-Encoding header allows gzip
// (RFC 9110 §12.5.3): "gzip" or "x-gzip" with a non-zero q, or failing that
// "*" with a non-zero q. It allocates nothing.
func acceptsGzip(fields []string) bool {
	star := -1 // -1 unseen, 0 refused, 1 allowed
	for _, field := range fields {
		for field != "" {
			var item string
			item, field, _ = strings.Cut(field, ",")
			coding, params, _ := strings.Cut(item, ";")
			coding = strings.TrimSpace(coding)
			ok := qAllows(params)
			switch {
			case strings.EqualFold(coding, "gzip"), strings.EqualFold(coding, "x-gzip"):
				return ok
			case coding == "*":
				star = 0
				if ok {
					star = 1
				}
			}
		}
	}
	return star == 1
}

// qAllows reports whether the parameters of an Accept-Encoding item leave its
// weight above zero. A missing or malformed q counts as 1.
func qAllows(params string) bool {
	for params != "" {
		var p string
		p, params, _ = strings.Cut(params, ";")
		name, value, _ := strings.Cut(p, "=")
		if !strings.EqualFold(strings.TrimSpace(name), "q") {
			continue
		}
		q, err := strconv.ParseFloat(strings.TrimSpace(value), 64)
		if err != nil {
			return true
		}
		return q > 0
	}
	return true
}
