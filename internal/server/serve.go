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
	varyNavigation     = []string{"Accept, Sec-Fetch-Dest"}
	varyBoth           = []string{"Accept, Accept-Encoding, Sec-Fetch-Dest"}
	nosniff            = []string{"nosniff"}
	gzipEncoding       = []string{"gzip"}
	acceptRanges       = []string{"bytes"}
)

// serve writes a cached document. It answers the requests feed readers and
// caches send (a plain GET or HEAD, gzip or not, conditional on
// If-None-Match or If-Modified-Since) itself, with header values made at
// fill time and no allocation; anything rarer (Range, If-Range, If-Match,
// If-Unmodified-Since) goes to http.ServeContent, which implements all of
// RFC 9110's preconditions. Both keep ETag, Cache-Control, Vary and Link on
// a 304 (§15.4.5).
func serve(w http.ResponseWriter, r *http.Request, cacheControl []string, e *entry) {
	h := w.Header()
	h["Cache-Control"] = cacheControl
	h["X-Content-Type-Options"] = nosniff
	if len(e.links) > 0 {
		h["Link"] = e.links
	}
	body, etag, length := e.body, e.etag, e.length
	if e.vary != nil {
		h["Vary"] = e.vary
	}
	if e.gzBody != nil && acceptsGzip(r.Header["Accept-Encoding"]) {
		body, etag, length = e.gzBody, e.gzETag, e.gzLength
		h["Content-Encoding"] = gzipEncoding
	}
	h["Etag"] = etag
	rh := r.Header
	contentType := e.contentType
	if e.navType != nil && navigation(rh) {
		contentType = e.navType
	}
	if rh["Range"] != nil || rh["If-Match"] != nil || rh["If-Unmodified-Since"] != nil {
		// ServeContent leaves Content-Length to us when Content-Encoding is
		// set; a Range request still gets its own. Ranges apply to the bytes
		// sent, which the (-gz) ETag names (RFC 9110 §14.1).
		h["Content-Length"] = length
		h["Content-Type"] = contentType // or ServeContent would sniff one
		bw := &bodyWriter{ResponseWriter: w, body: bodyReader{b: body}}
		http.ServeContent(bw, r, "", e.modified, &bw.body)
		return
	}
	if notModified(rh, etag[0], e) {
		delete(h, "Content-Encoding")
		w.WriteHeader(http.StatusNotModified)
		return
	}
	h["Content-Type"] = contentType
	h["Content-Length"] = length
	h["Accept-Ranges"] = acceptRanges
	if e.lastModified != nil {
		h["Last-Modified"] = e.lastModified
	}
	if r.Method == http.MethodHead {
		w.WriteHeader(http.StatusOK)
		return
	}
	w.Write(body)
}

// varyOf is the Vary of a document's answers: Accept-Encoding where it has
// a gzip twin, Accept and Sec-Fetch-Dest where navigations get another
// Content-Type; nil where every client gets the same answer.
func varyOf(gzip, nav bool) []string {
	switch {
	case gzip && nav:
		return varyBoth
	case gzip:
		return varyAcceptEncoding
	case nav:
		return varyNavigation
	}
	return nil
}

// navigation reports whether a request is a browser opening the document
// as a page (a click on a feed link), which should get the feed as
// application/xml: browsers apply an XSLT only to what they render as XML,
// and Chromium shows application/rss+xml and application/atom+xml as plain
// text. Browsers say so with Sec-Fetch-Dest: document, but send fetch
// metadata only to secure origins (https, localhost); elsewhere their
// navigations are the requests whose Accept lists text/html first, which no
// feed reader's does. Feed readers send neither, so a shared cache keeps one
// answer for all of them. It allocates nothing.
func navigation(h http.Header) bool {
	if dest := h["Sec-Fetch-Dest"]; dest != nil {
		return dest[0] == "document"
	}
	accept := h["Accept"]
	return accept != nil && strings.HasPrefix(strings.TrimSpace(accept[0]), "text/html")
}

// notModified evaluates If-None-Match, else If-Modified-Since, for a GET or
// HEAD (RFC 9110 §13.2.2): a 304 when the client's copy is the current one.
func notModified(h http.Header, etag string, e *entry) bool {
	if inm := h["If-None-Match"]; inm != nil {
		return etagListMatches(inm, etag)
	}
	ims := h["If-Modified-Since"]
	if ims == nil || e.lastModified == nil {
		return false
	}
	if ims[0] == e.lastModified[0] { // what a client echoes back
		return true
	}
	t, err := http.ParseTime(ims[0])
	return err == nil && !e.modified.After(t)
}

// etagListMatches reports whether an If-None-Match field list names etag,
// by the weak comparison (§8.8.3.2: W/"x" matches "x"), or is "*".
func etagListMatches(fields []string, etag string) bool {
	for _, f := range fields {
		for f != "" {
			var tag string
			tag, f, _ = strings.Cut(f, ",")
			tag = strings.TrimSpace(tag)
			if tag == "*" || strings.TrimPrefix(tag, "W/") == etag {
				return true
			}
		}
	}
	return false
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
