package meta

import (
	"errors"
	"path/filepath"
	"testing"

	"github.com/nexus-go/nexus-go/pkg/errs"
)

func openSecurityDB(t *testing.T) *DB {
	t.Helper()
	db, err := Open(filepath.Join(t.TempDir(), "meta.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestUsersCRUD(t *testing.T) {
	db := openSecurityDB(t)
	if n, err := db.UserCount(); err != nil || n != 0 {
		t.Fatalf("UserCount = %d, %v; want 0", n, err)
	}
	for _, id := range []string{"zed", "alice"} {
		if err := db.CreateUser(&User{ID: id, Status: UserActive, PasswordHash: []byte("h-" + id), Roles: []string{"r"}}); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.CreateUser(&User{ID: "alice"}); !errors.Is(err, errs.ErrInvalid) {
		t.Fatalf("duplicate CreateUser err = %v; want Invalid", err)
	}
	users, err := db.Users()
	if err != nil {
		t.Fatal(err)
	}
	if len(users) != 2 || users[0].ID != "alice" || users[1].ID != "zed" {
		t.Fatalf("Users not sorted by ID: %+v", users)
	}
	if n, _ := db.UserCount(); n != 2 {
		t.Fatalf("UserCount = %d; want 2", n)
	}

	u, err := db.GetUser("alice")
	if err != nil {
		t.Fatal(err)
	}
	if string(u.PasswordHash) != "h-alice" || u.Roles[0] != "r" {
		t.Fatalf("GetUser = %+v", u)
	}
	u.Status = UserDisabled
	if err := db.PutUser(u); err != nil {
		t.Fatal(err)
	}
	if u, _ = db.GetUser("alice"); u.Status != UserDisabled {
		t.Fatalf("PutUser not stored: %+v", u)
	}
	if err := db.PutUser(&User{ID: "ghost"}); !errors.Is(err, errs.ErrNotFound) {
		t.Fatalf("PutUser unknown err = %v; want NotFound", err)
	}

	if err := db.DeleteUser("alice"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.GetUser("alice"); !errors.Is(err, errs.ErrNotFound) {
		t.Fatalf("GetUser after delete err = %v; want NotFound", err)
	}
	if err := db.DeleteUser("alice"); !errors.Is(err, errs.ErrNotFound) {
		t.Fatalf("second DeleteUser err = %v; want NotFound", err)
	}
}

func TestRolesCRUD(t *testing.T) {
	db := openSecurityDB(t)
	if err := db.CreateRole(&Role{ID: "b", Privileges: []string{"p1"}}); err != nil {
		t.Fatal(err)
	}
	if err := db.CreateRole(&Role{ID: "a", Roles: []string{"b"}}); err != nil {
		t.Fatal(err)
	}
	if err := db.CreateRole(&Role{ID: "a"}); !errors.Is(err, errs.ErrInvalid) {
		t.Fatalf("duplicate CreateRole err = %v; want Invalid", err)
	}
	roles, err := db.Roles()
	if err != nil {
		t.Fatal(err)
	}
	if len(roles) != 2 || roles[0].ID != "a" || roles[1].ID != "b" {
		t.Fatalf("Roles = %+v", roles)
	}
	r, err := db.GetRole("b")
	if err != nil {
		t.Fatal(err)
	}
	r.Description = "changed"
	if err := db.PutRole(r); err != nil {
		t.Fatal(err)
	}
	if r, _ = db.GetRole("b"); r.Description != "changed" || r.Privileges[0] != "p1" {
		t.Fatalf("PutRole not stored: %+v", r)
	}
	if err := db.PutRole(&Role{ID: "x"}); !errors.Is(err, errs.ErrNotFound) {
		t.Fatalf("PutRole unknown err = %v; want NotFound", err)
	}
	if err := db.DeleteRole("b"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.GetRole("b"); !errors.Is(err, errs.ErrNotFound) {
		t.Fatalf("GetRole after delete err = %v; want NotFound", err)
	}
}

func TestAnonymousSettings(t *testing.T) {
	db := openSecurityDB(t)
	s, err := db.Anonymous()
	if err != nil {
		t.Fatal(err)
	}
	want := AnonymousSettings{Enabled: false, UserID: "anonymous", RealmName: "NexusAuthorizingRealm"}
	if s != want {
		t.Fatalf("default Anonymous = %+v; want %+v", s, want)
	}
	set := AnonymousSettings{Enabled: true, UserID: "guest", RealmName: "NexusAuthorizingRealm"}
	if err := db.SetAnonymous(set); err != nil {
		t.Fatal(err)
	}
	if s, _ = db.Anonymous(); s != set {
		t.Fatalf("Anonymous = %+v; want %+v", s, set)
	}
}
