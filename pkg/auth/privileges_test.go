package auth

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/nexus-go/nexus-go/pkg/errs"
	"github.com/nexus-go/nexus-go/pkg/meta"
)

// principal is the principal of a user holding a role with privs.
func (f *fixture) principal(t *testing.T, id string, privs ...string) *Principal {
	t.Helper()
	if err := f.s.CreateRole(asSystem, &meta.Role{ID: id + "-role", Privileges: privs}); err != nil {
		t.Fatal(err)
	}
	f.addUser(t, id, id+"-pw", id+"-role")
	p, err := f.s.PrincipalOf(asSystem, id)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestStoredPrivilegesGrantWhatTheirTypeSays(t *testing.T) {
	f := newFixture(t)
	for _, p := range []*meta.Privilege{
		{Name: "app", Type: TypeApplication, Domain: "users", Actions: []string{"read", "UPDATE"}},
		{Name: "view", Type: TypeRepositoryView, Format: "raw", Repository: "r1", Actions: []string{"READ"}},
		{Name: "admin", Type: TypeRepositoryAdmin, Format: "*", Repository: "r2", Actions: []string{"ALL"}},
		{Name: "wild", Type: TypeWildcard, Pattern: "nexus:repository-view:npm:*:browse,read"},
		{Name: "script", Type: TypeScript, ScriptName: "s", Actions: []string{"RUN", "read"}},
		{Name: "wild-script", Type: TypeWildcard, Pattern: "nexus:script:w:browse"},
	} {
		if err := f.s.CreatePrivilege(asSystem, p); err != nil {
			t.Fatalf("%s: %v", p.Name, err)
		}
	}
	p := f.principal(t, "u", "app", "view", "admin", "wild", "script", "wild-script")
	for perm, want := range map[Privilege]bool{
		Application("users", "read"):            true,
		Application("users", "update"):          true,
		Application("users", "delete"):          false,
		RepositoryView("raw", "r1", "read"):     true,
		RepositoryView("raw", "r1", "add"):      false,
		RepositoryView("raw", "r10", "read"):    false,
		RepositoryAdmin("maven2", "r2", "edit"): true,
		RepositoryAdmin("maven2", "r3", "edit"): false,
		RepositoryView("npm", "x", "browse"):    true,
		RepositoryView("npm", "x", "delete"):    false,
		Application("script", "run"):            false,
		Script("s", "run"):                      true,
		Script("s", "read"):                     true,
		Script("s", "edit"):                     false,
		Script("s2", "read"):                    false,
		Script("w", "browse"):                   true,
		Script("w", "read"):                     false,
		{Kind: KindAll}:                         false,
	} {
		if got := p.Has(perm); got != want {
			t.Errorf("Has(%s) = %v, want %v", perm, got, want)
		}
	}
}

func TestWildcardGrants(t *testing.T) {
	for pattern, want := range map[string][]string{
		"nexus:*":                              {"nx-all"},
		"nexus:repository-view:raw:r1:read":    {"nx-repository-view-raw-r1-read"},
		"nexus:repository-admin:*":             {"nx-repository-admin-*-*-*"},
		"nexus:users:read,create":              {"nx-users-read", "nx-users-create"},
		"nexus:blobstores":                     {"nx-blobstores-*"},
		"nexus:script:x:run,read":              {"nx-script-x-run", "nx-script-x-read"},
		"other:*":                              nil,
		"nexus:repository-view:Bad Format:*:*": nil,
	} {
		var got []string
		for _, p := range wildcardGrants(pattern) {
			got = append(got, p.String())
		}
		if !slices.Equal(got, want) {
			t.Errorf("wildcardGrants(%q) = %v, want %v", pattern, got, want)
		}
	}
}

func TestContentSelectorGrants(t *testing.T) {
	f := newFixture(t)
	if err := f.s.CreateContentSelector(asSystem, &meta.ContentSelector{Name: "team", Expression: `path =^ "/team/"`}); err != nil {
		t.Fatal(err)
	}
	sel := &meta.Privilege{Name: "team-rw", Type: TypeContentSelector, Format: "raw", Repository: "*",
		ContentSelector: "team", Actions: []string{"READ", "ADD"}}
	if err := f.s.CreatePrivilege(asSystem, sel); err != nil {
		t.Fatal(err)
	}
	ctx := WithPrincipal(context.Background(), f.principal(t, "u", "team-rw"))
	at := func(p string) Content { return Content{Path: p} }
	for _, tc := range []struct {
		perm Privilege
		c    Content
		want bool
	}{
		{RepositoryView("raw", "any", "read"), at("/team/a.txt"), true},
		{RepositoryView("raw", "any", "add"), at("/team/x/a.txt"), true},
		{RepositoryView("raw", "any", "delete"), at("/team/a.txt"), false},
		{RepositoryView("raw", "any", "read"), at("/other/a.txt"), false},
		{RepositoryView("npm", "any", "read"), at("/team/a.txt"), false},
		{RepositoryView("raw", "any", "read"), Content{Path: "/", Folder: true}, true},
		{RepositoryView("raw", "any", "read"), Content{Path: "/other/", Folder: true}, false},
	} {
		if got := f.s.RequireContent(ctx, tc.perm, tc.c) == nil; got != tc.want {
			t.Errorf("RequireContent(%s, %+v) = %v, want %v", tc.perm, tc.c, got, tc.want)
		}
	}
	if err := f.s.Require(ctx, RepositoryView("raw", "any", "read")); err == nil {
		t.Error("a selector grant passes a check of the whole repository")
	}
	// Changing the selector changes what the grant selects at once.
	if err := f.s.UpdateContentSelector(asSystem, &meta.ContentSelector{Name: "team", Expression: `path =^ "/other/"`}); err != nil {
		t.Fatal(err)
	}
	p, _ := f.s.PrincipalOf(asSystem, "u")
	ctx = WithPrincipal(context.Background(), p)
	if f.s.RequireContent(ctx, RepositoryView("raw", "r", "read"), at("/team/a.txt")) == nil ||
		f.s.RequireContent(ctx, RepositoryView("raw", "r", "read"), at("/other/a.txt")) != nil {
		t.Error("the updated selector is not what the grant selects")
	}
	// In use, the selector stays.
	if err := f.s.DeleteContentSelector(asSystem, "team"); !errors.Is(err, errs.ErrInvalid) {
		t.Errorf("deleting a selector in use: %v, want Invalid", err)
	}
}

func TestPrivilegeLifecycle(t *testing.T) {
	f := newFixture(t)
	f.s.SetRepositories(func() []RepositoryRef { return []RepositoryRef{{"raw", "r1"}} })
	all, err := f.s.ListPrivileges(asSystem)
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]PrivilegeInfo{}
	for _, p := range all {
		names[p.Name] = p
	}
	for _, n := range []string{"nx-all", "nx-users-read", "nx-repository-view-*-*-*", "nx-repository-view-yum-*-browse",
		"nx-repository-view-raw-r1-read", "nx-repository-admin-raw-r1-edit", "nx-script-*-add", "nx-wonderland-all"} {
		if !names[n].ReadOnly {
			t.Errorf("built-in %s missing or not read-only", n)
		}
	}
	if p := names["nx-wonderland-all"]; p.Description != "All permissions for Wonderland" || !slices.Equal(p.Actions, []string{"ALL"}) {
		t.Errorf("nx-wonderland-all = %+v", p)
	}
	for _, bad := range []*meta.Privilege{
		{Name: "nx-all", Type: TypeWildcard, Pattern: "nexus:*"},
		{Name: "nx-repository-view-raw-later-read", Type: TypeWildcard, Pattern: "nexus:*"},
		{Name: "nx-script-x-run", Type: TypeWildcard, Pattern: "nexus:*"},
		{Name: "_x", Type: TypeWildcard, Pattern: "nexus:*"},
		{Name: "x", Type: "unknown"},
		{Name: "x", Type: TypeApplication, Domain: "users"},
		{Name: "x", Type: TypeRepositoryView, Format: "raw", Repository: "r", Actions: []string{"RUN"}},
		{Name: "x", Type: TypeRepositoryView, Format: "", Repository: "r", Actions: []string{"READ"}},
		{Name: "x", Type: TypeContentSelector, Format: "raw", Repository: "r", Actions: []string{"READ"}, ContentSelector: "missing"},
		{Name: "x", Type: TypeWildcard},
		{Name: "x", Type: TypeScript, Actions: []string{"RUN"}},
		{Name: "x", Type: TypeScript, ScriptName: "a b", Actions: []string{"RUN"}},
	} {
		var fe *errs.FieldError
		if err := f.s.CreatePrivilege(asSystem, bad); !errors.As(err, &fe) {
			t.Errorf("CreatePrivilege(%+v) = %v, want a field error", bad, err)
		}
	}
	if err := f.s.UpdatePrivilege(asSystem, &meta.Privilege{Name: "nx-all", Type: TypeWildcard, Pattern: "nexus:x"}); !errors.Is(err, errs.ErrInvalid) {
		t.Errorf("updating a built-in: %v", err)
	}
	if err := f.s.DeletePrivilege(asSystem, "nx-users-read"); !errors.Is(err, errs.ErrInvalid) {
		t.Errorf("deleting a built-in: %v", err)
	}

	// A role holding a stored privilege loses it when it is deleted, and
	// the principal sees that at once.
	if err := f.s.CreatePrivilege(asSystem, &meta.Privilege{Name: "read-r1", Type: TypeRepositoryView,
		Format: "raw", Repository: "r1", Actions: []string{"read"}}); err != nil {
		t.Fatal(err)
	}
	p := f.principal(t, "u", "read-r1", "nx-search-read")
	if !p.Has(RepositoryView("raw", "r1", "read")) {
		t.Fatal("the stored privilege grants nothing")
	}
	if err := f.s.UpdatePrivilege(asSystem, &meta.Privilege{Name: "read-r1", Type: TypeApplication, Domain: "x", Actions: []string{"READ"}}); err == nil {
		t.Error("an update changed the privilege's type")
	}
	if err := f.s.UpdatePrivilege(asSystem, &meta.Privilege{Name: "read-r1", Type: TypeRepositoryView,
		Format: "raw", Repository: "r1", Actions: []string{"BROWSE"}}); err != nil {
		t.Fatal(err)
	}
	if p, _ = f.s.PrincipalOf(asSystem, "u"); p.Has(RepositoryView("raw", "r1", "read")) || !p.Has(RepositoryView("raw", "r1", "browse")) {
		t.Error("the principal does not see the updated privilege")
	}
	if err := f.s.DeletePrivilege(asSystem, "read-r1"); err != nil {
		t.Fatal(err)
	}
	role, _ := f.s.GetRole(asSystem, "u-role")
	if !slices.Equal(role.Privileges, []string{"nx-search-read"}) {
		t.Errorf("the role after the delete holds %v", role.Privileges)
	}
	if p, _ = f.s.PrincipalOf(asSystem, "u"); p.Has(RepositoryView("raw", "r1", "browse")) {
		t.Error("the deleted privilege still grants")
	}
	if err := f.s.CreateRole(asSystem, &meta.Role{ID: "dangling", Privileges: []string{"no-such-privilege"}}); !errors.Is(err, errs.ErrInvalid) {
		t.Errorf("a role with an unknown privilege: %v", err)
	}
}

