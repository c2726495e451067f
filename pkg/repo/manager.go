package repo

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/nexus-go/nexus-go/pkg/audit"
	"github.com/nexus-go/nexus-go/pkg/auth"
	"github.com/nexus-go/nexus-go/pkg/blob"
	"github.com/nexus-go/nexus-go/pkg/errs"
	"github.com/nexus-go/nexus-go/pkg/meta"
)

// Options tune the engine.
type Options struct {
	// ProxyTimeout bounds every upstream exchange: the whole of it, but for
	// a download's body only the silences in it (zero: 60s).
	ProxyTimeout time.Duration
	// ProxyConnectTimeout bounds connecting to an upstream (zero: 10s).
	ProxyConnectTimeout time.Duration
	// TrustStore holds the certificates proxies with useTrustStore trust
	// (nil: they trust the system's roots only).
	TrustStore TrustPool
	// Audit records repository, blob store and routing rule changes and
	// content deletes through the manager (nil: none are).
	Audit *audit.Log
	// Meter is told of proxy and group lookups and upstream exchanges
	// (nil: nothing is counted).
	Meter Meter
	Log   *slog.Logger
}

// Observer is told about configuration changes; pkg/server uses it to open
// and close connector ports.
type Observer interface {
	// Check is called before cfg is saved; an error refuses the change.
	// It runs with the manager locked and must not call back into it.
	Check(cfg Config) error
	// Changed is called after each attempt to create, update or delete a
	// repository, successful or not.
	Changed()
}

// Manager holds the configured repositories and changes them at runtime.
type Manager struct {
	db      *meta.DB
	stores  *blob.Stores
	authz   Authorizer
	opts    Options
	formats map[string]Format
	order   []Format // as given to NewManager
	clients *upstreamClients

	mu        sync.RWMutex
	repos     map[string]Repository
	deleting  map[string]bool // out of service, content not yet deleted; true while a deletion works on it
	observers []Observer
	// noters are the observers that are StatusNoters, read without m.mu
	// (statuses are asked for under it).
	noters atomic.Pointer[[]StatusNoter]

	cleanupPolicies CleanupPolicies // checks cleanup.policyNames; see UseCleanupPolicies

	// deleteBatch is how many assets one transaction of a repository's
	// deletion removes; afterDeleteBatch, when set (tests), runs after each.
	deleteBatch      int
	afterDeleteBatch func(name string)

	downloads      *downloads      // LastDownloaded of served assets, batched
	downloadEvents *downloadEvents // events of served assets, batched
	probe          *writeProbe     // Health's metadata writability, probed once per interval

	// sums shares the computation of an asset's missing checksums among
	// concurrent callers (see Checksums).
	sums singleflight.Group

	quotas quotaWatch    // soft quota violations, logged once per transition
	routes *routingRules // the routing rules of proxies and groups
	frozen *readOnly     // the read-only state every write checks
}

// deleteBatch bounds a deletion's transactions, so that writers elsewhere
// never wait long for the database.
const deleteBatch = 1000

// Observe registers o for configuration changes.
func (m *Manager) Observe(o Observer) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.observers = append(m.observers, o)
	m.addNoter(o)
}

func (m *Manager) changed() {
	m.mu.RLock()
	obs := append([]Observer(nil), m.observers...)
	m.mu.RUnlock()
	for _, o := range obs {
		o.Changed()
	}
}

// FormatOf returns the format of the repository named name, or "" when
// there is none.
func (m *Manager) FormatOf(name string) string {
	if r, ok := m.Lookup(name); ok {
		return r.Config().Format
	}
	return ""
}

// Format returns the served format named name.
func (m *Manager) Format(name string) (Format, bool) {
	f, ok := m.formats[name]
	return f, ok
}

// CreateDefaults creates the formats' default repositories (see
// DefaultRepositories) that do not exist, as the server itself; a first
// start calls it.
func (m *Manager) CreateDefaults(ctx context.Context) error {
	ctx = auth.WithPrincipal(ctx, auth.System())
	for _, f := range m.order {
		d, ok := f.(DefaultRepositories)
		if !ok {
			continue
		}
		for _, cfg := range d.DefaultRepositories() {
			if _, exists := m.Lookup(cfg.Name); exists {
				continue
			}
			if err := m.Create(ctx, cfg); err != nil {
				return fmt.Errorf("creating default repository %s: %w", cfg.Name, err)
			}
			m.opts.Log.Info("created default repository", "repository", cfg.Name, "format", cfg.Format, "type", cfg.Type)
		}
	}
	return nil
}

