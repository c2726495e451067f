package maven

import (
	"context"

	"github.com/nexus-go/nexus-go/pkg/meta"
	"github.com/nexus-go/nexus-go/pkg/repo"
)

// IsPrerelease is true for snapshot versions: a component's version is the
// version folder ("1.1-SNAPSHOT"), as cleanup's release type sees it.
func (f *Format) IsPrerelease(c *meta.Component) bool { return isSnapshotVersion(c.Version) }

// CompareVersions orders versions for cleanup's "keep the newest N".
func (f *Format) CompareVersions(a, b string) int { return CompareVersions(a, b) }

// Repair rebuilds the maven-metadata.xml of every artifact stored in a
// hosted repository, as after a delete of each (see Deleted).
func (f *Format) Repair(ctx context.Context, r repo.Repository) error {
	var paths []string
	err := r.Walk(ctx, "", func(a *meta.Asset) error {
		if !IsMetadataPath(a.Path) {
			paths = append(paths, a.Path)
		}
		return nil
	})
	if err != nil {
		return err
	}
	return f.Deleted(ctx, r, paths)
}
