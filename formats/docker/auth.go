package docker

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/nexus-go/nexus-go/pkg/auth"
	"github.com/nexus-go/nexus-go/pkg/errs"
	"github.com/nexus-go/nexus-go/pkg/repo"
)

// tokenTTL is how long a token from /v2/token is valid; clients fetch a new
// one when it expires.
const tokenTTL = 5 * time.Minute

// grant is one entry of a token's access list: actions on a repository
// name as the client wrote it, within one nexus repository.
type grant struct {
	Repository string   `json:"repo"`
	Name       string   `json:"name"`
	Actions    []string `json:"actions"`
}

type tokenData struct {
	Access []grant `json:"access"`
	// Anonymous marks tokens issued without credentials: lacking a grant,
	// their holder is asked to log in rather than refused.
	Anonymous bool `json:"anonymous,omitempty"`
}

// privilegeAction maps a distribution API action to the Nexus privilege
// action it needs.
var privilegeAction = map[string]string{"pull": "read", "push": "add", "delete": "delete"}

// allowed reports whether the caller of req may perform action on name in
// r. A Bearer token must grant it; otherwise the request's principal (Basic
// credentials or anonymous) must hold the privilege, and anonymous callers
// only count where forceBasicAuth is off.
func (f *Format) allowed(req *http.Request, r repo.Repository, name, action string) error {
	if tok, ok := bearer(req); ok {
		var data tokenData
		subject, err := f.auth.VerifyToken(tok, &data)
		if err != nil {
			return err
		}
		for _, g := range data.Access {
			if g.Repository == r.Name() && g.Name == name && slices.Contains(g.Actions, action) {
				return nil
			}
		}
		// The token does not cover the action. If its user could be
		// granted it, a 401 makes the client fetch a token that does
		// (clients reuse tokens across scopes); if not, no token will
		// help and the answer is DENIED.
		if !data.Anonymous {
			if p, err := f.auth.PrincipalOf(req.Context(), subject); err == nil &&
				!p.Has(auth.RepositoryPermission(f.Name(), r.Name(), privilegeAction[action])) {
				return errs.New(errs.Forbidden, "requested access to %s (%s) is denied", name, action)
			}
		}
		return errs.New(errs.Unauthorized, "token does not grant %s on %s", action, name)
	}
	ctx := req.Context()
	if p := auth.PrincipalFrom(ctx); p != nil && p.Anonymous && forceBasicAuth(r) {
		return errs.New(errs.Unauthorized, "authentication required")
	}
	return r.Authorize(ctx, privilegeAction[action])
}

// authenticated reports whether the caller presented valid credentials: a
// token of ours or a Basic login. The /v2/ version check challenges
// everyone else, anonymous callers included: clients learn the token realm
// only from that challenge, and a client that never sees it never sends
// the credentials of a docker login (anonymous callers then get anonymous
// tokens from the realm).
func (f *Format) authenticated(req *http.Request) bool {
	if tok, ok := bearer(req); ok {
		_, err := f.auth.VerifyToken(tok, nil)
		return err == nil
	}
	p := auth.PrincipalFrom(req.Context())
	return p != nil && !p.Anonymous
}

// caller returns the principal behind a request: its token's user, or the
// Basic or anonymous principal; nil if none.
func (f *Format) caller(req *http.Request) *auth.Principal {
	if tok, ok := bearer(req); ok {
		var data tokenData
		subject, err := f.auth.VerifyToken(tok, &data)
		if err != nil {
			return nil
		}
		if data.Anonymous {
			p, _, _ := f.auth.AnonymousPrincipal(req.Context())
			return p
		}
		p, _ := f.auth.PrincipalOf(req.Context(), subject)
		return p
	}
	return auth.PrincipalFrom(req.Context())
}

func bearer(req *http.Request) (string, bool) {
	h := req.Header.Get("Authorization")
	if len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
		return strings.TrimSpace(h[7:]), true
	}
	return "", false
}

