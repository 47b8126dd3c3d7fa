package fetch

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// maxAge is how long the response stays fresh, so the scheduler need not
// poll sooner: Cache-Control max-age minus Age, else Expires minus Date (or
// now when Date is absent). no-cache and no-store mean "ask every time": 0.
// Expires: 0 and other invalid dates also mean already stale (RFC 9111 5.3).
func maxAge(h http.Header, now time.Time) time.Duration {
	if cc := h.Values("Cache-Control"); len(cc) > 0 {
		seconds, found := int64(-1), false
		for _, line := range cc {
			for dir := range strings.SplitSeq(line, ",") {
				name, value, _ := strings.Cut(strings.TrimSpace(dir), "=")
				switch strings.ToLower(strings.TrimSpace(name)) {
				case "no-cache", "no-store":
					return 0
				case "max-age":
					n, err := strconv.ParseInt(strings.Trim(strings.TrimSpace(value), `"`), 10, 64)
					if err == nil && !found {
						seconds, found = n, true
					}
				}
			}
		}
		if found {
			if age, err := strconv.ParseInt(strings.TrimSpace(h.Get("Age")), 10, 64); err == nil && age > 0 {
				seconds -= age
			}
			if seconds <= 0 {
				return 0
			}
			return time.Duration(min(seconds, int64(maxDuration/time.Second))) * time.Second
		}
	}
	exp := h.Get("Expires")
	if exp == "" {
		return 0
	}
	expires, err := http.ParseTime(exp)
	if err != nil {
		return 0
	}
	if date, err := http.ParseTime(h.Get("Date")); err == nil {
		now = date // the server's clock on both sides: skew cancels out
	}
	if !expires.After(now) {
		return 0
	}
	return expires.Sub(now)
}
