// Package admin is the channel between the newsdesk command line and a running
// daemon. bbolt lets one process hold the store, so while `newsdesk serve`
// runs, `newsdesk fetch` and `newsdesk preview` ask it to do the work instead
// of failing on the lock; `newsdesk status` reads the daemon's
// /status.json on the same listener.
//
// The daemon listens on a loopback-only address and announces it, with a
// random per-run token, in a file beside the store (mode 0600); the command
// line finds the daemon through the same --data path. A token from the config
// additionally enables the endpoints on the public listener, for remote use.
package admin

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"

	"github.com/newsdesk/newsdesk/internal/ingest"
	"github.com/newsdesk/newsdesk/internal/preview"
	"github.com/newsdesk/newsdesk/internal/topic"
)

// Actions are what the endpoints do; the daemon supplies them.
type Actions struct {
	Fetch   func(ctx context.Context, sources []string, force bool, progress func(ingest.Report)) ([]ingest.Report, error)
	Preview func(ctx context.Context, req PreviewRequest) (preview.Result, error)
	// Backup writes a consistent copy of the store to w while the daemon
	// runs (store.Store's Backup).
	Backup func(ctx context.Context, w io.Writer) error
}

// backupTrailer is the trailer that ends a backup stream: "ok", or the
// error that cut it short. A stream without it is incomplete.
const backupTrailer = "Newsdesk-Backup"

// FetchRequest asks for a fetch now.
type FetchRequest struct {
	Sources []string `json:"sources,omitempty"` // names; empty means all
	Force   bool     `json:"force,omitempty"`   // ignore backoff and upstream ttl
}

// PreviewRequest asks what a topic selects. Definition, when set, is a topic
// from an edited config that the daemon has not loaded; otherwise Topic names
// a loaded one.
type PreviewRequest struct {
	Topic      string            `json:"topic"`
	Definition *topic.Definition `json:"definition,omitempty"`
	Limit      int               `json:"limit,omitempty"`
	Explain    bool              `json:"explain,omitempty"`
}

// fetchLine is one line of the newline-delimited JSON a fetch streams back:
// a progress report, then the final error or done.
type fetchLine struct {
	Report *ingest.Report `json:"report,omitempty"`
	Error  string         `json:"error,omitempty"`
	Done   bool           `json:"done,omitempty"`
}

// maxRequest bounds an admin request's body.
const maxRequest = 1 << 20

// Handler serves the admin endpoints to callers that present token. An empty
// token refuses every call.
func Handler(a Actions, token string) http.Handler {
	mux := http.NewServeMux()
	auth := func(h http.HandlerFunc) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
			if token == "" || !ok || subtle.ConstantTimeCompare([]byte(got), []byte(token)) != 1 {
				http.Error(w, "admin: missing or wrong token", http.StatusUnauthorized)
				return
			}
			// A request is a few names or one topic definition: even a
			// caller with the token cannot make the daemon buffer more.
			r.Body = http.MaxBytesReader(w, r.Body, maxRequest)
			h(w, r)
		}
	}
	mux.HandleFunc("POST /admin/fetch", auth(func(w http.ResponseWriter, r *http.Request) {
		var req FetchRequest
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			http.Error(w, "admin: bad fetch request: "+err.Error(), http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/x-ndjson")
		enc := json.NewEncoder(w)
		flush := func() {
			if f, ok := w.(http.Flusher); ok {
				f.Flush()
			}
		}
		_, err := a.Fetch(r.Context(), req.Sources, req.Force, func(rep ingest.Report) {
			enc.Encode(fetchLine{Report: &rep})
			flush()
		})
		if err != nil {
			enc.Encode(fetchLine{Error: err.Error()})
			return
		}
		enc.Encode(fetchLine{Done: true})
	}))
	mux.HandleFunc("POST /admin/preview", auth(func(w http.ResponseWriter, r *http.Request) {
		var req PreviewRequest
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			http.Error(w, "admin: bad preview request: "+err.Error(), http.StatusBadRequest)
			return
		}
		res, err := a.Preview(r.Context(), req)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(res)
	}))
	mux.HandleFunc("POST /admin/backup", auth(func(w http.ResponseWriter, r *http.Request) {
		if a.Backup == nil {
			http.Error(w, "admin: this daemon cannot take backups", http.StatusNotImplemented)
			return
		}
		// The status goes out before the copy does, so the outcome travels
		// in a trailer.
		w.Header().Set("Trailer", backupTrailer)
		w.Header().Set("Content-Type", "application/octet-stream")
		w.WriteHeader(http.StatusOK)
		status := "ok"
		if err := a.Backup(r.Context(), w); err != nil {
			status = "error: " + err.Error()
		}
		w.Header().Set(backupTrailer, status)
	}))
	return mux
}

// CheckLoopback refuses a listen address that is not on the loopback
// interface: the admin listener must not be reachable from other hosts.
func CheckLoopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("admin listen address %q: %w", addr, err)
	}
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	return fmt.Errorf("admin listen address %q is not a loopback address (use 127.0.0.1 or [::1]; set admin.token to reach the admin endpoints remotely)", addr)
}

// Listen opens the loopback-only admin listener.
func Listen(addr string) (net.Listener, error) {
	if err := CheckLoopback(addr); err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("admin listen: %w", err)
	}
	return ln, nil
}

// ErrNoDaemon means no running daemon announced itself for the store.
var ErrNoDaemon = errors.New("no running newsdesk daemon announced an admin address")
