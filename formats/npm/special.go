package npm

import (
	"net/http"
	"strings"

	"github.com/nexus-go/nexus-go/pkg/errs"
	"github.com/nexus-go/nexus-go/pkg/repo"
)

// special handles the registry's own endpoints under -/ (rest is the path
// after it): login (legacy and web) and tokens, whoami, ping, search, audit.
func (f *Format) special(w http.ResponseWriter, req *http.Request, r repo.Repository, rest string) error {
	ctx := req.Context()
	m := req.Method
	if writesToken(m, rest) {
		if err := repo.Writable(r); err != nil {
			return err
		}
	}
	switch {
	case strings.HasPrefix(rest, couchUser) && m == http.MethodPut:
		return f.login(w, req, r, rest) // authenticates from the body first
	case rest == webLoginStart && m == http.MethodPost:
		return f.startWebLogin(w, req, r) // approved by a signed-in user
	case strings.HasPrefix(rest, webLoginDone) && m == http.MethodGet:
		return f.pollWebLogin(w, req, strings.TrimPrefix(rest, webLoginDone))
	}
	if err := r.AuthorizeFolder(ctx, "read", ""); err != nil {
		return err
	}
	switch {
	case strings.HasPrefix(rest, couchUser) && m == http.MethodGet:
		return f.userDoc(w, req, strings.TrimPrefix(rest, couchUser))
	case rest == "ping" && (m == http.MethodGet || m == http.MethodHead):
		writeRawJSON(w, req, http.StatusOK, []byte("{}"))
		return nil
	case rest == "whoami" && m == http.MethodGet:
		return f.whoami(w, req)
	case strings.HasPrefix(rest, "user/token/") && m == http.MethodDelete:
		return f.logout(w, req, strings.TrimPrefix(rest, "user/token/"))
	case rest == "npm/v1/tokens":
		return f.tokens(w, req)
	case strings.HasPrefix(rest, "npm/v1/tokens/token/") && m == http.MethodDelete:
		return f.revokeToken(w, req, strings.TrimPrefix(rest, "npm/v1/tokens/token/"))
	case rest == "v1/search" && m == http.MethodGet:
		return f.search(w, req, r)
	case (rest == auditBulk || rest == auditQuick) && m == http.MethodPost:
		return f.audit(w, req, r, rest)
	}
	return errs.New(errs.NotFound, "no such endpoint: -/%s", rest)
}

// writesToken is true for the endpoints that store or revoke a token
// (login, logout, token create and revoke): writes, refused while the
// server is read-only.
func writesToken(method, rest string) bool {
	switch method {
	case http.MethodPut:
		return strings.HasPrefix(rest, couchUser)
	case http.MethodPost:
		return rest == "npm/v1/tokens"
	case http.MethodDelete:
		return strings.HasPrefix(rest, "user/token/") || strings.HasPrefix(rest, "npm/v1/tokens/token/")
	}
	return false
}
