package api

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/nexus-go/nexus-go/pkg/auth"
	"github.com/nexus-go/nexus-go/pkg/meta"
)

// newSecurityFixture serves the REST API, whose security endpoints these
// tests drive.
func newSecurityFixture(t *testing.T) *apiFixture {
	return newAPIFixture(t, func(a *API, _ *meta.DB, _ *auth.Service) *API { return a })
}

func expectStatus(t *testing.T, rec *httptest.ResponseRecorder, want int) {
	t.Helper()
	if rec.Code != want {
		t.Fatalf("status = %d; want %d; body %s", rec.Code, want, rec.Body.String())
	}
}

func decodeJSON(t *testing.T, rec *httptest.ResponseRecorder, v any) {
	t.Helper()
	if err := json.Unmarshal(rec.Body.Bytes(), v); err != nil {
		t.Fatalf("decode %s: %v", rec.Body.String(), err)
	}
}

// expectValidationList checks for a 400 with a Nexus validation list body.
func expectValidationList(t *testing.T, rec *httptest.ResponseRecorder) {
	t.Helper()
	expectStatus(t, rec, http.StatusBadRequest)
	var list []ValidationError
	decodeJSON(t, rec, &list)
	if len(list) == 0 || list[0].Message == "" {
		t.Fatalf("validation list = %s", rec.Body.String())
	}
}

const aliceJSON = `{"userId":"alice","firstName":"Alice","lastName":"A","emailAddress":"alice@example.org",
	"password":"alice-pw","status":"active","roles":["nx-anonymous"],"extra":"ignored"}`

func TestUserLifecycle(t *testing.T) {
	f := newSecurityFixture(t)

	rec := f.admin(http.MethodPost, "/v1/security/users", aliceJSON)
	expectStatus(t, rec, http.StatusOK)
	var created map[string]any
	decodeJSON(t, rec, &created)
	if created["userId"] != "alice" || created["source"] != "default" || created["status"] != "active" ||
		created["emailAddress"] != "alice@example.org" {
		t.Errorf("created user = %v", created)
	}
	if _, ok := created["password"]; ok {
		t.Error("response carries the password")
	}
	if ext, ok := created["externalRoles"].([]any); !ok || len(ext) != 0 {
		t.Errorf("externalRoles = %v; want []", created["externalRoles"])
	}

	expectValidationList(t, f.admin(http.MethodPost, "/v1/security/users", aliceJSON))

	rec = f.admin(http.MethodGet, "/v1/security/users?userId=al&source=default", "")
	expectStatus(t, rec, http.StatusOK)
	var users []userJSON
	decodeJSON(t, rec, &users)
	if len(users) != 1 || users[0].UserID != "alice" || len(users[0].Roles) != 1 || users[0].Roles[0] != "nx-anonymous" {
		t.Errorf("listed users = %+v", users)
	}
	rec = f.admin(http.MethodGet, "/v1/security/users", "")
	decodeJSON(t, rec, &users)
	if len(users) != 3 {
		t.Errorf("listed %d users; want 3 (admin, alice, anonymous)", len(users))
	}

	update := `{"userId":"alice","firstName":"Alicia","lastName":"A","emailAddress":"a@example.org","status":"active","roles":["nx-admin"]}`
	expectValidationList(t, f.admin(http.MethodPut, "/v1/security/users/bob", update))
	expectStatus(t, f.admin(http.MethodPut, "/v1/security/users/alice", update), http.StatusNoContent)
	rec = f.admin(http.MethodGet, "/v1/security/users?userId=alice", "")
	decodeJSON(t, rec, &users)
	if len(users) != 1 || users[0].FirstName != "Alicia" || users[0].Roles[0] != "nx-admin" {
		t.Errorf("updated user = %+v", users)
	}
	// The password survived the update.
	expectStatus(t, f.do(http.MethodGet, "/v1/security/users", "alice", "alice-pw", ""), http.StatusOK)

	expectStatus(t, f.admin(http.MethodDelete, "/v1/security/users/alice", ""), http.StatusNoContent)
	expectStatus(t, f.admin(http.MethodDelete, "/v1/security/users/alice", ""), http.StatusNotFound)
}

