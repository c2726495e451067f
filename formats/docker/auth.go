package docker

import (
	"context"
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

type tokenKey struct{}

// basicOnlyKey marks requests served while the Docker Bearer Token Realm
// is inactive: clients are challenged for Basic credentials instead.
type basicOnlyKey struct{}

// withToken verifies a request's Bearer token once and puts its holder in
// the context: the token's user with the privileges it holds now, so that a
// token never outlives its user being disabled, deleted or losing a role;
// or the anonymous principal for tokens issued without credentials, while
// anonymous access stays on. The token's claims go in the context too. A
// token that fails, or whose holder is gone, leaves no principal, and every
// check answers 401. Requests without a token keep the principal the server
// resolved from Basic credentials or anonymity.
func (f *Format) withToken(req *http.Request) *http.Request {
	ctx := req.Context()
	if !f.auth.RealmActive(auth.DockerRealm) {
		// No tokens without their realm: challenges ask for Basic.
		req = req.WithContext(context.WithValue(ctx, basicOnlyKey{}, true))
		ctx = req.Context()
	}
	tok, ok := bearer(req)
	if !ok {
		return req
	}
	var data tokenData
	subject, err := f.auth.VerifyToken(tok, &data)
	if err != nil {
		return req.WithContext(context.WithValue(ctx, tokenKey{}, (*tokenData)(nil)))
	}
	var p *auth.Principal
	if data.Anonymous {
		p, _, _ = f.auth.AnonymousPrincipal(ctx)
	} else {
		p, _ = f.auth.PrincipalOf(ctx, subject)
	}
	ctx = context.WithValue(ctx, tokenKey{}, &data)
	if p != nil {
		ctx = auth.WithPrincipal(ctx, p)
	}
	return req.WithContext(ctx)
}

// tokenOf returns the verified claims of the request's token (nil when it
// failed) and whether the request came with one.
func tokenOf(ctx context.Context) (*tokenData, bool) {
	data, ok := ctx.Value(tokenKey{}).(*tokenData)
	return data, ok
}

// allowed reports whether the caller of req may perform action on name in
// r, at the stored path p: an asset's (v2/<image>/manifests/<ref>), or a
// folder's ending in "/" (v2/<image>/) for what is not one asset. The
// repository decides (Repository.AuthorizePath: privileges now held,
// content selectors, forceBasicAuth); a token must also grant the action
// on that name.
func (f *Format) allowed(req *http.Request, r repo.Repository, name, action, p string) error {
	ctx := req.Context()
	perm := privilegeAction[action]
	data, isToken := tokenOf(ctx)
	if !isToken {
		return authorizeAt(ctx, r, perm, p)
	}
	if data == nil {
		return errToken
	}
	for _, g := range data.Access {
		if g.Repository == r.Name() && g.Name == name && slices.Contains(g.Actions, action) {
			return authorizeAt(ctx, r, perm, p)
		}
	}
	// The token does not cover the action. If its user could be granted
	// it, a 401 makes the client fetch a token that does (clients reuse
	// tokens across scopes); if not, no token will help and the answer is
	// DENIED.
	if err := authorizeAt(ctx, r, perm, p); !data.Anonymous && errs.KindOf(err) == errs.Forbidden {
		return errs.New(errs.Forbidden, "requested access to %s (%s) is denied", name, action)
	}
	return errs.New(errs.Unauthorized, "token does not grant %s on %s", action, name)
}

var errToken = errs.New(errs.Unauthorized, "invalid or expired token")

// authorizeAt checks perm on the asset at p, or under the folder p.
func authorizeAt(ctx context.Context, r repo.Repository, perm, p string) error {
	if strings.HasSuffix(p, "/") {
		return r.AuthorizeFolder(ctx, perm, p)
	}
	return r.AuthorizePath(ctx, perm, p)
}

// imageFolder is the stored folder of image's manifests and blobs.
func imageFolder(image string) string { return "v2/" + image + "/" }

// authenticated reports whether the caller presented valid credentials: a
// token of ours whose holder is still there, or a Basic login. The /v2/
// version check challenges everyone else, anonymous callers included:
// clients learn the token realm only from that challenge, and a client
// that never sees it never sends the credentials of a docker login
// (anonymous callers then get anonymous tokens from the realm).
func (f *Format) authenticated(req *http.Request) bool {
	p := auth.PrincipalFrom(req.Context())
	if data, isToken := tokenOf(req.Context()); isToken {
		return data != nil && p != nil
	}
	return p != nil && !p.Anonymous
}

// mayList reports whether the caller in ctx may see images of r under
// folder ("v2/" for any, imageFolder for one).
func mayList(ctx context.Context, r repo.Repository, folder string) bool {
	return r.AuthorizeFolder(ctx, "browse", folder) == nil || r.AuthorizeFolder(ctx, "read", folder) == nil
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
	if basic, _ := req.Context().Value(basicOnlyKey{}).(bool); basic {
		challengeBasic(w, req)
		return
	}
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
	writeOCI(w, req, codeUnauthorized.with(msg, nil))
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
// repository; on the main port the first segment names the repository,
// and one the caller in ctx may not know of is not found.
type resolver func(ctx context.Context, name string) (r repo.Repository, image string, ok bool)

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
			r, image, ok := resolve(ctx, g.Name)
			if !ok || r.Format().Name() != f.Name() {
				continue
			}
			g.Repository = r.Name()
			var actions []string
			for _, a := range g.Actions {
				if perm, known := privilegeAction[a]; known && r.AuthorizeFolder(ctx, perm, imageFolder(image)) == nil {
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
	writeOCI(w, req, codeUnauthorized.err())
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
