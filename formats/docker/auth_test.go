package docker

import (
	"context"
	"encoding/base64"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/nexus-go/nexus-go/pkg/auth"
	"github.com/nexus-go/nexus-go/pkg/meta"
)

func TestAuthChallengeAndTokenFlow(t *testing.T) {
	t.Parallel()
	fx := newFixture(t, 0)
	srv := fx.connector(fx.create(hostedConfig("docker-h", "allow", "")))
	host := hostOf(srv)

	// The version check without credentials sends clients to the realm.
	resp := anon(t, srv).do(http.MethodGet, "/v2/", nil, nil)
	expectError(t, "GET /v2/ anonymous", resp, http.StatusUnauthorized, "UNAUTHORIZED")
	want := `Bearer realm="http://` + host + `/v2/token",service="` + host + `"`
	if got := resp.header.Get("WWW-Authenticate"); got != want {
		t.Fatalf("WWW-Authenticate %q, want %q", got, want)
	}
	if v := resp.header.Get("Docker-Distribution-API-Version"); v != "registry/2.0" {
		t.Errorf("Docker-Distribution-API-Version %q", v)
	}

	admin := fx.admin(srv)
	expect(t, "GET /v2/ with Basic", admin.do(http.MethodGet, "/v2/", nil, nil), http.StatusOK)

	tok, _ := admin.getToken("repository:team/app:pull,push")
	var data tokenData
	if _, err := fx.auth.VerifyToken(tok, &data); err != nil {
		t.Fatal(err)
	}
	if len(data.Access) != 1 || data.Access[0].Name != "team/app" || data.Access[0].Repository != "docker-h" ||
		!slices.Equal(data.Access[0].Actions, []string{"pull", "push"}) {
		t.Fatalf("token access %+v", data.Access)
	}

	// With the token: version check, push and pull.
	bc := bearerClient(t, srv, tok)
	expect(t, "GET /v2/ with Bearer", bc.do(http.MethodGet, "/v2/", nil, nil), http.StatusOK)
	m, d := bc.pushImage("team/app", "1.0", []byte(`{"config":1}`), []byte("layer-1"))
	got := bc.do(http.MethodGet, "/v2/team/app/manifests/1.0", nil, nil)
	expect(t, "pull with token", got, http.StatusOK)
	if string(got.body) != string(m) || got.header.Get("Docker-Content-Digest") != d.String() {
		t.Fatalf("pulled %s (%s), want %s", got.body, got.header.Get("Docker-Content-Digest"), d)
	}
	// The token is scoped to team/app: another name is challenged.
	resp = bc.do(http.MethodGet, "/v2/team/other/manifests/1.0", nil, nil)
	expectError(t, "token for another name", resp, http.StatusUnauthorized, "UNAUTHORIZED")
	if s := challengeParams(t, resp.header.Get("WWW-Authenticate"))["scope"]; s != "repository:team/other:pull" {
		t.Fatalf("challenge scope %q", s)
	}

	// A pull-only token pulls but is challenged on push with the push scope.
	pullTok, _ := admin.getToken("repository:team/app:pull")
	pc := bearerClient(t, srv, pullTok)
	expect(t, "pull with pull token", pc.do(http.MethodGet, "/v2/team/app/manifests/1.0", nil, nil), http.StatusOK)
	for _, r := range []struct{ method, path string }{
		{http.MethodPost, "/v2/team/app/blobs/uploads/"},
		{http.MethodPut, "/v2/team/app/manifests/2.0"},
	} {
		var body []byte
		if r.method == http.MethodPut {
			body = m
		}
		resp := pc.do(r.method, r.path, body, map[string]string{"Content-Type": mtOCIManifest})
		expectError(t, r.method+" with pull token", resp, http.StatusUnauthorized, "UNAUTHORIZED")
		params := challengeParams(t, resp.header.Get("WWW-Authenticate"))
		if params["scope"] != "repository:team/app:pull,push" || params["realm"] != "http://"+host+"/v2/token" {
			t.Fatalf("%s challenge %v", r.method, params)
		}
	}
	// Nor may it delete.
	resp = pc.do(http.MethodDelete, "/v2/team/app/manifests/"+d.String(), nil, nil)
	expectError(t, "delete with pull token", resp, http.StatusUnauthorized, "UNAUTHORIZED")
	if s := challengeParams(t, resp.header.Get("WWW-Authenticate"))["scope"]; s != "repository:team/app:delete" {
		t.Fatalf("delete challenge scope %q", s)
	}
}

