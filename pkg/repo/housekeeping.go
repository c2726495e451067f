package repo

// Freeing storage: the content of a deleted repository, in bounded
// batches; blobs whose last reference went; the start-up sweep of what a
// crash left; the periodic maintenance no task does.

import (
	"context"
	"errors"

	"github.com/nexus-go/nexus-go/pkg/meta"
)

// deleteContent deletes the content of a repository taken out of service,
// batch by batch, then its marker, and frees its name. The caller has
// claimed the deletion (m.deleting[name] true); on failure the marker
// stays and the claim goes, so maintenance or the next start goes on.
func (m *Manager) deleteContent(ctx context.Context, name string) error {
	err := func() error {
		for more := true; more; {
			released, left, err := m.db.DeleteRepositoryContent(name, m.deleteBatch)
			if err != nil {
				return err
			}
			more = left
			m.release(ctx, released)
			if m.afterDeleteBatch != nil {
				m.afterDeleteBatch(name)
			}
		}
		return m.db.FinishDeleteRepository(name)
	}()
	m.mu.Lock()
	defer m.mu.Unlock()
	if err != nil {
		m.deleting[name] = false
		return err
	}
	delete(m.deleting, name)
	return nil
}

func (m *Manager) release(ctx context.Context, refs []meta.BlobRef) {
	releaseBlobs(ctx, m.db, m.stores, m.opts.Log, refs)
}

// Sweep runs at start-up, after Load and before serving: it finishes
// repository deletions a crash interrupted, removes temporary files a crash
// left, frees blobs whose last reference went away without their bytes
// being released, and deletes stored bytes no record knows of. A frozen
// server skips it: its deletes are writes, and a freeze is often for a
// backup, which wants the files to stay put.
func (m *Manager) Sweep(ctx context.Context) error {
	if m.writable() != nil {
		m.opts.Log.Info("start-up sweep skipped: the server is read-only")
		return nil
	}
	if err := m.resumeDeletions(ctx); err != nil {
		// Those repositories stay out of service; maintenance tries again.
		m.opts.Log.Error("finish repository deletions", "err", err)
	}
	for _, st := range m.stores.List() {
		if err := m.sweepStore(ctx, st); err != nil {
			return err
		}
	}
	return nil
}

// resumeDeletions finishes the repository deletions nobody works on: those
// a crash interrupted, or that failed.
func (m *Manager) resumeDeletions(ctx context.Context) error {
	var claimed []string
	m.mu.Lock()
	for name, running := range m.deleting {
		if !running {
			m.deleting[name] = true
			claimed = append(claimed, name)
		}
	}
	m.mu.Unlock()
	var errAll error
	for _, name := range claimed {
		if err := m.deleteContent(ctx, name); err != nil {
			errAll = errors.Join(errAll, err)
			continue
		}
		m.opts.Log.Info("finished deleting repository", "repository", name)
	}
	return errAll
}

// Maintain runs the periodic housekeeping no task does: it finishes
// repository deletions that failed and logs soft quota violations. (Upload
// purge and the formats' Maintainer hooks are tasks of pkg/tasks, with
// schedules and settings of their own.) A read-only server skips it:
// housekeeping is writes too.
func (m *Manager) Maintain(ctx context.Context) {
	if m.writable() != nil {
		return
	}
	if err := m.resumeDeletions(ctx); err != nil {
		m.opts.Log.Error("finish repository deletions", "err", err)
	}
	m.checkQuotas(ctx)
}
