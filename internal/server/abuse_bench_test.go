package server_test

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// BenchmarkSlowloris measures what readers see while slowloris connections
// dribble request headers at the daemon's listener stack (HTTPServer's
// timeouts, PerClient at its default 256): reader latency idle and under
// attack, and reader errors. By hand, the figure:
//
//	NEWSDESK_SLOWLORIS_CONNS=200 NEWSDESK_SLOWLORIS_SECONDS=60 \
//	  go test -run '^$' -bench Slowloris -benchtime=1x ./internal/server
//
// Each attacker reconnects when the server's ReadHeaderTimeout (10 s) drops
// it. With -short (as CI runs benchmarks) it is 20 connections for 1 s.
func BenchmarkSlowloris(b *testing.B) {
	conns, seconds := envInt("NEWSDESK_SLOWLORIS_CONNS", 200), envInt("NEWSDESK_SLOWLORIS_SECONDS", 60)
	if testing.Short() {
		conns, seconds = 20, 1
	}
	s := newAbuseServer(b, 256, nil)
	for b.Loop() {
		idle, idleErrs := readers(b, s, time.Duration(seconds)*time.Second/4)
		stop := make(chan struct{})
		var wg sync.WaitGroup
		var held atomic.Int64
		for i := range conns {
			wg.Go(func() { slowClient(s, fmt.Sprintf("127.0.4.%d", 1+i%250), stop, &held) })
		}
		attacked, attackErrs := readers(b, s, time.Duration(seconds)*time.Second)
		close(stop)
		wg.Wait()
		b.ReportMetric(ms(pct(idle, 50)), "idle-p50-ms")
		b.ReportMetric(ms(pct(idle, 99)), "idle-p99-ms")
		b.ReportMetric(ms(pct(attacked, 50)), "attack-p50-ms")
		b.ReportMetric(ms(pct(attacked, 99)), "attack-p99-ms")
		b.ReportMetric(float64(idleErrs+attackErrs), "reader-errors")
		b.ReportMetric(float64(held.Load()), "slow-connections-opened")
	}
}

func envInt(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n > 0 {
		return n
	}
	return def
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func pct(d []time.Duration, p int) time.Duration {
	if len(d) == 0 {
		return 0
	}
	slices.Sort(d)
	return d[min(len(d)-1, len(d)*p/100)]
}

// readers runs 8 keep-alive readers of a cached feed for d and returns
// every request's latency and the number of failed requests.
func readers(b *testing.B, s *abuseServer, d time.Duration) ([]time.Duration, int) {
	var mu sync.Mutex
	var lat []time.Duration
	var errs atomic.Int64
	deadline := time.Now().Add(d)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			c := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1}, Timeout: 30 * time.Second}
			defer c.CloseIdleConnections()
			for time.Now().Before(deadline) {
				start := time.Now()
				res, err := c.Get("http://" + s.addr + "/topics/climate.json")
				if err == nil {
					io.Copy(io.Discard, res.Body)
					res.Body.Close()
				}
				if err != nil || res.StatusCode != 200 {
					errs.Add(1)
					continue
				}
				mu.Lock()
				lat = append(lat, time.Since(start))
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return lat, int(errs.Load())
}

// slowClient holds one connection that sends a header line every 2 s,
// reconnecting whenever the server drops it, until stop.
func slowClient(s *abuseServer, from string, stop chan struct{}, opened *atomic.Int64) {
	d := net.Dialer{Timeout: 5 * time.Second, LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}}
	for {
		c, err := d.Dial("tcp", s.addr)
		if err != nil {
			return
		}
		opened.Add(1)
		io.WriteString(c, "GET /topics/climate.json HTTP/1.1\r\nHost: x\r\n")
		tick := time.NewTicker(2 * time.Second)
		for alive := true; alive; {
			select {
			case <-stop:
				tick.Stop()
				c.Close()
				return
			case <-tick.C:
				_, err := io.WriteString(c, "X-Slow: a\r\n")
				alive = err == nil
			}
		}
		tick.Stop()
		c.Close()
	}
}
