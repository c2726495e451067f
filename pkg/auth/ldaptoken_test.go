package auth

import (
	"context"
	"testing"

	"github.com/nexus-go/nexus-go/pkg/errs"
	"github.com/nexus-go/nexus-go/pkg/meta"
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
	// Nor does the local dora see or revoke it.
	local, err := f.s.Authenticate(asSystem, "dora", "local-pw", "10.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	asLocal := WithPrincipal(context.Background(), local)
	if ts, err := f.s.Tokens(asLocal, "dora", NpmRealm); err != nil || len(ts) != 0 {
		t.Errorf("the local dora lists %v, %v", ts, err)
	}
	if err := f.s.RevokeToken(asLocal, "dora", token); errs.KindOf(err) != errs.NotFound {
		t.Errorf("the local dora revoked the directory user's token: %v", err)
	}
	// Deleting the local dora leaves the directory user's token theirs.
	if err := f.db.DeleteUser("dora"); err != nil {
		t.Fatal(err)
	}
	if p := PrincipalFrom(resolveBearer(t, f.s, token, "10.0.0.1:1")); p == nil || p.UserID != "dora" {
		t.Errorf("the directory user's token after the local dora's delete: %+v", p)
	}
	if ts, err := f.s.Tokens(WithPrincipal(context.Background(), p), "dora", NpmRealm); err != nil || len(ts) != 1 {
		t.Errorf("the directory user dora lists %v, %v", ts, err)
	}
	delete(dir, "dora")
	if p := PrincipalFrom(resolveBearer(t, f.s, token, "10.0.0.1:1")); p != nil {
		t.Errorf("the token outlived dora's directory entry: %+v", p)
	}
}

// stableDirectory answers with the same record until it is replaced, as
// the LDAP realm's cache does.
type stableDirectory map[string]*ExternalUser

func (d stableDirectory) Authenticate(ctx context.Context, user, _ string) (*ExternalUser, error) {
	return d.Lookup(ctx, user)
}

func (d stableDirectory) Lookup(_ context.Context, user string) (*ExternalUser, error) {
	if u, ok := d[user]; ok {
		return u, nil
	}
	return nil, errs.New(errs.Unauthorized, "unknown")
}

// A directory user's principal is reused while the directory gives the
// same answer, and rebuilt when its groups or the roles change.
func TestDirectoryPrincipalFollowsDirectory(t *testing.T) {
	f := newFixture(t)
	dir := stableDirectory{"erin": {ID: "erin", Groups: []string{"readers"}}}
	f.s.SetLDAP(dir)
	if err := f.s.SetActiveRealms(asSystem, []string{LocalRealm, LDAPRealm}); err != nil {
		t.Fatal(err)
	}
	read, add := RepositoryView("raw", "raw-h", "read"), RepositoryView("raw", "raw-h", "add")
	for id, privs := range map[string][]string{"readers": {"nx-repository-view-raw-raw-h-read"},
		"writers": {"nx-repository-view-raw-raw-h-add"}} {
		if err := f.db.CreateRole(&meta.Role{ID: id, Privileges: privs}); err != nil {
			t.Fatal(err)
		}
	}
	can := func(p *Principal, priv Privilege) bool {
		return f.s.Require(WithPrincipal(context.Background(), p), priv) == nil
	}
	principal := func() *Principal {
		t.Helper()
		p, err := f.s.PrincipalOf(context.Background(), "erin")
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	first := principal()
	if !can(first, read) || can(first, add) {
		t.Fatalf("erin (readers) may read %t, add %t", can(first, read), can(first, add))
	}
	if again := principal(); again != first {
		t.Errorf("the same directory answer built a new principal")
	}
	if err := f.db.PutRole(&meta.Role{ID: "readers", Privileges: []string{"nx-repository-view-raw-raw-h-read",
		"nx-repository-view-raw-raw-h-add"}}); err != nil {
		t.Fatal(err)
	}
	if p := principal(); !can(p, add) {
		t.Errorf("erin cannot add after her group's role gained it")
	}
	dir["erin"] = &ExternalUser{ID: "erin", Groups: []string{"writers"}}
	if p := principal(); can(p, read) || !can(p, add) {
		t.Errorf("erin (now writers) may read %t, add %t", can(p, read), can(p, add))
	}
}
