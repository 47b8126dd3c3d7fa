package admin

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"strings"

	"github.com/newsdesk/newsdesk/internal/ingest"
	"github.com/newsdesk/newsdesk/internal/preview"
	"github.com/newsdesk/newsdesk/internal/status"
)

// announcement is the file a daemon leaves beside its store.
type announcement struct {
	URL   string `json:"url"`
	Token string `json:"token"`
	PID   int    `json:"pid"`
}

// AnnouncePath is where the daemon holding dataPath announces itself.
func AnnouncePath(dataPath string) string { return dataPath + ".admin" }

// NewToken returns a random token for one run of the daemon.
func NewToken() string {
	b := make([]byte, 24)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// Announce writes the announcement for dataPath and returns a func that
// removes it.
func Announce(dataPath, url, token string) (remove func(), err error) {
	b, err := json.Marshal(announcement{URL: url, Token: token, PID: os.Getpid()})
	if err != nil {
		return nil, err
	}
	path := AnnouncePath(dataPath)
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return nil, fmt.Errorf("announce admin address: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return nil, fmt.Errorf("announce admin address: %w", err)
	}
	return func() { os.Remove(path) }, nil
}

// Client calls a running daemon's admin endpoints.
type Client struct {
	url, token string
	hc         *http.Client
}

// NewClient returns a Client for the daemon at url.
func NewClient(url, token string) *Client {
	return &Client{url: strings.TrimRight(url, "/"), token: token, hc: &http.Client{}}
}

// Dial finds the daemon that holds dataPath.
func Dial(dataPath string) (*Client, error) {
	b, err := os.ReadFile(AnnouncePath(dataPath))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w in %s", ErrNoDaemon, AnnouncePath(dataPath))
	}
	if err != nil {
		return nil, fmt.Errorf("read admin announcement: %w", err)
	}
	var a announcement
	if err := json.Unmarshal(b, &a); err != nil || a.URL == "" {
		return nil, fmt.Errorf("read admin announcement %s: malformed", AnnouncePath(dataPath))
	}
	return NewClient(a.URL, a.Token), nil
}

func (c *Client) post(ctx context.Context, path string, body any) (*http.Response, error) {
	b, err := json.Marshal(body)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url+path, bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+c.token)
	res, err := c.hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("ask the running daemon: %w", err)
	}
	if res.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(res.Body, 64<<10))
		res.Body.Close()
		return nil, fmt.Errorf("running daemon answered %s: %s", res.Status, strings.TrimSpace(string(msg)))
	}
	return res, nil
}

// Fetch asks the daemon to fetch now, calling progress as sources finish.
func (c *Client) Fetch(ctx context.Context, req FetchRequest, progress func(ingest.Report)) ([]ingest.Report, error) {
	res, err := c.post(ctx, "/admin/fetch", req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	var reports []ingest.Report
	sc := bufio.NewScanner(res.Body)
	sc.Buffer(make([]byte, 0, 64<<10), 4<<20)
	for sc.Scan() {
		var line fetchLine
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			return reports, fmt.Errorf("read fetch progress: %w", err)
		}
		switch {
		case line.Report != nil:
			reports = append(reports, *line.Report)
			if progress != nil {
				progress(*line.Report)
			}
		case line.Error != "":
			return reports, errors.New(line.Error)
		case line.Done:
			return reports, nil
		}
	}
	if err := sc.Err(); err != nil {
		return reports, fmt.Errorf("read fetch progress: %w", err)
	}
	return reports, errors.New("running daemon closed the fetch before it was done")
}

// Preview asks the daemon what a topic selects.
func (c *Client) Preview(ctx context.Context, req PreviewRequest) (preview.Result, error) {
	var out preview.Result
	res, err := c.post(ctx, "/admin/preview", req)
	if err != nil {
		return out, err
	}
	defer res.Body.Close()
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil {
		return out, fmt.Errorf("read preview: %w", err)
	}
	return out, nil
}

// Status reads the running daemon's status report (GET /status.json on the
// admin listener, which serves it to loopback callers).
func (c *Client) Status(ctx context.Context) (status.Report, error) {
	var out status.Report
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.url+"/status.json", nil)
	if err != nil {
		return out, err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	res, err := c.hc.Do(req)
	if err != nil {
		return out, fmt.Errorf("ask the running daemon: %w", err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(res.Body, 64<<10))
		return out, fmt.Errorf("running daemon answered %s: %s", res.Status, strings.TrimSpace(string(msg)))
	}
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil {
		return out, fmt.Errorf("read status: %w", err)
	}
	return out, nil
}

// Backup asks the daemon for a consistent copy of its store and writes it to
// w. It fails unless the whole copy arrived: a copy cut short is an error,
// never a silent partial file.
func (c *Client) Backup(ctx context.Context, w io.Writer) error {
	res, err := c.post(ctx, "/admin/backup", struct{}{})
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if _, err := io.Copy(w, res.Body); err != nil {
		return fmt.Errorf("read backup: %w", err)
	}
	switch outcome := res.Trailer.Get(backupTrailer); {
	case outcome == "ok":
		return nil
	case outcome == "":
		return errors.New("read backup: the daemon's copy ended early")
	default:
		return fmt.Errorf("running daemon: backup %s", outcome)
	}
}
