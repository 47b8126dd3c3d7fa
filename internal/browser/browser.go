// Package browser drives a headless Chromium over the Chrome DevTools
// Protocol, so tests can look at newsdesk's pages as people see them: the
// DOM after the browser built it (after an XSLT, for a styled feed), the
// page's console errors and uncaught exceptions, what the server answered,
// and a screenshot.
//
// It speaks the protocol over --remote-debugging-pipe (JSON messages ending
// in a NUL byte on file descriptors 3 and 4), so it needs nothing beyond
// the standard library, and one browser process serves every page a test
// opens. chromedp does this and much more, at the cost of three modules the
// project would carry for tests alone.
//
// The browser reaches loopback addresses only: every other host goes to a
// proxy on a closed loopback port and fails there, so a page that names an
// outside image costs no request leaving the machine.
package browser

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sync"
	"time"
)

// Find returns the Chromium binary to run: $NEWSDESK_CHROMIUM when set,
// else the first of chromium, chromium-browser, google-chrome on $PATH.
func Find() (string, error) {
	if p := os.Getenv("NEWSDESK_CHROMIUM"); p != "" {
		return p, nil
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", errors.New("no chromium on $PATH (Debian: apt-get install chromium; or set NEWSDESK_CHROMIUM)")
}

// Browser is one headless Chromium process.
type Browser struct {
	cmd    *exec.Cmd
	toIn   io.WriteCloser // the browser reads commands here (its fd 3)
	stderr *limitedBuffer
	done   chan struct{} // closed when the reader stops: the browser is gone

	mu      sync.Mutex
	nextID  int
	pending map[int]chan message
	// sessions receive the events of their targets.
	sessions map[string]chan message
	readErr  error
}

// message is any message of the protocol: a reply (ID set) or an event.
type message struct {
	ID        int             `json:"id,omitempty"`
	Method    string          `json:"method,omitempty"`
	Params    json.RawMessage `json:"params,omitempty"`
	Result    json.RawMessage `json:"result,omitempty"`
	Error     *protoError     `json:"error,omitempty"`
	SessionID string          `json:"sessionId,omitempty"`
}

type protoError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

// Flags are the switches Start passes besides the pipe and the profile: a
// browser that starts quickly, needs no display, no GPU and no sandbox
// (tests run as root in CI), and talks to no service of Google's.
var Flags = []string{
	"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
	"--disable-background-networking", "--disable-component-update", "--disable-sync",
	"--disable-default-apps", "--disable-extensions", "--mute-audio", "--hide-scrollbars",
	"--no-default-browser-check", "--disable-dev-shm-usage", "--dns-prefetch-disable",
	// Loopback only: everything else to a closed port. Chromium sends
	// loopback addresses around a proxy by itself.
	"--proxy-server=http://127.0.0.1:9", "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1",
}

// Start runs the browser at path with its profile in dir (a fresh, empty
// directory: t.TempDir()). Close stops it.
func Start(ctx context.Context, path, dir string) (*Browser, error) {
	inR, inW, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("start browser: %w", err)
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		inR.Close()
		inW.Close()
		return nil, fmt.Errorf("start browser: %w", err)
	}
	args := append(append([]string(nil), Flags...), "--remote-debugging-pipe", "--user-data-dir="+dir, "about:blank")
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.ExtraFiles = []*os.File{inR, outW} // fds 3 and 4
	b := &Browser{cmd: cmd, toIn: inW, stderr: &limitedBuffer{max: 64 << 10}, done: make(chan struct{}),
		pending: map[int]chan message{}, sessions: map[string]chan message{}}
	cmd.Stderr = b.stderr
	cmd.WaitDelay = 5 * time.Second
	err = cmd.Start()
	inR.Close() // the child has its copies
	outW.Close()
	if err != nil {
		inW.Close()
		outR.Close()
		return nil, fmt.Errorf("start %s: %w", path, err)
	}
	go b.read(outR)
	// The first reply proves the browser is up and speaking the protocol.
	var v struct {
		Product string `json:"product"`
	}
	if err := b.call(ctx, "", "Browser.getVersion", nil, &v); err != nil {
		b.Close()
		return nil, fmt.Errorf("start %s: %w\n%s", path, err, b.stderr)
	}
	return b, nil
}

