package web

import (
	"bytes"
	"strings"
	"sync"

	"github.com/microcosm-cc/bluemonday"
	"golang.org/x/net/html"
)

// Message HTML is made safe on the server before any browser sees it: an
// allow-list sanitiser (bluemonday, docs/decisions.md) keeps the markup mail
// is written in (tables, inline styles from a fixed list of properties,
// links) and drops everything else: scripts, event handlers, forms, frames,
// style sheets, external references other than links and images. Remote
// images are then taken out unless the reader allowed them. The result is
// shown in a sandboxed frame under its own Content-Security-Policy (read.go),
// so a sanitiser bug alone does not run script or fetch anything.

var (
	policyOnce sync.Once
	policy     *bluemonday.Policy
)

func mailPolicy() *bluemonday.Policy {
	policyOnce.Do(func() {
		p := bluemonday.UGCPolicy()
		p.AllowElements("font", "center", "span", "div", "u", "s", "small", "big", "hr")
		p.AllowAttrs("color", "face", "size").OnElements("font")
		p.AllowAttrs("align", "valign", "width", "height", "bgcolor", "border", "cellpadding", "cellspacing", "colspan", "rowspan").
			OnElements("table", "tr", "td", "th", "tbody", "thead", "tfoot", "col", "colgroup", "img", "p", "div")
		p.AllowStyles("color", "background-color", "font-size", "font-weight", "font-style", "font-family", "text-align",
			"text-decoration", "vertical-align", "line-height", "margin", "margin-top", "margin-bottom", "margin-left", "margin-right",
			"padding", "padding-top", "padding-bottom", "padding-left", "padding-right", "border", "border-top", "border-bottom",
			"border-left", "border-right", "border-collapse", "border-color", "border-width", "border-style", "width", "height",
			"max-width", "min-width", "white-space", "display").Globally()
		p.AllowURLSchemes("http", "https", "mailto", "cid")
		p.AllowDataURIImages()
		p.RequireNoFollowOnLinks(true)
		p.RequireNoReferrerOnLinks(true)
		p.AddTargetBlankToFullyQualifiedLinks(true)
		p.AllowRelativeURLs(false)
		policy = p
	})
	return policy
}

// sanitizeHTML returns safe markup for a message's HTML and how many remote
// images it held. With allowRemote false, remote image sources are removed
// (the reader sees a note and can allow them). cid: image sources are
// replaced by what resolve returns (inline.go), or removed when it returns "".
func sanitizeHTML(src string, allowRemote bool, resolve func(cid string) string) (string, int) {
	clean := mailPolicy().Sanitize(src)
	return rewriteImages(clean, allowRemote, resolve)
}

// rewriteImages counts <img> elements with http(s) sources and, unless
// allowRemote, drops those sources; it points cid: sources at the message's
// own parts. It works on the sanitiser's output, so the markup is already
// well formed and the URLs it writes are ours.
func rewriteImages(clean string, allowRemote bool, resolve func(cid string) string) (string, int) {
	z := html.NewTokenizer(strings.NewReader(clean))
	var out bytes.Buffer
	out.Grow(len(clean))
	remote := 0
	for {
		tt := z.Next()
		if tt == html.ErrorToken {
			break
		}
		tok := z.Token()
		if (tt == html.StartTagToken || tt == html.SelfClosingTagToken) && tok.Data == "img" {
			attrs := tok.Attr[:0]
			for _, at := range tok.Attr {
				if at.Key == "src" || at.Key == "srcset" {
					v := strings.ToLower(strings.TrimSpace(at.Val))
					if strings.HasPrefix(v, "http:") || strings.HasPrefix(v, "https:") || strings.HasPrefix(v, "//") {
						remote++
						if !allowRemote {
							continue
						}
					}
					if strings.HasPrefix(v, "cid:") {
						if at.Key != "src" || resolve == nil {
							continue
						}
						if at.Val = resolve(strings.TrimSpace(at.Val)[4:]); at.Val == "" {
							continue // no such image in this message
						}
					}
				}
				attrs = append(attrs, at)
			}
			tok.Attr = attrs
		}
		out.WriteString(tok.String())
	}
	return out.String(), remote
}