func TestAuthTokenBoundToRepository(t *testing.T) {
	t.Parallel()
	fx := newFixture(t, 0)
	srvA := fx.connector(fx.create(hostedConfig("docker-a", "allow", "")))
	srvB := fx.connector(fx.create(hostedConfig("docker-b", "allow", "")))
	fx.admin(srvA).pushImage("team/app", "1.0", []byte(`{"a":1}`), []byte("a-layer"))
	fx.admin(srvB).pushImage("team/app", "1.0", []byte(`{"b":1}`), []byte("b-layer"))

	tokA, _ := fx.admin(srvA).getToken("repository:team/app:pull,push")
	expect(t, "token A on A", bearerClient(t, srvA, tokA).do(http.MethodGet, "/v2/team/app/manifests/1.0", nil, nil), http.StatusOK)
	resp := bearerClient(t, srvB, tokA).do(http.MethodGet, "/v2/team/app/manifests/1.0", nil, nil)
	expectError(t, "token A on B", resp, http.StatusUnauthorized, "UNAUTHORIZED")
	resp = bearerClient(t, srvB, tokA).do(http.MethodPost, "/v2/team/app/blobs/uploads/", nil, nil)
	expectError(t, "token A pushing to B", resp, http.StatusUnauthorized, "UNAUTHORIZED")
}

func TestAuthTamperedAndWrongCredentials(t *testing.T) {
	t.Parallel()
	fx := newFixture(t, 0)
	srv := fx.connector(fx.create(hostedConfig("docker-h", "allow", "")))
	admin := fx.admin(srv)
	admin.pushImage("team/app", "1.0", []byte(`{"c":1}`), []byte("layer"))

	pullTok, _ := admin.getToken("repository:team/app:pull")
	payload, sig, ok := strings.Cut(pullTok, ".")
	if !ok {
		t.Fatalf("token %q has no signature", pullTok)
	}
	// Flip a signature character.
	flipped := []byte(sig)
	if flipped[0] == 'A' {
		flipped[0] = 'B'
	} else {
		flipped[0] = 'A'
	}
	// Widen the grant to push, keeping the signature.
	raw, err := base64.RawURLEncoding.DecodeString(payload)
	if err != nil {
		t.Fatal(err)
	}
	widened := strings.Replace(string(raw), `"actions":["pull"]`, `"actions":["pull","push"]`, 1)
	if widened == string(raw) {
		t.Fatalf("token claims %s have no pull-only grant to widen", raw)
	}
	for name, tok := range map[string]string{
		"bad signature": payload + "." + string(flipped),
		"widened grant": base64.RawURLEncoding.EncodeToString([]byte(widened)) + "." + sig,
		"garbage":       "not-a-token",
	} {
		bc := bearerClient(t, srv, tok)
		expectError(t, name+" GET /v2/", bc.do(http.MethodGet, "/v2/", nil, nil), http.StatusUnauthorized, "UNAUTHORIZED")
		expectError(t, name+" pull", bc.do(http.MethodGet, "/v2/team/app/manifests/1.0", nil, nil), http.StatusUnauthorized, "UNAUTHORIZED")
		expectError(t, name+" push", bc.do(http.MethodPost, "/v2/team/app/blobs/uploads/", nil, nil), http.StatusUnauthorized, "UNAUTHORIZED")
	}

	// Basic credentials work directly, for push and pull.
	admin.pushImage("team/app", "2.0", []byte(`{"c":2}`), []byte("layer-2"))
	expect(t, "Basic pull", admin.do(http.MethodGet, "/v2/team/app/manifests/2.0", nil, nil), http.StatusOK)

	// Wrong passwords (fewer than the lockout threshold).
	wrong := &client{t: t, base: srv.URL, user: auth.AdminUser, pass: "wrong-password"}
	resp := wrong.do(http.MethodGet, "/v2/", nil, nil)
	expectError(t, "wrong password /v2/", resp, http.StatusUnauthorized, "UNAUTHORIZED")
	if !strings.HasPrefix(resp.header.Get("WWW-Authenticate"), "Bearer realm=") {
		t.Errorf("wrong password challenge %q", resp.header.Get("WWW-Authenticate"))
	}
	expectError(t, "wrong password pull", wrong.do(http.MethodGet, "/v2/team/app/manifests/1.0", nil, nil),
		http.StatusUnauthorized, "UNAUTHORIZED")
	_, resp = wrong.getToken("repository:team/app:pull")
	expectError(t, "token with wrong password", resp, http.StatusUnauthorized, "UNAUTHORIZED")
	// Without credentials and anonymous access off, no token either.
	_, resp = anon(t, srv).getToken("repository:team/app:pull")
	expectError(t, "anonymous token, anonymous off", resp, http.StatusUnauthorized, "UNAUTHORIZED")
}

