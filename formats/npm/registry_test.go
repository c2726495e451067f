package npm

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/nexus-go/nexus-go/formats/npm/npmtest"
	"github.com/nexus-go/nexus-go/pkg/repo"
)

// npm login checks the password and answers a new token each time; npm
// whoami names the caller; npm token list shows the tokens without their
// values; create needs the password again; revoke and logout remove only
// the caller's own.
func TestLoginAndTokens(t *testing.T) {
	fx := newFixture(t)
	h := fx.hosted("npm-hosted")
	login := func(name, body string) (int, map[string]any) {
		w := fx.do(t.Context(), h, http.MethodPut, "-/user/org.couchdb.user:"+name, []byte(body), nil)
		var out map[string]any
		json.Unmarshal(w.Body.Bytes(), &out)
		return w.Code, out
	}
	if !fx.f.SignsIn(http.MethodPut, "-/user/org.couchdb.user:admin") || fx.f.SignsIn(http.MethodGet, "-/whoami") {
		t.Fatal("SignsIn does not name the login request alone")
	}
	code, out := login("admin", `{"_id":"org.couchdb.user:admin","name":"admin","password":"`+fx.adminPW+`","type":"user","roles":[]}`)
	token, _ := out["token"].(string)
	if code != http.StatusCreated || out["ok"] != true || !strings.HasPrefix(token, "npm_") {
		t.Fatalf("login: %d %v", code, out)
	}
	if code, out2 := login("admin", `{"name":"admin","password":"`+fx.adminPW+`"}`); code != http.StatusCreated || out2["token"] == token {
		t.Fatalf("a second login: %d, same token %v", code, out2["token"] == token)
	}
	for _, c := range []struct{ user, body string }{
		{"admin", `{"name":"admin","password":"wrong"}`},
		{"nobody", `{"name":"nobody","password":"x"}`},
	} {
		if code, out := login(c.user, c.body); code != http.StatusUnauthorized || out["token"] != nil {
			t.Errorf("login %s: %d %v", c.body, code, out)
		}
	}
	if code, _ := login("other", `{"name":"admin","password":"`+fx.adminPW+`"}`); code != http.StatusBadRequest {
		t.Errorf("name in URL and body differ: %d", code)
	}
	ctx := fx.as("admin")
	var who map[string]string
	json.Unmarshal(fx.do(ctx, h, http.MethodGet, "-/whoami", nil, nil).Body.Bytes(), &who)
	if who["username"] != "admin" {
		t.Fatalf("whoami: %v", who)
	}
	if w := fx.do(t.Context(), h, http.MethodGet, "-/whoami", nil, nil); w.Code != http.StatusUnauthorized {
		t.Errorf("whoami without a caller: %d", w.Code)
	}
	// npm owner add reads the new maintainer's user document.
	var u map[string]string
	json.Unmarshal(fx.do(ctx, h, http.MethodGet, "-/user/org.couchdb.user:admin", nil, nil).Body.Bytes(), &u)
	if u["name"] != "admin" || u["password"] != "" || len(u) != 3 {
		t.Errorf("user document: %v", u)
	}
	if w := fx.do(ctx, h, http.MethodGet, "-/user/org.couchdb.user:nobody", nil, nil); w.Code != http.StatusNotFound {
		t.Errorf("user document of nobody: %d", w.Code)
	}
	if w := fx.do(t.Context(), h, http.MethodGet, "-/user/org.couchdb.user:admin", nil, nil); w.Code != http.StatusUnauthorized {
		t.Errorf("user document without a caller: %d", w.Code)
	}

	list := func() []tokenJSON {
		var l struct {
			Objects []tokenJSON `json:"objects"`
			Total   int         `json:"total"`
			URLs    map[string]string
		}
		w := fx.do(ctx, h, http.MethodGet, "-/npm/v1/tokens", nil, nil)
		json.Unmarshal(w.Body.Bytes(), &l)
		if w.Code != http.StatusOK || l.Total != len(l.Objects) || l.URLs == nil {
			t.Fatalf("token list: %d %s", w.Code, w.Body.String())
		}
		return l.Objects
	}
	tokens := list()
	if len(tokens) != 2 || strings.Contains(mustJSONString(tokens), token) || !strings.HasPrefix(token, tokens[0].Token) && !strings.HasPrefix(token, tokens[1].Token) {
		t.Fatalf("token list %+v", tokens)
	}
	// npm 11's token create: granular fields accepted.
	w := fx.do(ctx, h, http.MethodPost, "-/npm/v1/tokens", []byte(`{"name":"ci","password":"wrong","cidr_whitelist":["127.0.0.0/8"]}`), nil)
	if w.Code != http.StatusUnauthorized {
		t.Fatalf("token create with a wrong password: %d", w.Code)
	}
	w = fx.do(ctx, h, http.MethodPost, "-/npm/v1/tokens", []byte(`{"name":"ci","password":"`+fx.adminPW+`","packages_and_scopes_permission":"read-only","cidr_whitelist":["127.0.0.0/8"],"expires":30,"packages":["x"]}`), nil)
	var created tokenJSON
	json.Unmarshal(w.Body.Bytes(), &created)
	if w.Code != http.StatusOK || !strings.HasPrefix(created.Token, "npm_") || len(created.Token) < 20 || !created.ReadOnly || created.Key == "" {
		t.Fatalf("token create: %d %s", w.Code, w.Body.String())
	}
	if len(list()) != 3 {
		t.Fatal("the created token is not listed")
	}
	// Revoke by key; logout by value; another user's token is not found.
	if w := fx.do(ctx, h, http.MethodDelete, "-/npm/v1/tokens/token/"+created.Key, nil, nil); w.Code != http.StatusNoContent {
		t.Fatalf("revoke: %d %s", w.Code, w.Body.String())
	}
	if w := fx.do(ctx, h, http.MethodDelete, "-/user/token/"+token, nil, nil); w.Code != http.StatusOK {
		t.Fatalf("logout: %d %s", w.Code, w.Body.String())
	}
	if n := len(list()); n != 1 {
		t.Fatalf("%d tokens after a revoke and a logout, want 1", n)
	}
	if w := fx.do(ctx, h, http.MethodDelete, "-/user/token/"+token, nil, nil); w.Code != http.StatusNotFound {
		t.Errorf("logout of a revoked token: %d", w.Code)
	}
}

