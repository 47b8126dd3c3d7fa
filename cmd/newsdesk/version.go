package main

import (
	"fmt"
	"runtime"
	"runtime/debug"
)

// version describes this build from the module and VCS data Go embeds, so
// no linker flags are needed.
func version() string {
	v, rev, dirty := "(devel)", "", false
	if bi, ok := debug.ReadBuildInfo(); ok {
		if bi.Main.Version != "" {
			v = bi.Main.Version
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.modified":
				dirty = s.Value == "true"
			}
		}
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if dirty {
		rev += "-dirty"
	}
	if rev == "" {
		return fmt.Sprintf("newsdesk %s %s", v, runtime.Version())
	}
	return fmt.Sprintf("newsdesk %s (%s) %s", v, rev, runtime.Version())
}

// userAgent names newsdesk and its version to upstreams.
func userAgent() string {
	v := "dev"
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		v = bi.Main.Version
	}
	return "newsdesk/" + v + " (+https://github.com/newsdesk/newsdesk)"
}
