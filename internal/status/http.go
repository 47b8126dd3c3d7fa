package status

import (
	"crypto/subtle"
	"encoding/json"
	"log/slog"
	"net"
	"net/http"
	"strings"

	"github.com/newsdesk/newsdesk/internal/config"
)

// Handler serves GET /status (HTML) and GET /status.json from g. page
// returns the site the page belongs to, read per request so a reload shows.
func (g *Gatherer) Handler(page func() Page, log *slog.Logger) http.Handler {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	mux := http.NewServeMux()
	gather := func(w http.ResponseWriter, r *http.Request) (Report, bool) {
		rep, err := g.Gather(r.Context())
		if err != nil {
			log.Error("status failed", "err", err)
			http.Error(w, "status: "+err.Error(), http.StatusInternalServerError)
			return Report{}, false
		}
		// The page changes with every fetch and says how old it is: a cache
		// must never answer for it.
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		return rep, true
	}
	mux.HandleFunc("GET /status", func(w http.ResponseWriter, r *http.Request) {
		rep, ok := gather(w, r)
		if !ok {
			return
		}
		body, err := HTML(rep, page())
		if err != nil {
			log.Error("status page failed", "err", err)
			http.Error(w, "internal server error", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write(body)
	})
	mux.HandleFunc("GET /status.json", func(w http.ResponseWriter, r *http.Request) {
		rep, ok := gather(w, r)
		if !ok {
			return
		}
		w.Header().Set("Content-Type", "application/json")
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		enc.Encode(rep)
	})
	return mux
}

// Expose guards h (the status pages and /metrics) on the public listener,
// as status.public says: ExposeAll serves everyone; ExposeLocal serves
// requests from a loopback peer that carry no proxy's forwarding header (a
// reverse proxy on this machine makes every request look local, so what it
// forwards is not); ExposeNone serves no one. A request bearing token (the
// config's admin.token, when set) is served in every mode, for remote admins.
// Everyone else gets a 404, as if the pages did not exist; the loopback
// admin listener serves h unguarded.
func Expose(h http.Handler, mode config.Exposure, token string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if Allowed(r, mode, token) {
			h.ServeHTTP(w, r)
			return
		}
		http.NotFound(w, r)
	})
}

// Allowed reports whether Expose lets r through: the decision alone, so it
// can be tested without dialling from another address.
func Allowed(r *http.Request, mode config.Exposure, token string) bool {
	if token != "" {
		if got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok &&
			subtle.ConstantTimeCompare([]byte(got), []byte(token)) == 1 {
			return true
		}
	}
	switch mode {
	case config.ExposeAll:
		return true
	case config.ExposeLocal:
		for _, h := range []string{"Forwarded", "X-Forwarded-For", "X-Real-Ip"} {
			if r.Header.Get(h) != "" {
				return false
			}
		}
		host, _, err := net.SplitHostPort(r.RemoteAddr)
		if err != nil {
			return false
		}
		ip := net.ParseIP(host)
		return ip != nil && ip.IsLoopback()
	}
	return false
}
