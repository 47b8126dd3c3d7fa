package admin_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/newsdesk/newsdesk/internal/admin"
	"github.com/newsdesk/newsdesk/internal/ingest"
	"github.com/newsdesk/newsdesk/internal/preview"
)

func TestCheckLoopback(t *testing.T) {
	tests := []struct {
		name, addr string
		ok         bool
	}{
		{"ipv4 loopback", "127.0.0.1:0", true},
		{"other 127/8 address", "127.0.0.2:8081", true},
		{"ipv6 loopback", "[::1]:8081", true},
		{"localhost", "localhost:8081", true},
		{"all interfaces", ":8081", false},
		{"unspecified ipv4", "0.0.0.0:8081", false},
		{"private address", "10.0.0.5:8081", false},
		{"public address", "203.0.113.7:8081", false},
		{"host name", "admin.example.org:8081", false},
		{"no port", "127.0.0.1", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := admin.CheckLoopback(tt.addr); (err == nil) != tt.ok {
				t.Errorf("CheckLoopback(%q) = %v, want ok=%v", tt.addr, err, tt.ok)
			}
		})
	}
}

func fakeActions(calls *[]admin.FetchRequest) admin.Actions {
	return admin.Actions{
		Fetch: func(ctx context.Context, sources []string, force bool, progress func(ingest.Report)) ([]ingest.Report, error) {
			*calls = append(*calls, admin.FetchRequest{Sources: sources, Force: force})
			var out []ingest.Report
			for _, s := range sources {
				r := ingest.Report{Source: s, Status: "ok", New: 2}
				progress(r)
				out = append(out, r)
			}
			if len(sources) == 0 {
				return nil, errors.New("nothing to fetch")
			}
			return out, nil
		},
		Preview: func(_ context.Context, req admin.PreviewRequest) (preview.Result, error) {
			if req.Topic == "" {
				return preview.Result{}, errors.New("no topic")
			}
			return preview.Result{Topic: req.Topic, Scanned: 7}, nil
		},
	}
}

func TestClientAndHandler(t *testing.T) {
	var calls []admin.FetchRequest
	srv := httptest.NewServer(admin.Handler(fakeActions(&calls), "s3cret"))
	defer srv.Close()

	data := filepath.Join(t.TempDir(), "newsdesk.db")
	if _, err := admin.Dial(data); !errors.Is(err, admin.ErrNoDaemon) {
		t.Fatalf("Dial with no daemon = %v, want ErrNoDaemon", err)
	}
	remove, err := admin.Announce(data, srv.URL, "s3cret")
	if err != nil {
		t.Fatal(err)
	}
	c, err := admin.Dial(data)
	if err != nil {
		t.Fatal(err)
	}

	var seen []string
	reports, err := c.Fetch(t.Context(), admin.FetchRequest{Sources: []string{"a", "b"}, Force: true}, func(r ingest.Report) {
		seen = append(seen, r.Source)
	})
	if err != nil || len(reports) != 2 || strings.Join(seen, ",") != "a,b" || reports[1].New != 2 {
		t.Errorf("Fetch = %+v, %v; progress %v", reports, err, seen)
	}
	if len(calls) != 1 || !calls[0].Force {
		t.Errorf("daemon saw %+v, want one forced fetch", calls)
	}
	if _, err := c.Fetch(t.Context(), admin.FetchRequest{}, nil); err == nil || !strings.Contains(err.Error(), "nothing to fetch") {
		t.Errorf("failed fetch = %v, want the daemon's error", err)
	}
	res, err := c.Preview(t.Context(), admin.PreviewRequest{Topic: "immigration"})
	if err != nil || res.Topic != "immigration" || res.Scanned != 7 {
		t.Errorf("Preview = %+v, %v", res, err)
	}
	if _, err := c.Preview(t.Context(), admin.PreviewRequest{}); err == nil || !strings.Contains(err.Error(), "no topic") {
		t.Errorf("bad preview = %v, want the daemon's error", err)
	}

	remove()
	if _, err := admin.Dial(data); !errors.Is(err, admin.ErrNoDaemon) {
		t.Errorf("Dial after remove = %v, want ErrNoDaemon", err)
	}
}

func TestHandlerRefusesWrongToken(t *testing.T) {
	var calls []admin.FetchRequest
	for _, tt := range []struct{ name, configured, sent string }{
		{"wrong token", "s3cret", "guess"},
		{"no token sent", "s3cret", ""},
		{"prefix of the token", "s3cret", "s3c"},
		{"no token configured", "", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(admin.Handler(fakeActions(&calls), tt.configured))
			defer srv.Close()
			req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, srv.URL+"/admin/fetch", strings.NewReader(`{"sources":["a"]}`))
			if tt.sent != "" {
				req.Header.Set("Authorization", "Bearer "+tt.sent)
			}
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != http.StatusUnauthorized {
				t.Errorf("status %s, want 401", res.Status)
			}
		})
	}
	if len(calls) != 0 {
		t.Errorf("an unauthorised call reached the daemon: %+v", calls)
	}
}

// TestBackupStream checks that a backup arrives whole, and that a copy the
// daemon could not finish is an error for the client, not a short file.
func TestBackupStream(t *testing.T) {
	copyOf := strings.Repeat("bbolt page ", 100_000)
	fail := false
	actions := admin.Actions{Backup: func(_ context.Context, w io.Writer) error {
		if _, err := io.WriteString(w, copyOf[:len(copyOf)/2]); err != nil {
			return err
		}
		if fail {
			return errors.New("disk read error")
		}
		_, err := io.WriteString(w, copyOf[len(copyOf)/2:])
		return err
	}}
	srv := httptest.NewServer(admin.Handler(actions, "s3cret"))
	defer srv.Close()
	c := admin.NewClient(srv.URL, "s3cret")

	var got strings.Builder
	if err := c.Backup(t.Context(), &got); err != nil {
		t.Fatal(err)
	}
	if got.String() != copyOf {
		t.Errorf("backup of %d bytes arrived as %d", len(copyOf), got.Len())
	}
	fail = true
	if err := c.Backup(t.Context(), io.Discard); err == nil || !strings.Contains(err.Error(), "disk read error") {
		t.Errorf("backup that failed half-way: %v, want the daemon's error", err)
	}
	if err := admin.NewClient(srv.URL, "wrong").Backup(t.Context(), io.Discard); err == nil {
		t.Error("backup with a wrong token succeeded")
	}
	noBackup := httptest.NewServer(admin.Handler(admin.Actions{}, "s3cret"))
	defer noBackup.Close()
	if err := admin.NewClient(noBackup.URL, "s3cret").Backup(t.Context(), io.Discard); err == nil {
		t.Error("backup from a daemon without the action succeeded")
	}
}
