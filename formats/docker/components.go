package docker

import (
	"context"
	"strings"

	digest "github.com/opencontainers/go-digest"

	"github.com/nexus-go/nexus-go/pkg/errs"
	"github.com/nexus-go/nexus-go/pkg/meta"
	"github.com/nexus-go/nexus-go/pkg/repo"
)

var _ repo.ComponentHooks = (*Format)(nil)

// ComponentAssets shows a tag with its manifest and everything the manifest
// references: config and layers, and for an index its child manifests and
// theirs.
func (f *Format) ComponentAssets(ctx context.Context, r repo.Repository, own []*meta.Asset) ([]*meta.Asset, error) {
	out := append([]*meta.Asset(nil), own...)
	seen := map[string]bool{}
	for _, a := range own {
		seen[a.Path] = true
	}
	var add func(image, d string)
	add = func(image, d string) {
		for _, p := range []string{manifestPath(image, d), blobPath(image, digest.Digest(d))} {
			if seen[p] {
				continue
			}
			a, err := r.Stat(ctx, p)
			if err != nil {
				continue
			}
			seen[p] = true
			out = append(out, a)
			for _, child := range strings.Fields(a.Attributes[attrRefs]) {
				add(image, child)
			}
		}
	}
	for _, a := range own {
		if image, _, ok := splitManifestPath(a.Path); ok {
			add(image, manifestDigest(a))
		}
	}
	return out, nil
}

// DeleteComponent deletes a tag as the REST API asks: the tag, its manifest
// when no other tag names it, and then the layers nothing references.
func (f *Format) DeleteComponent(ctx context.Context, r repo.Repository, own []*meta.Asset) error {
	for _, a := range own {
		image, ref, ok := splitManifestPath(a.Path)
		if !ok {
			if err := r.Delete(ctx, a.Path); err != nil && errs.KindOf(err) != errs.NotFound {
				return err
			}
			continue
		}
		if err := f.deleteTag(ctx, r, image, ref, manifestDigest(a)); err != nil {
			return err
		}
	}
	return nil
}

// deleteTag removes a tag, the manifest it named if no other tag names it,
// and the layers left unreferenced.
func (f *Format) deleteTag(ctx context.Context, r repo.Repository, image, tag, d string) error {
	unlock := f.lockImage(target{r: r, image: image})
	defer unlock()
	if err := r.Delete(ctx, manifestPath(image, tag)); err != nil && errs.KindOf(err) != errs.NotFound {
		return err
	}
	// The manifest stays while a tag names it or an index lists it.
	inUse := false
	err := r.Walk(ctx, manifestsPrefix(image), func(a *meta.Asset) error {
		img, ref, ok := splitManifestPath(a.Path)
		if !ok || img != image {
			return nil
		}
		if (!isDigestRef(ref) && manifestDigest(a) == d) || strings.Contains(" "+a.Attributes[attrRefs]+" ", " "+d+" ") {
			inUse = true
		}
		return nil
	})
	if err != nil {
		return err
	}
	if !inUse && d != "" {
		if err := r.Delete(ctx, manifestPath(image, d)); err != nil && errs.KindOf(err) != errs.NotFound {
			return err
		}
	}
	return f.collect(ctx, r, image)
}
