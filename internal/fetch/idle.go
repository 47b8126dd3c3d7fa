package fetch

import (
	"io"
	"net/http/httptrace"
	"sync"
	"time"
)

// watchdog gives up on an upstream that sends nothing for a while: it is
// armed only while we wait on the upstream (from the request being written
// until the answer's first byte, and during each read of the body), so time
// spent dialing, queued, or in our own code never counts. Dialing and the
// TLS handshake have their own timeout; the total timeout bounds an upstream
// that trickles.
type watchdog struct {
	d        time.Duration
	mu       sync.Mutex
	timer    *time.Timer
	answered bool // this hop's first response byte has arrived
}

func newWatchdog(d time.Duration, fire func()) *watchdog {
	w := &watchdog{d: d, timer: time.AfterFunc(maxDuration, fire)}
	w.timer.Stop()
	return w
}

func (w *watchdog) arm() {
	w.mu.Lock()
	w.timer.Reset(w.d)
	w.mu.Unlock()
}

func (w *watchdog) stop() {
	w.mu.Lock()
	w.timer.Stop()
	w.mu.Unlock()
}

// trace arms the watchdog once a request is written and disarms it at the
// first byte of the answer, for every redirect hop. The transport calls
// these from its own goroutines, so a late WroteRequest (after the answer
// began) must not re-arm: answered guards that.
func (w *watchdog) trace() *httptrace.ClientTrace {
	return &httptrace.ClientTrace{
		GetConn: func(string) {
			w.mu.Lock()
			w.answered = false
			w.mu.Unlock()
		},
		WroteRequest: func(httptrace.WroteRequestInfo) {
			w.mu.Lock()
			if !w.answered {
				w.timer.Reset(w.d)
			}
			w.mu.Unlock()
		},
		GotFirstResponseByte: func() {
			w.mu.Lock()
			w.answered = true
			w.timer.Stop()
			w.mu.Unlock()
		},
	}
}

// reader arms the watchdog for the duration of each Read of body.
func (w *watchdog) reader(body io.ReadCloser) io.ReadCloser {
	return &idleBody{ReadCloser: body, w: w}
}

type idleBody struct {
	io.ReadCloser
	w *watchdog
}

func (b *idleBody) Read(p []byte) (int, error) {
	b.w.arm()
	n, err := b.ReadCloser.Read(p)
	b.w.stop()
	return n, err
}