// Formats returns the served formats, in the order given to NewManager.
func (m *Manager) Formats() []Format { return m.order }

// APIFormat returns the format the REST API's paths name name (see
// APINamed): /v1/repositories/maven/hosted is the format maven2.
func (m *Manager) APIFormat(name string) (Format, bool) {
	for _, f := range m.order {
		if APIName(f) == name {
			return f, true
		}
	}
	return nil, false
}

// NewManager returns a manager over db and the blob stores, serving the
// given formats. Call Load to open the stored blob stores and read the
// stored repositories.
func NewManager(db *meta.DB, stores *blob.Stores, authz Authorizer, opts Options, formats ...Format) *Manager {
	if opts.Log == nil {
		opts.Log = slog.Default()
	}
	if opts.Meter == nil {
		opts.Meter = nopMeter{}
	}
	m := &Manager{db: db, stores: stores, authz: authz, opts: opts, formats: map[string]Format{},
		repos: map[string]Repository{}, deleting: map[string]bool{}, deleteBatch: deleteBatch,
		routes: &routingRules{}, frozen: &readOnly{}}
	for _, f := range formats {
		m.formats[f.Name()] = f
	}
	m.order = formats
	m.downloads = newDownloads(db, m.frozen, opts.Log)
	m.downloadEvents = newDownloadEvents(db, m.frozen, opts.Log)
	m.probe = &writeProbe{probe: db.Writable, now: time.Now}
	m.clients = newUpstreamClients(opts.ProxyTimeout, opts.ProxyConnectTimeout, opts.TrustStore)
	return m
}

// BlobStore returns the blob store named name.
func (m *Manager) BlobStore(name string) (*blob.Store, bool) { return m.stores.Get(name) }

// BlobStores returns every blob store, ordered by name.
func (m *Manager) BlobStores() []*blob.Store { return m.stores.List() }

// Load opens the stored blob stores, builds the repositories stored in the
// database and notes the deletions a crash interrupted (Sweep finishes
// them).
func (m *Manager) Load(ctx context.Context) error {
	if err := m.loadReadOnly(); err != nil {
		return err
	}
	if err := m.loadRoutingRules(); err != nil {
		return err
	}
	if err := m.openBlobStores(); err != nil {
		return err
	}
	recs, err := m.db.Repositories()
	if err != nil {
		return err
	}
	deleting, err := m.db.DeletingRepositories()
	if err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, name := range deleting {
		m.deleting[name] = false
	}
	for _, rec := range recs {
		var cfg Config
		if err := json.Unmarshal(rec.Config, &cfg); err != nil {
			return err
		}
		r, err := m.build(cfg)
		if err != nil {
			m.opts.Log.Error("repository not loaded", "repository", rec.Name, "err", err)
			continue
		}
		m.repos[cfg.Name] = r
	}
	return nil
}

// Lookup returns the repository named name.
func (m *Manager) Lookup(name string) (Repository, bool) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	r, ok := m.repos[name]
	return r, ok
}

// List returns every repository, ordered by name.
func (m *Manager) List() []Repository {
	m.mu.RLock()
	defer m.mu.RUnlock()
	out := make([]Repository, 0, len(m.repos))
	for _, r := range m.repos {
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name() < out[j].Name() })
	return out
}

// Create validates and stores a new repository and starts serving it. The
// caller in ctx needs the repository's admin "add" privilege, and for a
// group the privileges on its members that the group hands out.
func (m *Manager) Create(ctx context.Context, cfg Config) error {
	if err := m.authz.Require(ctx, auth.RepositoryAdmin(cfg.Format, cfg.Name, "add")); err != nil {
		return err
	}
	if err := m.writable(); err != nil {
		return err
	}
	err := func() error {
		m.mu.Lock()
		defer m.mu.Unlock()
		for existing := range m.repos {
			if strings.EqualFold(existing, cfg.Name) {
				return fieldErr("name", "a repository named %s already exists", existing)
			}
		}
		for deleting := range m.deleting {
			if strings.EqualFold(deleting, cfg.Name) {
				return fieldErr("name", "repository %s is still being deleted", deleting)
			}
		}
		return m.save(ctx, cfg)
	}()
	// Observers hear of refused changes too: Check may have reserved
	// resources (a connector port) the change would have used.
	m.changed()
	if err == nil {
		m.record(ctx, "repository.repository", "created", cfg.Name, configAttrs(cfg))
	}
	return err
}

