package docker

import (
	"context"
	"strings"
	"time"

	digest "github.com/opencontainers/go-digest"

	"github.com/nexus-go/nexus-go/pkg/errs"
	"github.com/nexus-go/nexus-go/pkg/meta"
	"github.com/nexus-go/nexus-go/pkg/repo"
)

// lockImage serialises manifest writes and collection for one image, so a
// manifest is never stored while the blobs it was checked against are
// being collected.
func (f *Format) lockImage(t target) func() {
	return f.images.Lock(t.r.Name() + "\x00" + t.image)
}

// touch records that a client was just told the blob link exists (it will
// reference it in a manifest soon), which protects it from collection for
// the grace period. Only hosted repositories collect links this way.
func (f *Format) touch(t target, d digest.Digest) {
	if t.r.Config().Type == repo.Hosted {
		f.recent.touch(t.r.Name()+"\x00"+blobPath(t.image, d), time.Now())
	}
}

func (f *Format) recentlyUsed(r repo.Repository, a *meta.Asset, now time.Time) bool {
	return now.Sub(a.LastModified) < f.opts.GCGrace || f.recent.recent(r.Name()+"\x00"+a.Path, now)
}

// collect deletes the blob links of image that no manifest of the image
// references and that are older than the grace period; their blobs are
// freed once nothing else references them. The image lock is held.
func (f *Format) collect(ctx context.Context, r repo.Repository, image string) error {
	referenced := map[string]bool{}
	err := r.Walk(ctx, manifestsPrefix(image), func(a *meta.Asset) error {
		for _, d := range strings.Fields(a.Attributes[attrRefs]) {
			referenced[d] = true
		}
		return nil
	})
	if err != nil {
		return err
	}
	now := time.Now()
	var unreferenced []string
	err = r.Walk(ctx, blobsPrefix(image), func(a *meta.Asset) error {
		rest := a.Path[len(blobsPrefix(image)):]
		if strings.Contains(rest, "/") || referenced[rest] || f.recentlyUsed(r, a, now) {
			return nil
		}
		unreferenced = append(unreferenced, a.Path)
		return nil
	})
	if err != nil {
		return err
	}
	for _, p := range unreferenced {
		if err := r.Delete(ctx, p); err != nil && errs.KindOf(err) != errs.NotFound {
			return err
		}
	}
	if len(unreferenced) > 0 {
		f.log.Info("collected unreferenced blobs", "repository", r.Name(), "image", image, "count", len(unreferenced))
	}
	return nil
}

// Maintain collects unreferenced blob links of every image of a hosted
// repository: those of deleted manifests that were still in their grace
// period, and those of pushes that never sent a manifest.
func (f *Format) Maintain(ctx context.Context, r repo.Repository) error {
	if r.Config().Type != repo.Hosted {
		return nil
	}
	images := map[string]bool{}
	for _, kind := range []string{"blobs", "manifests"} {
		err := imageFolders(ctx, r, kind, func(image string) error {
			images[image] = true
			return nil
		})
		if err != nil {
			return err
		}
	}
	for image := range images {
		t := target{r: r, image: image}
		unlock := f.lockImage(t)
		err := f.collect(ctx, r, image)
		unlock()
		if err != nil {
			return err
		}
	}
	return nil
}
