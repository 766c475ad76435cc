package web

import (
	"net/http"
	"time"
)

// The known-device cookie: a random identifier a browser keeps for a year
// and shows at each sign-in. Smart lockout treats a device that
// signed in to an account before as a source of its own, with the familiar
// budget, so someone guessing passwords from the same hospital network
// cannot lock a person out of the ward PC they always use. The identifier
// carries no rights by itself (it is never a session) and lockout stores
// only its hash (lockout.DeviceSource).

const deviceCookieAge = 400 * 24 * time.Hour // the longest Chromium keeps a cookie

func (a *API) deviceCookieName() string {
	if a.cfg.TLS {
		return "__Host-wardmail-device"
	}
	return "wardmail-device"
}

// device returns the browser's device identifier, giving it one (in the
// response) when it has none or a malformed one.
func (a *API) device(w http.ResponseWriter, r *http.Request) string {
	if c, err := r.Cookie(a.deviceCookieName()); err == nil && len(c.Value) == 43 {
		return c.Value
	}
	id := newToken()
	http.SetCookie(w, &http.Cookie{
		Name: a.deviceCookieName(), Value: id, Path: "/", MaxAge: int(deviceCookieAge / time.Second),
		Secure: a.cfg.TLS, HttpOnly: true, SameSite: http.SameSiteStrictMode,
	})
	return id
}
