package auth

import (
	"context"
	"testing"

	"github.com/nexus-go/nexus-go/pkg/errs"
)

// directory is an ExternalRealm of fixed users (password → groups), for
// what the service does with a directory's answers; pkg/ldap and the
// e2e tests check the realm against a real slapd.
type directory map[string]struct {
	password string
	groups   []string
}

func (d directory) Authenticate(_ context.Context, user, password string) (*ExternalUser, error) {
	if u, ok := d[user]; ok && u.password == password {
		return &ExternalUser{ID: user, Groups: u.groups}, nil
	}
	return nil, errs.New(errs.Unauthorized, "unknown")
}

func (d directory) Lookup(_ context.Context, user string) (*ExternalUser, error) {
	if u, ok := d[user]; ok {
		return &ExternalUser{ID: user, Groups: u.groups}, nil
	}
	return nil, errs.New(errs.Unauthorized, "unknown")
}

// A directory user creates npm tokens for itself (npm login); each
// stands for that user while the directory knows it, and never for a
// local user created later with the same ID, nor deleted with one.
func TestDirectoryUserTokens(t *testing.T) {
	f := newFixture(t)
	dir := directory{"dora": {"dpw", []string{AdminRole}}}
	f.s.SetLDAP(dir)
	if err := f.s.SetActiveRealms(asSystem, []string{LocalRealm, LDAPRealm, NpmRealm}); err != nil {
		t.Fatal(err)
	}
	p, err := f.s.Authenticate(asSystem, "dora", "dpw", "10.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	token, _, err := f.s.CreateToken(WithPrincipal(context.Background(), p), "dora", NpmRealm, TokenOptions{})
	if err != nil {
		t.Fatalf("a directory user's token: %v", err)
	}
	read := RepositoryView("npm", "npm-hosted", "read")
	c := resolveBearer(t, f.s, token, "10.0.0.1:1")
	if p := PrincipalFrom(c); p == nil || p.UserID != "dora" || f.s.Require(c, read) != nil {
		t.Fatalf("the token's principal %+v", p)
	}
	// Someone else cannot create a token in a directory user's name.
	if _, _, err := f.s.CreateToken(asSystem, "dora", NpmRealm, TokenOptions{}); errs.KindOf(err) != errs.NotFound {
		t.Errorf("a token for dora created by the system: %v", err)
	}

	f.addUser(t, "dora", "local-pw", AdminRole)
	if p := PrincipalFrom(resolveBearer(t, f.s, token, "10.0.0.1:1")); p != nil {
		t.Errorf("a directory user's token stands for the local user dora: %+v", p)
	}
	// Deleting the local dora leaves the directory user's token theirs.
	if err := f.db.DeleteUser("dora"); err != nil {
		t.Fatal(err)
	}
	if p := PrincipalFrom(resolveBearer(t, f.s, token, "10.0.0.1:1")); p == nil || p.UserID != "dora" {
		t.Errorf("the directory user's token after the local dora's delete: %+v", p)
	}
	delete(dir, "dora")
	if p := PrincipalFrom(resolveBearer(t, f.s, token, "10.0.0.1:1")); p != nil {
		t.Errorf("the token outlived dora's directory entry: %+v", p)
	}
}
