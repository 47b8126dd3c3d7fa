package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"syscall"
	"time"

	"github.com/newsdesk/newsdesk/internal/background"
	"github.com/newsdesk/newsdesk/internal/config"
	"github.com/newsdesk/newsdesk/internal/metrics"
	"github.com/newsdesk/newsdesk/internal/server"
)

// With http.reader_process, `newsdesk serve` is two processes. The one
// started (the reader process) binds the public listener, applies the
// per-client limits and answers the polls of cached documents from a
// mirror of the daemon's render cache (server.Replica); it hands every
// other request to the daemon, which it runs as its child: the same binary
// with the flags this process resolved, told by backEnv where the public
// listener is, with its listener on a unix socket in a private directory
// (fd 3), the mirror's documents going out on fd 4, the reader process's
// reports coming in on fd 5 and, on fd 6, the error the daemon stopped
// with, which the reader process's own last line then says. Every thread
// of the daemon runs at the lowest priority, so its fetching, parsing,
// classifying, storing and rendering take the cores only when readers
// leave them free, the runtime's own work (its garbage collector, its
// scheduler) included, which no priority within one process can keep off
// the readers' cores. It is the default on Linux (see
// config.DefaultReaderProcess).

// backEnv, in a child's environment, makes `serve` the daemon behind a
// reader process; its value is the public listener's address.
const backEnv = "NEWSDESK_INTERNAL_DAEMON_OF"

// The daemon's inherited files.
const (
	backListenerFD = 3
	backMirrorFD   = 4
	backReportsFD  = 5
	backEndFD      = 6
)

// peerHeader carries the client's address from the reader process to the
// daemon, which puts it back in the request (peered): the status page's
// exposure, the access log and the per-client figures see the client, not
// the socket. The reader process sets it on every request it hands on,
// over whatever a client sent.
const peerHeader = "Newsdesk-Peer"

// reportEvery is how often the reader process tells the daemon what it
// served: within it, a polled document counts as polled for the renders
// ahead of readers (see server.Mirror).
const reportEvery = 50 * time.Millisecond

// back is what a daemon behind a reader process is given.
type back struct {
	public  string // the public listener's address
	ln      net.Listener
	mirror  *os.File
	reports *os.File
	end     *os.File
}

// daemonBehind returns the files of a daemon started by a reader process,
// or nil when this process was not.
func daemonBehind(e env) (*back, error) {
	public := e.getenv(backEnv)
	if public == "" {
		return nil, nil
	}
	ln, err := net.FileListener(os.NewFile(backListenerFD, "daemon listener"))
	if err != nil {
		return nil, fmt.Errorf("the daemon's listener from the reader process: %w", err)
	}
	return &back{public: public, ln: ln, mirror: os.NewFile(backMirrorFD, "mirror"), reports: os.NewFile(backReportsFD, "reports"),
		end: os.NewFile(backEndFD, "end")}, nil
}

// stopped tells the reader process how the daemon's run ended, err nil
// meaning cleanly: the reader process's "stopped" line, the last of the
// run, says it once for both.
func (b *back) stopped(err error) {
	if err != nil {
		b.end.WriteString(err.Error())
	}
	b.end.Close()
}

// lower puts every thread of the daemon at the lowest priority.
func (b *back) lower(log *slog.Logger) {
	if err := background.LowerProcess(background.Nice); err != nil {
		log.Warn("the daemon runs at the reader process's priority", "err", err)
	}
}

// peered restores the client's address the reader process sent.
func peered(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if v := r.Header[peerHeader]; v != nil {
			r.RemoteAddr = v[0]
			delete(r.Header, peerHeader)
		}
		h.ServeHTTP(w, r)
	})
}

// mirror sends the daemon's documents to the reader process until ctx
// ends.
func (b *back) serveMirror(ctx context.Context, d *daemon) {
	err := d.srv.Mirror(ctx, b.mirror, b.reports, server.Requests{
		Full:    func() bool { return d.config().LogAccess }, // the access log has every request
		Buckets: metrics.RequestBuckets(),
		Each:    d.ops.record,
		Counted: d.ops.counted,
	})
	b.mirror.Close()
	if err != nil && ctx.Err() == nil {
		d.log.Error("the mirror to the reader process stopped", "err", err)
	}
}

