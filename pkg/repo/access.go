package repo

import (
	"context"

	"github.com/nexus-go/nexus-go/pkg/auth"
	"github.com/nexus-go/nexus-go/pkg/errs"
	"github.com/nexus-go/nexus-go/pkg/meta"
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

// Browsable returns the repository name if the caller in ctx may browse
// it; one it may not know of answers as Access does.
func (m *Manager) Browsable(ctx context.Context, name string) (Repository, error) {
	r, err := m.Access(ctx, name)
	if err != nil {
		return nil, err
	}
	if err := r.Authorize(ctx, "browse"); err != nil {
		return nil, err
	}
	return r, nil
}

// Asset returns the asset id and its repository if the caller in ctx may
// browse that repository.
func (m *Manager) Asset(ctx context.Context, id string) (*meta.Asset, Repository, error) {
	a, err := m.db.Asset(id)
	if err != nil {
		return nil, nil, err
	}
	r, err := m.Browsable(ctx, a.Repository)
	if err != nil {
		return nil, nil, err
	}
	return a, r, nil
}

// Component returns the component id if the caller in ctx may browse its
// repository.
func (m *Manager) Component(ctx context.Context, id string) (*meta.Component, error) {
	c, err := m.db.Component(id)
	if err != nil {
		return nil, err
	}
	if _, err := m.Browsable(ctx, c.Repository); err != nil {
		return nil, err
	}
	return c, nil
}

// Components returns up to limit components of repository name, which
// the caller in ctx must be able to browse, after the key after; next is
// the key of the following page, "" at the end.
func (m *Manager) Components(ctx context.Context, name, after string, limit int) (comps []*meta.Component, next string, err error) {
	if _, err := m.Browsable(ctx, name); err != nil {
		return nil, "", err
	}
	return m.db.ListComponents(ctx, name, after, limit, nil)
}

// Assets is Components for the assets of repository name.
func (m *Manager) Assets(ctx context.Context, name, after string, limit int) (assets []*meta.Asset, next string, err error) {
	if _, err := m.Browsable(ctx, name); err != nil {
		return nil, "", err
	}
	return m.db.ListAllAssets(ctx, name, after, limit, nil)
}

// deletable checks that the caller in ctx may browse and delete in the
// repository name.
func (m *Manager) deletable(ctx context.Context, name string) error {
	r, err := m.Browsable(ctx, name)
	if err != nil {
		return err
	}
	if err := m.writable(); err != nil {
		return err
	}
	return r.Authorize(ctx, "delete")
}
