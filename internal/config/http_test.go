package config_test

import (
	"strings"
	"testing"
	"time"

	"github.com/newsdesk/newsdesk/internal/config"
)

func TestHTTP(t *testing.T) {
	tests := []struct {
		name, src string
		want      config.HTTP
	}{
		{"defaults", minimal, config.HTTP{StaleWhileRevalidate: time.Minute, StaleIfError: 24 * time.Hour, RenderCache: 256 << 20,
			ReaderProcess: config.DefaultReaderProcess}},
		{"every key", minimal + "http: {max_age: 2m, s_maxage: 10m, stale_while_revalidate: 30s, stale_if_error: 7d, render_cache: 64MiB, reader_process: true}\n",
			config.HTTP{MaxAge: 2 * time.Minute, SharedMaxAge: 10 * time.Minute, StaleWhileRevalidate: 30 * time.Second,
				StaleIfError: 7 * 24 * time.Hour, RenderCache: 64 << 20, ReaderProcess: true}},
		{"0s turns the stale directives off", minimal + "http: {stale_while_revalidate: 0s, stale_if_error: 0s}\n",
			config.HTTP{RenderCache: 256 << 20, ReaderProcess: config.DefaultReaderProcess}},
		{"one process", minimal + "http: {reader_process: false}\n",
			config.HTTP{StaleWhileRevalidate: time.Minute, StaleIfError: 24 * time.Hour, RenderCache: 256 << 20}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := config.Parse("newsdesk.yaml", []byte(tt.src))
			if err != nil {
				t.Fatal(err)
			}
			if cfg.HTTP != tt.want {
				t.Errorf("HTTP = %+v, want %+v", cfg.HTTP, tt.want)
			}
		})
	}
}

func TestHTTPProblems(t *testing.T) {
	tests := []struct {
		name, src string
		line, col int
		msg       string
	}{
		{"zero max age", minimal + "http: {max_age: 0s}\n", 3, 17, "`max_age` \"0s\" is not a positive duration"},
		{"bad stale duration", minimal + "http: {stale_if_error: a day}\n", 3, 24, "`stale_if_error` \"a day\" is not a positive duration"},
		{"bad size", minimal + "http: {render_cache: lots}\n", 3, 22, "`render_cache` \"lots\" is not a size"},
		{"reader process not a boolean", minimal + "http: {reader_process: yes}\n", 3, 24, "`reader_process` \"yes\" is not true or false"},
		{"tiny cache", minimal + "http: {render_cache: 64KiB}\n", 3, 22, "`render_cache` \"64KiB\" is smaller than 1MiB"},
		{"typo", minimal + "http: {maxage: 1m}\n", 3, 8, "did you mean `max_age`?"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			probs := problems(t, tt.src)
			for _, p := range probs {
				if strings.Contains(p.Msg, tt.msg) {
					if p.Line != tt.line || p.Col != tt.col {
						t.Errorf("%q at %d:%d, want %d:%d", tt.msg, p.Line, p.Col, tt.line, tt.col)
					}
					return
				}
			}
			t.Errorf("no problem %q in %v", tt.msg, probs)
		})
	}
}
