package repo

import (
	"context"
	"io"

	"github.com/nexus-go/nexus-go/pkg/errs"
	"github.com/nexus-go/nexus-go/pkg/meta"
)

// hostedRepo stores what clients upload, under a write policy.
type hostedRepo struct{ base }

func (h *hostedRepo) Get(ctx context.Context, p string) (*Content, error) {
	if err := h.online(); err != nil {
		return nil, err
	}
	c, err := h.cached(ctx, p)
	if err != nil {
		return nil, err
	}
	return h.rewrite(ctx, p, c)
}

func (h *hostedRepo) Locate(ctx context.Context, p string) (*meta.Asset, error) {
	if err := h.online(); err != nil {
		return nil, err
	}
	if h.rewrites(ctx, p) {
		c, err := locateServed(ctx, h, p)
		if err != nil {
			return nil, err
		}
		return c.Asset, nil
	}
	return h.Stat(ctx, p)
}

func (h *hostedRepo) Put(ctx context.Context, p string, body io.Reader, opts PutOptions) (*meta.Asset, error) {
	check, err := h.precheck(p, opts)
	if err != nil {
		return nil, err
	}
	if opts.ContentType == "" {
		opts.ContentType = contentTypeByExt(h.format, p)
	}
	return h.store(ctx, p, body, opts, check, MaxUploadSize(ctx))
}

// precheck applies the write policy to the path and the aliases of a
// write before any byte is read, so a refused upload fails fast; it returns
// the check that counts, which runs again inside the metadata transaction.
func (h *hostedRepo) precheck(p string, opts PutOptions) (writeCheck, error) {
	if err := h.online(); err != nil {
		return nil, err
	}
	paths := []string{p}
	for _, al := range opts.Aliases {
		paths = append(paths, al.Path)
	}
	for _, p := range paths {
		existing, err := h.db.AssetByPath(h.cfg.Name, p)
		if err != nil && errs.KindOf(err) != errs.NotFound {
			return nil, err
		}
		if opts.AllowIdentical {
			existing = nil // identical or not is known only once the body is read
		}
		if err := h.writeCheck(p, existing); err != nil {
			return nil, err
		}
	}
	return h.writeCheck, nil
}

func (h *hostedRepo) writeCheck(p string, existing *meta.Asset) error {
	switch policy := h.cfg.Storage.WritePolicy; {
	case policy == WriteDeny:
		return errs.New(errs.Unsupported, "repository %s is read-only (write policy deny)", h.cfg.Name)
	case policy == WriteAllowOnce && existing != nil && !h.maintained(p) && !RedeploysLatest(h.format, h.cfg, p):
		return errs.New(errs.Invalid, "repository %s does not allow updating assets: %s", h.cfg.Name, p)
	}
	return nil
}

// maintained reports whether p is metadata the format rewrites itself.
func (h *hostedRepo) maintained(p string) bool {
	mm, ok := h.format.(MaintainedMetadata)
	return ok && mm.Maintained(p)
}

func (h *hostedRepo) Delete(ctx context.Context, p string) error {
	if err := h.online(); err != nil {
		return err
	}
	if h.cfg.Storage.WritePolicy == WriteDeny {
		return errs.New(errs.Unsupported, "repository %s is read-only (write policy deny)", h.cfg.Name)
	}
	return h.deletePath(ctx, p)
}

func (h *hostedRepo) List(ctx context.Context, dir, after string, limit int) ([]Entry, string, error) {
	if err := h.online(); err != nil {
		return nil, "", err
	}
	return h.listStored(dir, after, limit)
}