func TestChangePasswordEndpoint(t *testing.T) {
	f := newSecurityFixture(t)
	expectStatus(t, f.admin(http.MethodPost, "/v1/security/users", aliceJSON), http.StatusOK)

	// Alice lacks nx-userschangepw but may change her own password.
	expectStatus(t, f.do(http.MethodPut, "/v1/security/users/alice/change-password", "alice", "alice-pw", "new-pw"), http.StatusNoContent)
	expectStatus(t, f.do(http.MethodPut, "/v1/security/users/admin/change-password", "alice", "new-pw", "x"), http.StatusForbidden)
	expectStatus(t, f.do(http.MethodGet, "/v1/security/anonymous", "alice", "alice-pw", ""), http.StatusUnauthorized)

	expectValidationList(t, f.admin(http.MethodPut, "/v1/security/users/alice/change-password", ""))
	expectStatus(t, f.admin(http.MethodPut, "/v1/security/users/alice/change-password", "third-pw"), http.StatusNoContent)
	expectStatus(t, f.do(http.MethodGet, "/v1/security/users", "alice", "new-pw", ""), http.StatusUnauthorized)
	// Authenticated but without nx-users-read.
	expectStatus(t, f.do(http.MethodGet, "/v1/security/users", "alice", "third-pw", ""), http.StatusForbidden)
	expectStatus(t, f.admin(http.MethodPut, "/v1/security/users/ghost/change-password", "pw"), http.StatusNotFound)
}

func TestRolesEndpoints(t *testing.T) {
	f := newSecurityFixture(t)
	role := `{"id":"deployer","name":"Deployer","description":"deploys","privileges":["nx-repository-view-*-*-add"],"roles":["nx-anonymous"]}`
	rec := f.admin(http.MethodPost, "/v1/security/roles", role)
	expectStatus(t, rec, http.StatusOK)
	var got roleJSON
	decodeJSON(t, rec, &got)
	if got.ID != "deployer" || got.Source != "default" || got.Name != "Deployer" || len(got.Privileges) != 1 || got.Roles[0] != "nx-anonymous" {
		t.Errorf("created role = %+v", got)
	}
	expectValidationList(t, f.admin(http.MethodPost, "/v1/security/roles", role))
	expectValidationList(t, f.admin(http.MethodPost, "/v1/security/roles", `{"id":"bad","roles":["nope"]}`))

	rec = f.admin(http.MethodGet, "/v1/security/roles", "")
	expectStatus(t, rec, http.StatusOK)
	var roles []roleJSON
	decodeJSON(t, rec, &roles)
	if len(roles) != 3 || roles[0].ID != "deployer" || roles[1].ID != "nx-admin" || roles[2].ID != "nx-anonymous" {
		t.Errorf("roles = %+v", roles)
	}

	expectStatus(t, f.admin(http.MethodPut, "/v1/security/roles/deployer",
		`{"id":"deployer","name":"Deployer","description":"changed","privileges":[],"roles":[]}`), http.StatusNoContent)
	rec = f.admin(http.MethodGet, "/v1/security/roles/deployer", "")
	expectStatus(t, rec, http.StatusOK)
	decodeJSON(t, rec, &got)
	if got.Description != "changed" || len(got.Roles) != 0 || got.Privileges == nil {
		t.Errorf("updated role = %+v", got)
	}
	expectValidationList(t, f.admin(http.MethodPut, "/v1/security/roles/deployer", `{"id":"other"}`))

	expectValidationList(t, f.admin(http.MethodDelete, "/v1/security/roles/nx-admin", ""))
	expectStatus(t, f.admin(http.MethodDelete, "/v1/security/roles/deployer", ""), http.StatusNoContent)
	expectStatus(t, f.admin(http.MethodGet, "/v1/security/roles/deployer", ""), http.StatusNotFound)
}

func TestAnonymousEndpoints(t *testing.T) {
	f := newSecurityFixture(t)
	rec := f.admin(http.MethodGet, "/v1/security/anonymous", "")
	expectStatus(t, rec, http.StatusOK)
	var set anonymousJSON
	decodeJSON(t, rec, &set)
	if set != (anonymousJSON{Enabled: false, UserID: "anonymous", RealmName: "NexusAuthorizingRealm"}) {
		t.Errorf("anonymous = %+v", set)
	}

	rec = f.admin(http.MethodPut, "/v1/security/anonymous", `{"enabled":true,"userId":"anonymous"}`)
	expectStatus(t, rec, http.StatusOK)
	decodeJSON(t, rec, &set)
	if set != (anonymousJSON{Enabled: true, UserID: "anonymous", RealmName: "NexusAuthorizingRealm"}) {
		t.Errorf("stored anonymous = %+v", set)
	}
	// Enabled anonymous access still lacks nx-settings-read: a challenge, not 403.
	expectStatus(t, f.do(http.MethodGet, "/v1/security/anonymous", "", "", ""), http.StatusUnauthorized)
	expectValidationList(t, f.admin(http.MethodPut, "/v1/security/anonymous", `{"enabled":true,"userId":"ghost"}`))
}

