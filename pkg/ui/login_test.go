package ui

import (
	"net/http"
	"net/url"
	"testing"
)

// A destination after sign-in is a path of this server: nothing a browser
// would read as another site ("//host", "/\t/host", "/\\host").
func TestSafeNext(t *testing.T) {
	for next, want := range map[string]string{
		"/ui/repositories":   "/ui/repositories",
		"/ui/browse/a/?x=1":  "/ui/browse/a/?x=1",
		"//evil.example/":    "",
		"/\t/evil.example/":  "",
		"/\n/evil.example/":  "",
		"/\x7f/evil.example": "",
		"/\\evil.example/":   "",
		"https://evil/":      "",
		"relative":           "",
	} {
		if got := safeNext(next); got != want {
			t.Errorf("safeNext(%q) = %q, want %q", next, got, want)
		}
	}
}

// A session proves no password: changing one's own asks for the current
// one, on the password page; the users page's reset does not take one's
// own.
func TestOwnPasswordNeedsTheCurrentOne(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.createUser("dev", "dev-password-1", "nx-users-update", "nx-users-read")
	b := e.browser()
	if p := b.signIn("dev", "dev-password-1"); p.status != http.StatusSeeOther {
		t.Fatalf("sign-in: %d", p.status)
	}
	same := func(want string) {
		t.Helper()
		if _, err := e.auth.Authenticate(e.system(), "dev", want, "127.0.0.1"); err != nil {
			t.Fatalf("dev's password is no longer %q: %v", want, err)
		}
	}
	p := b.post("/ui/security/users/dev", "/ui/security/users/dev/password", url.Values{"password": {"taken-over-1"}})
	if p.status != http.StatusSeeOther || p.location() != "/ui/password" {
		t.Errorf("reset of one's own password: %d %s, want a redirect to /ui/password", p.status, p.location())
	}
	same("dev-password-1")
	p = b.post("/ui/password", "/ui/password", url.Values{"current-password": {"wrong"}, "new-password": {"taken-over-1"}, "confirm-password": {"taken-over-1"}})
	if p.status != http.StatusBadRequest {
		t.Errorf("change with a wrong current password: %d", p.status)
	}
	p.has(t, `data-field="current-password"`)
	same("dev-password-1")
	p = b.post("/ui/password", "/ui/password", url.Values{"current-password": {"dev-password-1"}, "new-password": {"dev-password-2"}, "confirm-password": {"dev-password-2"}})
	if p.status != http.StatusSeeOther {
		t.Fatalf("change: %d %s", p.status, p.body)
	}
	same("dev-password-2")
	// The session that changed it goes on.
	if p := b.get("/ui/repositories"); p.status != http.StatusOK {
		t.Errorf("after the change: %d", p.status)
	}
	// The admin's reset of another user still takes no current password.
	a := e.admin()
	if p := a.post("/ui/security/users/dev", "/ui/security/users/dev/password", url.Values{"password": {"reset-by-admin"}}); p.status != http.StatusSeeOther {
		t.Fatalf("admin's reset: %d", p.status)
	}
	same("reset-by-admin")
}
