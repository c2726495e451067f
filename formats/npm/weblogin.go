package npm

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"

	"github.com/nexus-go/nexus-go/pkg/auth"
	"github.com/nexus-go/nexus-go/pkg/errs"
	"github.com/nexus-go/nexus-go/pkg/repo"
)

// WebLoginPath is where the web UI approves a pending npm web login, below
// the server's root: <root>/ui/npm-login/<login id>.
const WebLoginPath = "/ui/npm-login/"

const (
	webLoginStart = "v1/login"
	webLoginDone  = "v1/done/"
)

// startWebLogin answers npm login's first request (npm-profile's
// webAuth): the URL to open in a browser, where a signed-in user approves
// the login, and the URL npm polls for the token. The caller may be
// anonymous: the approval is what authenticates.
func (f *Format) startWebLogin(w http.ResponseWriter, req *http.Request, r repo.Repository) error {
	base := repo.BaseURL(req.Context())
	if base == nil {
		return errs.New(errs.Internal, "no base URL for the web login")
	}
	raw, err := readBounded(req.Body, maxAuthBody, "the login request")
	if err != nil {
		return errs.Wrap(errs.Invalid, err, "the login request could not be read")
	}
	var body struct {
		Hostname string `json:"hostname"`
	}
	if len(raw) > 0 && json.Unmarshal(raw, &body) != nil {
		return errs.New(errs.Invalid, "the login request is not JSON")
	}
	// The approving user must be able to read the repository the client
	// signs in to, as a legacy login must.
	check := func(ctx context.Context) error { return r.AuthorizeFolder(ctx, "read", "") }
	loginID, doneID, err := f.security.StartWebLogin(auth.NpmRealm, body.Hostname, check)
	if err != nil {
		return err
	}
	root := *base
	root.Path = strings.TrimSuffix(root.Path, "/repository/"+repo.EscapePath(r.Name())+"/")
	root.RawPath = ""
	writeJSON(w, req, http.StatusOK, map[string]string{
		"loginUrl": root.String() + WebLoginPath + loginID,
		"doneUrl":  base.String() + "-/" + webLoginDone + doneID,
	})
	return nil
}

// pollWebLogin answers npm's poll of the done URL: 202 with Retry-After
// while the login waits for approval, then the token once.
func (f *Format) pollWebLogin(w http.ResponseWriter, req *http.Request, doneID string) error {
	token, pending, err := f.security.PollWebLogin(doneID)
	if err != nil {
		return err
	}
	if pending {
		w.Header().Set("Retry-After", "1")
		writeRawJSON(w, req, http.StatusAccepted, []byte("{}"))
		return nil
	}
	writeJSON(w, req, http.StatusOK, map[string]string{"token": token})
	return nil
}
