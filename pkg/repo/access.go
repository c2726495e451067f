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
// perform some action on some of r's content (as AuthorizeFolder decides
// for the root) or read r's configuration.
func (m *Manager) Visible(ctx context.Context, r Repository) bool {
	for _, action := range viewActions {
		if r.AuthorizeFolder(ctx, action, "") == nil {
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
// some of it; one it may not know of answers as Access does. What it may
// browse is for AuthorizePath to say, asset by asset.
func (m *Manager) Browsable(ctx context.Context, name string) (Repository, error) {
	r, err := m.Access(ctx, name)
	if err != nil {
		return nil, err
	}
	if err := r.AuthorizeFolder(ctx, "browse", ""); err != nil {
		return nil, err
	}
	return r, nil
}

// Asset returns the asset id and its repository if the caller in ctx may
// browse it. One it may not browse is errs.NotFound, as if missing.
func (m *Manager) Asset(ctx context.Context, id string) (*meta.Asset, Repository, error) {
	a, err := m.db.Asset(id)
	if err != nil {
		return nil, nil, err
	}
	r, err := m.Browsable(ctx, a.Repository)
	if err != nil {
		return nil, nil, err
	}
	if r.AuthorizePath(ctx, "browse", a.Path) != nil {
		return nil, nil, errs.New(errs.NotFound, "asset %s not found", id)
	}
	return a, r, nil
}

// Component returns the component id if the caller in ctx may browse one
// of its assets; otherwise errs.NotFound, as if missing.
func (m *Manager) Component(ctx context.Context, id string) (*meta.Component, error) {
	c, err := m.db.Component(id)
	if err != nil {
		return nil, err
	}
	r, err := m.Browsable(ctx, c.Repository)
	if err != nil {
		return nil, err
	}
	ok, err := m.ComponentVisible(ctx, r, c)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, errs.New(errs.NotFound, "component %s not found", id)
	}
	return c, nil
}

// ComponentVisible reports whether the caller in ctx may browse one of
// c's assets in r: all of them when it may browse r as a whole.
func (m *Manager) ComponentVisible(ctx context.Context, r Repository, c *meta.Component) (bool, error) {
	if r.Authorize(ctx, "browse") == nil {
		return true, nil
	}
	assets, err := m.db.ComponentAssets(c)
	if err != nil {
		return false, err
	}
	for _, a := range assets {
		if r.AuthorizePath(ctx, "browse", a.Path) == nil {
			return true, nil
		}
	}
	return false, nil
}

// Components returns up to limit components of repository name, which
// the caller in ctx must be able to browse, after the key after; next is
// the key of the following page, "" at the end. Components the caller
// may not see are left out, so a page may hold fewer than limit.
func (m *Manager) Components(ctx context.Context, name, after string, limit int) (comps []*meta.Component, next string, err error) {
	r, err := m.Browsable(ctx, name)
	if err != nil {
		return nil, "", err
	}
	comps, next, err = m.db.ListComponents(ctx, name, after, limit, nil)
	if err != nil || r.Authorize(ctx, "browse") == nil {
		return comps, next, err
	}
	// Checked outside the listing's transaction: it reads the assets.
	kept := comps[:0]
	for _, c := range comps {
		ok, err := m.ComponentVisible(ctx, r, c)
		if err != nil {
			return nil, "", err
		}
		if ok {
			kept = append(kept, c)
		}
	}
	return kept, next, nil
}

// Assets is Components for the assets of repository name.
func (m *Manager) Assets(ctx context.Context, name, after string, limit int) (assets []*meta.Asset, next string, err error) {
	r, err := m.Browsable(ctx, name)
	if err != nil {
		return nil, "", err
	}
	var keep func(*meta.Asset) bool
	if r.Authorize(ctx, "browse") != nil {
		keep = func(a *meta.Asset) bool { return r.AuthorizePath(ctx, "browse", a.Path) == nil }
	}
	return m.db.ListAllAssets(ctx, name, after, limit, keep)
}

// deletable checks that the caller in ctx may browse and delete each of
// paths in the repository name.
func (m *Manager) deletable(ctx context.Context, name string, paths []string) error {
	r, err := m.Browsable(ctx, name)
	if err != nil {
		return err
	}
	if err := m.writable(); err != nil {
		return err
	}
	for _, p := range paths {
		if err := r.AuthorizePath(ctx, "browse", p); err != nil {
			return errs.New(errs.NotFound, "%s not found", p)
		}
		if err := r.AuthorizePath(ctx, "delete", p); err != nil {
			return err
		}
	}
	return nil
}

// RepositoryRefs names every repository, for the per-repository built-in
// privileges auth.Service lists (auth.Service.SetRepositories).
func (m *Manager) RepositoryRefs() []auth.RepositoryRef {
	var out []auth.RepositoryRef
	for _, r := range m.List() {
		out = append(out, auth.RepositoryRef{Format: r.Config().Format, Name: r.Name()})
	}
	return out
}

// BrowsableEntries returns the entries of a listing of r that the caller
// in ctx may see: all of them with the browse privilege on r as a whole,
// else the assets it may browse and the folders that may lead to some.
func BrowsableEntries(ctx context.Context, r Repository, entries []Entry) []Entry {
	if r.Authorize(ctx, "browse") == nil {
		return entries
	}
	kept := make([]Entry, 0, len(entries))
	for _, e := range entries {
		var err error
		if e.Dir {
			err = r.AuthorizeFolder(ctx, "browse", e.Path)
		} else {
			err = r.AuthorizePath(ctx, "browse", e.Path)
		}
		if err == nil {
			kept = append(kept, e)
		}
	}
	return kept
}
