package auth

import (
	"context"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/nexus-go/nexus-go/pkg/clientip"
	"github.com/nexus-go/nexus-go/pkg/errs"
)

// resolveBearer resolves a request from client carrying token.
func resolveBearer(t *testing.T, s *Service, token, client string) context.Context {
	t.Helper()
	req := httptest.NewRequest("GET", "/repository/npm/x", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	req = clientip.With(req, client)
	req, err := s.Resolve(req)
	if err != nil {
		t.Fatal(err)
	}
	return req.Context()
}

// Stored tokens stand for their user until revoked; each is distinct,
// kept only as a hash, restricted as created, and gone with its user.
func TestStoredTokens(t *testing.T) {
	f := newFixture(t)
	ctx := asSystem
	f.addUser(t, "dev", "pw", AdminRole)
	read := RepositoryView("npm", "npm-hosted", "read")
	write := RepositoryView("npm", "npm-hosted", "add")

	token, info, err := f.s.CreateToken(ctx, "dev", NpmRealm, TokenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	other, _, err := f.s.CreateToken(ctx, "dev", NpmRealm, TokenOptions{})
	if err != nil || other == token {
		t.Fatalf("second token %q, %v: want a distinct token", other, err)
	}
	if !strings.HasPrefix(token, info.Prefix) || info.Key == "" || strings.Contains(info.Key, token) {
		t.Fatalf("token info %+v", info)
	}
	stored, err := f.db.GetToken(info.Key)
	if err != nil || stored.UserID != "dev" {
		t.Fatalf("stored token %+v, %v", stored, err)
	}
	c := resolveBearer(t, f.s, token, "10.0.0.1:1")
	if p := PrincipalFrom(c); p == nil || p.UserID != "dev" || f.s.Require(c, write) != nil {
		t.Fatalf("token principal %+v cannot write", p)
	}
	// It opens npm repositories only: not the REST API, not other formats.
	if f.s.Require(c, Application("users", "read")) == nil || f.s.Require(c, RepositoryView("raw", "raw-h", "read")) == nil {
		t.Fatal("an npm token holds privileges beyond npm content")
	}
	if list, err := f.s.Tokens(ctx, "dev", NpmRealm); err != nil || len(list) != 2 {
		t.Fatalf("Tokens = %+v, %v", list, err)
	}

	// Another user cannot revoke it; its owner can, at once.
	f.addUser(t, "eve", "pw", AnonymousRole)
	if err := f.s.RevokeToken(ctx, "eve", info.Key); !errors.Is(err, errs.ErrNotFound) {
		t.Fatalf("revoking another user's token: %v", err)
	}
	if err := f.s.RevokeToken(ctx, "dev", info.Key); err != nil {
		t.Fatal(err)
	}
	c = resolveBearer(t, f.s, token, "10.0.0.1:1")
	if err := f.s.Require(c, read); !errors.Is(err, errs.ErrUnauthorized) {
		t.Fatalf("revoked token: %v", err)
	}
	if err := f.s.RevokeToken(ctx, "eve", other); !errors.Is(err, errs.ErrNotFound) {
		t.Fatalf("revoking another user's token by its value: %v", err)
	}
	if err := f.s.RevokeToken(ctx, "dev", other); err != nil {
		t.Fatal(err)
	}
	if list, _ := f.s.Tokens(ctx, "dev", NpmRealm); len(list) != 0 {
		t.Fatalf("tokens left after revoking both: %+v", list)
	}

	// Read-only and CIDR-bound tokens.
	ro, _, _ := f.s.CreateToken(ctx, "dev", NpmRealm, TokenOptions{ReadOnly: true})
	c = resolveBearer(t, f.s, ro, "10.0.0.1:1")
	if f.s.Require(c, read) != nil || f.s.Require(c, write) == nil {
		t.Fatal("a read-only token must read and not write")
	}
	if _, _, err := f.s.CreateToken(ctx, "dev", NpmRealm, TokenOptions{CIDRs: []string{"not-a-range"}}); !errors.Is(err, errs.ErrInvalid) {
		t.Fatalf("bad CIDR: %v", err)
	}
	bound, _, _ := f.s.CreateToken(ctx, "dev", NpmRealm, TokenOptions{CIDRs: []string{"192.168.0.0/16"}})
	if c := resolveBearer(t, f.s, bound, "192.168.3.4:5"); f.s.Require(c, read) != nil {
		t.Fatal("a CIDR-bound token refused inside its range")
	}
	if c := resolveBearer(t, f.s, bound, "10.0.0.1:1"); f.s.Require(c, read) == nil {
		t.Fatal("a CIDR-bound token accepted outside its range")
	}
	// Unknown tokens fail; other Bearer tokens are left to their realm.
	if c := resolveBearer(t, f.s, "npm_forged", "10.0.0.1:1"); !LoginFailed(c) {
		t.Fatal("a forged token did not fail the login")
	}
	if c := resolveBearer(t, f.s, "docker.signed", "10.0.0.1:1"); LoginFailed(c) || PrincipalFrom(c) != nil {
		t.Fatal("a token of another realm was judged here")
	}

	// Deleting the user deletes its tokens: a new user of the name has none.
	admin := WithPrincipal(ctx, System())
	if err := f.s.DeleteUser(admin, "dev"); err != nil {
		t.Fatal(err)
	}
	f.addUser(t, "dev", "pw2", AdminRole)
	if c := resolveBearer(t, f.s, ro, "10.0.0.1:1"); f.s.Require(c, read) == nil {
		t.Fatal("a token outlived its user")
	}
}

func TestRedactTokens(t *testing.T) {
	token, _, err := newFixture(t).s.CreateToken(context.Background(), AdminUser, NpmRealm, TokenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got := RedactTokens("/repository/npm/-/user/token/" + token)
	if strings.Contains(got, token) || !strings.HasPrefix(got, "/repository/npm/-/user/token/npm_") {
		t.Fatalf("RedactTokens = %q", got)
	}
	if s := "/repository/npm/npm_lib/-/npm_lib-1.0.0.tgz"; RedactTokens(s) != s {
		t.Fatalf("a package path was redacted: %q", RedactTokens(s))
	}
}