func mustJSONString(v any) string { return string(mustJSON(v)) }

// While the server is read-only, npm login, logout and token create and
// revoke are refused with 503 (each writes a token); listing goes on.
func TestTokensFrozen(t *testing.T) {
	fx := newFixture(t)
	h := fx.hosted("npm-hosted")
	ctx := fx.as("admin")
	w := fx.do(ctx, h, http.MethodPost, "-/npm/v1/tokens", []byte(`{"password":"`+fx.adminPW+`"}`), nil)
	var created tokenJSON
	json.Unmarshal(w.Body.Bytes(), &created)
	if w.Code != http.StatusOK || created.Key == "" {
		t.Fatalf("token create: %d %s", w.Code, w.Body.String())
	}
	if err := fx.M.SetReadOnly(t.Context(), true); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ method, path, body string }{
		{http.MethodPut, "-/user/org.couchdb.user:admin", `{"name":"admin","password":"` + fx.adminPW + `"}`},
		{http.MethodPost, "-/npm/v1/tokens", `{"password":"` + fx.adminPW + `"}`},
		{http.MethodDelete, "-/npm/v1/tokens/token/" + created.Key, ""},
		{http.MethodDelete, "-/user/token/" + created.Token, ""},
	} {
		if w := fx.do(ctx, h, c.method, c.path, []byte(c.body), nil); w.Code != http.StatusServiceUnavailable || !strings.Contains(w.Body.String(), "read-only") {
			t.Errorf("%s %s while frozen: %d %s", c.method, c.path, w.Code, w.Body.String())
		}
	}
	if w := fx.do(ctx, h, http.MethodGet, "-/npm/v1/tokens", nil, nil); w.Code != http.StatusOK || !strings.Contains(w.Body.String(), created.Key) {
		t.Errorf("token list while frozen: %d %s", w.Code, w.Body.String())
	}
}

