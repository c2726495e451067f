package auth

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/nexus-go/nexus-go/pkg/errs"
	"github.com/nexus-go/nexus-go/pkg/meta"
	"github.com/nexus-go/nexus-go/pkg/testclock"
	"github.com/nexus-go/nexus-go/pkg/wildcard"
)

type fixture struct {
	s             *Service
	db            *meta.DB
	dataDir       string
	passwordFile  string
	adminPassword string
	clock         *testclock.Clock
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	dir := t.TempDir()
	db, err := meta.Open(filepath.Join(dir, "db", "meta.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	s := New(db, slog.New(slog.NewTextHandler(io.Discard, nil)))
	clock := testclock.New(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC))
	s.now = clock.Now
	file, created, err := s.Bootstrap(context.Background(), dir)
	if err != nil || !created {
		t.Fatalf("Bootstrap = %q, %v, %v", file, created, err)
	}
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{s: s, db: db, dataDir: dir, passwordFile: file,
		adminPassword: strings.TrimSpace(string(raw)), clock: clock}
}

// asSystem may manage users, roles and settings.
var asSystem = WithPrincipal(context.Background(), System())

// addUser creates an active user with the given roles and password.
func (f *fixture) addUser(t testing.TB, id, password string, roles ...string) {
	t.Helper()
	u := &meta.User{ID: id, Status: meta.UserActive, Roles: roles}
	if err := f.s.CreateUser(asSystem, u, password); err != nil {
		t.Fatal(err)
	}
}

func TestMatchPrivilege(t *testing.T) {
	tests := []struct {
		pattern, name string
		want          bool
	}{
		{"nx-repository-view-*-*-read", "nx-repository-view-raw-raw-h-read", true},
		{"nx-repository-view-*-*-read", "nx-repository-view-raw-raw-h-browse", false},
		{"nx-repository-view-raw-raw-h-*", "nx-repository-view-raw-raw-h-delete", true},
		{"nx-repository-view-raw-raw-h-*", "nx-repository-view-raw-raw-hosted-delete", false},
		{"nx-repository-view-maven2-*-*", "nx-repository-view-raw-x-read", false},
		{"nx-search-read", "nx-search-read", true},
		{"nx-search-read", "nx-search-read2", false},
		{"nx-search-read", "nx-search-rea", false},
		{"*", "", true},
		{"*", "anything", true},
		{"a*", "a", true},
		{"*a", "ba", true},
		{"*a", "ab", false},
		{"a**b", "ab", true},
		{"a*b*c", "axxbyybzc", true},
		{"a*b*c", "axxbyybz", false},
		{"", "", true},
		{"", "x", false},
	}
	for _, tt := range tests {
		if got := wildcard.Match(tt.pattern, tt.name); got != tt.want {
			t.Errorf("wildcard.Match(%q, %q) = %v; want %v", tt.pattern, tt.name, got, tt.want)
		}
	}
}

func TestPrincipalHas(t *testing.T) {
	var none *Principal
	if none.Has(Application("search", "read")) {
		t.Error("nil principal has a privilege")
	}
	all := &Principal{grants: grants{privs: []Privilege{{Kind: KindAll}}}}
	if !all.Has(Application("users", "delete")) || !all.Has(RepositoryView("raw", "r", "add")) {
		t.Error("nx-all does not grant everything")
	}
	if got := RepositoryView("maven2", "releases", "read").String(); got != "nx-repository-view-maven2-releases-read" {
		t.Errorf("RepositoryView = %q", got)
	}
}

func TestRoleRecursionAndCycles(t *testing.T) {
	f := newFixture(t)
	// A cycle a -> b -> c -> a stored directly, as an older version or a
	// deleted-and-recreated role might leave it.
	for _, r := range []*meta.Role{
		{ID: "a", Privileges: []string{"nx-a-read"}, Roles: []string{"b"}},
		{ID: "b", Privileges: []string{"nx-b-read", "not a privilege"}, Roles: []string{"c", "missing"}},
		{ID: "c", Privileges: []string{"nx-c-*"}, Roles: []string{"a"}},
		{ID: "other", Privileges: []string{"nx-other-read"}},
	} {
		if err := f.db.CreateRole(r); err != nil {
			t.Fatal(err)
		}
	}
	f.addUser(t, "u", "pw", "a")
	p, err := f.s.Authenticate(context.Background(), "u", "pw", "10.0.0.1:1")
	if err != nil {
		t.Fatal(err)
	}
	for _, perm := range []Privilege{Application("a", "read"), Application("b", "read"), Application("c", "update")} {
		if !p.Has(perm) {
			t.Errorf("missing inherited privilege %s", perm)
		}
	}
	if p.Has(Application("other", "read")) || p.Has(Application("a", "update")) {
		t.Error("privilege of an unrelated role granted")
	}

	// The service refuses to create cycles.
	ctx := asSystem
	if err := f.s.CreateRole(ctx, &meta.Role{ID: "d", Roles: []string{"e"}}); !errors.Is(err, errs.ErrInvalid) {
		t.Fatalf("CreateRole with unknown role err = %v; want Invalid", err)
	}
	if err := f.s.CreateRole(ctx, &meta.Role{ID: "d", Roles: []string{"other"}}); err != nil {
		t.Fatal(err)
	}
	if err := f.s.UpdateRole(ctx, &meta.Role{ID: "other", Roles: []string{"d"}}); !errors.Is(err, errs.ErrInvalid) {
		t.Fatalf("UpdateRole creating a cycle err = %v; want Invalid", err)
	}
	if err := f.s.UpdateRole(ctx, &meta.Role{ID: "d", Roles: []string{"d"}}); !errors.Is(err, errs.ErrInvalid) {
		t.Fatalf("UpdateRole with self reference err = %v; want Invalid", err)
	}
	if err := f.s.DeleteRole(ctx, AdminRole); !errors.Is(err, errs.ErrInvalid) {
		t.Fatalf("DeleteRole(nx-admin) err = %v; want Invalid", err)
	}
}

func TestBootstrap(t *testing.T) {
	f := newFixture(t)
	info, err := os.Stat(f.passwordFile)
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm() != 0o600 {
		t.Errorf("password file mode = %v; want 0600", info.Mode().Perm())
	}
	if len(f.adminPassword) < 20 {
		t.Errorf("admin password has %d characters; want >= 20", len(f.adminPassword))
	}
	p, err := f.s.Authenticate(context.Background(), AdminUser, f.adminPassword, "127.0.0.1:5000")
	if err != nil {
		t.Fatal(err)
	}
	if p.UserID != AdminUser || p.Anonymous || !p.Has(Application("users", "create")) {
		t.Errorf("admin principal = %+v", p)
	}
	set, err := f.db.Anonymous()
	if err != nil || set.Enabled || set.UserID != AnonymousUser {
		t.Errorf("anonymous settings = %+v, %v", set, err)
	}
	if _, err := f.db.GetUser(AnonymousUser); err != nil {
		t.Errorf("anonymous user: %v", err)
	}

	file, created, err := f.s.Bootstrap(context.Background(), f.dataDir)
	if err != nil || created || file != f.passwordFile {
		t.Fatalf("second Bootstrap = %q, %v, %v; want %q, false, nil", file, created, err, f.passwordFile)
	}
	raw, _ := os.ReadFile(f.passwordFile)
	if strings.TrimSpace(string(raw)) != f.adminPassword {
		t.Error("second Bootstrap rewrote the password file")
	}
	if n, _ := f.db.UserCount(); n != 2 {
		t.Errorf("UserCount = %d; want 2", n)
	}
}

func TestAuthenticateFailures(t *testing.T) {
	f := newFixture(t)
	ctx := asSystem
	if _, err := f.s.Authenticate(ctx, AdminUser, "wrong", "10.0.0.1:1"); !errors.Is(err, errs.ErrUnauthorized) {
		t.Errorf("wrong password err = %v; want Unauthorized", err)
	}
	if _, err := f.s.Authenticate(ctx, "nobody", "x", "10.0.0.1:1"); !errors.Is(err, errs.ErrUnauthorized) {
		t.Errorf("unknown user err = %v; want Unauthorized", err)
	}
	f.addUser(t, "dis", "pw")
	if _, err := f.s.Authenticate(ctx, "dis", "pw", "10.0.0.2:1"); err != nil {
		t.Fatal(err)
	}
	// Disabling takes effect at once, although the password is cached.
	if err := f.s.UpdateUser(ctx, &meta.User{ID: "dis", Status: meta.UserDisabled}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.s.Authenticate(ctx, "dis", "pw", "10.0.0.2:1"); !errors.Is(err, errs.ErrUnauthorized) {
		t.Errorf("disabled user err = %v; want Unauthorized", err)
	}
}

// requireStatus runs req through the middleware and a handler that requires
// perm, and returns the handler's error kind as an HTTP status.
func requireStatus(t *testing.T, s *Service, req *http.Request, perm Privilege) int {
	t.Helper()
	e := echo.New()
	e.Use(s.Middleware())
	e.GET("/", func(c echo.Context) error {
		if err := s.Require(c.Request().Context(), perm); err != nil {
			return c.NoContent(errs.Status(err))
		}
		return c.NoContent(http.StatusOK)
	})
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, req)
	return rec.Code
}

func TestAnonymousAccess(t *testing.T) {
	f := newFixture(t)
	ctx := asSystem
	read := RepositoryView("raw", "raw-h", "read")
	add := RepositoryView("raw", "raw-h", "add")

	if p, ok, err := f.s.AnonymousPrincipal(ctx); p != nil || ok || err != nil {
		t.Fatalf("AnonymousPrincipal while disabled = %v, %v, %v", p, ok, err)
	}
	if err := f.s.Require(context.Background(), read); !errors.Is(err, errs.ErrUnauthorized) {
		t.Errorf("Require without principal err = %v; want Unauthorized", err)
	}
	if got := requireStatus(t, f.s, httptest.NewRequest(http.MethodGet, "/", nil), read); got != http.StatusUnauthorized {
		t.Errorf("anonymous read while disabled = %d; want 401", got)
	}

	if _, err := f.s.SetAnonymous(ctx, meta.AnonymousSettings{Enabled: true, UserID: AnonymousUser}); err != nil {
		t.Fatal(err)
	}
	if got := requireStatus(t, f.s, httptest.NewRequest(http.MethodGet, "/", nil), read); got != http.StatusOK {
		t.Errorf("anonymous read while enabled = %d; want 200", got)
	}
	if got := requireStatus(t, f.s, httptest.NewRequest(http.MethodGet, "/", nil), add); got != http.StatusUnauthorized {
		t.Errorf("anonymous add = %d; want 401", got)
	}
	// Bad credentials are not downgraded to anonymous access.
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req.SetBasicAuth(AdminUser, "wrong")
	if got := requireStatus(t, f.s, req, read); got != http.StatusUnauthorized {
		t.Errorf("read with bad credentials = %d; want 401", got)
	}
	req = httptest.NewRequest(http.MethodGet, "/", nil)
	req.SetBasicAuth(AdminUser, f.adminPassword)
	if got := requireStatus(t, f.s, req, add); got != http.StatusOK {
		t.Errorf("admin add = %d; want 200", got)
	}

	if _, err := f.s.SetAnonymous(ctx, meta.AnonymousSettings{Enabled: true, UserID: "ghost"}); !errors.Is(err, errs.ErrInvalid) {
		t.Errorf("SetAnonymous with unknown user err = %v; want Invalid", err)
	}
	if err := f.s.DeleteUser(ctx, AnonymousUser); !errors.Is(err, errs.ErrInvalid) {
		t.Errorf("DeleteUser(anonymous) err = %v; want Invalid", err)
	}
}

func TestForbidden(t *testing.T) {
	f := newFixture(t)
	f.addUser(t, "reader", "pw", AnonymousRole)
	p, err := f.s.Authenticate(context.Background(), "reader", "pw", "10.0.0.1:1")
	if err != nil {
		t.Fatal(err)
	}
	ctx := WithPrincipal(context.Background(), p)
	if err := f.s.Require(ctx, Application("users", "read")); !errors.Is(err, errs.ErrForbidden) {
		t.Errorf("Require without privilege err = %v; want Forbidden", err)
	}
	if err := f.s.Require(ctx, Application("search", "read")); err != nil {
		t.Errorf("Require with privilege: %v", err)
	}
	// The service checks the privilege first: without it, even oneself is
	// not deleted.
	if err := f.s.DeleteUser(ctx, "reader"); !errors.Is(err, errs.ErrForbidden) {
		t.Errorf("deleting oneself without nx-users-delete err = %v; want Forbidden", err)
	}
	admin, err := f.s.Authenticate(context.Background(), AdminUser, f.adminPassword, "10.0.0.1:1")
	if err != nil {
		t.Fatal(err)
	}
	if err := f.s.DeleteUser(WithPrincipal(context.Background(), admin), AdminUser); !errors.Is(err, errs.ErrInvalid) {
		t.Errorf("deleting oneself err = %v; want Invalid", err)
	}
}

func TestChangePassword(t *testing.T) {
	f := newFixture(t)
	ctx := asSystem
	if _, err := f.s.Authenticate(ctx, AdminUser, f.adminPassword, "10.0.0.1:1"); err != nil {
		t.Fatal(err)
	}
	if _, ok := f.s.logins.users[AdminUser]; !ok {
		t.Fatal("successful login not cached")
	}
	if err := f.s.ChangePassword(ctx, AdminUser, ""); !errors.Is(err, errs.ErrInvalid) {
		t.Errorf("empty password err = %v; want Invalid", err)
	}
	if err := f.s.ChangePassword(ctx, AdminUser, "new-secret"); err != nil {
		t.Fatal(err)
	}
	if f.s.logins.principal(AdminUser, f.adminPassword, f.db.SecurityGeneration(), f.clock.Now()) != nil {
		t.Error("password change left the old login usable from the cache")
	}
	if _, err := os.Stat(f.passwordFile); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("admin.password still present: %v", err)
	}
	if _, err := f.s.Authenticate(ctx, AdminUser, f.adminPassword, "10.0.0.1:1"); !errors.Is(err, errs.ErrUnauthorized) {
		t.Errorf("old password err = %v; want Unauthorized", err)
	}
	if _, err := f.s.Authenticate(ctx, AdminUser, "new-secret", "10.0.0.1:1"); err != nil {
		t.Errorf("new password: %v", err)
	}
}

