package repo

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	digest "github.com/opencontainers/go-digest"

	"github.com/nexus-go/nexus-go/pkg/auth"
	"github.com/nexus-go/nexus-go/pkg/blob"
	"github.com/nexus-go/nexus-go/pkg/errs"
	"github.com/nexus-go/nexus-go/pkg/meta"
)

// The soft quota types of Nexus.
const (
	QuotaSpaceRemaining = "spaceRemainingQuota"
	QuotaSpaceUsed      = "spaceUsedQuota"
)

// openBlobStores opens every stored blob store.
func (m *Manager) openBlobStores() error {
	cfgs, err := m.db.BlobStoreConfigs()
	if err != nil {
		return err
	}
	for _, c := range cfgs {
		if _, err := m.stores.Open(c.Name, c.Path); err != nil {
			return fmt.Errorf("open blob store %s: %w", c.Name, err)
		}
	}
	return nil
}

// sweepStore removes a store's temporary files, frees its blobs without
// references and deletes its bytes no record knows of.
func (m *Manager) sweepStore(ctx context.Context, st *blob.Store) error {
	n, err := st.CleanTemp(ctx, 0)
	if err != nil {
		return err
	}
	unreferenced, err := m.db.UnreferencedBlobs(st.Name())
	if err != nil {
		return err
	}
	refs := make([]meta.BlobRef, len(unreferenced))
	for i, d := range unreferenced {
		refs[i] = meta.BlobRef{Store: st.Name(), Digest: d}
	}
	m.release(ctx, refs)
	var orphans []digest.Digest
	err = st.Walk(ctx, func(d digest.Digest, _ int64, _ time.Time) error {
		known, err := m.db.HasBlob(st.Name(), d)
		if err == nil && !known {
			orphans = append(orphans, d)
		}
		return err
	})
	if err != nil {
		return err
	}
	for _, d := range orphans {
		if err := st.Release(ctx, d, func() (bool, error) {
			known, err := m.db.HasBlob(st.Name(), d)
			return !known, err
		}); err != nil {
			return err
		}
	}
	if n+len(unreferenced)+len(orphans) > 0 {
		m.opts.Log.Info("storage swept", "store", st.Name(), "tempFiles", n, "unreferencedBlobs", len(unreferenced), "orphanBlobs", len(orphans))
	}
	return nil
}

// BlobStoreConfigs returns the stored blob stores, for callers holding
// nx-blobstores-read.
func (m *Manager) BlobStoreConfigs(ctx context.Context) ([]meta.BlobStoreConfig, error) {
	if err := m.authz.Require(ctx, auth.Application("blobstores", "read")); err != nil {
		return nil, err
	}
	return m.db.BlobStoreConfigs()
}

// BlobStoreConfig returns blob store name, for callers holding
// nx-blobstores-read; errs.NotFound if there is none.
func (m *Manager) BlobStoreConfig(ctx context.Context, name string) (meta.BlobStoreConfig, error) {
	cfgs, err := m.BlobStoreConfigs(ctx)
	if err != nil {
		return meta.BlobStoreConfig{}, err
	}
	for _, c := range cfgs {
		if c.Name == name {
			return c, nil
		}
	}
	return meta.BlobStoreConfig{}, errs.New(errs.NotFound, "blob store %s not found", name)
}

// CreateBlobStore stores a new file blob store and opens its directory,
// for callers holding nx-blobstores-create. An empty path is the name.
func (m *Manager) CreateBlobStore(ctx context.Context, c meta.BlobStoreConfig) error {
	if err := m.authz.Require(ctx, auth.Application("blobstores", "create")); err != nil {
		return err
	}
	if err := m.writable(); err != nil {
		return err
	}
	if err := m.createBlobStore(&c); err != nil {
		return err
	}
	// Recorded off the lock, which every request's lookup takes.
	m.record(ctx, "blobstore", "created", c.Name, blobStoreAttrs(c))
	return nil
}

// createBlobStore defaults, checks, opens and stores c, under m.mu.
func (m *Manager) createBlobStore(c *meta.BlobStoreConfig) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	c.Type = "File"
	if c.Path == "" {
		c.Path = c.Name
	}
	cfgs, err := m.db.BlobStoreConfigs()
	if err != nil {
		return err
	}
	if err := m.validateBlobStore(*c, cfgs, ""); err != nil {
		return err
	}
	if _, err := m.stores.Open(c.Name, c.Path); err != nil {
		return errs.Wrap(errs.Invalid, err, "path: cannot create the blob store's directory")
	}
	if err := m.db.PutBlobStoreConfig(*c); err != nil {
		m.stores.Remove(c.Name)
		return err
	}
	m.opts.Log.Info("created blob store", "store", c.Name, "path", m.stores.Dir(c.Path))
	return nil
}