// challenge answers 401 with the Bearer challenge that sends Docker clients
// to the token realm; scope names what the request needed.
func challenge(w http.ResponseWriter, req *http.Request, scope string, cause error) {
	realm := scheme(req) + "://" + req.Host + "/v2/token"
	v := fmt.Sprintf(`Bearer realm=%q,service=%q`, realm, req.Host)
	if scope != "" {
		v += fmt.Sprintf(`,scope=%q`, scope)
	}
	w.Header().Set("WWW-Authenticate", v)
	msg := "authentication required"
	if cause != nil {
		msg = errs.Message(cause)
	}
	writeOCI(w, req, newError(http.StatusUnauthorized, "UNAUTHORIZED", msg, nil))
}

// scheme is how the client reached us: behind a TLS-terminating proxy its
// X-Forwarded-Proto says so (the same rule as the REST API's URLs).
func scheme(req *http.Request) string {
	if p := req.Header.Get("X-Forwarded-Proto"); p == "https" || p == "http" {
		return p
	}
	if req.TLS != nil {
		return "https"
	}
	return "http"
}

// resolver finds the nexus repository and the image name inside it for a
// name a client wrote: on a connector port every name is in the one
// repository; on the main port the first segment names the repository.
type resolver func(name string) (r repo.Repository, image string, ok bool)

// token serves /v2/token: Basic credentials (or none, for anonymous) in,
// a signed short-lived token granting the requested actions the caller's
// privileges allow out. docker login asks for a token without a scope.
func (f *Format) token(w http.ResponseWriter, req *http.Request, resolve resolver) {
	ctx := req.Context()
	p := auth.PrincipalFrom(ctx)
	if p == nil { // failed credentials, or none while anonymous access is off
		challengeBasic(w, req)
		return
	}
	data := tokenData{Anonymous: p.Anonymous}
	for _, scope := range req.URL.Query()["scope"] {
		for _, g := range parseScope(scope) {
			r, _, ok := resolve(g.Name)
			if !ok || r.Format().Name() != f.Name() {
				continue
			}
			g.Repository = r.Name()
			var actions []string
			for _, a := range g.Actions {
				perm, known := privilegeAction[a]
				if !known || (p.Anonymous && forceBasicAuth(r)) {
					continue
				}
				if p.Has(auth.RepositoryPermission(f.Name(), r.Name(), perm)) {
					actions = append(actions, a)
				}
			}
			g.Actions = actions
			data.Access = append(data.Access, g)
		}
	}
	tok, err := f.auth.IssueToken(p.UserID, tokenTTL, data)
	if err != nil {
		writeError(w, req, f.log, err, nil)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{
		"token": tok, "access_token": tok, "expires_in": int(tokenTTL.Seconds()),
		"issued_at": time.Now().UTC().Format(time.RFC3339),
	})
}

// challengeBasic refuses a token request whose credentials failed.
func challengeBasic(w http.ResponseWriter, req *http.Request) {
	w.Header().Set("WWW-Authenticate", `Basic realm="Sonatype Nexus Repository Manager"`)
	writeOCI(w, req, newError(http.StatusUnauthorized, "UNAUTHORIZED", "authentication required", nil))
}

// parseScope reads "repository:<name>:<action>[,<action>]"; "*" means every
// action.
func parseScope(scope string) []grant {
	var out []grant
	for _, s := range strings.Fields(scope) {
		parts := strings.Split(s, ":")
		if len(parts) < 3 || parts[0] != "repository" {
			continue
		}
		// Names cannot contain ':', but a registry host in front could.
		name := strings.Join(parts[1:len(parts)-1], ":")
		actions := strings.Split(parts[len(parts)-1], ",")
		if slices.Contains(actions, "*") {
			actions = []string{"pull", "push", "delete"}
		}
		out = append(out, grant{Name: name, Actions: actions})
	}
	return out
}
