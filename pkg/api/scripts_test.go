package api

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/nexus-go/nexus-go/pkg/auth"
	"github.com/nexus-go/nexus-go/pkg/meta"
	"github.com/nexus-go/nexus-go/pkg/scripts"
)

type scriptFixture struct{ *apiFixture }

// newScriptFixture serves the API with scripts.allow-creation set to allow.
func newScriptFixture(t *testing.T, allow bool) *scriptFixture {
	return &scriptFixture{newAPIFixture(t, func(a *API, db *meta.DB, security *auth.Service) *API {
		return a.WithScripts(scripts.New(db, security, allow))
	})}
}

// expectScriptResult checks a ScriptResultXO answer.
func expectScriptResult(t *testing.T, rec *httptest.ResponseRecorder, status int, name, result string) {
	t.Helper()
	expectStatus(t, rec, status)
	var got scriptResult
	decodeJSON(t, rec, &got)
	if got != (scriptResult{Name: name, Result: result}) {
		t.Errorf("body %s, want name %q and result %q", rec.Body, name, result)
	}
}

func TestScriptEndpoints(t *testing.T) {
	f := newScriptFixture(t, true)
	content := `log.info("Hello, \u00fcber!")` + "\r\n\t// kept byte for byte"
	body := `{"name":"hello","content":` + jsonString(content) + `,"type":"groovy"}`
	expectStatus(t, f.admin(http.MethodPost, "/v1/script", body), http.StatusNoContent)
	expectValidationList(t, f.admin(http.MethodPost, "/v1/script", body)) // exists
	for _, bad := range []string{
		`{"name":"_x","content":"c","type":"groovy"}`,
		`{"name":"a b","content":"c","type":"groovy"}`,
		`{"name":"x","content":"","type":"groovy"}`,
		`{"name":"x","content":"c","type":"javascript"}`,
	} {
		expectValidationList(t, f.admin(http.MethodPost, "/v1/script", bad))
	}
	expectStatus(t, f.admin(http.MethodPost, "/v1/script", `{"name":`), http.StatusBadRequest)
	// A missing type is groovy, the one type.
	expectStatus(t, f.admin(http.MethodPost, "/v1/script", `{"name":"second","content":"return 1"}`), http.StatusNoContent)

	var got meta.Script
	decodeJSON(t, f.admin(http.MethodGet, "/v1/script/hello", ""), &got)
	if got != (meta.Script{Name: "hello", Content: content, Type: "groovy"}) {
		t.Fatalf("GET = %+v", got)
	}
	var list []meta.Script
	decodeJSON(t, f.admin(http.MethodGet, "/v1/script", ""), &list)
	if len(list) != 2 || list[0].Name != "hello" || list[1] != (meta.Script{Name: "second", Content: "return 1", Type: "groovy"}) {
		t.Fatalf("list = %+v", list)
	}

	expectStatus(t, f.admin(http.MethodPut, "/v1/script/hello", `{"name":"hello","content":"changed","type":"groovy"}`), http.StatusNoContent)
	decodeJSON(t, f.admin(http.MethodGet, "/v1/script/hello", ""), &got)
	if got.Content != "changed" {
		t.Fatalf("after PUT: %+v", got)
	}
	expectValidationList(t, f.admin(http.MethodPut, "/v1/script/hello", `{"name":"other","content":"c","type":"groovy"}`))
	expectStatus(t, f.admin(http.MethodPut, "/v1/script/none", `{"name":"none","content":"c","type":"groovy"}`), http.StatusNotFound)

	// Nothing runs: Nexus's failed run, whatever the arguments.
	expectScriptResult(t, f.admin(http.MethodPost, "/v1/script/hello/run", `{"data":"x"}`), http.StatusBadRequest, "hello", "this server does not run scripts")
	expectScriptResult(t, f.admin(http.MethodPost, "/v1/script/hello/run", ""), http.StatusBadRequest, "hello", "this server does not run scripts")
	expectStatus(t, f.admin(http.MethodPost, "/v1/script/none/run", ""), http.StatusNotFound)

	expectStatus(t, f.admin(http.MethodDelete, "/v1/script/hello", ""), http.StatusNoContent)
	expectStatus(t, f.admin(http.MethodDelete, "/v1/script/hello", ""), http.StatusNotFound)
	rec := f.admin(http.MethodGet, "/v1/script/hello", "")
	expectStatus(t, rec, http.StatusNotFound)
	if !strings.Contains(rec.Body.String(), "Script with name: 'hello' not found") {
		t.Errorf("404 body %s", rec.Body)
	}
}

// A default install stores no script: creating and updating answer 410
// as Nexus does and change nothing; reading and deleting still work.
func TestScriptCreationDisabled(t *testing.T) {
	f := newScriptFixture(t, false)
	expectScriptResult(t, f.admin(http.MethodPost, "/v1/script", `{"name":"s","content":"c","type":"groovy"}`),
		http.StatusGone, "s", "Creating and updating scripts is disabled")
	expectStatus(t, f.admin(http.MethodGet, "/v1/script/s", ""), http.StatusNotFound)
	// One stored while creation was allowed.
	if err := f.db.PutScript(meta.Script{Name: "old", Content: "c", Type: "groovy"}, true); err != nil {
		t.Fatal(err)
	}
	expectScriptResult(t, f.admin(http.MethodPut, "/v1/script/old", `{"name":"old","content":"new","type":"groovy"}`),
		http.StatusGone, "old", "Creating and updating scripts is disabled")
	expectStatus(t, f.admin(http.MethodPut, "/v1/script/none", `{"name":"none","content":"new","type":"groovy"}`), http.StatusNotFound)
	var got meta.Script
	decodeJSON(t, f.admin(http.MethodGet, "/v1/script/old", ""), &got)
	if got.Content != "c" {
		t.Fatalf("a refused update changed the script: %+v", got)
	}
	expectScriptResult(t, f.admin(http.MethodPost, "/v1/script/old/run", ""), http.StatusBadRequest, "old", "this server does not run scripts")
	expectStatus(t, f.admin(http.MethodDelete, "/v1/script/old", ""), http.StatusNoContent)
}

