package ui

import (
	"crypto/sha256"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nexus-go/nexus-go/pkg/auth"
)

// sessionCookieOf finds the session cookie a response set.
func sessionCookieOf(t *testing.T, p answer) *http.Cookie {
	t.Helper()
	resp := http.Response{Header: p.header}
	for _, c := range resp.Cookies() {
		if c.Name == sessionCookie {
			return c
		}
	}
	t.Fatalf("no %s cookie in %v", sessionCookie, p.header["Set-Cookie"])
	return nil
}

func TestSessionCookieAttributes(t *testing.T) {
	t.Parallel()
	for _, useTLS := range []bool{false, true} {
		e := newEnvTLS(t, useTLS)
		p := e.browser().signIn(auth.AdminUser, e.adminPW)
		if p.status != http.StatusSeeOther {
			t.Fatalf("sign-in: %d", p.status)
		}
		c := sessionCookieOf(t, p)
		if !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/" || c.Secure != useTLS {
			t.Errorf("TLS %v: cookie %+v; want HttpOnly, SameSite=Lax, Path=/, Secure only under TLS", useTLS, c)
		}
		if len(c.Value) != 43 { // 32 random bytes, base64url
			t.Errorf("session id %q: want 32 random bytes", c.Value)
		}
		// The store keeps the session under the hash of the id.
		e.ui.sessions.mu.Lock()
		_, ok := e.ui.sessions.byKey[sha256.Sum256([]byte(c.Value))]
		e.ui.sessions.mu.Unlock()
		if !ok {
			t.Error("no session under the hash of the cookie's id")
		}
	}
}