// Close stops the browser and waits for it.
func (b *Browser) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	b.call(ctx, "", "Browser.close", nil, nil) // the reply may never come: it is going
	b.toIn.Close()
	select {
	case <-b.done:
	case <-ctx.Done():
		b.cmd.Process.Kill()
	}
	err := b.cmd.Wait()
	if _, ok := errors.AsType[*exec.ExitError](err); ok {
		return nil // it exits as it likes once told to close
	}
	return err
}

// read delivers every message from the browser until the pipe closes.
func (b *Browser) read(r io.ReadCloser) {
	defer r.Close()
	br := bufio.NewReaderSize(r, 1<<20)
	var err error
	for {
		var raw []byte
		raw, err = br.ReadBytes(0)
		if err != nil {
			break
		}
		var m message
		if err = json.Unmarshal(raw[:len(raw)-1], &m); err != nil {
			err = fmt.Errorf("decode %.200q: %w", raw, err)
			break
		}
		b.mu.Lock()
		if m.ID != 0 {
			if ch, ok := b.pending[m.ID]; ok {
				delete(b.pending, m.ID)
				ch <- m
			}
		} else if ch, ok := b.sessions[m.SessionID]; ok && m.SessionID != "" {
			select {
			case ch <- m:
			default: // a page that floods events loses the excess, never the reader
			}
		}
		b.mu.Unlock()
	}
	b.mu.Lock()
	b.readErr = fmt.Errorf("browser pipe: %w", err)
	for id, ch := range b.pending {
		close(ch)
		delete(b.pending, id)
	}
	b.mu.Unlock()
	close(b.done)
}

// call sends one command (to a target's session, or to the browser when
// session is "") and decodes its result into out (when not nil).
func (b *Browser) call(ctx context.Context, session, method string, params, out any) error {
	b.mu.Lock()
	if b.readErr != nil {
		err := b.readErr
		b.mu.Unlock()
		return err
	}
	b.nextID++
	id := b.nextID
	reply := make(chan message, 1)
	b.pending[id] = reply
	b.mu.Unlock()

	msg := map[string]any{"id": id, "method": method}
	if params != nil {
		msg["params"] = params
	}
	if session != "" {
		msg["sessionId"] = session
	}
	raw, err := json.Marshal(msg)
	if err != nil {
		return fmt.Errorf("%s: %w", method, err)
	}
	if _, err := b.toIn.Write(append(raw, 0)); err != nil {
		return fmt.Errorf("%s: %w", method, err)
	}
	select {
	case m, ok := <-reply:
		if !ok {
			return fmt.Errorf("%s: the browser went away", method)
		}
		if m.Error != nil {
			return fmt.Errorf("%s: %s (%d)", method, m.Error.Message, m.Error.Code)
		}
		if out != nil {
			if err := json.Unmarshal(m.Result, out); err != nil {
				return fmt.Errorf("%s: decode result: %w", method, err)
			}
		}
		return nil
	case <-ctx.Done():
		b.mu.Lock()
		delete(b.pending, id)
		b.mu.Unlock()
		return fmt.Errorf("%s: %w", method, ctx.Err())
	}
}

// limitedBuffer keeps the first max bytes of the browser's stderr, for
// errors.
type limitedBuffer struct {
	mu  sync.Mutex
	buf []byte
	max int
}

func (l *limitedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if room := l.max - len(l.buf); room > 0 {
		l.buf = append(l.buf, p[:min(room, len(p))]...)
	}
	return len(p), nil
}

func (l *limitedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return string(l.buf)
}
