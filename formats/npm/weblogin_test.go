package npm

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/nexus-go/nexus-go/pkg/auth"
)

// base is the URL managertest.Do gives the repository.
const base = "http://127.0.0.1/repository/npm-hosted/"

// npm login's web flow: the start answers a login URL on the web UI and a
// done URL on the repository; polling waits (202, Retry-After) until a
// signed-in user who may read the repository approves, then answers a
// token of that user once. The login URL's secret never polls.
func TestWebLogin(t *testing.T) {
	fx := newSecuredFixture(t)
	h := fx.hosted("npm-hosted")
	for _, c := range []struct{ method, path string }{
		{http.MethodPost, "-/v1/login"}, {http.MethodGet, "-/v1/done/x"}, {http.MethodPut, "-/user/org.couchdb.user:a"},
	} {
		if !fx.f.SignsIn(c.method, c.path) {
			t.Errorf("%s %s is no sign-in", c.method, c.path)
		}
	}
	start := func() (loginID, doneURL string) {
		t.Helper()
		w := fx.do(t.Context(), h, http.MethodPost, "-/v1/login", []byte(`{"hostname":"laptop"}`), nil)
		var out struct{ LoginURL, DoneURL string }
		if err := json.Unmarshal(w.Body.Bytes(), &out); w.Code != http.StatusOK || err != nil {
			t.Fatalf("start: %d %s", w.Code, w.Body.String())
		}
		prefix := "http://127.0.0.1" + WebLoginPath
		if !strings.HasPrefix(out.LoginURL, prefix) || !strings.HasPrefix(out.DoneURL, base+"-/v1/done/") {
			t.Fatalf("urls %+v", out)
		}
		return strings.TrimPrefix(out.LoginURL, prefix), out.DoneURL
	}
	poll := func(doneURL string) *httptest.ResponseRecorder {
		t.Helper()
		rest := doneURL[strings.Index(doneURL, "-/v1/done/"):]
		return fx.do(t.Context(), h, http.MethodGet, rest, nil, nil).ResponseRecorder
	}

	loginID, doneURL := start()
	if w := poll(doneURL); w.Code != http.StatusAccepted || w.Header().Get("Retry-After") == "" {
		t.Fatalf("pending poll: %d %v", w.Code, w.Header())
	}
	if p, err := fx.f.security.PendingWebLogin(loginID); err != nil || p.Client != "laptop" {
		t.Fatalf("pending: %+v %v", p, err)
	}
	// The login URL's secret is no done URL.
	if w := poll(base + "-/v1/done/" + loginID); w.Code != http.StatusNotFound {
		t.Errorf("poll with the login secret: %d", w.Code)
	}
	if err := fx.f.security.ApproveWebLogin(fx.user("stranger"), loginID); err == nil {
		t.Fatal("a user who may not read the repository approved")
	}
	// A refused approval leaves the login pending, for a user who may.
	if w := poll(doneURL); w.Code != http.StatusAccepted {
		t.Fatalf("poll after a refused approval: %d", w.Code)
	}
	if err := fx.f.security.ApproveWebLogin(fx.as("admin"), loginID); err != nil {
		t.Fatal(err)
	}
	if err := fx.f.security.ApproveWebLogin(fx.as("admin"), loginID); err == nil {
		t.Fatal("approved twice")
	}
	w := poll(doneURL)
	var out struct{ Token string }
	json.Unmarshal(w.Body.Bytes(), &out)
	if w.Code != http.StatusOK || !strings.HasPrefix(out.Token, "npm_") {
		t.Fatalf("approved poll: %d %s", w.Code, w.Body.String())
	}
	req := httptest.NewRequest(http.MethodGet, "/repository/npm-hosted/-/whoami", nil)
	req.Header.Set("Authorization", "Bearer "+out.Token)
	req, err := fx.f.security.Resolve(req)
	if err != nil {
		t.Fatal(err)
	}
	if p := auth.PrincipalFrom(req.Context()); p == nil || p.UserID != "admin" {
		t.Fatalf("the token is not admin's: %+v", p)
	}
	if w := poll(doneURL); w.Code != http.StatusNotFound {
		t.Errorf("the token was handed out twice: %d", w.Code)
	}
}
