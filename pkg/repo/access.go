package repo

import (
	"context"

	"github.com/nexus-go/nexus-go/pkg/auth"
	"github.com/nexus-go/nexus-go/pkg/errs"
)

// AnonymousPolicy is implemented by formats whose repositories can refuse
// anonymous callers whatever the anonymous role holds (Docker's
// forceBasicAuth). Repository.Authorize applies it, so it holds on every
// route to the repository's content.
type AnonymousPolicy interface {
	// AllowsAnonymous reports whether anonymous callers may use a
	// repository configured as cfg at all.
	AllowsAnonymous(cfg Config) bool
}

// viewActions are the actions of repository-view privileges.
var viewActions = []string{"browse", "read", "add", "edit", "delete"}

// Visible reports whether the caller in ctx may know that r exists: it may
// perform some action on r's content (as Authorize decides) or read r's
// configuration.
func (m *Manager) Visible(ctx context.Context, r Repository) bool {
	for _, action := range viewActions {
		if r.Authorize(ctx, action) == nil {
			return true
		}
	}
	cfg := r.Config()
	return m.authz.Require(ctx, auth.RepositoryAdmin(cfg.Format, cfg.Name, "read")) == nil
}

// Access returns the repository named name for the caller in ctx. A
// repository the caller may not know of answers exactly as one that does
// not exist, so names never leak: errs.NotFound for a signed-in user,
// errs.Unauthorized (a login challenge) for anonymous callers and failed
// logins. Every route that takes a repository name from a request looks
// it up here.
func (m *Manager) Access(ctx context.Context, name string) (Repository, error) {
	r, ok := m.Lookup(name)
	if ok && m.Visible(ctx, r) {
		return r, nil
	}
	return nil, m.unknown(ctx, name)
}

// unknown is the error for a repository that is missing or hidden from the
// caller in ctx.
func (m *Manager) unknown(ctx context.Context, name string) error {
	if p := auth.PrincipalFrom(ctx); p == nil || p.Anonymous {
		return errs.New(errs.Unauthorized, "authentication required")
	}
	return errs.New(errs.NotFound, "repository %s not found", name)
}
