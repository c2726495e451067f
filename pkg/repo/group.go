package repo

import (
	"context"
	"io"

	"github.com/nexus-go/nexus-go/pkg/errs"
	"github.com/nexus-go/nexus-go/pkg/meta"
)

// groupRepo serves its members' content: the first member that has a path
// wins, and metadata of merging formats is merged across all of them.
type groupRepo struct {
	base
	members func() []Repository
}

var _ GroupMembers = (*groupRepo)(nil)

// Members returns the members in order.
func (g *groupRepo) Members() []Repository { return g.members() }

// WritableMember returns the configured writable member, or nil.
func (g *groupRepo) WritableMember() Repository {
	name := g.cfg.Group.WritableMember
	for _, m := range g.members() {
		if m.Name() == name {
			return m
		}
	}
	return nil
}

func (g *groupRepo) Get(ctx context.Context, p string) (*Content, error) {
	if err := g.online(); err != nil {
		return nil, err
	}
	merger, merges := g.format.(GroupMerger)
	merges = merges && g.format.IsMetadata(p)
	var found []*Content
	var lastErr error
	for _, m := range g.members() {
		c, err := m.Get(ctx, p)
		if err != nil {
			if errs.KindOf(err) != errs.NotFound {
				g.log.Warn("group member failed", "group", g.cfg.Name, "member", m.Name(), "path", p, "err", err)
				lastErr = err
			}
			continue
		}
		if !merges {
			return c, nil
		}
		found = append(found, c)
	}
	if len(found) == 0 {
		if lastErr != nil {
			return nil, lastErr
		}
		return nil, errs.New(errs.NotFound, "%s not found in group %s", p, g.cfg.Name)
	}
	defer func() {
		for _, c := range found {
			c.Body.Close()
		}
	}()
	return merger.Merge(ctx, p, found)
}

func (g *groupRepo) Put(ctx context.Context, p string, body io.Reader, opts PutOptions) (*meta.Asset, error) {
	return nil, errs.New(errs.Unsupported, "repository %s is a group: upload to a hosted member", g.cfg.Name)
}

func (g *groupRepo) Delete(ctx context.Context, p string) error {
	return errs.New(errs.Unsupported, "repository %s is a group: delete from a member", g.cfg.Name)
}

func (g *groupRepo) List(ctx context.Context, dir string) ([]Entry, error) {
	if err := g.online(); err != nil {
		return nil, err
	}
	var lists [][]Entry
	for _, m := range g.members() {
		l, err := m.List(ctx, dir)
		if err == nil {
			lists = append(lists, l)
		}
	}
	if len(lists) == 0 && dir != "" {
		return nil, errs.New(errs.NotFound, "folder %s not found", dir)
	}
	return mergeEntries(lists...), nil
}