func TestSecurityAuthFailures(t *testing.T) {
	f := newSecurityFixture(t)
	rec := f.do(http.MethodGet, "/v1/security/users", "", "", "")
	expectStatus(t, rec, http.StatusUnauthorized)
	if h := rec.Header().Get("WWW-Authenticate"); !strings.HasPrefix(h, "Basic ") {
		t.Errorf("WWW-Authenticate = %q; want a Basic challenge", h)
	}
	expectStatus(t, f.do(http.MethodGet, "/v1/security/users", "admin", "wrong", ""), http.StatusUnauthorized)

	expectStatus(t, f.admin(http.MethodPost, "/v1/security/users",
		`{"userId":"reader","password":"pw","status":"active","roles":["nx-anonymous"]}`), http.StatusOK)
	expectStatus(t, f.do(http.MethodGet, "/v1/security/users", "reader", "pw", ""), http.StatusForbidden)
	expectStatus(t, f.do(http.MethodPost, "/v1/security/roles", "reader", "pw", `{"id":"x"}`), http.StatusForbidden)
}

func TestSecurityMalformedJSON(t *testing.T) {
	f := newSecurityFixture(t)
	for _, path := range []string{"/v1/security/users", "/v1/security/roles"} {
		expectValidationList(t, f.admin(http.MethodPost, path, `{"userId":`))
	}
	expectValidationList(t, f.admin(http.MethodPut, "/v1/security/anonymous", `{"enabled":"yes"}`))
	expectValidationList(t, f.admin(http.MethodPost, "/v1/security/users",
		`{"userId":"bob","password":"pw","status":"sleeping","roles":[]}`))
}

// A write answers with what it stored: a caller holding only the write
// privilege gets the created user or role, or the stored settings, not a
// 403 from a read it was never asked to hold.
func TestSecurityWritesNeedOnlyTheirPrivilege(t *testing.T) {
	f := newSecurityFixture(t)
	expectStatus(t, f.admin(http.MethodPost, "/v1/security/roles",
		`{"id":"writer","privileges":["nx-users-create","nx-roles-create","nx-settings-update"]}`), http.StatusOK)
	expectStatus(t, f.admin(http.MethodPost, "/v1/security/users",
		`{"userId":"writer","password":"pw","status":"active","roles":["writer"]}`), http.StatusOK)

	rec := f.do(http.MethodPost, "/v1/security/users", "writer", "pw",
		`{"userId":"made","firstName":"M","lastName":"M","emailAddress":"m@example.org","password":"pw","status":"active","roles":[]}`)
	expectStatus(t, rec, http.StatusOK)
	var u userJSON
	decodeJSON(t, rec, &u)
	if u.UserID != "made" || u.Source != "default" {
		t.Errorf("created user = %+v", u)
	}
	rec = f.do(http.MethodPost, "/v1/security/roles", "writer", "pw", `{"id":"made-role"}`)
	expectStatus(t, rec, http.StatusOK)
	var r roleJSON
	decodeJSON(t, rec, &r)
	if r.ID != "made-role" || r.Name != "made-role" || r.Source != "default" {
		t.Errorf("created role = %+v", r)
	}
	rec = f.do(http.MethodPut, "/v1/security/anonymous", "writer", "pw", `{"enabled":false,"userId":"anonymous"}`)
	expectStatus(t, rec, http.StatusOK)
	var set anonymousJSON
	decodeJSON(t, rec, &set)
	if set != (anonymousJSON{Enabled: false, UserID: "anonymous", RealmName: "NexusAuthorizingRealm"}) {
		t.Errorf("stored anonymous = %+v", set)
	}
	// Reading still needs the read privileges.
	expectStatus(t, f.do(http.MethodGet, "/v1/security/users", "writer", "pw", ""), http.StatusForbidden)
	expectStatus(t, f.do(http.MethodGet, "/v1/security/anonymous", "writer", "pw", ""), http.StatusForbidden)
}
