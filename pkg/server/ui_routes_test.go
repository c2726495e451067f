package server

import (
	"fmt"
	"io"
	"net/http"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/nexus-go/nexus-go/pkg/auth"
)

// callerUI stands for the web UI: its page /ui/caller tells which caller
// the server handed it.
type callerUI struct{}

func (callerUI) Register(g *echo.Group) {
	g.GET("/ui/caller", func(c echo.Context) error {
		ctx := c.Request().Context()
		user := "none"
		if p := auth.PrincipalFrom(ctx); p != nil {
			user = p.UserID
		}
		return c.String(http.StatusOK, fmt.Sprintf("%s failed=%t", user, auth.LoginFailed(ctx)))
	})
}

// The UI's caller is its session's: Basic credentials sent to it, wrong
// or right, are not checked (no bcrypt, no throttle) and a wrong one does
// not mark the request a failed login, which would refuse every service
// call of a valid session. Everywhere else they are.
func TestUIRoutesSkipCredentials(t *testing.T) {
	s := startTestServer(t, nil)
	get := func(path, user, pass string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, "http://"+s.main+path, nil)
		req.SetBasicAuth(user, pass)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	for _, pass := range []string{"wrong", s.adminPW} {
		if code, body := get("/ui/caller", "admin", pass); code != http.StatusOK || body != "none failed=false" {
			t.Errorf("UI with Basic admin:%s: %d %q, want no caller and no failed login", pass, code, body)
		}
	}
	if code, _ := get("/service/rest/v1/security/users", "admin", "wrong"); code != http.StatusUnauthorized {
		t.Errorf("REST with a wrong password: %d", code)
	}
	if code, _ := get("/service/rest/v1/security/users", "admin", s.adminPW); code != http.StatusOK {
		t.Errorf("REST with the right password: %d", code)
	}
}