// Update replaces the configuration of an existing repository; its format
// and type cannot change. The caller in ctx needs the repository's admin
// "edit" privilege, and for a group the privileges on its members that the
// group hands out.
func (m *Manager) Update(ctx context.Context, cfg Config) error {
	// Checked before existence, so that whether a name exists is not
	// told to callers who may not edit it.
	if err := m.authz.Require(ctx, auth.RepositoryAdmin(cfg.Format, cfg.Name, "edit")); err != nil {
		return err
	}
	if err := m.writable(); err != nil {
		return err
	}
	err := func() error {
		m.mu.Lock()
		defer m.mu.Unlock()
		old, ok := m.repos[cfg.Name]
		if !ok {
			return errs.New(errs.NotFound, "repository %s not found", cfg.Name)
		}
		oc := old.Config()
		if oc.Format != cfg.Format || oc.Type != cfg.Type {
			return fieldErr("name", "repository %s is a %s %s repository", cfg.Name, oc.Format, oc.Type)
		}
		if oc.Storage.BlobStoreName != cfg.Storage.BlobStoreName {
			return fieldErr("storage.blobStoreName", "the blob store of repository %s cannot change", cfg.Name)
		}
		keepUpstreamPassword(&cfg, oc)
		return m.save(ctx, cfg)
	}()
	// Observers hear of refused changes too: Check may have reserved
	// resources (a connector port) the change would have used.
	m.changed()
	if err == nil {
		m.record(ctx, "repository.repository", "updated", cfg.Name, configAttrs(cfg))
	}
	return err
}

// save validates, persists and swaps in cfg; m.mu is held.
func (m *Manager) save(ctx context.Context, cfg Config) error {
	if err := m.validate(ctx, &cfg); err != nil {
		return err
	}
	for _, o := range m.observers {
		if err := o.Check(cfg); err != nil {
			return err
		}
	}
	r, err := m.build(cfg)
	if err != nil {
		return err
	}
	raw, err := json.Marshal(cfg)
	if err != nil {
		return err
	}
	if err := m.db.As(audit.Initiator(ctx)).PutRepository(cfg.Name, raw); err != nil {
		return err
	}
	m.repos[cfg.Name] = r
	return nil
}

// Delete removes a repository and its content, freeing blobs nothing else
// references. A repository that is a group member cannot be deleted. The
// caller in ctx needs the repository's admin "delete" privilege.
//
// Only taking it out of service holds the manager: from then on requests
// find no repository, writes still in flight for it are refused
// (meta.PutAssetRequest.RequireRepository), observers close its ports and
// its name stays taken. Its content then goes in bounded transactions, and
// the name is free once all of it is gone. A crash in between leaves a
// marker that start-up (Load, Sweep) finishes.
func (m *Manager) Delete(ctx context.Context, name string) error {
	var cfg Config
	err := func() error {
		m.mu.Lock()
		defer m.mu.Unlock()
		r, ok := m.repos[name]
		if !ok {
			return errs.New(errs.NotFound, "repository %s not found", name)
		}
		cfg = r.Config()
		if err := m.authz.Require(ctx, auth.RepositoryAdmin(r.Config().Format, name, "delete")); err != nil {
			return err
		}
		if err := m.writable(); err != nil {
			return err
		}
		for _, other := range m.repos {
			if g := other.Config().Group; g != nil && slices.Contains(g.MemberNames, name) {
				return errs.New(errs.Invalid, "repository %s is a member of group %s", name, other.Name())
			}
		}
		if err := m.db.As(audit.Initiator(ctx)).StartDeleteRepository(name); err != nil {
			return err
		}
		delete(m.repos, name)
		m.deleting[name] = true
		return nil
	}()
	if err != nil {
		return err
	}
	m.changed()
	// Recorded once out of service: from here the deletion is finished
	// even if what follows fails (the sweep completes it).
	m.record(ctx, "repository.repository", "deleted", name, configAttrs(cfg))
	// The deletion is under way and its marker stored: it goes on if the
	// client goes away.
	return m.deleteContent(context.WithoutCancel(ctx), name)
}

