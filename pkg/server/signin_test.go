package server

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/nexus-go/nexus-go/pkg/auth"
	"github.com/nexus-go/nexus-go/pkg/blob"
	"github.com/nexus-go/nexus-go/pkg/meta"
	"github.com/nexus-go/nexus-go/pkg/repo"
)

// signInFormat signs in with PUT "login" (as npm's couch login does) and
// answers every request with what it read and who the caller was.
type signInFormat struct{}

var _ repo.SignIn = signInFormat{}

func (signInFormat) Name() string                     { return "signin" }
func (signInFormat) Validate(*repo.Config) error      { return nil }
func (signInFormat) Checksums() []blob.Algorithm      { return nil }
func (signInFormat) IsMetadata(string) bool           { return false }
func (signInFormat) Component(string) *meta.Component { return nil }
func (signInFormat) SignsIn(method, p string) bool    { return method == http.MethodPut && p == "login" }
func (signInFormat) ServeHTTP(w http.ResponseWriter, req *http.Request, r repo.Repository, p string) {
	b, _ := io.ReadAll(req.Body)
	user := "none"
	if pr := auth.PrincipalFrom(req.Context()); pr != nil {
		user = pr.UserID
	}
	fmt.Fprintf(w, "%s %s %s", p, user, b)
}

// A sign-in request reaches its format with its body and no principal,
// whatever the caller may see; every other request is gated as before.
func TestSignInReachesTheFormat(t *testing.T) {
	t.Parallel()
	s := startTestServer(t, nil)
	send := func(method, path string) (int, string) {
		req, _ := http.NewRequest(method, "http://"+s.main+path, strings.NewReader("credentials"))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := send(http.MethodPut, "/repository/signin-h/login"); code != http.StatusOK || body != "login none credentials" {
		t.Fatalf("sign-in: %d %q", code, body)
	}
	for _, c := range []struct{ method, path string }{
		{http.MethodPut, "/repository/signin-h/other"},
		{http.MethodPost, "/repository/signin-h/login"},
		{http.MethodPut, "/repository/missing/login"},
		{http.MethodPut, "/repository/raw-h/login"},
	} {
		if code, body := send(c.method, c.path); code != http.StatusUnauthorized {
			t.Errorf("%s %s without credentials: %d %q, want 401", c.method, c.path, code, body)
		}
	}
}
