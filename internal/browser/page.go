package browser

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// Page is what the browser made of one address.
type Page struct {
	URL         string
	Status      int    // the HTTP status of the document
	ContentType string // its Content-Type, as the browser read it (the MIME type alone)
	Title       string // document.title
	DOM         string // document.documentElement.outerHTML once loaded
	Screenshot  []byte // PNG of the whole page; nil unless asked for
	// Problems are what a developer's console would show in red or yellow:
	// uncaught exceptions, console.error and console.warn calls, and the
	// browser's own errors and warnings (a resource that failed to load, an
	// XSLT that did not compile), each as "level source: text (url)".
	Problems []Problem
}

// Problem is one console message.
type Problem struct {
	Level  string // "error" or "warning"
	Source string // "exception", "console", or the browser's source ("network", "xml", "rendering", "deprecation", …)
	Text   string
	URL    string // the resource it is about, when known
}

func (p Problem) String() string {
	s := p.Level + " " + p.Source + ": " + p.Text
	if p.URL != "" {
		s += " (" + p.URL + ")"
	}
	return s
}

// Options say how to open a page.
type Options struct {
	Width, Height int  // the viewport, in CSS pixels; 0 means 1280×800
	Screenshot    bool // capture the whole page
}

// Open loads url in a new tab, waits for its load event and for the
// network to settle, and reports what the browser made of it. The tab is
// closed before Open returns.
func (b *Browser) Open(ctx context.Context, url string, o Options) (*Page, error) {
	if o.Width == 0 {
		o.Width, o.Height = 1280, 800
	}
	var target struct {
		TargetID string `json:"targetId"`
	}
	if err := b.call(ctx, "", "Target.createTarget", map[string]any{"url": "about:blank"}, &target); err != nil {
		return nil, err
	}
	defer b.call(context.WithoutCancel(ctx), "", "Target.closeTarget", map[string]any{"targetId": target.TargetID}, nil)
	var attached struct {
		SessionID string `json:"sessionId"`
	}
	if err := b.call(ctx, "", "Target.attachToTarget", map[string]any{"targetId": target.TargetID, "flatten": true}, &attached); err != nil {
		return nil, err
	}
	sid := attached.SessionID
	events := make(chan message, 4096)
	b.mu.Lock()
	b.sessions[sid] = events
	b.mu.Unlock()
	defer func() {
		b.mu.Lock()
		delete(b.sessions, sid)
		b.mu.Unlock()
	}()
	for _, m := range []string{"Page.enable", "Runtime.enable", "Log.enable", "Network.enable"} {
		if err := b.call(ctx, sid, m, nil, nil); err != nil {
			return nil, err
		}
	}
	if err := b.call(ctx, sid, "Emulation.setDeviceMetricsOverride", map[string]any{
		"width": o.Width, "height": o.Height, "deviceScaleFactor": 1, "mobile": false}, nil); err != nil {
		return nil, err
	}

	p := &Page{URL: url}
	var nav struct {
		FrameID   string `json:"frameId"`
		ErrorText string `json:"errorText"`
	}
	if err := b.call(ctx, sid, "Page.navigate", map[string]any{"url": url}, &nav); err != nil {
		return nil, err
	}
	if nav.ErrorText != "" {
		return nil, fmt.Errorf("open %s: %s", url, nav.ErrorText)
	}
	// Loaded, and no request in flight for a moment: images and the
	// stylesheet of a styled feed have arrived or failed.
	// Chromium reports no end of some loads (an XSLT's), so a page that
	// has loaded and sent nothing for a second is settled too.
	loaded, inflight := false, map[string]bool{}
	quiet := time.NewTimer(5 * time.Second)
	defer quiet.Stop()
	for settled := false; !settled; {
		select {
		case m := <-events:
			p.observe(m, nav.FrameID, &loaded, inflight)
			switch {
			case loaded && len(inflight) == 0:
				quiet.Reset(150 * time.Millisecond)
			case loaded:
				quiet.Reset(time.Second)
			default:
				quiet.Reset(5 * time.Second)
			}
		case <-quiet.C:
			settled = true
		case <-b.done:
			return nil, fmt.Errorf("open %s: the browser went away\n%s", url, b.stderr)
		case <-ctx.Done():
			return nil, fmt.Errorf("open %s: %w", url, ctx.Err())
		}
	}

	var eval struct {
		Result struct {
			Value json.RawMessage `json:"value"`
		} `json:"result"`
	}
	if err := b.call(ctx, sid, "Runtime.evaluate", map[string]any{
		"expression":    "JSON.stringify({title: document.title, dom: document.documentElement ? document.documentElement.outerHTML : ''})",
		"returnByValue": true}, &eval); err != nil {
		return nil, err
	}
	var doc struct{ Title, DOM string }
	var s string
	if err := json.Unmarshal(eval.Result.Value, &s); err == nil {
		err = json.Unmarshal([]byte(s), &struct {
			Title *string `json:"title"`
			DOM   *string `json:"dom"`
		}{&doc.Title, &doc.DOM})
		if err != nil {
			return nil, fmt.Errorf("open %s: read the document: %w", url, err)
		}
	}
	p.Title, p.DOM = doc.Title, doc.DOM

	if o.Screenshot {
		var metrics struct {
			Content struct {
				Width, Height float64
			} `json:"cssContentSize"`
		}
		if err := b.call(ctx, sid, "Page.getLayoutMetrics", nil, &metrics); err != nil {
			return nil, err
		}
		var shot struct {
			Data string `json:"data"`
		}
		if err := b.call(ctx, sid, "Page.captureScreenshot", map[string]any{
			"format": "png", "captureBeyondViewport": true,
			"clip": map[string]any{"x": 0, "y": 0, "width": max(metrics.Content.Width, float64(o.Width)),
				"height": min(max(metrics.Content.Height, float64(o.Height)), 8000), "scale": 1},
		}, &shot); err != nil {
			return nil, err
		}
		png, err := base64.StdEncoding.DecodeString(shot.Data)
		if err != nil {
			return nil, fmt.Errorf("open %s: decode screenshot: %w", url, err)
		}
		p.Screenshot = png
	}
	// Whatever the console said while we read the page.
	for {
		select {
		case m := <-events:
			p.observe(m, nav.FrameID, &loaded, inflight)
			continue
		default:
		}
		break
	}
	return p, nil
}