func TestCSRFRefused(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	b := e.admin()
	form := func() url.Values {
		return url.Values{"format": {"raw"}, "type": {"hosted"}, "name": {"raw-csrf"}, "online": {"true"},
			"storage.blobStoreName": {"default"}}
	}
	for _, tc := range []struct {
		name  string
		token string
		hdr   map[string]string
	}{
		{"missing token", "", nil},
		{"wrong token", "not-the-token", nil},
		{"cross-origin", "RIGHT", map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": "http://evil.example"}},
	} {
		f := form()
		if tc.token == "RIGHT" {
			f.Set("_csrf", metaToken(b.get("/ui/repositories").body))
		} else if tc.token != "" {
			f.Set("_csrf", tc.token)
		}
		b.header = http.Header{}
		for k, v := range tc.hdr {
			b.header.Set(k, v)
		}
		p := b.do(http.MethodPost, "/ui/repositories/new", f)
		if p.status != http.StatusForbidden {
			t.Errorf("%s: status %d, want 403", tc.name, p.status)
		}
		p.has(t, `class="alert"`)
		if _, ok := e.repos.Lookup("raw-csrf"); ok {
			t.Fatalf("%s: the repository was created", tc.name)
		}
	}
	b.header = http.Header{}
	// The header form (htmx) works as the field does.
	b.header.Set("X-CSRF-Token", metaToken(b.get("/ui/repositories").body))
	if p := b.do(http.MethodPost, "/ui/repositories/new", form()); p.status != http.StatusSeeOther {
		t.Fatalf("with the token: %d %s", p.status, p.body)
	}
	if _, ok := e.repos.Lookup("raw-csrf"); !ok {
		t.Fatal("with the token, no repository")
	}

	// Sign-in: the form's token must match its cookie (login CSRF).
	anon := e.browser()
	p := anon.do(http.MethodPost, "/ui/login", url.Values{"_csrf": {"forged"}, "username": {"admin"}, "password": {e.adminPW}})
	if p.status != http.StatusForbidden {
		t.Errorf("sign-in without the pre-session cookie: %d, want 403", p.status)
	}
	if len(p.header["Set-Cookie"]) != 0 && strings.Contains(strings.Join(p.header["Set-Cookie"], ";"), sessionCookie) {
		t.Error("a forged sign-in got a session")
	}
}

// Sign-ins are Authenticate's: failures in the UI count towards the
// throttle the REST API's logins meet, and the reverse.
func TestLoginThrottleShared(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	for range 5 {
		if p := b.signIn(auth.AdminUser, "wrong"); p.status != http.StatusUnauthorized {
			t.Fatalf("wrong password: %d", p.status)
		} else {
			p.has(t, `class="alert"`)
		}
	}
	// Past the threshold (5 of a user at an address), each attempt waits
	// 250 ms or more before its check, over REST (whose Basic logins
	// Authenticate checks) as in the UI.
	start := time.Now()
	if _, err := e.auth.Authenticate(e.system(), auth.AdminUser, "wrong", "127.0.0.1"); err == nil {
		t.Fatal("a wrong password passed")
	}
	if d := time.Since(start); d < 200*time.Millisecond {
		t.Errorf("a sixth failed login (Basic) took %v: not throttled after five UI failures", d)
	}
	start = time.Now()
	b.signIn(auth.AdminUser, "wrong")
	if d := time.Since(start); d < 200*time.Millisecond {
		t.Errorf("a seventh failed login (UI) took %v: not throttled", d)
	}
}

func TestIdleTimeout(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	b := e.admin()
	if p := b.get("/ui/repositories"); p.status != http.StatusOK {
		t.Fatalf("signed in: %d", p.status)
	}
	// Each use restarts the timeout.
	e.clock.Advance(29 * time.Minute)
	if p := b.get("/ui/repositories"); p.status != http.StatusOK {
		t.Fatalf("after 29 idle minutes: %d", p.status)
	}
	e.clock.Advance(29 * time.Minute)
	if p := b.get("/ui/repositories"); p.status != http.StatusOK {
		t.Fatalf("29 minutes after the last use: %d", p.status)
	}
	e.clock.Advance(31 * time.Minute)
	p := b.get("/ui/repositories")
	if p.status != http.StatusSeeOther || !strings.HasPrefix(p.location(), "/ui/login") {
		t.Fatalf("after 31 idle minutes: %d %s, want a redirect to sign in", p.status, p.location())
	}
	e.clock.Advance(-31 * time.Minute)
	if p := b.get("/ui/repositories"); p.status != http.StatusSeeOther {
		t.Fatalf("an expired session came back: %d", p.status)
	}
	// Signing out of the expired session (a page left open) signs out.
	if p := b.do(http.MethodPost, "/ui/logout", url.Values{"_csrf": {"stale"}}); p.status != http.StatusSeeOther || !strings.HasPrefix(p.location(), "/ui/login") {
		t.Errorf("sign-out after the timeout: %d %s, want a redirect to sign in", p.status, p.location())
	}
}

func TestSignOutVoidsCookie(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	b := e.admin()
	var id string
	for _, c := range b.jar.Cookies(mustURL(t, e.srv.URL)) {
		if c.Name == sessionCookie {
			id = c.Value
		}
	}
	if id == "" {
		t.Fatal("no session cookie")
	}
	p := b.post("/ui/repositories", "/ui/logout", url.Values{})
	if p.status != http.StatusSeeOther || p.location() != "/ui/login" {
		t.Fatalf("sign-out: %d %s", p.status, p.location())
	}
	if c := sessionCookieOf(t, p); c.MaxAge >= 0 {
		t.Errorf("sign-out left the cookie: %+v", c)
	}
	// The old id, sent again by someone who kept it, is void.
	stale := e.browser()
	stale.jar.SetCookies(mustURL(t, e.srv.URL), []*http.Cookie{{Name: sessionCookie, Value: id, Path: "/"}})
	if p := stale.get("/ui/security/users"); p.status != http.StatusSeeOther || !strings.HasPrefix(p.location(), "/ui/login") {
		t.Errorf("the signed-out cookie still works: %d %s", p.status, p.location())
	}
	if p := stale.get("/"); p.status != http.StatusSeeOther {
		t.Errorf("dashboard with the signed-out cookie: %d", p.status)
	}
}

// A new password (here through the service, as the REST API sets it) ends
// the sessions started with the old one.
func TestPasswordChangeEndsSessions(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	b := e.admin()
	other := e.browser()
	if p := other.signIn(auth.AdminUser, e.adminPW); p.status != http.StatusSeeOther {
		t.Fatal(p.status)
	}
	ctx := auth.WithPrincipal(t.Context(), auth.System())
	if err := e.auth.ChangePassword(ctx, auth.AdminUser, "third-password"); err != nil {
		t.Fatal(err)
	}
	for _, br := range []*browser{b, other} {
		if p := br.get("/ui/repositories"); p.status != http.StatusSeeOther {
			t.Errorf("session after a password change: %d", p.status)
		}
	}
}

func TestForcedPasswordChange(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	b := e.browser()
	p := b.signIn(auth.AdminUser, e.adminPW)
	if p.status != http.StatusSeeOther || p.location() != "/ui/password" {
		t.Fatalf("first sign-in: %d %s, want /ui/password", p.status, p.location())
	}
	for _, path := range []string{"/", "/ui/repositories", "/ui/security/users"} {
		if p := b.get(path); p.status != http.StatusSeeOther || p.location() != "/ui/password" {
			t.Errorf("%s before the change: %d %s", path, p.status, p.location())
		}
	}
	form := b.get("/ui/password")
	form.lacks(t, `id="current-password"`)
	form.has(t, `id="new-password"`)
	if p := b.post("/ui/password", "/ui/password", url.Values{"new-password": {"a-new-one"}, "confirm-password": {"another"}}); p.status != http.StatusBadRequest {
		t.Errorf("differing passwords: %d", p.status)
	} else {
		p.has(t, `data-field="confirm-password"`)
	}
	file := filepath.Join(e.dir, auth.AdminPasswordFile)
	if _, err := os.Stat(file); err != nil {
		t.Fatal("the password file went before the change")
	}
	if p := b.post("/ui/password", "/ui/password", url.Values{"new-password": {"a-new-one"}, "confirm-password": {"a-new-one"}}); p.status != http.StatusSeeOther {
		t.Fatalf("change: %d %s", p.status, p.body)
	}
	if _, err := os.Stat(file); !os.IsNotExist(err) {
		t.Errorf("admin.password is still there: %v", err)
	}
	if p := b.get("/"); p.status != http.StatusOK {
		t.Errorf("dashboard after the change: %d", p.status)
	}
	// From now on a change asks for the current password.
	b.get("/ui/password").has(t, `id="current-password"`)
	if p := b.post("/ui/password", "/ui/password", url.Values{"current-password": {"wrong"}, "new-password": {"x1"}, "confirm-password": {"x1"}}); p.status != http.StatusBadRequest {
		t.Errorf("change with a wrong current password: %d", p.status)
	}
	if _, err := e.auth.Authenticate(t.Context(), auth.AdminUser, "a-new-one", "127.0.0.2"); err != nil {
		t.Errorf("the new password does not sign in: %v", err)
	}
}

func mustURL(t *testing.T, s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func TestSessionsBounded(t *testing.T) {
	now := time.Unix(0, 0)
	s := newSessions(time.Hour, func() time.Time { return now })
	first, _ := s.create("u0", "")
	for i := range maxSessions + 10 {
		now = now.Add(time.Millisecond)
		s.create(fmt.Sprint("u", i+1), "")
	}
	if n := len(s.byKey); n > maxSessions {
		t.Errorf("%d sessions kept, want at most %d", n, maxSessions)
	}
	if s.get(first) != nil {
		t.Error("the session unused longest is still there")
	}
}
