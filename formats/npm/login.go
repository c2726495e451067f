package npm

import (
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/nexus-go/nexus-go/pkg/auth"
	"github.com/nexus-go/nexus-go/pkg/clientip"
	"github.com/nexus-go/nexus-go/pkg/errs"
	"github.com/nexus-go/nexus-go/pkg/repo"
)

// maxAuthBody bounds the bodies of login and token requests.
const maxAuthBody = 64 << 10

const couchUser = "user/org.couchdb.user:"

// SignsIn is true for the requests of npm login, which come without a
// caller: the legacy PUT -/user/org.couchdb.user:<name>, which carries
// the password in its body (login authenticates it first), and the web
// login's start and poll (a signed-in user approves it in the web UI).
func (f *Format) SignsIn(method, p string) bool {
	switch method {
	case http.MethodPut:
		return strings.HasPrefix(p, "-/"+couchUser)
	case http.MethodPost:
		return p == "-/"+webLoginStart
	case http.MethodGet:
		return strings.HasPrefix(p, "-/"+webLoginDone)
	}
	return false
}

// login handles npm login and npm adduser (CouchDB's user document): the
// name and password are checked, and a new token is the answer. Users are
// not created this way, as in Nexus.
func (f *Format) login(w http.ResponseWriter, req *http.Request, r repo.Repository, rest string) error {
	ctx := req.Context()
	user, _, _ := strings.Cut(strings.TrimPrefix(rest, couchUser), "/-rev/")
	raw, err := readBounded(req.Body, maxAuthBody, "the login document")
	if err != nil {
		return errs.Wrap(errs.Invalid, err, "the login document could not be read")
	}
	var body struct {
		Name     string `json:"name"`
		Password string `json:"password"`
	}
	if json.Unmarshal(raw, &body) != nil || body.Name == "" || body.Password == "" {
		return errs.New(errs.Invalid, "the login document needs a name and a password")
	}
	if body.Name != user {
		return errs.New(errs.Invalid, "the login document is for %q, the URL for %q", body.Name, user)
	}
	p, err := f.security.Authenticate(ctx, body.Name, body.Password, clientip.Of(req))
	if err != nil {
		return err
	}
	ctx = auth.WithPrincipal(ctx, p)
	if err := r.AuthorizeFolder(ctx, "read", ""); err != nil {
		return err
	}
	token, _, err := f.security.CreateToken(ctx, p.UserID, auth.NpmRealm, auth.TokenOptions{})
	if err != nil {
		return err
	}
	writeJSON(w, req, http.StatusCreated, map[string]any{
		"ok": true, "id": "org.couchdb.user:" + p.UserID, "rev": "_we_dont_use_revs_any_more", "token": token,
	})
	return nil
}

// signedIn is the caller, who must not be anonymous.
func signedIn(req *http.Request) (*auth.Principal, error) {
	p := auth.PrincipalFrom(req.Context())
	if p == nil || p.Anonymous {
		return nil, errs.New(errs.Unauthorized, "not logged in: run npm login")
	}
	return p, nil
}

// whoami answers the caller's user name.
func (f *Format) whoami(w http.ResponseWriter, req *http.Request) error {
	p, err := signedIn(req)
	if err != nil {
		return err
	}
	writeJSON(w, req, http.StatusOK, map[string]string{"username": p.UserID})
	return nil
}

// userDoc answers the CouchDB user document npm owner add reads to name
// a new maintainer: name and email, to signed-in callers only.
func (f *Format) userDoc(w http.ResponseWriter, req *http.Request, user string) error {
	if _, err := signedIn(req); err != nil {
		return err
	}
	u, err := f.security.User(user)
	if err != nil {
		if errs.KindOf(err) == errs.NotFound {
			return errs.New(errs.NotFound, "no user %s", user)
		}
		return err
	}
	writeJSON(w, req, http.StatusOK, map[string]string{"_id": "org.couchdb.user:" + u.ID, "name": u.ID, "email": u.Email})
	return nil
}

// logout revokes the token npm logout names: the caller's own only.
func (f *Format) logout(w http.ResponseWriter, req *http.Request, token string) error {
	p, err := signedIn(req)
	if err != nil {
		return err
	}
	if err := f.security.RevokeToken(req.Context(), p.UserID, token); err != nil {
		return err
	}
	writeJSON(w, req, http.StatusOK, map[string]bool{"ok": true})
	return nil
}

// tokenJSON is a token as npm token list shows it.
type tokenJSON struct {
	Token         string   `json:"token"`
	Name          string   `json:"name"`
	Key           string   `json:"key"`
	CIDRWhitelist []string `json:"cidr_whitelist"`
	ReadOnly      bool     `json:"readonly"`
	Automation    bool     `json:"automation"`
	Created       string   `json:"created"`
	Updated       string   `json:"updated"`
}

func tokenOf(info auth.TokenInfo) tokenJSON {
	ts := info.Created.UTC().Format(time.RFC3339Nano)
	return tokenJSON{Token: info.Prefix, Key: info.Key, CIDRWhitelist: info.CIDRs, ReadOnly: info.ReadOnly, Created: ts, Updated: ts}
}

// tokens handles -/npm/v1/tokens: GET lists the caller's npm tokens, POST
// creates one after checking the caller's password again.
func (f *Format) tokens(w http.ResponseWriter, req *http.Request) error {
	ctx := req.Context()
	p, err := signedIn(req)
	if err != nil {
		return err
	}
	switch req.Method {
	case http.MethodGet:
		infos, err := f.security.Tokens(ctx, p.UserID, auth.NpmRealm)
		if err != nil {
			return err
		}
		objects := make([]tokenJSON, 0, len(infos))
		for _, info := range infos {
			objects = append(objects, tokenOf(info))
		}
		writeJSON(w, req, http.StatusOK, map[string]any{"objects": objects, "total": len(objects), "urls": map[string]string{}})
		return nil
	case http.MethodPost:
		raw, err := readBounded(req.Body, maxAuthBody, "the token request")
		if err != nil {
			return errs.Wrap(errs.Invalid, err, "the token request could not be read")
		}
		// npm 11 sends granular-token fields (name, expires, packages,
		// scopes, orgs): tokens here carry their user's privileges, so
		// only the permission's read-only counts; older clients send
		// readonly.
		var body struct {
			Password   string   `json:"password"`
			ReadOnly   bool     `json:"readonly"`
			Permission string   `json:"packages_and_scopes_permission"`
			CIDRs      []string `json:"cidr_whitelist"`
		}
		if json.Unmarshal(raw, &body) != nil || body.Password == "" {
			return errs.New(errs.Invalid, "the token request needs the password")
		}
		if _, err := f.security.Authenticate(ctx, p.UserID, body.Password, clientip.Of(req)); err != nil {
			return err
		}
		token, info, err := f.security.CreateToken(ctx, p.UserID, auth.NpmRealm, auth.TokenOptions{ReadOnly: body.ReadOnly || body.Permission == "read-only", CIDRs: body.CIDRs})
		if err != nil {
			return err
		}
		out := tokenOf(info)
		out.Token = token // shown this once
		writeJSON(w, req, http.StatusOK, out)
		return nil
	}
	return errs.New(errs.Unsupported, "method %s not allowed here", req.Method)
}

// revokeToken handles DELETE -/npm/v1/tokens/token/<key> (npm token
// revoke), by key or by the token itself.
func (f *Format) revokeToken(w http.ResponseWriter, req *http.Request, key string) error {
	p, err := signedIn(req)
	if err != nil {
		return err
	}
	if err := f.security.RevokeToken(req.Context(), p.UserID, key); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
