package main

import (
	"testing"
	"time"

	"github.com/newsdesk/newsdesk/internal/config"
)

// TestDefaultLease holds the default lease to the bound: at most
// one refresh interval, never more than 30 s (15 s), and at least 1 s.
func TestDefaultLease(t *testing.T) {
	for _, tt := range []struct {
		refresh string
		want    time.Duration
	}{
		{"@every 1h", 15 * time.Second},
		{"*/5 * * * *", 15 * time.Second},
		{"@every 10s", 10 * time.Second},
		{"*/5 * * * * *", 5 * time.Second}, // seconds field: every 5 s
		{"@every 100ms", time.Second},
		{"not a spec", 15 * time.Second}, // refused by config.Load anyway
	} {
		if got := defaultLease(&config.Config{Refresh: tt.refresh}); got != tt.want {
			t.Errorf("defaultLease(refresh %q) = %v, want %v", tt.refresh, got, tt.want)
		}
	}
}