// Each method checks its privilege: without a caller Unauthorized, for a
// user lacking it Forbidden.
func TestPrivilegeMethodsRequirePrivileges(t *testing.T) {
	f := newFixture(t)
	reader := WithPrincipal(context.Background(), f.principal(t, "u", "nx-users-read"))
	calls := map[string]func(ctx context.Context) error{
		"ListPrivileges": func(ctx context.Context) error { _, err := f.s.ListPrivileges(ctx); return err },
		"GetPrivilege":   func(ctx context.Context) error { _, err := f.s.GetPrivilege(ctx, "nx-all"); return err },
		"CreatePrivilege": func(ctx context.Context) error {
			return f.s.CreatePrivilege(ctx, &meta.Privilege{Name: "w", Type: TypeWildcard, Pattern: "nexus:*"})
		},
		"UpdatePrivilege": func(ctx context.Context) error {
			return f.s.UpdatePrivilege(ctx, &meta.Privilege{Name: "w", Type: TypeWildcard, Pattern: "nexus:*"})
		},
		"DeletePrivilege":      func(ctx context.Context) error { return f.s.DeletePrivilege(ctx, "w") },
		"ListContentSelectors": func(ctx context.Context) error { _, err := f.s.ListContentSelectors(ctx); return err },
		"GetContentSelector":   func(ctx context.Context) error { _, err := f.s.GetContentSelector(ctx, "s"); return err },
		"CreateContentSelector": func(ctx context.Context) error {
			return f.s.CreateContentSelector(ctx, &meta.ContentSelector{Name: "s", Expression: `format == "raw"`})
		},
		"UpdateContentSelector": func(ctx context.Context) error {
			return f.s.UpdateContentSelector(ctx, &meta.ContentSelector{Name: "s", Expression: `format == "raw"`})
		},
		"DeleteContentSelector": func(ctx context.Context) error { return f.s.DeleteContentSelector(ctx, "s") },
	}
	for name, call := range calls {
		if err := call(context.Background()); !errors.Is(err, errs.ErrUnauthorized) {
			t.Errorf("%s without a caller: %v", name, err)
		}
		if err := call(reader); !errors.Is(err, errs.ErrForbidden) {
			t.Errorf("%s as a user without the privilege: %v", name, err)
		}
	}
	if sels, _ := f.s.ListContentSelectors(asSystem); len(sels) != 0 {
		t.Errorf("refused calls stored %v", sels)
	}
}