// UpdateBlobStore changes a blob store's soft quota, for callers holding
// nx-blobstores-update; its path cannot change (its content is there).
func (m *Manager) UpdateBlobStore(ctx context.Context, c meta.BlobStoreConfig) error {
	if err := m.authz.Require(ctx, auth.Application("blobstores", "update")); err != nil {
		return err
	}
	if err := m.writable(); err != nil {
		return err
	}
	if err := m.updateBlobStore(&c); err != nil {
		return err
	}
	m.record(ctx, "blobstore", "updated", c.Name, blobStoreAttrs(c))
	return nil
}

// updateBlobStore checks and stores c over the stored store, under m.mu.
func (m *Manager) updateBlobStore(c *meta.BlobStoreConfig) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	cfgs, err := m.db.BlobStoreConfigs()
	if err != nil {
		return err
	}
	i := slices.IndexFunc(cfgs, func(o meta.BlobStoreConfig) bool { return o.Name == c.Name })
	if i < 0 {
		return errs.New(errs.NotFound, "blob store %s not found", c.Name)
	}
	old := cfgs[i]
	c.Type = old.Type
	if c.Path == "" {
		c.Path = old.Path
	}
	if m.stores.Dir(c.Path) != m.stores.Dir(old.Path) {
		return fieldErr("path", "the path of blob store %s cannot change", c.Name)
	}
	c.Path = old.Path
	if err := m.validateBlobStore(*c, cfgs, c.Name); err != nil {
		return err
	}
	if err := m.db.PutBlobStoreConfig(*c); err != nil {
		return err
	}
	m.quotas.forget(c.Name) // judged anew by the new quota
	return nil
}

// DeleteBlobStore deletes a blob store no repository uses and that holds
// no blob, for callers holding nx-blobstores-delete; its files stay.
func (m *Manager) DeleteBlobStore(ctx context.Context, name string) error {
	if err := m.authz.Require(ctx, auth.Application("blobstores", "delete")); err != nil {
		return err
	}
	if err := m.writable(); err != nil {
		return err
	}
	if err := m.deleteBlobStore(name); err != nil {
		return err
	}
	m.record(ctx, "blobstore", "deleted", name, map[string]string{"name": name})
	return nil
}

// deleteBlobStore deletes the store name if unused, under m.mu.
func (m *Manager) deleteBlobStore(name string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.stores.Get(name); !ok {
		return errs.New(errs.NotFound, "blob store %s not found", name)
	}
	var users []string
	for _, r := range m.repos {
		if r.Config().Storage.BlobStoreName == name {
			users = append(users, r.Name())
		}
	}
	slices.Sort(users)
	if len(users) > 0 {
		return errs.New(errs.Invalid, "Blob store %s is in use by %d repositories: %s", name, len(users), strings.Join(users, ", "))
	}
	if n, _, err := m.db.BlobUsage(name); err != nil {
		return err
	} else if n > 0 {
		// A repository deletion still freeing its content.
		return errs.New(errs.Invalid, "Blob store %s still holds %d blobs", name, n)
	}
	if err := m.db.DeleteBlobStoreConfig(name); err != nil {
		return err
	}
	m.stores.Remove(name)
	m.quotas.forget(name)
	m.opts.Log.Info("deleted blob store", "store", name)
	return nil
}

// validateBlobStore checks c against the stores cfgs (but the one named
// self, an update's).
func (m *Manager) validateBlobStore(c meta.BlobStoreConfig, cfgs []meta.BlobStoreConfig, self string) error {
	if !namePattern.MatchString(c.Name) || len(c.Name) > 200 {
		return fieldErr("name", "must contain only letters, digits, '.', '_' and '-', and not start with '.' or '_'")
	}
	if !filepath.IsAbs(c.Path) && slices.Contains(strings.Split(filepath.ToSlash(c.Path), "/"), "..") {
		return fieldErr("path", "a relative path may not leave the blob stores' directory")
	}
	dir := m.stores.Dir(c.Path)
	for _, o := range cfgs {
		if o.Name == self {
			continue
		}
		if strings.EqualFold(o.Name, c.Name) {
			return fieldErr("name", "a blob store named %s already exists", o.Name)
		}
		if od := m.stores.Dir(o.Path); within(dir, od) || within(od, dir) {
			return fieldErr("path", "blob store %s is stored in %s", o.Name, od)
		}
	}
	if q := c.SoftQuota; q != nil {
		switch q.Type {
		case QuotaSpaceRemaining, QuotaSpaceUsed:
		default:
			return fieldErr("softQuota.type", "must be %s or %s", QuotaSpaceRemaining, QuotaSpaceUsed)
		}
		if q.Limit <= 0 {
			return fieldErr("softQuota.limit", "quotas must have a limit greater than 0")
		}
	}
	return nil
}

