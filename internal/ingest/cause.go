package ingest

import (
	"regexp"
	"strings"
)

// Cause is the short form of a refresh error, as logs at info level, the
// fetch table's NOTE column and a run's summary show it: "no route to host",
// "HTTP 404 Not Found", "not a feed". The full error stays in the source's
// state and in debug logs.
//
// It reads the message, not the error value, so that a LastError read back
// from the store after a restart gets the same cause as the live error did.
// The messages it knows are those of fetch, parse, net and crypto/tls; an
// unknown message gives its last clause. A refusal by the address guard is
// kept whole: the admin needs the address and the config key it names.
func Cause(msg string) string {
	if msg == "" {
		return ""
	}
	if i := strings.Index(msg, "refused: "); i >= 0 && strings.Contains(msg, "fetch.allow_networks") {
		return msg[i:]
	}
	lower := strings.ToLower(msg)
	for _, c := range causes {
		if strings.Contains(lower, c.marker) {
			return c.cause
		}
	}
	if m := httpStatus.FindStringSubmatch(msg); m != nil {
		return "HTTP " + strings.TrimSpace(m[1])
	}
	for _, m := range []string{"x509: ", "tls: "} {
		if i := strings.Index(lower, m); i >= 0 {
			return clip("TLS: " + msg[i+len(m):])
		}
	}
	if i := strings.LastIndex(msg, ": "); i >= 0 {
		msg = msg[i+2:]
	}
	return clip(msg)
}

// causes maps a marker found in a lower-cased error message to its cause,
// first match wins: the specific before the general ("lookup x: no such
// host" is a name that does not exist, any other lookup failure means no
// resolver answered; "lookup … i/o timeout" is DNS, a bare "i/o timeout" a
// slow upstream).
var causes = []struct{ marker, cause string }{
	{"no route to host", CauseNoRoute},
	{"network is unreachable", CauseNetUnreachable},
	{"no such host", "no such host"},
	{"server misbehaving", CauseDNS},
	{"temporary failure in name resolution", CauseDNS},
	{"lookup ", CauseDNS},
	{"connection refused", "connection refused"},
	{"connection reset", "connection reset by upstream"},
	{"upstream went silent", "upstream went silent"},
	{"no complete answer within", "timed out"},
	{"i/o timeout", "timed out"},
	{"deadline exceeded", "timed out"},
	{"response body too large", "body too large"},
	{"declares xml entities", "declares XML entities; refused"},
	{"xml nested too deep", "XML nested too deep"},
	{"not a feed", "not a feed"},
	{"context canceled", causeCancelled},
}

// The causes that say this machine cannot reach the network at all, rather
// than that one upstream is broken: a run's summary groups them as "look
// offline".
const (
	CauseNoRoute        = "no route to host"
	CauseNetUnreachable = "network is unreachable"
	CauseDNS            = "DNS lookup failed"
)

// causeCancelled is the cause of a refresh cut short by our own shutdown or
// by the admin who asked for it: no fault of the source's.
const causeCancelled = "cancelled"

// Offline reports whether cause (from Cause) means the network, not the
// upstream, is the problem.
func Offline(cause string) bool {
	return cause == CauseNoRoute || cause == CauseNetUnreachable || cause == CauseDNS
}

// httpStatus finds fetch.StatusError's "GET url: 404 Not Found (…)".
var httpStatus = regexp.MustCompile(`: ([1-5][0-9][0-9](?: [A-Za-z' -]+)?(?: \([^)]*\))?)$`)

// clip keeps a cause short enough for one table cell.
func clip(s string) string {
	const limit = 80
	s = strings.TrimSpace(s)
	if len(s) <= limit {
		return s
	}
	cut := strings.LastIndexByte(s[:limit], ' ')
	if cut < limit/2 {
		cut = limit
	}
	return s[:cut] + "…"
}
