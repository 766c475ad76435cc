package web_test

import (
	"crypto/tls"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"
)

// A 1x1 PNG.
const pngB64 = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg=="

const relatedMail = `From: Amira Tester <amira@nhs.test>
To: ben@nhs.test
Subject: Trust logo
Message-ID: <logo-1@nhs.test>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary=m1

--m1
Content-Type: multipart/related; boundary=r1

--r1
Content-Type: text/html; charset=utf-8

<p>Our logo: <img src="cid:logo%40nhs.test" alt="logo"> <img src="cid:missing@nhs.test" alt="gone"> <img src="cid:evil@nhs.test"></p>
--r1
Content-Type: image/png
Content-ID: <logo@nhs.test>
Content-Transfer-Encoding: base64

` + pngB64 + `
--r1
Content-Type: image/svg+xml
Content-ID: <evil@nhs.test>

<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>
--r1--
--m1
Content-Type: image/png; name="scan.png"
Content-Disposition: attachment; filename="scan.png"
Content-Transfer-Encoding: base64

` + pngB64 + `
--m1--
`

func TestInlineImages(t *testing.T) {
	ts := startWeb(t, "amira@nhs.test", "ben@nhs.test")
	ts.deliver("amira@nhs.test", []string{"ben@nhs.test"}, relatedMail)
	b := ts.signIn("ben@nhs.test")
	inbox := b.folders()["INBOX"]
	items, _ := b.list(inbox.ID, "")
	var v struct {
		BodyURL     string
		Attachments []struct{ Part, Filename, Type string }
	}
	b.do("GET", "/api/v1/folders/"+itoa(inbox.ID)+"/messages/"+itoa(int64(items[0].UID)), nil, &v)
	// The inline logo is not an attachment; the SVG (not shown) and the
	// attached scan are.
	var names []string
	for _, a := range v.Attachments {
		names = append(names, a.Type+" "+a.Filename)
	}
	if strings.Join(names, "|") != "image/svg+xml attachment|image/png scan.png" {
		t.Errorf("attachments: %q", names)
	}

	resp := b.raw("GET", v.BodyURL, nil)
	frame, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	csp := resp.Header.Get("Content-Security-Policy")
	m := regexp.MustCompile(`src="(/api/v1/inline/[^"]+)"`).FindAllStringSubmatch(string(frame), -1)
	if len(m) != 1 || strings.Contains(string(frame), "cid:") {
		t.Fatalf("frame images: %q\n%s", m, frame)
	}
	src := strings.ReplaceAll(m[0][1], "&amp;", "&")
	host := strings.TrimPrefix(ts.URL, "https://")
	prefix := "/api/v1/inline/" + itoa(inbox.ID) + "/" + itoa(int64(items[0].UID)) + "/"
	if !strings.Contains(csp, "img-src data: "+host+prefix+";") || strings.Contains(csp, "https:") {
		t.Errorf("frame CSP %q", csp)
	}

	// The signed URL works without a session (the sandboxed frame has none),
	// is an image shown inline, and can be read cross-origin.
	anon := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	get := func(u string) *http.Response {
		t.Helper()
		r, err := anon.Get(ts.URL + u)
		if err != nil {
			t.Fatal(err)
		}
		r.Body.Close()
		return r
	}
	r := get(src)
	if r.StatusCode != 200 || r.Header.Get("Content-Type") != "image/png" || !strings.HasPrefix(r.Header.Get("Content-Disposition"), "inline;") ||
		r.Header.Get("X-Content-Type-Options") != "nosniff" || r.Header.Get("Cross-Origin-Resource-Policy") != "cross-origin" {
		t.Errorf("inline image: %d %v", r.StatusCode, r.Header)
	}
	// Tampered: another part, another message, a longer expiry.
	for _, bad := range []string{strings.Replace(src, prefix+"1.2", prefix+"1.3", 1), strings.Replace(src, "&e=", "&e=9", 1),
		strings.Replace(src, prefix, "/api/v1/inline/"+itoa(inbox.ID)+"/"+itoa(int64(items[0].UID)+1)+"/", 1)} {
		if r := get(bad); r.StatusCode != 403 {
			t.Errorf("tampered %s: %d", bad, r.StatusCode)
		}
	}
	ts.Advance(11 * time.Minute)
	if r := get(src); r.StatusCode != 403 {
		t.Errorf("expired: %d", r.StatusCode)
	}

	// Through the session: the PNG attachment may be shown, the SVG is a download.
	for _, a := range v.Attachments {
		resp := b.raw("GET", "/api/v1/folders/"+itoa(inbox.ID)+"/messages/"+itoa(int64(items[0].UID))+"/parts/"+a.Part, nil)
		resp.Body.Close()
		cd := resp.Header.Get("Content-Disposition")
		if want := map[string]string{"image/png": "inline;", "image/svg+xml": "attachment;"}[a.Type]; !strings.HasPrefix(cd, want) {
			t.Errorf("%s: Content-Disposition %q", a.Type, cd)
		}
	}
}
