package main

// End-to-end tests of the UI's sessions in headless chromium: the session
// cookie's attributes, CSRF protection of every state-changing request, the
// cookie's scope (UI pages only), sign-out and the idle timeout.

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// withCookie requests path with the session cookie value only (no
// browser), as someone holding a copied cookie would.
func withCookie(s *nexusServer, method, path, cookie string, form url.Values, hdr http.Header) result {
	s.t.Helper()
	h := http.Header{"Cookie": {"NXSESSIONID=" + cookie}}
	for k, vs := range hdr {
		h[k] = vs
	}
	var body []byte
	if form != nil {
		body = []byte(form.Encode())
		h.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	return s.do(method, path, nil, body, h)
}

// signedInPage tells a page that a signed-in user got from a redirect to
// the sign-in page.
func signedInPage(r result) bool {
	return r.status == http.StatusOK && strings.Contains(string(r.body), `id="sign-out"`)
}

// TestUISessions: the session cookie is HttpOnly, SameSite=Lax and scoped
// to the context path; a POST without the session's CSRF token (missing,
// wrong, or from another origin) is refused and changes nothing, the same
// POST with it succeeds; a sign-in POST without its pre-session token is
// refused; the cookie opens no REST or repository route; after sign-out
// the cookie opens nothing.
func TestUISessions(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	admin := uiAdmin(t, s)

	c := admin.cookie("NXSESSIONID")
	if c == nil {
		t.Fatal("no NXSESSIONID cookie after signing in")
	}
	if !c.HTTPOnly || c.SameSite != "Lax" || c.Path != "/" || c.Secure {
		t.Errorf("NXSESSIONID: HttpOnly %t, SameSite %q, Path %q, Secure %t; want HttpOnly, Lax, /, not Secure over HTTP",
			c.HTTPOnly, c.SameSite, c.Path, c.Secure)
	}
	if strings.Contains(s.logs.String(), c.Value) {
		t.Errorf("the server's log holds the session id")
	}
	if r := withCookie(s, http.MethodGet, "/", c.Value, nil, nil); !signedInPage(r) {
		t.Fatalf("GET / with the session cookie: status %d, want the signed-in dashboard", r.status)
	}

	// The same create, without and with the token.
	admin.open("/ui/repositories/new?format=raw&type=hosted")
	admin.fillRepoForm("ui-csrf", repoForm{})
	action := eval[string](admin, `document.querySelector("#repository-form").getAttribute("action") || location.pathname + location.search`)
	form := admin.formValues("#repository-form")
	token := form.Get("_csrf")
	if token == "" || token != admin.csrf() {
		t.Fatalf("the form's _csrf %q and the page's csrf-token %q", token, admin.csrf())
	}
	without := admin.withToken(form)
	without.Del("_csrf")
	wrong := admin.withToken(form)
	wrong.Set("_csrf", strings.Repeat("A", len(token)))
	refused := []struct {
		what string
		form url.Values
		hdr  map[string]string
	}{
		{"no token", without, nil},
		{"a wrong token", wrong, nil},
		{"a wrong X-CSRF-Token header", without, map[string]string{"X-CSRF-Token": "x" + token}},
	}
	for _, r := range refused {
		if res := admin.fetch(http.MethodPost, action, r.form, r.hdr); res.Status != http.StatusForbidden {
			t.Errorf("a create with %s: status %d, want 403: %.300s", r.what, res.Status, res.Body)
		}
	}
	// Another origin with the right cookie and token (what a page
	// elsewhere could make a browser send) is refused too.
	if r := withCookie(s, http.MethodPost, action, c.Value, form, http.Header{"Origin": {"http://upstream.example"},
		"Sec-Fetch-Site": {"cross-site"}}); r.status != http.StatusForbidden {
		t.Errorf("a cross-origin create with the cookie and token: status %d, want 403", r.status)
	}
	if repoConfig(s, "ui-csrf") != nil {
		t.Fatalf("a refused create made the repository")
	}
	// The header form of the token, as htmx sends it, is accepted.
	if res := admin.fetch(http.MethodPost, action, without, map[string]string{"X-CSRF-Token": token}); res.Status != http.StatusOK || repoConfig(s, "ui-csrf") == nil {
		t.Errorf("a create with the X-CSRF-Token header: status %d, repository %v: %.300s", res.Status, repoConfig(s, "ui-csrf"), res.Body)
	}

	// Login CSRF: a sign-in POST without the pre-session token.
	login := url.Values{"username": {"admin"}, "password": {s.adminPW}}
	r := s.do(http.MethodPost, "/ui/login", nil, []byte(login.Encode()), http.Header{"Content-Type": {"application/x-www-form-urlencoded"}})
	if r.status != http.StatusForbidden || strings.Contains(strings.Join(r.header.Values("Set-Cookie"), ";"), "NXSESSIONID=") {
		t.Errorf("a sign-in POST without its token: status %d, cookies %q; want 403 and no session", r.status, r.header.Values("Set-Cookie"))
	}

	// The cookie is the UI's only: REST and repository routes ignore it.
	for _, p := range []string{"/service/rest/v1/security/users", "/repository/maven-releases/"} {
		if r := withCookie(s, http.MethodGet, p, c.Value, nil, nil); r.status != http.StatusUnauthorized {
			t.Errorf("GET %s with only the session cookie: status %d, want 401", p, r.status)
		}
	}

	admin.submit("#sign-out")
	if p := admin.path(); !strings.HasPrefix(p, "/ui/login") && p != "/" {
		t.Errorf("after signing out: at %s", p)
	}
	admin.absent("#sign-out", "signed out")
	if r := withCookie(s, http.MethodGet, "/", c.Value, nil, nil); r.status/100 != 3 || !strings.Contains(r.header.Get("Location"), "/ui/login") {
		t.Errorf("GET / with the cookie after sign-out: status %d, location %q; want a redirect to sign in",
			r.status, r.header.Get("Location"))
	}
	after := admin.withToken(form)
	after.Set("name", "ui-after-signout")
	after.Set("_csrf", token)
	if r := withCookie(s, http.MethodPost, action, c.Value, after, nil); r.status/100 == 2 || repoConfig(s, "ui-after-signout") != nil {
		t.Errorf("a create with the signed-out cookie and its old token: status %d", r.status)
	}
}

// TestUISessionIdle: a session unused for ui.session-timeout ends.
func TestUISessionIdle(t *testing.T) {
	t.Parallel()
	const idle = 3 * time.Second
	s := startServerEnv(t, "NEXUS_GO_UI_SESSION_TIMEOUT="+idle.String())
	admin := uiAdmin(t, s)
	c := admin.cookie("NXSESSIONID")
	if c == nil {
		t.Fatal("no NXSESSIONID cookie after signing in")
	}
	if r := withCookie(s, http.MethodGet, "/", c.Value, nil, nil); !signedInPage(r) {
		t.Fatalf("GET / with the fresh session: status %d", r.status)
	}
	time.Sleep(idle + time.Second)
	if r := withCookie(s, http.MethodGet, "/", c.Value, nil, nil); signedInPage(r) {
		t.Errorf("GET / after %v idle: still signed in", idle+time.Second)
	}
	admin.open("/ui/repositories")
	if p := admin.path(); !strings.HasPrefix(p, "/ui/login") {
		t.Errorf("the browser after the idle timeout: at %s, want /ui/login", p)
	}
}
