package admin

import (
	"crypto/subtle"
	"net"
	"net/http"
	"net/url"
	"runtime/debug"
	"strings"

	"github.com/labstack/echo/v4"

	"sluice/backend/logging"
)

// TokenCookie carries the token for the front end once a page was opened
// with ?token=.
const TokenCookie = "sluice_token"

// guard checks every request before its handler: the Host header when the
// server listens on loopback only (a DNS-rebinding page cannot reach it),
// the Origin of requests that change things or open websockets (another
// site's page cannot drive it), and the token on API calls when one is set.
func (s *Server) guard(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) (err error) {
		defer func() {
			// A bug in a handler answers 500; the console goes on.
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				logging.Errorf("[admin] internal error in %s %s: %v\n%s", c.Request().Method, c.Request().URL.Path, p, debug.Stack())
				err = newError(http.StatusInternalServerError, "internal error: %v", p)
			}
		}()
		r := c.Request()
		h := c.Response().Header()
		h.Set("Server", "sluice")
		if s.cfg.Loopback && !loopbackHost(r.Host) {
			return newError(http.StatusForbidden, "host %q is not allowed: the console listens on loopback only", r.Host)
		}
		if origin := r.Header.Get("Origin"); origin != "" && (r.Method != http.MethodGet && r.Method != http.MethodHead ||
			strings.EqualFold(r.Header.Get("Upgrade"), "websocket")) && !sameOrigin(origin, r.Host) {
			return newError(http.StatusForbidden, "cross-origin request from %s refused", origin)
		}
		if s.cfg.Token != "" {
			if q := r.URL.Query().Get("token"); q != "" && !isAPI(r) && s.tokenOK(q) {
				// The front end was opened with its link: remember the token.
				c.SetCookie(&http.Cookie{Name: TokenCookie, Value: q, Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode})
			}
			if isAPI(r) && !s.tokenOK(requestToken(r)) {
				return newError(http.StatusUnauthorized, "a valid token is required (Authorization: Bearer <token>)")
			}
		}
		return next(c)
	}
}

func (s *Server) tokenOK(t string) bool {
	return t != "" && subtle.ConstantTimeCompare([]byte(t), []byte(s.cfg.Token)) == 1
}

func requestToken(r *http.Request) string {
	if a := r.Header.Get("Authorization"); len(a) > 7 && strings.EqualFold(a[:7], "bearer ") {
		return strings.TrimSpace(a[7:])
	}
	if q := r.URL.Query().Get("token"); q != "" {
		return q
	}
	if ck, err := r.Cookie(TokenCookie); err == nil {
		return ck.Value
	}
	return ""
}

// loopbackHost reports whether a Host header names this machine.
func loopbackHost(host string) bool {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.Trim(host, "[]"), ".")
	if strings.EqualFold(host, "localhost") || strings.HasSuffix(strings.ToLower(host), ".localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// sameOrigin reports whether an Origin header names the host the request
// was sent to.
func sameOrigin(origin, host string) bool {
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" {
		return false
	}
	return strings.EqualFold(u.Host, host)
}

// IsLoopback reports whether a listen address ("127.0.0.1:6060",
// "localhost:6060", "[::1]:6060") binds loopback only.
func IsLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
