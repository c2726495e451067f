package repo

import (
	"context"
	"time"

	"github.com/nexus-go/nexus-go/pkg/auth"
	"github.com/nexus-go/nexus-go/pkg/errs"
)

// invalidate makes everything a proxy cached stale and forgets the 404s it
// remembered: the next request for any path asks the upstream again.
// Content that cannot change (ImmutableContent) stays fresh.
func (p *proxyRepo) invalidate() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.negative = map[string]time.Time{}
	p.invalidated.Store(p.now().UnixNano())
}

// InvalidateCache is POST /v1/repositories/{name}/invalidate-cache: a
// proxy's cache goes stale (see invalidate), a group's members' caches
// with it (its merges follow its members). The caller needs the
// repository's admin "edit" privilege; a hosted repository has no cache
// (errs.Invalid).
func (m *Manager) InvalidateCache(ctx context.Context, name string) error {
	r, err := m.Access(ctx, name)
	if err != nil {
		return err
	}
	if err := m.authz.Require(ctx, auth.RepositoryAdmin(r.Config().Format, name, "edit")); err != nil {
		return err
	}
	if r.Config().Type == Hosted {
		return errs.New(errs.Invalid, "repository %s is not a proxy or group repository", name)
	}
	invalidate(r, map[string]bool{})
	return nil
}

func invalidate(r Repository, seen map[string]bool) {
	if seen[r.Name()] {
		return
	}
	seen[r.Name()] = true
	switch r := r.(type) {
	case *proxyRepo:
		r.invalidate()
	case *groupRepo:
		for _, member := range r.Members() {
			invalidate(member, seen)
		}
	}
}
