package ui

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/nexus-go/nexus-go/pkg/auth"
)

func TestUsersAndRoles(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	b := e.admin()
	b.get("/ui/security/users").has(t, `data-user="admin"`)
	// A role with a privilege and a contained role, through the form.
	if p := b.post("/ui/security/roles/new", "/ui/security/roles/new", url.Values{"id": {"raw-readers"}, "name": {"Raw readers"},
		"privileges": {"nx-repository-view-raw-*-read\r\nnx-repository-view-raw-*-browse\n"}, "roles": {"nx-anonymous"}}); p.status != http.StatusSeeOther {
		t.Fatalf("create role: %d %s", p.status, p.body)
	}
	r, err := e.auth.GetRole(e.system(), "raw-readers")
	if err != nil || !slices.Equal(r.Privileges, []string{"nx-repository-view-raw-*-read", "nx-repository-view-raw-*-browse"}) || !slices.Equal(r.Roles, []string{"nx-anonymous"}) {
		t.Fatalf("stored role %+v, %v", r, err)
	}
	b.get("/ui/security/roles").has(t, `data-role="raw-readers"`)
	rp := b.get("/ui/security/roles/raw-readers")
	rp.has(t, `id="role-form"`)
	rp.has(t, `name="roles" value="nx-anonymous" checked`)
	// A bad privilege name is the service's error, shown on the form.
	if p := b.post("/ui/security/roles/raw-readers", "/ui/security/roles/raw-readers", url.Values{"privileges": {"not a privilege"}}); p.status != http.StatusBadRequest {
		t.Errorf("bad privilege: %d", p.status)
	} else {
		p.has(t, `class="alert"`)
	}

	// A user with that role, through the form.
	if p := b.post("/ui/security/users/new", "/ui/security/users/new", url.Values{"userId": {"dev"}, "firstName": {"Dev"}, "lastName": {"One"},
		"emailAddress": {"dev@upstream.example"}, "password": {"dev-pw"}, "status": {"active"}, "roles": {"raw-readers"}}); p.status != http.StatusSeeOther {
		t.Fatalf("create user: %d %s", p.status, p.body)
	}
	dev := e.browser()
	if p := dev.signIn("dev", "dev-pw"); p.status != http.StatusSeeOther {
		t.Fatalf("dev sign-in: %d", p.status)
	}
	up := b.get("/ui/security/users/dev")
	up.has(t, `id="user-form"`)
	up.has(t, `name="roles" value="raw-readers" checked`)
	up.has(t, `id="reset-password"`)
	up.has(t, `id="delete-user"`)
	// Disabling the user ends what its session may do at once.
	if p := b.post("/ui/security/users/dev", "/ui/security/users/dev", url.Values{"firstName": {"Dev"}, "status": {"disabled"}, "roles": {"raw-readers"}}); p.status != http.StatusSeeOther {
		t.Fatalf("disable: %d %s", p.status, p.body)
	}
	if p := dev.get("/ui/repositories"); p.status != http.StatusSeeOther {
		t.Errorf("a disabled user's session: %d", p.status)
	}
	// Reset password, then delete.
	if p := b.post("/ui/security/users/dev", "/ui/security/users/dev/password", url.Values{"password": {"new-dev-pw"}}); p.status != http.StatusSeeOther {
		t.Fatalf("reset: %d %s", p.status, p.body)
	}
	b.get("/ui/security/users/dev/delete").has(t, `id="confirm-delete"`)
	if p := b.post("/ui/security/users/dev", "/ui/security/users/dev/delete", url.Values{}); p.status != http.StatusSeeOther {
		t.Fatalf("delete: %d", p.status)
	}
	if _, err := e.auth.GetUser(e.system(), "dev"); err == nil {
		t.Error("dev still exists")
	}
	// One's own account cannot be deleted (the service says so).
	b.get("/ui/security/users/admin").lacks(t, `id="delete-user"`)
	if p := b.post("/ui/security/users/admin", "/ui/security/users/admin/delete", url.Values{}); p.status != http.StatusBadRequest {
		t.Errorf("deleting oneself: %d", p.status)
	}
}

