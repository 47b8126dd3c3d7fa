package server

import (
	"bytes"
	_ "embed"
	"encoding/binary"
	"encoding/xml"
	"errors"
	"fmt"
	"html/template"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"net/url"
	"strings"
	texttemplate "text/template"
)

// The site's fixed assets: the stylesheet browsers apply to the feeds, and
// the favicon. Each is a document of the render cache at a fixed path, so
// it has an ETag, a gzip twin and the hit path of every other document.
const (
	xslPath     = "/feed.xsl"
	iconPath    = "/favicon.svg"
	icoPath     = "/favicon.ico" // what browsers ask for when a page names no icon, and feed readers always
	assetKind   = "asset"        // the cache key kind of all three; the slug is the path
	xmlType     = "application/xml; charset=utf-8"
	xslType     = "text/xsl; charset=utf-8" // what Chromium, Firefox and WebKit all take for an XSLT
	svgType     = "image/svg+xml"
	icoType     = "image/x-icon"
	brandColour = "#b3261e"
)

//go:embed templates/site.css
var siteCSS string

//go:embed templates/feed.xsl
var feedXSL string

// logo is the site's mark, drawn like the favicon: a page of headlines.
const logo = `<svg xmlns="http://www.w3.org/2000/svg" width="26" height="26" viewBox="0 0 32 32" aria-hidden="true">` +
	`<rect width="32" height="32" rx="7" fill="` + brandColour + `"/>` +
	`<rect x="7" y="7.5" width="18" height="4.5" rx="1" fill="#fff"/>` +
	`<rect x="7" y="15" width="18" height="2.6" rx="1" fill="#fff" fill-opacity=".85"/>` +
	`<rect x="7" y="20.4" width="12" height="2.6" rx="1" fill="#fff" fill-opacity=".85"/></svg>`

// The XSLT is XML, so it is a text/template whose values are XML-escaped
// by hand: html/template would escape them for HTML.
var xslTemplate = texttemplate.Must(texttemplate.New("feed.xsl").Funcs(texttemplate.FuncMap{
	"xml": func(s string) string {
		var b strings.Builder
		xml.EscapeText(&b, []byte(s)) // writes to a Builder do not fail
		return b.String()
	},
}).Parse(feedXSL))

// stylesheetPath is the address feeds give their stylesheet: the path under
// public_url, not the whole URL, because browsers apply only a same-origin
// XSLT, and a feed may be opened under another host name (localhost, an
// internal name) than the one public_url gives.
func (st *state) stylesheetPath() string {
	u, err := url.Parse(st.site.PublicURL)
	if err != nil {
		return xslPath
	}
	return u.EscapedPath() + xslPath
}

func (st *state) iconURL() string { return st.site.PublicURL + iconPath }

// asset serves the fixed assets.
func (s *Server) asset(w http.ResponseWriter, r *http.Request) {
	st := s.state.Load()
	path := r.URL.Path
	e, err := st.cache.get(key{slug: path, kind: assetKind}, func() (content, error) { return renderAsset(st, path) })
	if errors.Is(err, errSuperseded) { // a reload took over meanwhile: ask it
		<-st.cache.handedOver
		s.asset(w, r)
		return
	}
	if err != nil {
		s.error(w, r, err)
		return
	}
	serve(w, r, st.cacheControl, e)
}

func renderAsset(st *state, path string) (content, error) {
	switch path {
	case xslPath:
		var buf bytes.Buffer
		err := xslTemplate.Execute(&buf, struct {
			SiteTitle, Home, OPML, Icon, CSS string
			Logo                             string
		}{st.site.Title, st.site.PublicURL + "/", st.site.PublicURL + "/topics.opml", st.iconURL(), siteCSS, logo})
		if err != nil {
			return content{}, fmt.Errorf("render feed.xsl: %w", err)
		}
		return content{body: buf.Bytes(), contentType: xslType}, nil
	case iconPath:
		return content{body: []byte(logo), contentType: svgType}, nil
	case icoPath:
		ico, err := favicon()
		if err != nil {
			return content{}, fmt.Errorf("render favicon.ico: %w", err)
		}
		return content{body: ico, contentType: icoType}, nil
	}
	return content{}, fmt.Errorf("no asset %s", path)
}

// favicon draws the logo at 32×32 and wraps the PNG in an ICO container
// (one entry; PNG inside ICO is read by every browser since 2007), for the
// clients that ask for /favicon.ico and read nothing else.
func favicon() ([]byte, error) {
	const n = 32
	img := image.NewNRGBA(image.Rect(0, 0, n, n))
	brand := color.NRGBA{0xb3, 0x26, 0x1e, 0xff}
	white := color.NRGBA{0xff, 0xff, 0xff, 0xff}
	soft := color.NRGBA{0xff, 0xff, 0xff, 0xd9}
	inRounded := func(x, y, x0, y0, x1, y1, r int) bool {
		if x < x0 || x >= x1 || y < y0 || y >= y1 {
			return false
		}
		cx := min(max(x, x0+r), x1-1-r)
		cy := min(max(y, y0+r), y1-1-r)
		dx, dy := x-cx, y-cy
		return dx*dx+dy*dy <= r*r
	}
	for y := range n {
		for x := range n {
			switch {
			case !inRounded(x, y, 0, 0, n, n, 6):
				continue // transparent corners
			case inRounded(x, y, 7, 8, 25, 12, 1):
				img.SetNRGBA(x, y, white)
			case inRounded(x, y, 7, 15, 25, 18, 1), inRounded(x, y, 7, 20, 19, 23, 1):
				img.SetNRGBA(x, y, blend(brand, soft))
			default:
				img.SetNRGBA(x, y, brand)
			}
		}
	}
	var pngBuf bytes.Buffer
	if err := png.Encode(&pngBuf, img); err != nil {
		return nil, err
	}
	var ico bytes.Buffer
	// ICONDIR, then one ICONDIRENTRY: width, height, colours, reserved,
	// planes, bits per pixel, size, offset (little-endian throughout).
	binary.Write(&ico, binary.LittleEndian, [3]uint16{0, 1, 1})
	ico.Write([]byte{n, n, 0, 0})
	binary.Write(&ico, binary.LittleEndian, [2]uint16{1, 32})
	binary.Write(&ico, binary.LittleEndian, [2]uint32{uint32(pngBuf.Len()), 6 + 16})
	ico.Write(pngBuf.Bytes())
	return ico.Bytes(), nil
}

// blend paints c over bg.
func blend(bg, c color.NRGBA) color.NRGBA {
	mix := func(a, b uint8) uint8 { return uint8((int(a)*(255-int(c.A)) + int(b)*int(c.A)) / 255) }
	return color.NRGBA{mix(bg.R, c.R), mix(bg.G, c.G), mix(bg.B, c.B), 0xff}
}

// templateFuncs are the functions the page templates share with the
// stylesheet: one look for pages and styled feeds.
var templateFuncs = template.FuncMap{
	"css":  func() template.CSS { return template.CSS(siteCSS) },
	"logo": func() template.HTML { return template.HTML(logo) },
}