// observe folds one event of the page's session into p.
func (p *Page) observe(m message, frame string, loaded *bool, inflight map[string]bool) {
	switch m.Method {
	case "Page.loadEventFired":
		*loaded = true
	case "Network.requestWillBeSent":
		var e struct {
			RequestID string `json:"requestId"`
		}
		json.Unmarshal(m.Params, &e)
		inflight[e.RequestID] = true
	case "Network.loadingFinished", "Network.loadingFailed":
		var e struct {
			RequestID string `json:"requestId"`
		}
		json.Unmarshal(m.Params, &e)
		delete(inflight, e.RequestID)
	case "Network.responseReceived":
		var e struct {
			Type     string `json:"type"`
			FrameID  string `json:"frameId"`
			Response struct {
				URL      string `json:"url"`
				Status   int    `json:"status"`
				MimeType string `json:"mimeType"`
			} `json:"response"`
		}
		json.Unmarshal(m.Params, &e)
		if e.Type == "Document" && e.FrameID == frame && p.Status == 0 {
			p.Status, p.ContentType = e.Response.Status, e.Response.MimeType
		}
	case "Runtime.exceptionThrown":
		var e struct {
			Details struct {
				Text      string `json:"text"`
				URL       string `json:"url"`
				Exception struct {
					Description string `json:"description"`
				} `json:"exception"`
			} `json:"exceptionDetails"`
		}
		json.Unmarshal(m.Params, &e)
		p.Problems = append(p.Problems, Problem{Level: "error", Source: "exception",
			Text: strings.TrimSpace(e.Details.Text + " " + e.Details.Exception.Description), URL: e.Details.URL})
	case "Runtime.consoleAPICalled":
		var e struct {
			Type string `json:"type"`
			Args []struct {
				Value       any    `json:"value"`
				Description string `json:"description"`
			} `json:"args"`
		}
		json.Unmarshal(m.Params, &e)
		level := map[string]string{"error": "error", "assert": "error", "warning": "warning"}[e.Type]
		if level == "" {
			return
		}
		var parts []string
		for _, a := range e.Args {
			if a.Value != nil {
				parts = append(parts, fmt.Sprint(a.Value))
			} else {
				parts = append(parts, a.Description)
			}
		}
		p.Problems = append(p.Problems, Problem{Level: level, Source: "console", Text: strings.Join(parts, " ")})
	case "Log.entryAdded":
		var e struct {
			Entry struct {
				Source, Level, Text, URL string
			} `json:"entry"`
		}
		json.Unmarshal(m.Params, &e)
		if e.Entry.Level == "error" || e.Entry.Level == "warning" {
			p.Problems = append(p.Problems, Problem{Level: e.Entry.Level, Source: e.Entry.Source, Text: e.Entry.Text, URL: e.Entry.URL})
		}
	}
}
