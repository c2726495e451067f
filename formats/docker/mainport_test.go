package docker

import (
	"encoding/json"
	"net/http"
	"slices"
	"testing"

	"github.com/nexus-go/nexus-go/pkg/auth"
)

func TestMainPortRouting(t *testing.T) {
	t.Parallel()
	fx := newFixture(t, 0)
	r := fx.create(hostedConfig("docker-h", "allow", ""))
	fx.create(hostedConfig("docker-b", "allow", ""))
	conn := fx.connector(r)
	main := fx.mainPort()
	admin := fx.admin(main)

	// Pushed through the main port, the image lands in docker-h as team/app.
	m, d := admin.pushImage("docker-h/team/app", "1.0", []byte(`{"m":1}`), []byte("main layer"))
	a, err := r.Stat(t.Context(), manifestPath("team/app", "1.0"))
	if err != nil {
		t.Fatalf("manifest not stored in docker-h as team/app: %v", err)
	}
	if a.Attributes[attrDigest] != d.String() {
		t.Fatalf("stored tag names %s", a.Attributes[attrDigest])
	}
	got := fx.admin(conn).do(http.MethodGet, "/v2/team/app/manifests/1.0", nil, nil)
	if got.status != http.StatusOK || string(got.body) != string(m) {
		t.Fatalf("pull through the connector: %s", got)
	}
	got = admin.do(http.MethodGet, "/v2/docker-h/team/app/manifests/"+d.String(), nil, nil)
	if got.status != http.StatusOK || string(got.body) != string(m) {
		t.Fatalf("pull through the main port: %s", got)
	}
	if loc := admin.putManifest("docker-h/team/app", "1.1", mtOCIManifest, m).header.Get("Location"); loc != "/v2/docker-h/team/app/manifests/"+d.String() {
		t.Fatalf("main port Location %q", loc)
	}
	expectError(t, "docker-b does not have it", admin.do(http.MethodGet, "/v2/docker-b/team/app/manifests/1.0", nil, nil),
		http.StatusNotFound, "MANIFEST_UNKNOWN")

	// Tags and catalog name images with the repository prefix.
	resp := admin.do(http.MethodGet, "/v2/docker-h/team/app/tags/list", nil, nil)
	var tags struct {
		Name string   `json:"name"`
		Tags []string `json:"tags"`
	}
	if err := json.Unmarshal(resp.body, &tags); err != nil || tags.Name != "docker-h/team/app" || !slices.Equal(tags.Tags, []string{"1.0", "1.1"}) {
		t.Fatalf("main port tags: %s", resp)
	}
	fx.admin(conn).pushImage("solo", "x", []byte(`{}`))
	resp = admin.do(http.MethodGet, "/v2/_catalog", nil, nil)
	var cat struct {
		Repositories []string `json:"repositories"`
	}
	if err := json.Unmarshal(resp.body, &cat); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(cat.Repositories, []string{"docker-h/solo", "docker-h/team/app"}) {
		t.Fatalf("main port catalog %v", cat.Repositories)
	}

	// Tokens on the main port are scoped to the prefixed name.
	tok, _ := admin.getToken("repository:docker-h/team/app:pull,push")
	var data tokenData
	if _, err := fx.auth.VerifyToken(tok, &data); err != nil {
		t.Fatal(err)
	}
	if len(data.Access) != 1 || data.Access[0].Repository != "docker-h" || data.Access[0].Name != "docker-h/team/app" ||
		!slices.Equal(data.Access[0].Actions, []string{"pull", "push"}) {
		t.Fatalf("main port token access %+v", data.Access)
	}
	bc := bearerClient(t, main, tok)
	expect(t, "main port Bearer pull", bc.do(http.MethodGet, "/v2/docker-h/team/app/manifests/1.0", nil, nil), http.StatusOK)
	bc.pushImage("docker-h/team/app", "2.0", []byte(`{"m":2}`), []byte("token layer"))
	// The token does not reach another repository, even for the same image.
	resp = bc.do(http.MethodGet, "/v2/docker-b/team/app/tags/list", nil, nil)
	expectError(t, "main port token on docker-b", resp, http.StatusUnauthorized, "UNAUTHORIZED")
	if s := challengeParams(t, resp.header.Get("WWW-Authenticate"))["scope"]; s != "repository:docker-b/team/app:pull" {
		t.Fatalf("main port challenge scope %q", s)
	}
	// Nor the same image through the connector, where names are unprefixed.
	expectError(t, "main port token on the connector", bearerClient(t, conn, tok).do(http.MethodGet, "/v2/team/app/manifests/1.0", nil, nil),
		http.StatusUnauthorized, "UNAUTHORIZED")

	// The challenge points at the main port's realm.
	resp = anon(t, main).do(http.MethodGet, "/v2/docker-h/team/app/manifests/1.0", nil, nil)
	expectError(t, "anonymous main port pull", resp, http.StatusUnauthorized, "UNAUTHORIZED")
	params := challengeParams(t, resp.header.Get("WWW-Authenticate"))
	if params["realm"] != main.URL+"/v2/token" || params["service"] != hostOf(main) || params["scope"] != "repository:docker-h/team/app:pull" {
		t.Fatalf("main port challenge %v", params)
	}

	// Unknown repositories.
	for _, p := range []string{"/v2/nope/team/app/manifests/1.0", "/v2/nope/team/app/tags/list", "/v2/nope/blobs/uploads/"} {
		method := http.MethodGet
		if p == "/v2/nope/blobs/uploads/" {
			method = http.MethodPost
		}
		expectError(t, "authenticated "+p, admin.do(method, p, nil, nil), http.StatusNotFound, "NAME_UNKNOWN")
		resp := anon(t, main).do(method, p, nil, nil)
		expectError(t, "anonymous "+p, resp, http.StatusUnauthorized, "UNAUTHORIZED")
		if resp.header.Get("WWW-Authenticate") == "" {
			t.Fatalf("anonymous %s: no challenge", p)
		}
	}
	// A name that is only a repository has no image in it.
	resp = admin.do(http.MethodGet, "/v2/docker-h/tags/list", nil, nil)
	if resp.status != http.StatusNotFound && resp.status != http.StatusBadRequest {
		t.Fatalf("tags of a bare repository name: %s", resp)
	}
	checkErrorBody(t, "bare repository name", resp, "")
	// The main port checks image names as the connector does.
	expectError(t, "main port invalid name", admin.do(http.MethodGet, "/v2/docker-h/Team/App/tags/list", nil, nil),
		http.StatusBadRequest, "NAME_INVALID")
	expect(t, "main port /v2/", admin.do(http.MethodGet, "/v2/", nil, nil), http.StatusOK)

	// The catalog lists only the repositories the caller may read.
	fx.admin(fx.connector(mustLookup(t, fx, "docker-b"))).pushImage("b/img", "1", []byte(`{"b":1}`))
	fx.addUser("breader", "breader-password-1", auth.RepositoryView("docker", "docker-b", "read").String())
	reader := &client{t: t, base: main.URL, user: "breader", pass: "breader-password-1"}
	resp = reader.do(http.MethodGet, "/v2/_catalog", nil, nil)
	expect(t, "reader's catalog", resp, http.StatusOK)
	cat.Repositories = nil
	if err := json.Unmarshal(resp.body, &cat); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(cat.Repositories, []string{"docker-b/b/img"}) {
		t.Fatalf("reader's catalog %v, want only docker-b's images", cat.Repositories)
	}
	expect(t, "reader pulls docker-b", reader.do(http.MethodGet, "/v2/docker-b/b/img/manifests/1", nil, nil), http.StatusOK)
	// A repository the reader may not use answers as a missing one does,
	// so its name does not leak.
	expectError(t, "reader pulls docker-h", reader.do(http.MethodGet, "/v2/docker-h/team/app/manifests/1.0", nil, nil),
		http.StatusNotFound, "NAME_UNKNOWN")
	expectError(t, "reader pulls a missing repository", reader.do(http.MethodGet, "/v2/docker-x/team/app/manifests/1.0", nil, nil),
		http.StatusNotFound, "NAME_UNKNOWN")
}