func TestCacheBoundToStoredHash(t *testing.T) {
	f := newFixture(t)
	ctx := asSystem
	f.addUser(t, "u", "old")
	if _, err := f.s.Authenticate(ctx, "u", "old", "10.0.0.1:1"); err != nil {
		t.Fatal(err)
	}
	// A password change that bypasses the service still defeats the cache.
	u, _ := f.db.GetUser("u")
	other := &meta.User{ID: "x", Status: meta.UserActive}
	if err := f.s.CreateUser(ctx, other, "new"); err != nil {
		t.Fatal(err)
	}
	x, _ := f.db.GetUser("x")
	u.PasswordHash = x.PasswordHash
	if err := f.db.PutUser(u); err != nil {
		t.Fatal(err)
	}
	if _, err := f.s.Authenticate(ctx, "u", "old", "10.0.0.1:1"); !errors.Is(err, errs.ErrUnauthorized) {
		t.Errorf("old password after hash change err = %v; want Unauthorized", err)
	}
	// And the entry expires.
	if _, err := f.s.Authenticate(ctx, "u", "new", "10.0.0.1:1"); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(successTTL)
	if f.s.logins.principal("u", "new", f.db.SecurityGeneration(), f.clock.Now()) != nil {
		t.Error("cached login valid after its TTL")
	}
}

func TestCreateUserValidation(t *testing.T) {
	f := newFixture(t)
	ctx := asSystem
	for name, tc := range map[string]struct {
		u  meta.User
		pw string
	}{
		"empty id":     {meta.User{Status: meta.UserActive}, "pw"},
		"bad id":       {meta.User{ID: "a b", Status: meta.UserActive}, "pw"},
		"no password":  {meta.User{ID: "a", Status: meta.UserActive}, ""},
		"bad status":   {meta.User{ID: "a", Status: "locked"}, "pw"},
		"unknown role": {meta.User{ID: "a", Status: meta.UserActive, Roles: []string{"nope"}}, "pw"},
		"duplicate":    {meta.User{ID: AdminUser, Status: meta.UserActive}, "pw"},
	} {
		if err := f.s.CreateUser(ctx, &tc.u, tc.pw); !errors.Is(err, errs.ErrInvalid) {
			t.Errorf("%s: err = %v; want Invalid", name, err)
		}
	}
}