func TestAuthReadOnlyUser(t *testing.T) {
	t.Parallel()
	fx := newFixture(t, 0)
	srv := fx.connector(fx.create(hostedConfig("docker-h", "allow", "")))
	admin := fx.admin(srv)
	admin.pushImage("team/app", "1.0", []byte(`{"c":1}`), []byte("layer"))
	fx.addUser("reader", "reader-password-1", auth.RepositoryView("docker", "docker-h", "read").String())
	reader := &client{t: t, base: srv.URL, user: "reader", pass: "reader-password-1"}

	tok, _ := reader.getToken("repository:team/app:pull,push,delete")
	var data tokenData
	if _, err := fx.auth.VerifyToken(tok, &data); err != nil {
		t.Fatal(err)
	}
	if len(data.Access) != 1 || !slices.Equal(data.Access[0].Actions, []string{"pull"}) {
		t.Fatalf("reader's token access %+v, want pull only", data.Access)
	}
	bc := bearerClient(t, srv, tok)
	expect(t, "reader pulls with token", bc.do(http.MethodGet, "/v2/team/app/manifests/1.0", nil, nil), http.StatusOK)
	resp := bc.do(http.MethodPost, "/v2/team/app/blobs/uploads/", nil, nil)
	if resp.status != http.StatusUnauthorized && resp.status != http.StatusForbidden {
		t.Fatalf("reader pushes with token: %s", resp)
	}
	checkErrorBody(t, "reader pushes with token", resp, "")

	expect(t, "reader pulls with Basic", reader.do(http.MethodGet, "/v2/team/app/manifests/1.0", nil, nil), http.StatusOK)
	expectError(t, "reader pushes with Basic", reader.do(http.MethodPost, "/v2/team/app/blobs/uploads/", nil, nil),
		http.StatusForbidden, "DENIED")
	m := imageManifest(t, mtOCIManifest, []byte(`{"c":1}`), []byte("layer"))
	expectError(t, "reader puts a manifest with Basic", reader.putManifest("team/app", "2.0", mtOCIManifest, m),
		http.StatusForbidden, "DENIED")
	expectError(t, "reader deletes with Basic", reader.do(http.MethodDelete, "/v2/team/app/manifests/1.0", nil, nil),
		http.StatusForbidden, "DENIED")
	expect(t, "manifest still there", admin.do(http.MethodGet, "/v2/team/app/manifests/1.0", nil, nil), http.StatusOK)
}

