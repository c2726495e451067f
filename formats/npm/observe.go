package npm

import (
	"context"
	"slices"

	"github.com/nexus-go/nexus-go/pkg/errs"
	"github.com/nexus-go/nexus-go/pkg/repo"
)

// Deleted keeps a hosted repository's packuments in step with deletes
// made through the REST API (assets, components), as Nexus does: a
// deleted tarball's version leaves its packument (its time stays, so it is
// never published again; dist-tags naming it go, latest moves to the
// highest version left), a packument left without versions goes, and so
// do the tarballs of a deleted packument.
func (f *Format) Deleted(ctx context.Context, r repo.Repository, paths []string) error {
	if r.Config().Type != repo.Hosted {
		return nil
	}
	gone := map[string][]string{} // package → versions whose tarballs were deleted
	var order []string
	for _, p := range paths {
		rt, err := parseRoute(p)
		if err != nil {
			continue
		}
		switch rt.kind {
		case routePackument:
			if err := deleteTarballs(ctx, r, rt.name); err != nil {
				return err
			}
		case routeTarball:
			if v, ok := fileVersion(rt.name, rt.rest); ok && rt.rev == "" {
				if gone[rt.name] == nil {
					order = append(order, rt.name)
				}
				gone[rt.name] = append(gone[rt.name], v)
			}
		}
	}
	for _, name := range order {
		if err := f.dropVersions(ctx, r, name, gone[name]); err != nil {
			return err
		}
	}
	return nil
}

// dropVersions removes versions from the packument of name in r.
func (f *Format) dropVersions(ctx context.Context, r repo.Repository, name string, versions []string) error {
	unlock := f.lock(r, name)
	defer unlock()
	empty := false
	_, err := modify(ctx, putter{}, r, name, func(cur []byte) ([]byte, error) {
		if cur == nil {
			return nil, errNoPackument
		}
		doc, err := parseObject(cur)
		if err != nil {
			return nil, errs.Wrap(errs.Internal, err, "stored packument")
		}
		kept := object{}
		for _, m := range objectOf(doc.get("versions")) {
			if !slices.Contains(versions, m.Key) {
				kept = append(kept, m)
			}
		}
		if len(kept) == 0 {
			empty = true
			return nil, errNoPackument
		}
		tags := distTagsOf(doc)
		for tag, v := range tags {
			if kept.get(v) == nil {
				delete(tags, tag)
			}
		}
		if tags["latest"] == "" {
			tags["latest"] = latestOf(kept.keys())
		}
		setTags(&doc, tags)
		doc.set("versions", kept.marshal())
		touch(&doc, now())
		doc, _ = withRev(doc, stringOf(doc.get("_rev")))
		return doc.marshal(), nil
	})
	switch {
	case err == errNoPackument && empty:
		ctx = repo.Consequent(ctx)
		if err := r.Delete(ctx, name); err != nil && errs.KindOf(err) != errs.NotFound {
			return err
		}
		return deleteTarballs(ctx, r, name)
	case err == errNoPackument:
		return nil
	}
	return err
}

// errNoPackument ends a dropVersions with nothing to write.
var errNoPackument = errs.New(errs.NotFound, "no packument left")