// Script privileges as Nexus checks them: per script and action, listing
// needs nx-script-*-browse, and a run privilege still runs nothing.
func TestScriptPrivileges(t *testing.T) {
	f := newScriptFixture(t, true)
	for _, s := range []string{"mine", "theirs"} {
		expectStatus(t, f.admin(http.MethodPost, "/v1/script", `{"name":"`+s+`","content":"c","type":"groovy"}`), http.StatusNoContent)
	}
	expectStatus(t, f.admin(http.MethodPost, "/v1/security/privileges/script",
		`{"name":"mine-rw","description":"d","actions":["READ","EDIT","RUN"],"scriptName":"mine"}`), http.StatusCreated)
	expectStatus(t, f.admin(http.MethodPost, "/v1/security/roles",
		`{"id":"scripter","name":"scripter","description":"d","privileges":["mine-rw"],"roles":[]}`), http.StatusOK)
	expectStatus(t, f.admin(http.MethodPost, "/v1/security/roles",
		`{"id":"lister","name":"lister","description":"d","privileges":["nx-script-*-browse"],"roles":[]}`), http.StatusOK)
	for _, u := range []struct{ id, role string }{{"bob", "scripter"}, {"lis", "lister"}} {
		expectStatus(t, f.admin(http.MethodPost, "/v1/security/users", `{"userId":"`+u.id+`","firstName":"B","lastName":"B",
			"emailAddress":"b@example.org","password":"pw","status":"active","roles":["`+u.role+`"]}`), http.StatusOK)
	}
	bob := func(method, path, body string) *httptest.ResponseRecorder {
		return f.do(method, path, "bob", "pw", body)
	}

	expectStatus(t, bob(http.MethodGet, "/v1/script/mine", ""), http.StatusOK)
	expectStatus(t, bob(http.MethodPut, "/v1/script/mine", `{"name":"mine","content":"bob's","type":"groovy"}`), http.StatusNoContent)
	expectScriptResult(t, bob(http.MethodPost, "/v1/script/mine/run", ""), http.StatusBadRequest, "mine", "this server does not run scripts")
	for _, r := range []struct{ method, path, body string }{
		{http.MethodGet, "/v1/script", ""},
		{http.MethodGet, "/v1/script/theirs", ""},
		{http.MethodPut, "/v1/script/theirs", `{"name":"theirs","content":"x","type":"groovy"}`},
		{http.MethodPost, "/v1/script/theirs/run", ""},
		{http.MethodPost, "/v1/script", `{"name":"new","content":"c","type":"groovy"}`},
		{http.MethodDelete, "/v1/script/mine", ""},
		// The privilege is checked before the script is looked up.
		{http.MethodGet, "/v1/script/none", ""},
	} {
		expectStatus(t, bob(r.method, r.path, r.body), http.StatusForbidden)
	}
	var list []meta.Script
	decodeJSON(t, f.do(http.MethodGet, "/v1/script", "lis", "pw", ""), &list)
	if len(list) != 2 || list[0].Content != "bob's" {
		t.Errorf("list = %+v", list)
	}
	expectStatus(t, f.do(http.MethodGet, "/v1/script/mine", "lis", "pw", ""), http.StatusForbidden)
	expectStatus(t, f.do(http.MethodGet, "/v1/script", "", "", ""), http.StatusUnauthorized)
	expectStatus(t, f.do(http.MethodPost, "/v1/script/mine/run", "", "", ""), http.StatusUnauthorized)
}

// While the server is read-only, script writes are refused (503) and
// change nothing.
func TestScriptWritesRefusedWhileReadOnly(t *testing.T) {
	f := newScriptFixture(t, true)
	expectStatus(t, f.admin(http.MethodPost, "/v1/script", `{"name":"s","content":"c","type":"groovy"}`), http.StatusNoContent)
	expectStatus(t, f.admin(http.MethodPost, "/v1/read-only/freeze", ""), http.StatusNoContent)
	for _, w := range []struct{ method, path, body string }{
		{http.MethodPost, "/v1/script", `{"name":"t","content":"c","type":"groovy"}`},
		{http.MethodPut, "/v1/script/s", `{"name":"s","content":"x","type":"groovy"}`},
		{http.MethodDelete, "/v1/script/s", ""},
	} {
		expectStatus(t, f.admin(w.method, w.path, w.body), http.StatusServiceUnavailable)
	}
	var list []meta.Script
	decodeJSON(t, f.admin(http.MethodGet, "/v1/script", ""), &list)
	if len(list) != 1 || list[0].Content != "c" {
		t.Fatalf("list while frozen = %+v", list)
	}
}

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
