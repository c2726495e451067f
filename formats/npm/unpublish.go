package npm

import (
	"context"
	"net/http"

	"github.com/nexus-go/nexus-go/pkg/errs"
	"github.com/nexus-go/nexus-go/pkg/meta"
	"github.com/nexus-go/nexus-go/pkg/repo"
)

// unpublishAll handles DELETE <name>/-rev/<rev> (npm unpublish of a whole
// package): the packument, then every tarball of the package.
func (f *Format) unpublishAll(w http.ResponseWriter, req *http.Request, r repo.Repository, name, rev string) error {
	ctx := req.Context()
	target, err := writeTarget(ctx, r, name, "delete")
	if err != nil {
		return err
	}
	unlock := f.lock(target, name)
	defer unlock()
	cur, _, err := stored(ctx, target, name)
	if err != nil {
		return err
	}
	if cur == nil {
		return errs.New(errs.NotFound, "package %s not found", name)
	}
	doc, err := parseObject(cur)
	if err != nil {
		return errs.Wrap(errs.Internal, err, "stored packument")
	}
	if err := checkRev(doc, rev); err != nil {
		return err
	}
	if err := target.Delete(ctx, name); err != nil {
		return err
	}
	if err := deleteTarballs(ctx, target, name); err != nil {
		return err
	}
	writeJSON(w, req, http.StatusOK, map[string]any{"ok": true, "id": name})
	return nil
}

// deleteTarballs deletes every tarball stored for name in r.
func deleteTarballs(ctx context.Context, r repo.Repository, name string) error {
	var paths []string
	err := r.Walk(ctx, name+"/-/", func(a *meta.Asset) error {
		paths = append(paths, a.Path)
		return nil
	})
	if err != nil {
		return err
	}
	for _, p := range paths {
		if err := r.Delete(ctx, p); err != nil && errs.KindOf(err) != errs.NotFound {
			return err
		}
	}
	return nil
}

// deleteTarball handles DELETE <name>/-/<file>/-rev/<rev>, the last step of
// npm unpublish <name>@<version>: after the update that removed the
// version (which deleted the tarball already). The tarball of a version
// still published is refused: unpublishing it is what removes it.
func (f *Format) deleteTarball(w http.ResponseWriter, req *http.Request, r repo.Repository, rt route) error {
	ctx := req.Context()
	target, err := writeTarget(ctx, r, rt.name, "delete")
	if err != nil {
		return err
	}
	unlock := f.lock(target, rt.name)
	defer unlock()
	cur, _, err := stored(ctx, target, rt.name)
	if err != nil {
		return err
	}
	if cur != nil {
		doc, err := parseObject(cur)
		if err != nil {
			return errs.Wrap(errs.Internal, err, "stored packument")
		}
		if err := checkRev(doc, rt.rev); err != nil {
			return err
		}
		v, _ := fileVersion(rt.name, rt.rest)
		if objectOf(doc.get("versions")).get(v) != nil {
			return errs.New(errs.Invalid, "version %s of %s is published: unpublish the version, not its tarball", v, rt.name)
		}
	}
	if err := target.Delete(ctx, rt.name+"/-/"+rt.rest); err != nil && errs.KindOf(err) != errs.NotFound {
		return err
	}
	writeJSON(w, req, http.StatusOK, map[string]any{"ok": true})
	return nil
}
