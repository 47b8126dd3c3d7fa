package story

// Status is a source's condition after a refresh: the word the store keeps
// in its state, the fetch table and logs show, and a metrics or status page
// counts. Its values are the constants below and nothing else; "" is a
// source never fetched.
type Status string

// The status words.
const (
	StatusOK          Status = "ok"           // fetched; stories filed (or the same bytes as last time)
	StatusNotModified Status = "not-modified" // upstream answered 304
	StatusUnchanged   Status = "unchanged"    // a refresh's report only: 200 with the same bytes, nothing parsed
	StatusFailing     Status = "failing"      // an error; retried with backoff
	StatusBlocked     Status = "blocked"      // 401, 403 or a bot challenge
	StatusGone        Status = "gone"         // 410: no longer polled unless forced
	StatusRefused     Status = "refused"      // the address guard refused the address (fetch.RefusedError)
	StatusDeferred    Status = "deferred"     // a refresh's report only: not due yet (backoff, Retry-After, ttl)
	StatusBusy        Status = "busy"         // a refresh's report only: already running
)

// String is the word itself.
func (s Status) String() string { return string(s) }