// within reports whether dir is parent or inside it.
func within(dir, parent string) bool {
	rel, err := filepath.Rel(parent, dir)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, "../")
}

// QuotaStatus is a blob store's soft quota result, in Nexus's terms.
type QuotaStatus struct {
	BlobStoreName string
	IsViolation   bool
	Message       string
}

// QuotaStatus judges blob store name against its soft quota, for callers
// holding nx-blobstores-read.
func (m *Manager) QuotaStatus(ctx context.Context, name string) (QuotaStatus, error) {
	c, err := m.BlobStoreConfig(ctx, name)
	if err != nil {
		return QuotaStatus{}, err
	}
	return m.quota(ctx, c), nil
}

// quota judges c against its soft quota (and logs a change of verdict).
// Quotas are soft: nothing here refuses a write.
func (m *Manager) quota(ctx context.Context, c meta.BlobStoreConfig) QuotaStatus {
	st := QuotaStatus{BlobStoreName: c.Name, Message: fmt.Sprintf("Blob store %s has no soft quota", c.Name)}
	q := c.SoftQuota
	if q == nil {
		return st
	}
	switch q.Type {
	case QuotaSpaceUsed:
		_, used, err := m.db.BlobUsage(c.Name)
		if err != nil {
			st.Message = fmt.Sprintf("Blob store %s: usage unknown", c.Name)
			break
		}
		st.IsViolation = used > q.Limit
		st.Message = fmt.Sprintf("Blob store %s is using %s space and has a limit of %s", c.Name, formatStorage(used), formatStorage(q.Limit))
	case QuotaSpaceRemaining:
		s, ok := m.stores.Get(c.Name)
		free := int64(-1)
		if ok {
			free, _ = s.Space(ctx)
		}
		if free < 0 { // unknown: Nexus's "unlimited" never violates
			st.Message = fmt.Sprintf("Blob store %s: available space unknown", c.Name)
			break
		}
		st.IsViolation = free < q.Limit
		st.Message = fmt.Sprintf("Blob store %s is limited to having %s available space, and has %s space remaining", c.Name, formatStorage(q.Limit), formatStorage(free))
	}
	m.quotas.observe(m, st)
	return st
}

// checkQuotas judges every store (maintenance: so that a violation is
// logged even when nobody asks).
func (m *Manager) checkQuotas(ctx context.Context) {
	cfgs, err := m.db.BlobStoreConfigs()
	if err != nil {
		m.opts.Log.Error("blob store quotas", "err", err)
		return
	}
	for _, c := range cfgs {
		m.quota(ctx, c)
	}
}

// wrote judges the quota of store name after a write, at most once per
// quotaCheckInterval, so that a write crossing it is logged at once.
func (m *Manager) wrote(ctx context.Context, name string) {
	if !m.quotas.due(name, time.Now()) {
		return
	}
	cfgs, err := m.db.BlobStoreConfigs()
	if err != nil {
		return // maintenance logs it
	}
	for _, c := range cfgs {
		if c.Name == name {
			m.quota(ctx, c)
		}
	}
}

// quotaCheckInterval bounds how often writes check a store's quota.
const quotaCheckInterval = time.Second

// quotaWatch remembers each store's last verdict, so that a violation is
// logged once when it begins and once when it ends, and when writes last
// checked it.
type quotaWatch struct {
	mu       sync.Mutex
	violated map[string]bool
	checked  map[string]time.Time
}

// due reports whether a write at now should check store name's quota.
func (w *quotaWatch) due(name string, now time.Time) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	if now.Sub(w.checked[name]) < quotaCheckInterval {
		return false
	}
	if w.checked == nil {
		w.checked = map[string]time.Time{}
	}
	w.checked[name] = now
	return true
}

func (w *quotaWatch) observe(m *Manager, st QuotaStatus) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.violated == nil {
		w.violated = map[string]bool{}
	}
	was := w.violated[st.BlobStoreName]
	w.violated[st.BlobStoreName] = st.IsViolation
	switch {
	case st.IsViolation && !was:
		m.opts.Log.Warn("blob store soft quota violated", "store", st.BlobStoreName, "message", st.Message)
	case !st.IsViolation && was:
		m.opts.Log.Info("blob store soft quota no longer violated", "store", st.BlobStoreName, "message", st.Message)
	}
}

func (w *quotaWatch) forget(name string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	delete(w.violated, name)
	delete(w.checked, name)
}

// formatStorage writes a size as Nexus's quota messages do ("1.50 GB").
func formatStorage(n int64) string {
	units := []string{"Bytes", "KB", "MB", "GB", "TB", "PB"}
	v, i := float64(n), 0
	for v >= 1024 && i < len(units)-1 {
		v /= 1024
		i++
	}
	if i == 0 {
		return fmt.Sprintf("%d %s", n, units[0])
	}
	return fmt.Sprintf("%.2f %s", v, units[i])
}