// DeleteAsset deletes one asset by id and frees its blob if unreferenced,
// for a caller who may browse and delete in its repository.
func (m *Manager) DeleteAsset(ctx context.Context, id string) error {
	a, err := m.db.Asset(id)
	if err != nil {
		return err
	}
	if err := m.deletable(ctx, a.Repository, []string{a.Path}); err != nil {
		return err
	}
	released, err := m.db.As(audit.Initiator(ctx)).DeleteAsset(id)
	if err != nil {
		return err
	}
	m.record(ctx, "repository.asset", "deleted", a.Path, assetAttrs(a))
	m.release(ctx, released)
	return m.deleted(ctx, a.Repository, []string{a.Path})
}

// deleted tells the format of repository name that paths were deleted
// (see DeleteObserver).
func (m *Manager) deleted(ctx context.Context, name string, paths []string) error {
	r, ok := m.Lookup(name)
	if !ok {
		return nil
	}
	if o, ok := r.Format().(DeleteObserver); ok {
		return o.Deleted(ctx, r, paths)
	}
	return nil
}

// DeleteComponent deletes a component with its assets, through the
// format's hook when it has one, for a caller who may browse and delete
// in its repository.
func (m *Manager) DeleteComponent(ctx context.Context, id string) error {
	comp, err := m.db.Component(id)
	if err != nil {
		return err
	}
	own, err := m.db.ComponentAssets(comp)
	if err != nil {
		return err
	}
	paths := make([]string, len(own))
	for i, a := range own {
		paths[i] = a.Path
	}
	if err := m.deletable(ctx, comp.Repository, paths); err != nil {
		return err
	}
	if r, ok := m.Lookup(comp.Repository); ok {
		if hooks, ok := r.Format().(ComponentHooks); ok {
			if err := hooks.DeleteComponent(Consequent(ctx), r, own); err != nil {
				return err
			}
			m.record(ctx, "repository.component", "deleted", comp.Name, componentAttrs(comp, len(own)))
			return nil
		}
	}
	released, err := m.db.As(audit.Initiator(ctx)).DeleteComponent(id)
	if err != nil {
		return err
	}
	m.record(ctx, "repository.component", "deleted", comp.Name, componentAttrs(comp, len(own)))
	m.release(ctx, released)
	return m.deleted(ctx, comp.Repository, paths)
}

// ComponentAssets returns the assets a component shows: its own, and for
// formats with hooks what those reference; of those, the ones the caller
// in ctx may browse.
func (m *Manager) ComponentAssets(ctx context.Context, comp *meta.Component) ([]*meta.Asset, error) {
	own, err := m.db.ComponentAssets(comp)
	if err != nil {
		return nil, err
	}
	r, ok := m.Lookup(comp.Repository)
	if !ok {
		return own, nil
	}
	if hooks, ok := r.Format().(ComponentHooks); ok {
		if own, err = hooks.ComponentAssets(ctx, r, own); err != nil {
			return nil, err
		}
	}
	if r.Authorize(ctx, "browse") == nil {
		return own, nil
	}
	return slices.DeleteFunc(own, func(a *meta.Asset) bool { return r.AuthorizePath(ctx, "browse", a.Path) != nil }), nil
}

func (m *Manager) build(cfg Config) (Repository, error) {
	f, ok := m.formats[cfg.Format]
	if !ok {
		return nil, errs.New(errs.Invalid, "unknown format %q", cfg.Format)
	}
	blobs, ok := m.stores.Get(cfg.Storage.BlobStoreName)
	if !ok {
		return nil, fieldErr("storage.blobStoreName", "blob store %s does not exist", cfg.Storage.BlobStoreName)
	}
	b := base{cfg: cfg, format: f, db: m.db, blobs: blobs, stores: m.stores, wrote: m.wrote, authz: m.authz, record: m.record,
		log: m.opts.Log.With("repository", cfg.Name), downloads: m.downloads, downloadEvents: m.downloadEvents, note: m.statusNote,
		routes: m.routes, frozen: m.frozen, meter: m.opts.Meter}
	switch cfg.Type {
	case Hosted:
		return &hostedRepo{base: b}, nil
	case Proxy:
		return newProxy(b, m.clients.client(cfg))
	case Group:
		names := cfg.Group.MemberNames
		cfgKey, err := json.Marshal(cfg)
		if err != nil {
			return nil, err
		}
		return &groupRepo{base: b, cfgKey: cfgKey, members: func() []Repository {
			m.mu.RLock()
			defer m.mu.RUnlock()
			var out []Repository
			for _, n := range names {
				if r, ok := m.repos[n]; ok {
					out = append(out, r)
				}
			}
			return out
		}}, nil
	}
	return nil, errs.New(errs.Invalid, "unknown repository type %q", cfg.Type)
}
