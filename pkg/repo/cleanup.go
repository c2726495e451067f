package repo

import (
	"context"
	"time"

	"github.com/nexus-go/nexus-go/pkg/meta"
)

// CleanupSettings is the "cleanup" section: the cleanup policies
// (pkg/cleanup) a task applies to the repository.
type CleanupSettings struct {
	PolicyNames []string `json:"policyNames"`
}

// CleanupCriteria is implemented by formats whose components have a
// release/prerelease distinction and a version order (Maven snapshots, npm
// semver prereleases): cleanup policies of such formats may select by
// release type and keep the newest versions of each component. Policies of
// other formats are refused those criteria.
type CleanupCriteria interface {
	IsPrerelease(c *meta.Component) bool
	// CompareVersions orders two versions of one component: < 0, 0, > 0.
	CompareVersions(a, b string) int
}

// Repairer is implemented by formats that keep metadata derived from what
// is stored (Maven's maven-metadata.xml): Repair rebuilds all of it for r,
// for the repair task.
type Repairer interface {
	Repair(ctx context.Context, r Repository) error
}

// CleanupPolicies is what the manager asks of the cleanup policies a
// repository names (pkg/cleanup answers).
type CleanupPolicies interface {
	// CheckPolicies reports, as an errs.FieldError of cleanup.policyNames, a
	// name that is no policy or a policy of another format.
	CheckPolicies(format string, names []string) error
}

// UseCleanupPolicies makes repository validation check cleanup policy
// names against p; without it, a repository may name none.
func (m *Manager) UseCleanupPolicies(p CleanupPolicies) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.cleanupPolicies = p
}

// validateCleanup checks the "cleanup" section; m.mu is held. Groups store
// nothing to clean up, so their section is dropped as Nexus does.
func (m *Manager) validateCleanup(cfg *Config) error {
	if cfg.Type == Group || cfg.Cleanup == nil {
		cfg.Cleanup = nil
		return nil
	}
	// A copy: the section may be shared with a live repository's.
	cl := *cfg.Cleanup
	if cl.PolicyNames == nil {
		cl.PolicyNames = []string{}
	}
	cfg.Cleanup = &cl
	if len(cl.PolicyNames) == 0 {
		return nil
	}
	if m.cleanupPolicies == nil {
		return fieldErr("cleanup.policyNames", "cleanup policy %s does not exist", cl.PolicyNames[0])
	}
	return m.cleanupPolicies.CheckPolicies(cfg.Format, cl.PolicyNames)
}

// PurgeUploads deletes resumable uploads (Docker upload sessions) left
// unfinished for longer than age, and temporary writes as old (a crash's
// leftovers), in every blob store; it returns how many went. age must
// exceed the longest write in progress.
func (m *Manager) PurgeUploads(ctx context.Context, age time.Duration) (int, error) {
	if err := m.writable(); err != nil {
		return 0, err
	}
	total := 0
	for _, s := range m.BlobStores() {
		n, err := s.PurgeUploads(ctx, age)
		total += n
		if err != nil {
			return total, err
		}
		n, err = s.CleanTemp(ctx, age)
		total += n
		if err != nil {
			return total, err
		}
	}
	return total, nil
}

// ReconcileBlobs recounts every blob's references from the assets that
// name it, corrects the records that disagree and frees the blobs nothing
// references; it returns how many records it corrected.
func (m *Manager) ReconcileBlobs(ctx context.Context) (int, error) {
	if err := m.writable(); err != nil {
		return 0, err
	}
	fixed, released, err := m.db.ReconcileBlobRefs()
	if err != nil {
		return 0, err
	}
	m.release(ctx, released)
	return fixed, nil
}
