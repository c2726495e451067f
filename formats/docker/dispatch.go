package docker

import (
	"net/http"

	"github.com/nexus-go/nexus-go/pkg/auth"
	"github.com/nexus-go/nexus-go/pkg/errs"
	"github.com/nexus-go/nexus-go/pkg/repo"
)

// target is the repository and image a request addresses.
type target struct {
	r     repo.Repository
	image string // the name inside the repository
	name  string // the name as the client wrote it, for URLs and scopes
	// group is set when r is the writable member standing in for the
	// group the client pushed to.
	group repo.Repository
}

// writeTarget redirects a push to a group to its writable member.
func (f *Format) writeTarget(t target) target {
	if g, ok := t.r.(repo.GroupMembers); ok {
		if w := g.WritableMember(); w != nil {
			return target{r: w, image: t.image, name: t.name, group: t.r}
		}
	}
	return t
}

// dispatch routes one request of the distribution API; p is the path after
// /v2/. own is the connector's repository, nil on the main port.
func (f *Format) dispatch(w http.ResponseWriter, req *http.Request, p string, resolve resolver, list func() []repo.Repository, own repo.Repository) {
	if p == "token" {
		f.token(w, req, resolve)
		return
	}
	req = f.withToken(req)
	rt := parseRoute(p)
	switch rt.kind {
	case routeNone:
		writeError(w, req, f.log, codeNotFound.err(), nil)
		return
	case routeBase:
		if !f.authenticated(req) {
			challenge(w, req, "", nil)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte("{}"))
		return
	case routeCatalog:
		f.catalog(w, req, list, own == nil)
		return
	}
	r, image, ok := resolve(req.Context(), rt.name)
	if !ok {
		// Missing, or hidden from the caller: the same answer either way,
		// as repo.Manager.Access gives.
		if p := auth.PrincipalFrom(req.Context()); p == nil || p.Anonymous {
			challenge(w, req, "repository:"+rt.name+":pull", nil)
			return
		}
		writeError(w, req, f.log, codeNameUnknown.err(), nil)
		return
	}
	t := target{r: r, image: image, name: rt.name}
	if !validName(image) {
		if !f.require(w, req, t, "pull", "") {
			return
		}
		writeError(w, req, f.log, codeNameInvalid.err(), nil)
		return
	}
	switch rt.kind {
	case routeTags:
		f.tags(w, req, t)
	case routeManifest:
		f.manifest(w, req, t, rt.ref)
	case routeBlob:
		f.blob(w, req, t, rt.ref)
	case routeUploads:
		f.startUpload(w, req, t, resolve)
	case routeUpload:
		f.upload(w, req, t, rt.ref)
	case routeReferrers:
		f.referrers(w, req, t, rt.ref)
	}
}

// scopeActions is what a Docker client asks a token for when it needs action.
var scopeActions = map[string]string{"pull": "pull", "push": "pull,push", "delete": "delete"}

// require checks that the caller may perform action on t at the stored
// path p ("" for the image as a whole), answering 401 with a challenge for
// the scope, or 403, when not.
func (f *Format) require(w http.ResponseWriter, req *http.Request, t target, action, p string) bool {
	if p == "" {
		p = imageFolder(t.image)
	}
	err := f.allowed(req, t.r, t.name, action, p)
	if err == nil {
		return true
	}
	if errs.KindOf(err) == errs.Unauthorized {
		challenge(w, req, "repository:"+t.name+":"+scopeActions[action], err)
	} else {
		writeError(w, req, f.log, err, nil)
	}
	return false
}

// methodNotAllowed answers a method the endpoint does not serve.
func (f *Format) methodNotAllowed(w http.ResponseWriter, req *http.Request, allow string) {
	w.Header().Set("Allow", allow)
	writeError(w, req, f.log, codeUnsupported.err(), nil)
}
