package tasks

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/nexus-go/nexus-go/pkg/cleanup"
	"github.com/nexus-go/nexus-go/pkg/repo"
)

// The built-in task types; the ids are Nexus's where Nexus has the task.
const (
	TypeCleanup         = "repository.cleanup"
	TypeDockerGC        = "repository.docker.gc"
	TypeUploadPurge     = "repository.docker.upload-purge"
	TypeRebuildMetadata = "repository.maven.rebuild-metadata"
	TypeReconcileBlobs  = "blobstore.reconcile-references"
)

// propRepository names the repository a task works on ("*" or absent:
// all).
const propRepository = "repositoryName"

// Builtin returns the server's task types over the repository manager and
// the cleanup policies.
func Builtin(repos *repo.Manager, policies *cleanup.Service) []Type {
	return []Type{
		{ID: TypeCleanup, Name: "Admin - Cleanup repositories using their associated policies",
			Run: func(ctx context.Context, _ *Task) (string, error) {
				res, err := policies.Run(ctx)
				return fmt.Sprintf("deleted %d components (%d assets), freed %d bytes", res.Components, res.Assets, res.Bytes), err
			}},
		{ID: TypeDockerGC, Name: "Docker - Delete unreferenced layers",
			Run: func(ctx context.Context, t *Task) (string, error) {
				n, err := eachRepository(ctx, repos, t, func(r repo.Repository) (bool, error) {
					mt, ok := r.Format().(repo.Maintainer)
					if !ok {
						return false, nil
					}
					return true, mt.Maintain(ctx, r)
				})
				return fmt.Sprintf("collected unreferenced layers of %d repositories", n), err
			}},
		{ID: TypeUploadPurge, Name: "Docker - Delete incomplete uploads",
			Run: func(ctx context.Context, t *Task) (string, error) {
				hours := 24
				if v, ok := t.Properties["age"]; ok {
					n, err := strconv.Atoi(v)
					// Younger uploads may be pushes in progress.
					if err != nil || n < 1 {
						return "", fieldErr("properties.age", "must be a number of hours, at least 1")
					}
					hours = n
				}
				n, err := repos.PurgeUploads(ctx, time.Duration(hours)*time.Hour)
				return fmt.Sprintf("purged %d incomplete uploads and temporary files older than %d hours", n, hours), err
			}},
		{ID: TypeRebuildMetadata, Name: "Repair - Rebuild repository metadata",
			Run: func(ctx context.Context, t *Task) (string, error) {
				n, err := eachRepository(ctx, repos, t, func(r repo.Repository) (bool, error) {
					rp, ok := r.Format().(repo.Repairer)
					if !ok || r.Config().Type != repo.Hosted {
						return false, nil
					}
					return true, rp.Repair(ctx, r)
				})
				return fmt.Sprintf("rebuilt the metadata of %d repositories", n), err
			}},
		{ID: TypeReconcileBlobs, Name: "Repair - Reconcile blob references",
			Run: func(ctx context.Context, _ *Task) (string, error) {
				n, err := repos.ReconcileBlobs(ctx)
				return fmt.Sprintf("corrected %d blob records", n), err
			}},
	}
}

// eachRepository calls fn for the repository the task names, or every
// repository; it counts those fn worked on.
func eachRepository(ctx context.Context, repos *repo.Manager, t *Task, fn func(repo.Repository) (bool, error)) (int, error) {
	rs := repos.List()
	if name := t.Properties[propRepository]; name != "" && name != "*" {
		r, ok := repos.Lookup(name)
		if !ok {
			return 0, fieldErr("properties."+propRepository, "repository %s does not exist", name)
		}
		rs = []repo.Repository{r}
	}
	n := 0
	for _, r := range rs {
		if err := ctx.Err(); err != nil {
			return n, err
		}
		did, err := fn(r)
		if err != nil {
			return n, fmt.Errorf("repository %s: %w", r.Name(), err)
		}
		if did {
			n++
		}
	}
	return n, nil
}