func TestAuthAnonymous(t *testing.T) {
	t.Parallel()
	fx := newFixture(t, 0)
	ctx := auth.WithPrincipal(context.Background(), auth.System())
	if _, err := fx.auth.SetAnonymous(ctx, meta.AnonymousSettings{Enabled: true, UserID: auth.AnonymousUser}); err != nil {
		t.Fatal(err)
	}
	forced := fx.connector(fx.create(hostedConfig("docker-forced", "allow", `"forceBasicAuth":true`)))
	open := fx.connector(fx.create(hostedConfig("docker-open", "allow", `"forceBasicAuth":false`)))
	for _, srv := range []*struct {
		name string
		c    *client
	}{{"forced", fx.admin(forced)}, {"open", fx.admin(open)}} {
		srv.c.pushImage("team/app", "1.0", []byte(`{"c":1}`), []byte("layer-"+srv.name))
	}

	// forceBasicAuth: anonymous callers are challenged although anonymous
	// access is on.
	a := anon(t, forced)
	expectError(t, "forced: anonymous /v2/", a.do(http.MethodGet, "/v2/", nil, nil), http.StatusUnauthorized, "UNAUTHORIZED")
	expectError(t, "forced: anonymous pull", a.do(http.MethodGet, "/v2/team/app/manifests/1.0", nil, nil),
		http.StatusUnauthorized, "UNAUTHORIZED")
	tok, _ := a.getToken("repository:team/app:pull")
	if tok != "" {
		var data tokenData
		if _, err := fx.auth.VerifyToken(tok, &data); err != nil {
			t.Fatal(err)
		}
		for _, g := range data.Access {
			if len(g.Actions) > 0 {
				t.Fatalf("forced: anonymous token grants %+v", g)
			}
		}
		expectError(t, "forced: anonymous token pull", bearerClient(t, forced, tok).do(http.MethodGet, "/v2/team/app/manifests/1.0", nil, nil),
			http.StatusUnauthorized, "UNAUTHORIZED")
	}

	// Without it, anonymous callers pull but cannot push.
	a = anon(t, open)
	// The version check challenges every caller without credentials, so
	// clients learn the realm (and use a docker login's credentials).
	resp := a.do(http.MethodGet, "/v2/", nil, nil)
	expectError(t, "open: anonymous /v2/", resp, http.StatusUnauthorized, "UNAUTHORIZED")
	if p := challengeParams(t, resp.header.Get("WWW-Authenticate")); p["realm"] != open.URL+"/v2/token" {
		t.Fatalf("open: /v2/ challenge %v", p)
	}
	expect(t, "open: anonymous pull", a.do(http.MethodGet, "/v2/team/app/manifests/1.0", nil, nil), http.StatusOK)
	resp = a.do(http.MethodPost, "/v2/team/app/blobs/uploads/", nil, nil)
	expectError(t, "open: anonymous push", resp, http.StatusUnauthorized, "UNAUTHORIZED")
	if s := challengeParams(t, resp.header.Get("WWW-Authenticate"))["scope"]; s != "repository:team/app:pull,push" {
		t.Fatalf("open: push challenge scope %q", s)
	}
	tok, _ = a.getToken("repository:team/app:pull,push")
	var data tokenData
	if _, err := fx.auth.VerifyToken(tok, &data); err != nil {
		t.Fatal(err)
	}
	if len(data.Access) != 1 || !slices.Equal(data.Access[0].Actions, []string{"pull"}) {
		t.Fatalf("open: anonymous token access %+v, want pull only", data.Access)
	}
	bc := bearerClient(t, open, tok)
	expect(t, "open: anonymous token /v2/", bc.do(http.MethodGet, "/v2/", nil, nil), http.StatusOK)
	expect(t, "open: anonymous token pull", bc.do(http.MethodGet, "/v2/team/app/manifests/1.0", nil, nil), http.StatusOK)
	expectError(t, "open: anonymous token push", bc.do(http.MethodPost, "/v2/team/app/blobs/uploads/", nil, nil),
		http.StatusUnauthorized, "UNAUTHORIZED")

	// A failed login is not downgraded to anonymous.
	wrong := &client{t: t, base: open.URL, user: auth.AdminUser, pass: "wrong-password"}
	expectError(t, "open: wrong password pull", wrong.do(http.MethodGet, "/v2/team/app/manifests/1.0", nil, nil),
		http.StatusUnauthorized, "UNAUTHORIZED")
	_, resp = wrong.getToken("repository:team/app:pull")
	expectError(t, "open: wrong password token", resp, http.StatusUnauthorized, "UNAUTHORIZED")
}
