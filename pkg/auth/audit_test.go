package auth

import (
	"context"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/nexus-go/nexus-go/pkg/clientip"
	"github.com/nexus-go/nexus-go/pkg/meta"
)

// auditEvent is one Record call, with the caller its context carried.
type auditEvent struct {
	domain, typ, subject string
	attrs                map[string]string
	caller, client       string
}

type fakeAuditor struct {
	mu     sync.Mutex
	events []auditEvent
}

func (a *fakeAuditor) Record(ctx context.Context, domain, typ, subject string, attrs map[string]string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	ev := auditEvent{domain: domain, typ: typ, subject: subject, attrs: attrs, client: clientip.FromContext(ctx)}
	if p := PrincipalFrom(ctx); p != nil {
		ev.caller = p.UserID
	}
	a.events = append(a.events, ev)
}

// take returns the events since the last take as "domain type subject".
func (a *fakeAuditor) take() ([]string, []auditEvent) {
	a.mu.Lock()
	defer a.mu.Unlock()
	evs := a.events
	a.events = nil
	var out []string
	for _, e := range evs {
		out = append(out, e.domain+" "+e.typ+" "+e.subject)
	}
	return out, evs
}

func TestAuditedChanges(t *testing.T) {
	f := newFixture(t)
	a := &fakeAuditor{}
	f.s.UseAuditor(a)
	secrets := []string{"first-secret-pw", "second-secret-pw", f.adminPassword}
	ctx := asSystem
	expect := func(what string, want ...string) []auditEvent {
		t.Helper()
		got, evs := a.take()
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("%s recorded %q, want %q", what, got, want)
		}
		for _, e := range evs {
			for k, v := range e.attrs {
				for _, s := range secrets {
					if strings.Contains(v, s) {
						t.Errorf("%s: attribute %s holds a secret: %q", what, k, v)
					}
				}
			}
		}
		return evs
	}

	f.addUser(t, "jdoe", "first-secret-pw", AnonymousRole)
	evs := expect("CreateUser", "security.user created jdoe")
	if len(evs) == 1 && (evs[0].attrs["roles"] != AnonymousRole || evs[0].attrs["status"] != meta.UserActive) {
		t.Errorf("user attributes %v", evs[0].attrs)
	}
	if err := f.s.ChangePassword(ctx, "jdoe", "second-secret-pw"); err != nil {
		t.Fatal(err)
	}
	expect("ChangePassword", "security.user changed-password jdoe")
	if err := f.s.UpdateUser(ctx, &meta.User{ID: "jdoe", Status: meta.UserDisabled, Roles: []string{AnonymousRole}}); err != nil {
		t.Fatal(err)
	}
	expect("UpdateUser", "security.user updated jdoe")

	if err := f.s.CreateRole(ctx, &meta.Role{ID: "devs", Privileges: []string{"nx-search-read"}}); err != nil {
		t.Fatal(err)
	}
	if err := f.s.UpdateRole(ctx, &meta.Role{ID: "devs", Privileges: []string{"nx-search-read", "nx-healthcheck-read"}}); err != nil {
		t.Fatal(err)
	}
	evs = expect("roles", "security.role created devs", "security.role updated devs")
	if len(evs) == 2 && evs[1].attrs["privileges"] != "nx-search-read,nx-healthcheck-read" {
		t.Errorf("role attributes %v", evs[1].attrs)
	}
	sel := &meta.ContentSelector{Name: "sel", Expression: `format == "raw"`}
	if err := f.s.CreateContentSelector(ctx, sel); err != nil {
		t.Fatal(err)
	}
	p := &meta.Privilege{Name: "p1", Type: TypeContentSelector, Format: "raw", Repository: "*", ContentSelector: "sel", Actions: []string{"read"}}
	if err := f.s.CreatePrivilege(ctx, p); err != nil {
		t.Fatal(err)
	}
	if err := f.s.DeletePrivilege(ctx, "p1"); err != nil {
		t.Fatal(err)
	}
	if err := f.s.DeleteContentSelector(ctx, "sel"); err != nil {
		t.Fatal(err)
	}
	if err := f.s.DeleteRole(ctx, "devs"); err != nil {
		t.Fatal(err)
	}
	expect("privileges and selectors", "security.selector created sel", "security.privilege created p1",
		"security.privilege deleted p1", "security.selector deleted sel", "security.role deleted devs")
	if err := f.s.SetActiveRealms(ctx, []string{LocalRealm, NpmRealm}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.s.SetAnonymous(ctx, meta.AnonymousSettings{Enabled: true, UserID: AnonymousUser}); err != nil {
		t.Fatal(err)
	}
	expect("settings", "security.realm updated active", "security.anonymous updated anonymous")

	// Tokens: the record names the prefix, never the token.
	if err := f.s.UpdateUser(ctx, &meta.User{ID: "jdoe", Status: meta.UserActive}); err != nil {
		t.Fatal(err)
	}
	a.take()
	token, info, err := f.s.CreateToken(ctx, "jdoe", NpmRealm, TokenOptions{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	secrets = append(secrets, token, info.Key)
	if err := f.s.RevokeToken(ctx, "jdoe", token); err != nil {
		t.Fatal(err)
	}
	evs = expect("tokens", "security.usertoken created jdoe", "security.usertoken deleted jdoe")
	if len(evs) == 2 && (evs[0].attrs["prefix"] != info.Prefix || evs[0].attrs["readOnly"] != "true") {
		t.Errorf("token attributes %v", evs[0].attrs)
	}
	if err := f.s.DeleteUser(ctx, "jdoe"); err != nil {
		t.Fatal(err)
	}
	expect("DeleteUser", "security.user deleted jdoe")

	// A refused change records nothing.
	if err := f.s.DeleteUser(context.Background(), AdminUser); err == nil {
		t.Fatal("deleting admin without a caller succeeded")
	}
	expect("a refused change")
}

// A failed sign-in is recorded with the name tried and the client, once
// for each attempt, never with the password; a good one is not recorded.
func TestAuditedFailedSignIns(t *testing.T) {
	f := newFixture(t)
	a := &fakeAuditor{}
	f.s.UseAuditor(a)
	req := httptest.NewRequest("GET", "/", nil)
	req.SetBasicAuth(AdminUser, "not-the-password")
	req = clientip.With(req, "127.0.0.1")
	if _, err := f.s.Resolve(req); err != nil {
		t.Fatal(err)
	}
	if _, err := f.s.Authenticate(context.Background(), "nobody", "guess-pw", "10.0.0.9:1"); err == nil {
		t.Fatal("unknown user signed in")
	}
	if _, err := f.s.Authenticate(context.Background(), AdminUser, f.adminPassword, "10.0.0.9:1"); err != nil {
		t.Fatal(err)
	}
	got, evs := a.take()
	if want := []string{"security.login failed admin", "security.login failed nobody"}; strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("recorded %q, want %q", got, want)
	}
	if evs[0].client != "127.0.0.1" || evs[0].caller != "" || evs[0].attrs["userId"] != AdminUser {
		t.Errorf("Basic sign-in failure recorded as %+v", evs[0])
	}
	for _, e := range evs {
		for _, v := range e.attrs {
			if strings.Contains(v, "not-the-password") || strings.Contains(v, "guess-pw") {
				t.Errorf("a password in %+v", e)
			}
		}
	}
}
