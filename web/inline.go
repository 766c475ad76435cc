package web

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"wardmail/mail"
	"wardmail/message"
)

// Inline images (RFC 2392 cid: URLs). The sanitiser rewrites an <img
// src="cid:..."> that names an image part of the same message to that part's
// URL under /api/v1/inline/{folder}/{uid}/, and the frame's CSP allows images
// from that path and no other of ours. The frame is sandboxed without
// allow-same-origin, so its requests come from an opaque origin and carry no
// SameSite=Strict session cookie: the URL itself is the permission, an HMAC
// over the person, the part and an expiry (inlineTTL), with a key made when
// the process starts. Only image types a browser renders safely are served
// this way (not SVG, which can hold script).

const inlineTTL = 10 * time.Minute

func newInlineKey() []byte {
	k := make([]byte, 32)
	if _, err := rand.Read(k); err != nil {
		panic("web: no randomness for the inline image key: " + err.Error())
	}
	return k
}

// renderableImage says whether a browser may show the part in our origin:
// raster formats only.
func renderableImage(p *message.Part) bool {
	if p.Type != "image" {
		return false
	}
	switch p.Subtype {
	case "png", "jpeg", "jpg", "gif", "webp", "bmp":
		return true
	}
	return false
}

// contentID is the key a Content-ID header and a cid: URL agree on: the
// address inside <>, URL-unescaped, in lower case.
func contentID(s string) string {
	s = strings.TrimSpace(s)
	s = strings.TrimPrefix(strings.TrimSuffix(s, ">"), "<")
	if u, err := url.PathUnescape(s); err == nil {
		s = u
	}
	return strings.ToLower(s)
}

// inlineParts maps the Content-IDs of a message's renderable image parts to
// their section numbers.
func inlineParts(p *message.Part, path []int, out map[string]string) {
	if len(path) > 20 || len(out) >= 200 {
		return
	}
	if len(p.Children) > 0 {
		for i, c := range p.Children {
			inlineParts(c, append(path[:len(path):len(path)], i+1), out)
		}
		return
	}
	if p.ID == "" || !renderableImage(p) {
		return
	}
	if len(path) == 0 {
		path = []int{1}
	}
	s := make([]string, len(path))
	for i, n := range path {
		s[i] = strconv.Itoa(n)
	}
	out[contentID(p.ID)] = strings.Join(s, ".")
}

func (a *API) inlineSig(person, folder int64, uid uint32, part string, exp int64) string {
	m := hmac.New(sha256.New, a.inlineKey)
	fmt.Fprintf(m, "%d/%d/%d/%s/%d", person, folder, uid, part, exp)
	return hex.EncodeToString(m.Sum(nil)[:16])
}

func inlinePrefix(folder int64, uid uint32) string {
	return fmt.Sprintf("/api/v1/inline/%d/%d/", folder, uid)
}

// cidResolver returns the function the sanitiser calls for each cid: URL:
// the signed URL of the part it names, or "" when the message has no such
// image. used collects the Content-IDs shown, which are then not listed as
// attachments.
func (a *API) cidResolver(who *Session, l *loaded, used map[string]bool) func(string) string {
	parts := map[string]string{}
	inlineParts(l.sum.Structure, nil, parts)
	exp := a.now().Add(inlineTTL).Unix()
	return func(cid string) string {
		k := contentID(cid)
		part, ok := parts[k]
		if !ok {
			return ""
		}
		used[k] = true
		return inlinePrefix(l.box.ID, l.msg.UID) + part + "?p=" + strconv.FormatInt(who.Person.ID, 10) + "&e=" + strconv.FormatInt(exp, 10) +
			"&s=" + a.inlineSig(who.Person.ID, l.box.ID, l.msg.UID, part, exp)
	}
}

// frameImageSource is the CSP source for a message's inline images: this
// host, that message's inline path. Scheme-less, so it follows the frame's.
func frameImageSource(r *http.Request, folder int64, uid uint32) string {
	for _, c := range r.Host {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune(".-:[]", c)) {
			return ""
		}
	}
	if r.Host == "" {
		return ""
	}
	return r.Host + inlinePrefix(folder, uid)
}

// handleInline: GET /api/v1/inline/{folder}/{uid}/{part}?p=&e=&s=, an image
// shown in a message frame.
func (a *API) handleInline(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	person, err1 := strconv.ParseInt(q.Get("p"), 10, 64)
	exp, err2 := strconv.ParseInt(q.Get("e"), 10, 64)
	folder, err3 := strconv.ParseInt(r.PathValue("folder"), 10, 64)
	uid, err4 := strconv.ParseUint(r.PathValue("uid"), 10, 32)
	part := r.PathValue("part")
	if err1 != nil || err2 != nil || err3 != nil || err4 != nil ||
		!hmac.Equal([]byte(q.Get("s")), []byte(a.inlineSig(person, folder, uint32(uid), part, exp))) {
		return problem(http.StatusForbidden, "forbidden", "This image link is not valid; open the message again.")
	}
	if a.now().Unix() > exp {
		return problem(http.StatusForbidden, "forbidden", "This image link has expired; open the message again.")
	}
	who := &Session{Person: &mail.Person{ID: person}}
	l, err := a.loadMessage(r.Context(), who, r.PathValue("folder"), r.PathValue("uid"))
	if err != nil {
		return err
	}
	path, err := parsePartPath(part)
	if err != nil {
		return err
	}
	p := l.leafPart(path)
	if p == nil || !renderableImage(p) {
		return errNotFound("That image")
	}
	// The frame's opaque origin is not same-origin; the signed URL is the
	// permission, so the resource may be read cross-origin.
	w.Header().Set("Cross-Origin-Resource-Policy", "cross-origin")
	servePart(w, l, p)
	return nil
}

// servePart writes a part with its declared type (when well formed) and a
// disposition that lets a browser show it only when it is a raster image;
// anything else is a download. nosniff is on every response
// (securityHeaders).
func servePart(w http.ResponseWriter, l *loaded, p *message.Part) {
	data := message.DecodeTransfer(p.Encoding, l.body[p.BodyStart:p.End], 0)
	h := w.Header()
	name := safeFilename(partFilename(p), p)
	disp := contentDisposition(name)
	if renderableImage(p) {
		disp = "inline" + strings.TrimPrefix(disp, "attachment")
	}
	h.Set("Content-Type", safeContentType(p))
	h.Set("Content-Disposition", disp)
	h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	h.Set("Cache-Control", "private, no-store")
	h.Set("Content-Length", strconv.Itoa(len(data)))
	_, _ = w.Write(data)
}
