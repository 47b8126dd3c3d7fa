package config_test

import (
	"strings"
	"testing"

	"github.com/newsdesk/newsdesk/internal/config"
)

func TestStatusExposure(t *testing.T) {
	for src, want := range map[string]config.Exposure{
		"":                              config.ExposeNone,
		"status: {public: false}\n":     config.ExposeNone,
		"status: {public: true}\n":      config.ExposeAll,
		"status: {public: localhost}\n": config.ExposeLocal,
		"status: {public: LocalHost}\n": config.ExposeLocal,
		"status:\n  public:\n":          config.ExposeNone,
	} {
		cfg, err := config.Parse("newsdesk.yaml", []byte(minimal+src))
		if err != nil {
			t.Errorf("%q: %v", src, err)
			continue
		}
		if cfg.Status.Public != want {
			t.Errorf("%q: Status.Public = %q, want %q", src, cfg.Status.Public, want)
		}
	}
	for _, tt := range []struct{ src, msg string }{
		{"status: {public: yes please}\n", "`public` \"yes please\" is not false, true or localhost"},
		{"status: {public: 127.0.0.1}\n", "is not false, true or localhost"},
		{"status: {public: [a]}\n", "`public` expects"},
		{"log_access: sometimes\n", "`log_access` \"sometimes\" is not true or false"},
		{"status: {pubic: true}\n", "did you mean `public`?"},
	} {
		probs := problems(t, minimal+tt.src)
		if len(probs) != 1 || !strings.Contains(probs[0].Msg, tt.msg) || probs[0].Line != 3 {
			t.Errorf("%q: problems %v, want one at line 3 saying %q", tt.src, probs, tt.msg)
		}
	}
}

func TestLogAccessAndFingerprint(t *testing.T) {
	cfg, err := config.Parse("newsdesk.yaml", []byte(minimal+"log_access: true\n"))
	if err != nil {
		t.Fatal(err)
	}
	if !cfg.LogAccess {
		t.Error("log_access: true did not set LogAccess")
	}
	again, _ := config.Parse("newsdesk.yaml", []byte(minimal+"log_access: true\n"))
	other, _ := config.Parse("newsdesk.yaml", []byte(minimal+"log_access: true # a comment\n"))
	if len(cfg.Fingerprint) != 16 || cfg.Fingerprint != again.Fingerprint || cfg.Fingerprint == other.Fingerprint {
		t.Errorf("fingerprints %q, %q, %q: want 16 hex digits, equal for equal bytes, different for an edit",
			cfg.Fingerprint, again.Fingerprint, other.Fingerprint)
	}
}
