package ui

import (
	"net/http"
	"net/url"
	"testing"
)

// While the server is read-only, the UI's changes are refused with a page
// saying why (security settings included, which the engine does not
// see); signing in and reading go on.
func TestReadOnlyRefusesUIWrites(t *testing.T) {
	e := newEnv(t)
	e.createUser("dev", "dev-pw-1")
	a := e.admin()
	if err := e.repos.SetReadOnly(e.system(), true); err != nil {
		t.Fatal(err)
	}
	p := a.post("/ui/security/users/dev", "/ui/security/users/dev/password", url.Values{"password": {"frozen-pw"}})
	if p.status != http.StatusServiceUnavailable {
		t.Fatalf("password reset while frozen: %d", p.status)
	}
	p.has(t, "read-only")
	if b := e.browser(); b.signIn("dev", "dev-pw-1").status != http.StatusSeeOther {
		t.Fatal("signing in while frozen failed")
	}
	if p := a.get("/ui/repositories"); p.status != http.StatusOK {
		t.Fatalf("reading while frozen: %d", p.status)
	}
	if err := e.repos.SetReadOnly(e.system(), false); err != nil {
		t.Fatal(err)
	}
	if p := a.post("/ui/security/users/dev", "/ui/security/users/dev/password", url.Values{"password": {"thawed-pw-1"}}); p.status != http.StatusSeeOther {
		t.Fatalf("password reset after release: %d %s", p.status, p.body)
	}
}
