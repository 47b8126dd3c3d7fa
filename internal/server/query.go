package server

import (
	"net/url"
	"strconv"
)

// maxLimit caps ?limit. A topic whose configured Limit is larger may be asked
// for up to that many; nobody may ask for more than maxLimit otherwise, so a
// single request cannot make us render the whole archive.
const maxLimit = 200

// maxCursor bounds ?before: store cursors are short, and the value becomes
// part of a cache key.
const maxCursor = 256

// params is a feed or page request's query after validation.
type params struct {
	limit     int
	before    string // store cursor; "" = newest
	since     uint64
	hasSince  bool
	canonical string // the query as we address the document: sorted, only known parameters, defaults left out
}

// parseParams validates raw against a topic whose default page size is def.
// Unknown parameters are ignored; the error message names the bad one.
func parseParams(raw string, def int) (params, error) {
	p := params{limit: def}
	if raw == "" { // the common case: a subscription poll
		return p, nil
	}
	vals, err := url.ParseQuery(raw)
	if err != nil {
		return p, &badRequest{"malformed query string"}
	}
	capLimit := max(maxLimit, def)
	canon := url.Values{}
	if v := vals.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > capLimit {
			return p, &badRequest{"limit: want an integer from 1 to " + strconv.Itoa(capLimit)}
		}
		p.limit = n
		if n != def {
			canon.Set("limit", strconv.Itoa(n)) // "007" and "7" are one document
		}
	}
	if v := vals.Get("before"); v != "" {
		if len(v) > maxCursor {
			return p, &badRequest{"before: malformed cursor"}
		}
		p.before = v
		canon.Set("before", v)
	}
	if v := vals.Get("since"); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			return p, &badRequest{"since: want a story sequence number (a non-negative integer)"}
		}
		p.since, p.hasSince = n, true
		canon.Set("since", strconv.FormatUint(n, 10))
	}
	if p.hasSince && p.before != "" {
		return p, &badRequest{"since: cannot be combined with before"}
	}
	p.canonical = canon.Encode()
	return p, nil
}

// with returns p's canonical query with name set to value (for paging links).
func (p params) with(def int, name, value string) string {
	canon := url.Values{}
	if p.limit != def {
		canon.Set("limit", strconv.Itoa(p.limit))
	}
	canon.Set(name, value)
	return canon.Encode()
}
