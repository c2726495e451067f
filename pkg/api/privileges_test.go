package api

import (
	"net/http"
	"reflect"
	"testing"
)

func TestPrivilegesREST(t *testing.T) {
	f := newSecurityFixture(t)
	rec := f.admin(http.MethodPost, "/v1/security/privileges/application",
		`{"name":"app-1","description":"d","actions":["READ","associate"],"domain":"domain"}`)
	expectStatus(t, rec, http.StatusCreated)
	var got map[string]any
	rec = f.admin(http.MethodGet, "/v1/security/privileges/app-1", "")
	expectStatus(t, rec, http.StatusOK)
	decodeJSON(t, rec, &got)
	want := map[string]any{"type": "application", "name": "app-1", "description": "d", "readOnly": false,
		"domain": "domain", "actions": []any{"READ", "ASSOCIATE"}}
	if len(got) != len(want) {
		t.Errorf("GET = %v, want %v", got, want)
	}
	for k, v := range want {
		if g, ok := got[k]; !ok || !reflect.DeepEqual(g, v) {
			t.Errorf("GET %s = %v, want %v", k, got[k], v)
		}
	}
	rec = f.admin(http.MethodGet, "/v1/security/privileges/nx-repository-view-yum-*-browse", "")
	expectStatus(t, rec, http.StatusOK)
	decodeJSON(t, rec, &got)
	if got["readOnly"] != true || got["type"] != "repository-view" || got["repository"] != "*" ||
		got["description"] != "Browse privilege for all 'yum'-format repository views" {
		t.Errorf("built-in = %v", got)
	}

	// Refusals in Nexus's validation shape; nothing changes.
	for _, tc := range []struct{ method, path, body, field string }{
		{http.MethodPost, "/v1/security/privileges/repository-view", `{"name":"v","actions":["READ"],"format":"raw"}`, "repository"},
		{http.MethodPost, "/v1/security/privileges/repository-view", `{"name":"v","actions":["RUN"],"format":"raw","repository":"r"}`, "actions"},
		{http.MethodPost, "/v1/security/privileges/wildcard", `{"name":"app-1","pattern":"nexus:*"}`, "name"},
		{http.MethodPost, "/v1/security/privileges/repository-content-selector",
			`{"name":"c","actions":["READ"],"format":"raw","repository":"r","contentSelector":"none"}`, "contentSelector"},
		{http.MethodPost, "/v1/security/content-selectors", `{"name":"s","expression":"format = raw"}`, "expression"},
		{http.MethodPost, "/v1/security/content-selectors", `{"name":"s","expression":""}`, "expression"},
	} {
		rec := f.admin(tc.method, tc.path, tc.body)
		expectStatus(t, rec, http.StatusBadRequest)
		var v []ValidationError
		decodeJSON(t, rec, &v)
		if len(v) != 1 || v[0].ID != "PARAMETER "+tc.field || v[0].Message == "" {
			t.Errorf("%s %s: %v, want one error for %s", tc.method, tc.body, v, tc.field)
		}
	}
	expectStatus(t, f.admin(http.MethodGet, "/v1/security/privileges/v", ""), http.StatusNotFound)
	expectStatus(t, f.admin(http.MethodPut, "/v1/security/privileges/wildcard/nx-all", `{"name":"nx-all","pattern":"nexus:x"}`), http.StatusBadRequest)
	expectStatus(t, f.admin(http.MethodDelete, "/v1/security/privileges/nx-all", ""), http.StatusBadRequest)

	// Selectors: 204 on create, update and delete; GET shows them.
	expectStatus(t, f.admin(http.MethodPost, "/v1/security/content-selectors",
		`{"name":"team","description":"t","expression":"format == \"raw\" and path =^ \"/team/\""}`), http.StatusNoContent)
	expectStatus(t, f.admin(http.MethodPut, "/v1/security/content-selectors/team",
		`{"description":"t2","expression":"path =^ '/team/'"}`), http.StatusNoContent)
	rec = f.admin(http.MethodGet, "/v1/security/content-selectors/team", "")
	expectStatus(t, rec, http.StatusOK)
	var sel selectorJSON
	decodeJSON(t, rec, &sel)
	if sel != (selectorJSON{Name: "team", Type: "csel", Description: "t2", Expression: "path =^ '/team/'"}) {
		t.Errorf("selector = %+v", sel)
	}
	expectStatus(t, f.admin(http.MethodPost, "/v1/security/privileges/repository-content-selector",
		`{"name":"c","actions":["READ"],"format":"raw","repository":"*","contentSelector":"team"}`), http.StatusCreated)
	expectStatus(t, f.admin(http.MethodDelete, "/v1/security/content-selectors/team", ""), http.StatusBadRequest)
	expectStatus(t, f.admin(http.MethodDelete, "/v1/security/privileges/c", ""), http.StatusNoContent)
	expectStatus(t, f.admin(http.MethodDelete, "/v1/security/content-selectors/team", ""), http.StatusNoContent)
	expectStatus(t, f.admin(http.MethodGet, "/v1/security/content-selectors/team", ""), http.StatusNotFound)
	// Anonymous callers are challenged.
	expectStatus(t, f.do(http.MethodGet, "/v1/security/privileges", "", "", ""), http.StatusUnauthorized)
}
