package auth

import (
	"context"
	"errors"
	"testing"

	"github.com/nexus-go/nexus-go/pkg/errs"
	"github.com/nexus-go/nexus-go/pkg/meta"
)

// Every management method checks the caller's privilege itself, called
// directly as the UI and the REST API call it: no caller is challenged
// (Unauthorized), a user without the privilege is refused (Forbidden), and
// nothing changes. Users may read their own record and change their own
// password and tokens.
func TestManagementRefusesWithoutPrivilege(t *testing.T) {
	f := newFixture(t)
	f.addUser(t, "reader", "reader-pw", AnonymousRole)
	f.addUser(t, "victim", "victim-pw", AnonymousRole)
	p, err := f.s.PrincipalOf(asSystem, "reader")
	if err != nil {
		t.Fatal(err)
	}
	reader := WithPrincipal(context.Background(), p)
	_, victimToken, err := f.s.CreateToken(asSystem, "victim", NpmRealm, TokenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	calls := map[string]func(ctx context.Context) error{
		"ListUsers": func(ctx context.Context) error { _, err := f.s.ListUsers(ctx, ""); return err },
		"GetUser":   func(ctx context.Context) error { _, err := f.s.GetUser(ctx, "victim"); return err },
		"CreateUser": func(ctx context.Context) error {
			return f.s.CreateUser(ctx, &meta.User{ID: "new", Status: meta.UserActive}, "pw")
		},
		"UpdateUser": func(ctx context.Context) error {
			return f.s.UpdateUser(ctx, &meta.User{ID: "victim", Status: meta.UserDisabled})
		},
		"DeleteUser":     func(ctx context.Context) error { return f.s.DeleteUser(ctx, "victim") },
		"ChangePassword": func(ctx context.Context) error { return f.s.ChangePassword(ctx, "victim", "taken-over") },
		"ListRoles":      func(ctx context.Context) error { _, err := f.s.ListRoles(ctx); return err },
		"GetRole":        func(ctx context.Context) error { _, err := f.s.GetRole(ctx, AdminRole); return err },
		"CreateRole":     func(ctx context.Context) error { return f.s.CreateRole(ctx, &meta.Role{ID: "new-role"}) },
		"UpdateRole": func(ctx context.Context) error {
			return f.s.UpdateRole(ctx, &meta.Role{ID: AnonymousRole, Privileges: []string{"nx-all"}})
		},
		"DeleteRole": func(ctx context.Context) error { return f.s.DeleteRole(ctx, AnonymousRole) },
		"Anonymous":  func(ctx context.Context) error { _, err := f.s.Anonymous(ctx); return err },
		"SetAnonymous": func(ctx context.Context) error {
			_, err := f.s.SetAnonymous(ctx, meta.AnonymousSettings{Enabled: true, UserID: AnonymousUser})
			return err
		},
		"Tokens":      func(ctx context.Context) error { _, err := f.s.Tokens(ctx, "victim", NpmRealm); return err },
		"RevokeToken": func(ctx context.Context) error { return f.s.RevokeToken(ctx, "victim", victimToken.Key) },
	}
	for name, call := range calls {
		if err := call(context.Background()); !errors.Is(err, errs.ErrUnauthorized) {
			t.Errorf("%s without a caller: %v, want Unauthorized", name, err)
		}
		if err := call(reader); !errors.Is(err, errs.ErrForbidden) {
			t.Errorf("%s by a user without the privilege: %v, want Forbidden", name, err)
		}
	}
	// Nothing changed.
	if u, err := f.s.User("victim"); err != nil || u.Status != meta.UserActive {
		t.Fatalf("victim after the refusals: %+v, %v", u, err)
	}
	if _, err := f.s.Authenticate(context.Background(), "victim", "victim-pw", "10.0.0.1:1"); err != nil {
		t.Fatalf("victim's password changed: %v", err)
	}
	if ts, _ := f.s.Tokens(asSystem, "victim", NpmRealm); len(ts) != 1 {
		t.Fatalf("victim's tokens after the refusals: %v", ts)
	}
	if set, _ := f.s.Anonymous(asSystem); set.Enabled {
		t.Fatal("anonymous access was enabled")
	}
	if _, err := f.s.GetUser(asSystem, "new"); !errors.Is(err, errs.ErrNotFound) {
		t.Fatalf("a user was created: %v", err)
	}
	// Oneself needs no privilege.
	if _, err := f.s.GetUser(reader, "reader"); err != nil {
		t.Errorf("GetUser of oneself: %v", err)
	}
	if _, err := f.s.Tokens(reader, "reader", NpmRealm); err != nil {
		t.Errorf("Tokens of oneself: %v", err)
	}
	if err := f.s.ChangePassword(reader, "reader", "new-reader-pw"); err != nil {
		t.Errorf("ChangePassword of oneself: %v", err)
	}
}