// serveReaders is `serve` with http.reader_process: it runs the daemon as
// its child and answers the readers in front of it, until ctx ends or the
// daemon exits.
func serveReaders(ctx context.Context, e env, o options, cfg *config.Config, log *slog.Logger) error {
	// A SIGHUP is the daemon's, to reload its config, from the start: by
	// default it would end this process (and so the daemon) while the
	// daemon starts.
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	// The daemon's socket lives in a directory only this user reaches:
	// whoever can connect to it can say which client they are. Without one
	// (no writable TMPDIR: a read-only container) one process serves.
	dir, err := os.MkdirTemp("", "newsdesk-")
	if err != nil {
		return noReaderProcess{fmt.Errorf("the daemon's socket: %w", err)}
	}
	defer os.RemoveAll(dir)
	sock := filepath.Join(dir, "daemon.sock")
	ul, err := net.ListenUnix("unix", &net.UnixAddr{Name: sock, Net: "unix"})
	if err != nil {
		return noReaderProcess{fmt.Errorf("the daemon's socket: %w", err)}
	}
	ul.SetUnlinkOnClose(false) // the daemon listens on it; RemoveAll takes it at the end
	ulf, err := ul.File()
	ul.Close()
	if err != nil {
		return noReaderProcess{fmt.Errorf("the daemon's socket: %w", err)}
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		ulf.Close()
		return fmt.Errorf("listen: %w", err)
	}
	defer ln.Close()
	cfg.FollowListen(ln.Addr().String())
	docsR, docsW, err := os.Pipe()
	if err != nil {
		return fmt.Errorf("the mirror: %w", err)
	}
	defer docsR.Close()
	repR, repW, err := os.Pipe()
	if err != nil {
		return fmt.Errorf("the mirror: %w", err)
	}
	defer repW.Close()
	endR, endW, err := os.Pipe()
	if err != nil {
		return fmt.Errorf("the daemon's end: %w", err)
	}
	ended := make(chan string, 1) // what the daemon stopped with, once it has exited ("": cleanly, or it could not say)
	go func() {
		defer endR.Close()
		b, _ := io.ReadAll(io.LimitReader(endR, 64<<10))
		ended <- string(b)
	}()
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("find this binary to start the daemon: %w", err)
	}
	// The flags as this process resolved them, from its arguments or its
	// environment: the daemon reads the same config and store.
	flags := []string{"serve", "--config", o.config, "--data", o.data, "--lease", o.lease.String()}
	if o.addr != "" {
		flags = append(flags, "--addr", o.addr)
	}
	cmd := exec.Command(exe, flags...)
	cmd.Env = append(os.Environ(), backEnv+"="+ln.Addr().String())
	if addr := e.getenv("NEWSDESK_PPROF"); addr != "" { // this process has its port (startProfiling)
		host, _, _ := net.SplitHostPort(addr)
		cmd.Env = append(cmd.Env, "NEWSDESK_PPROF="+net.JoinHostPort(host, "0"))
	}
	cmd.Stdout, cmd.Stderr = e.stdout, e.stderr
	cmd.ExtraFiles = []*os.File{ulf, docsW, repR, endW} // fds 3, 4, 5, 6
	cmd.SysProcAttr = daemonAttrs()
	exited := make(chan error, 1)
	started := make(chan error, 1)
	go func() {
		// The daemon is told to stop when the thread that started it
		// ends (daemonAttrs): this goroutine keeps that thread until the
		// daemon exits.
		runtime.LockOSThread()
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		exited <- cmd.Wait()
	}()
	err = <-started
	ulf.Close()
	docsW.Close()
	repR.Close()
	endW.Close()
	if err != nil {
		return fmt.Errorf("start the daemon: %w", err)
	}
	pid := cmd.Process.Pid
	// daemonErr is why the daemon exited (with status err): the error it
	// stopped with, as one process would have, else how it ended.
	daemonErr := func(err error, how string) error {
		if msg := <-ended; msg != "" {
			return errors.New(msg)
		}
		if err == nil && how == "" {
			return nil
		}
		return fmt.Errorf("the daemon (pid %d) %s: %v", pid, cmp.Or(how, "stopped"), exitError(err))
	}
	stop := func() error { // SIGTERM, as an operator would; SIGKILL a minute later
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case err := <-exited:
			return daemonErr(err, "")
		case <-time.After(time.Minute):
			cmd.Process.Kill()
			return fmt.Errorf("the daemon (pid %d) did not stop within a minute of SIGTERM; killed", pid)
		}
	}

	rp := server.NewReplica()
	// What this process keeps is the mirrored documents, at most about the
	// daemon's render cache (a document the daemon evicts is withdrawn
	// here): a soft limit a little above it has the collector run before
	// the heap doubles it (GOGC's default), as it did to twice the bound.
	if e.getenv("GOMEMLIMIT") == "" {
		prev := debug.SetMemoryLimit(readerMemoryLimit(cfg.HTTP.RenderCache))
		defer debug.SetMemoryLimit(prev) // a test's serve, in the test's process, leaves it as it was
	}
	applied := make(chan error, 1)
	go func() { applied <- rp.Apply(docsR) }()
	reports, stopReports := context.WithCancel(context.Background())
	defer stopReports()
	go rp.Report(reports, repW, reportEvery)
	tr := &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", sock)
		},
		DisableCompression:  true, // the client's Accept-Encoding decides, as it would without us
		MaxIdleConnsPerHost: 256,
		IdleConnTimeout:     time.Minute,
	}
	defer tr.CloseIdleConnections()
	proxy := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.Out.URL.Scheme, pr.Out.URL.Host = "http", "daemon"
			pr.Out.Host = pr.In.Host
			// The query as the client sent it: ReverseProxy drops the
			// parameters it cannot parse, and the daemon's answer to
			// ?before=%%% is a 400 naming it, not the first page.
			pr.Out.URL.RawQuery = pr.In.URL.RawQuery
			// What the client sent, as it sent it: the daemon's status
			// exposure reads these headers.
			for _, h := range []string{"Forwarded", "X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Proto"} {
				if v := pr.In.Header[h]; v != nil {
					pr.Out.Header[h] = v
				}
			}
			pr.Out.Header[peerHeader] = []string{pr.In.RemoteAddr}
		},
		Transport:     tr,
		FlushInterval: -1, // an admin fetch streams its progress
		ErrorLog:      slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			if r.Context().Err() == nil {
				log.Warn("the daemon did not answer", "path", clip(r.URL.Path, 256), "err", err)
			}
			w.Header().Set("Cache-Control", "no-store")
			http.Error(w, "the daemon is not answering", http.StatusBadGateway)
		},
	}

	// Answering starts once the daemon says it is ready (it has logged
	// "serving"): until then connections wait in the listener's queue.
	ready := &http.Client{Transport: tr, Timeout: 5 * time.Second}
	for {
		res, err := ready.Get("http://daemon/readyz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				break
			}
		}
		select {
		case err := <-exited:
			return daemonErr(err, "exited before it served")
		case <-ctx.Done():
			return stop()
		case <-hup:
			cmd.Process.Signal(syscall.SIGHUP)
		case <-time.After(50 * time.Millisecond):
		}
	}

	hs := server.HTTPServer(cfg.Listen, rp.Handler(proxy))
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(server.PerClient(ln, cfg.Limits.PerClientConnections, log)) }()
	// The daemon's "serving" line, a moment ago, is the run's: this one says
	// which process answers the readers, and the daemon's pid.
	log.Info("answering readers", "addr", ln.Addr().String(), "daemon_pid", pid)
	for {
		select {
		case <-hup:
			cmd.Process.Signal(syscall.SIGHUP) // the daemon reloads its config
		case err := <-applied:
			if errors.Is(err, io.EOF) {
				applied = nil // the daemon is stopping: its exit follows
				continue
			}
			log.Error("the mirror from the daemon broke; stopping", "err", err)
			hs.Close()
			return errors.Join(err, stop())
		case err := <-exited:
			hs.Close()
			return daemonErr(err, "exited")
		case err := <-errc:
			return errors.Join(fmt.Errorf("serve: %w", err), stop())
		case <-ctx.Done():
			log.Info("shutting down")
			shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			err := hs.Shutdown(shutdown)
			cancel()
			return errors.Join(err, stop())
		}
	}
}

// readerMemoryLimit is the reader process's soft memory limit for a
// render cache bound of cache bytes: the documents, a quarter more for the
// frames being decoded and the garbage of replaced ones, and room for the
// connections.
func readerMemoryLimit(cache int64) int64 { return cache + cache/4 + 64<<20 }

// noReaderProcess is serveReaders' error when it cannot run the daemon
// behind it at all, before it binds anything: serve then runs as one
// process.
type noReaderProcess struct{ error }

func (e noReaderProcess) Unwrap() error { return e.error }

// exitError says how a process ended.
func exitError(err error) string {
	if err == nil {
		return "exit status 0"
	}
	return err.Error()
}