func TestTokensPage(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.createUser("dev", "dev-pw", "nx-repository-view-npm-*-read")
	ctx := context.Background()
	mine, info, err := e.auth.CreateToken(ctx, "dev", auth.NpmRealm, auth.TokenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	_, other, err := e.auth.CreateToken(ctx, auth.AdminUser, auth.NpmRealm, auth.TokenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	b := e.browser()
	b.signIn("dev", "dev-pw")
	p := b.get("/ui/security/tokens")
	p.has(t, `data-token="`+info.Prefix+`"`)
	p.lacks(t, other.Prefix)
	p.lacks(t, mine)
	// Another user's token is not the caller's to revoke.
	if p := b.post("/ui/security/tokens", "/ui/security/tokens/revoke", url.Values{"key": {other.Key}}); p.status != http.StatusNotFound {
		t.Errorf("revoking another's token: %d", p.status)
	}
	if p := b.post("/ui/security/tokens", "/ui/security/tokens/revoke", url.Values{"key": {info.Key}}); p.status != http.StatusSeeOther {
		t.Fatalf("revoke: %d %s", p.status, p.body)
	}
	left, err := e.auth.Tokens(e.system(), "dev", auth.NpmRealm)
	if err != nil || len(left) != 0 {
		t.Errorf("tokens left %v, %v", left, err)
	}
	if all, _ := e.auth.Tokens(e.system(), auth.AdminUser, auth.NpmRealm); len(all) != 1 {
		t.Errorf("the admin's token went too: %v", all)
	}
	// An administrator sees and revokes a user's tokens on the user's page.
	_, again, err := e.auth.CreateToken(ctx, "dev", auth.NpmRealm, auth.TokenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	admin := e.admin()
	admin.get("/ui/security/users/dev").has(t, `data-token="`+again.Prefix+`"`)
	if p := admin.post("/ui/security/users/dev", "/ui/security/tokens/revoke", url.Values{"user": {"dev"}, "key": {again.Key}}); p.status != http.StatusSeeOther || p.location() != "/ui/security/users/dev" {
		t.Fatalf("admin revoke: %d %s", p.status, p.location())
	}
	if left, _ := e.auth.Tokens(e.system(), "dev", auth.NpmRealm); len(left) != 0 {
		t.Errorf("dev's token survived the admin's revoke: %v", left)
	}
	// The user cannot revoke the admin's by naming the admin.
	if p := b.post("/ui/security/tokens", "/ui/security/tokens/revoke", url.Values{"user": {auth.AdminUser}, "key": {other.Key}}); p.status != http.StatusForbidden {
		t.Errorf("dev revoking the admin's token by name: %d, want 403", p.status)
	}
}

// npm login's web mode: the login URL opens a page on which the signed-in
// user approves, after which the client's poll gets a token of that user.
func TestNpmWebLogin(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	loginID, doneID, err := e.auth.StartWebLogin(auth.NpmRealm, "laptop.upstream.example", func(context.Context) error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	anon := e.browser()
	if p := anon.get("/ui/npm-login/" + loginID); p.status != http.StatusSeeOther || !strings.HasPrefix(p.location(), "/ui/login?next=") {
		t.Fatalf("not signed in: %d %s", p.status, p.location())
	}
	b := e.admin()
	page := b.get("/ui/npm-login/" + loginID)
	page.has(t, "laptop.upstream.example")
	page.has(t, `id="approve"`)
	if tok, pending, _ := e.auth.PollWebLogin(doneID); !pending || tok != "" {
		t.Fatal("approved before the user approved")
	}
	if p := b.post("/ui/npm-login/"+loginID, "/ui/npm-login/"+loginID, url.Values{}); p.status != http.StatusOK {
		t.Fatalf("approve: %d %s", p.status, p.body)
	}
	tok, pending, err := e.auth.PollWebLogin(doneID)
	if err != nil || pending || !strings.HasPrefix(tok, "npm_") {
		t.Fatalf("poll after approval: %q %v %v", tok, pending, err)
	}
	infos, _ := e.auth.Tokens(e.system(), auth.AdminUser, auth.NpmRealm)
	if len(infos) != 1 {
		t.Errorf("admin has %d tokens, want 1", len(infos))
	}
	if p := b.get("/ui/npm-login/" + loginID); p.status != http.StatusNotFound {
		t.Errorf("an approved login's page: %d, want 404", p.status)
	}
}

// An editor of users who may not read roles sees a user's roles without
// choosing them, and saving the profile keeps them.
func TestUserSaveKeepsRolesItCannotList(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.createUser("helpdesk", "helpdesk-pw", "nx-users-read", "nx-users-update")
	e.createUser("dev", "dev-pw-12345", "nx-repository-view-*-*-read")
	b := e.browser()
	b.signIn("helpdesk", "helpdesk-pw")
	page := b.get("/ui/security/users/dev")
	page.has(t, `id="user-roles">dev-role<`)
	// The form sends them back as they are (the post below sends what the
	// form holds).
	page.has(t, `<input type="hidden" name="roles" value="dev-role">`)
	p := b.post("/ui/security/users/dev", "/ui/security/users/dev", url.Values{"userId": {"dev"}, "firstName": {"Renamed"},
		"lastName": {"D"}, "emailAddress": {"dev@example.org"}, "status": {"active"}, "roles": {"dev-role"}})
	if p.status != http.StatusSeeOther {
		t.Fatalf("save: %d %s", p.status, p.body)
	}
	u, err := e.auth.GetUser(e.system(), "dev")
	if err != nil || u.FirstName != "Renamed" || len(u.Roles) != 1 || u.Roles[0] != "dev-role" {
		t.Fatalf("after the save: %+v %v", u, err)
	}
}
