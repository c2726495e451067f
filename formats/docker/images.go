package docker

import (
	"context"
	"strings"

	"github.com/nexus-go/nexus-go/pkg/repo"
)

// imageFolders calls fn, in name order, for each image that has assets of
// kind ("manifests" or "blobs") stored in r, a repository that stores them
// (not a group). It reads the engine's folder index: an image with
// manifests is a folder v2/<image>/manifests holding some, so the catalog
// and a mount without from visit no blob link of any image. The index
// changes in the transaction that writes or deletes a manifest, a tag or a
// blob link, so it is never behind them.
func imageFolders(ctx context.Context, r repo.Repository, kind string, fn func(image string) error) error {
	return r.Folders(ctx, "v2/", func(folder string) error {
		if image, ok := strings.CutSuffix(folder[len("v2/"):], "/"+kind); ok && image != "" {
			return fn(image)
		}
		return nil
	})
}