// npm search: a hosted repository matches its packuments, a proxy asks
// its upstream, a group merges them, hosted first, each name once.
func TestSearch(t *testing.T) {
	reg := newRegistry(t)
	fx := newFixture(t)
	h := fx.hosted("npm-hosted")
	fx.proxy("npm-proxy", reg.URL+"/")
	g := fx.group("npm-group", "", "", "npm-proxy", "npm-hosted")
	fx.publish(h, npmtest.Package{Name: "foo", Version: "1.0.0"})
	if w := fx.publishTo(fx.as("admin"), h, npmtest.Package{Name: "@acme/widget", Version: "2.0.0"}, nil); w.Code != http.StatusOK {
		t.Fatalf("publish as admin: %d", w.Code)
	}
	search := func(r repo.Repository, q string) []string {
		var ans struct {
			Objects []searchResult `json:"objects"`
			Total   int            `json:"total"`
		}
		json.Unmarshal(fx.get(r, "-/v1/search?"+q, nil, http.StatusOK), &ans)
		var names []string
		for _, o := range ans.Objects {
			if o.Package.Maintainers == nil {
				t.Errorf("%s has no maintainers list (npm search reads it)", o.Package.Name)
			}
			names = append(names, o.Package.Name)
		}
		return names
	}
	if got := search(h, "text=widget"); len(got) != 1 || got[0] != "@acme/widget" {
		t.Errorf("hosted search: %v", got)
	}
	var ans struct {
		Objects []searchResult `json:"objects"`
	}
	json.Unmarshal(fx.get(h, "-/v1/search?text=widget", nil, http.StatusOK), &ans)
	if p := ans.Objects[0].Package; p.Publisher == nil || p.Publisher.Username != "admin" || len(p.Maintainers) != 1 || p.Maintainers[0].Username != "admin" || p.Version != "2.0.0" {
		t.Errorf("the search answer of a package admin published: %+v", p)
	}
	if got := search(h, "text=nothing"); len(got) != 0 {
		t.Errorf("hosted search for nothing: %v", got)
	}
	if got := search(g, "text=foo&size=10"); strings.Join(got, " ") != "foo upstream-hit" {
		t.Errorf("group search: %v, want hosted foo first, upstream's foo left out", got)
	}
	if got := search(g, "text=foo&size=1&from=1"); strings.Join(got, " ") != "upstream-hit" {
		t.Errorf("group search, second page: %v", got)
	}
}

// npm audit: forwarded through the first proxy member with its gzip body
// as sent; a hosted repository, or a failing upstream, answers empty.
func TestAudit(t *testing.T) {
	reg := newRegistry(t)
	fx := newFixture(t)
	h := fx.hosted("npm-hosted")
	fx.proxy("npm-proxy", reg.URL+"/")
	g := fx.group("npm-group", "", "", "npm-hosted", "npm-proxy")
	var zipped bytes.Buffer
	zw := gzip.NewWriter(&zipped)
	zw.Write([]byte(`{"foo":["1.0.0"]}`))
	zw.Close()
	post := func(r repo.Repository, endpoint string) (int, string) {
		w := fx.do(t.Context(), r, http.MethodPost, "-/"+endpoint, zipped.Bytes(), map[string]string{"Content-Encoding": "gzip", "Content-Type": "application/json"})
		return w.Code, w.Body.String()
	}
	if code, body := post(g, auditBulk); code != http.StatusOK || body != `{"encoding":"gzip","bytes":`+strconv.Itoa(zipped.Len())+`}` {
		t.Errorf("bulk audit through the group: %d %s", code, body)
	}
	if code, body := post(h, auditBulk); code != http.StatusOK || body != "{}" {
		t.Errorf("bulk audit of a hosted repository: %d %s", code, body)
	}
	// The upstream lacks the quick audit (404): an empty answer.
	code, body := post(g, auditQuick)
	var quick struct {
		Advisories map[string]any `json:"advisories"`
		Metadata   struct {
			Vulnerabilities map[string]int `json:"vulnerabilities"`
		} `json:"metadata"`
	}
	if code != http.StatusOK || json.Unmarshal([]byte(body), &quick) != nil || quick.Advisories == nil || quick.Metadata.Vulnerabilities == nil {
		t.Errorf("quick audit with the upstream lacking it: %d %s", code, body)
	}
	reg.Close()
	if code, body := post(g, auditBulk); code != http.StatusOK || body != "{}" {
		t.Errorf("bulk audit with the upstream down: %d %s", code, body)
	}
}
