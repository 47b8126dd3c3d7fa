package fetch

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// StatusError is a non-2xx, non-304 response.
type StatusError struct {
	URL        string        // the URL that answered, after redirects
	Code       int           // HTTP status code
	RetryAfter time.Duration // from Retry-After (seconds or HTTP-date); 0 when absent or past
	Challenge  bool          // a bot challenge (e.g. cf-mitigated: challenge); see isChallenge
}

// Error reads like "GET https://x/feed: 429 Too Many Requests (retry after 2m0s)".
func (e *StatusError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "GET %s: %d", e.URL, e.Code)
	if text := http.StatusText(e.Code); text != "" {
		b.WriteString(" " + text)
	}
	var notes []string
	if e.Challenge {
		notes = append(notes, "bot challenge")
	}
	if e.RetryAfter > 0 {
		notes = append(notes, "retry after "+e.RetryAfter.String())
	}
	if len(notes) > 0 {
		b.WriteString(" (" + strings.Join(notes, ", ") + ")")
	}
	return b.String()
}

// challengeSniff is how much of a 403/503 body we read looking for a
// challenge page; interstitials put their markers near the top.
const challengeSniff = 32 << 10

// newStatusError describes resp; it reads a little of a 403/503 body.
func newStatusError(resp *http.Response, now time.Time) *StatusError {
	e := &StatusError{
		URL:        resp.Request.URL.Redacted(),
		Code:       resp.StatusCode,
		RetryAfter: retryAfter(resp.Header.Get("Retry-After"), now),
	}
	if e.Code == http.StatusForbidden || e.Code == http.StatusServiceUnavailable {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, challengeSniff)) // a short read only weakens the guess
		e.Challenge = isChallenge(resp.Header, body)
	}
	return e
}

// retryAfter parses Retry-After in either RFC 9110 form: delta-seconds, or an
// HTTP-date taken relative to now. Garbage and past dates give 0.
func retryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs <= 0 {
			return 0
		}
		return time.Duration(min(secs, int64(maxDuration/time.Second))) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

const maxDuration = time.Duration(1<<63 - 1)

// challengeMarkers are strings that only interstitial bot-check pages carry:
// Cloudflare's challenge platform and "Just a moment..." page, and the
// DDoS-Guard and Sucuri equivalents. A plain "403 Forbidden" has none of them,
// so that stays a plain 403 (blocked or broken), not a challenge.
var challengeMarkers = [][]byte{
	[]byte("/cdn-cgi/challenge-platform/"),
	[]byte("<title>Just a moment...</title>"),
	[]byte("cf-chl-"),
	[]byte("ddos-guard"),
	[]byte("sucuri website firewall"),
}

// isChallenge reports whether a 403/503 is a bot challenge rather than a
// plain refusal or outage: Cloudflare's explicit `cf-mitigated: challenge`
// header, or a challenge marker in the start of the body (compared
// case-insensitively).
func isChallenge(h http.Header, body []byte) bool {
	if strings.EqualFold(strings.TrimSpace(h.Get("cf-mitigated")), "challenge") {
		return true
	}
	lower := bytes.ToLower(body)
	for _, m := range challengeMarkers {
		if bytes.Contains(lower, bytes.ToLower(m)) {
			return true
		}
	}
	return false
}
