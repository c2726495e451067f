package repo

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/nexus-go/nexus-go/pkg/auth"
	"github.com/nexus-go/nexus-go/pkg/errs"
	"github.com/nexus-go/nexus-go/pkg/meta"
)

// The read-only views of the engine that the REST API and the UI share:
// each decides who may see what itself, so the two cannot drift.

// ListVisible returns the repositories the caller in ctx may know of (see
// Visible), in name order; callers with no principal at all are
// challenged (errs.Unauthorized).
func (m *Manager) ListVisible(ctx context.Context) ([]Repository, error) {
	if auth.PrincipalFrom(ctx) == nil {
		return nil, errs.New(errs.Unauthorized, "authentication required")
	}
	var out []Repository
	for _, r := range m.List() {
		if m.Visible(ctx, r) {
			out = append(out, r)
		}
	}
	return out, nil
}

// Configuration returns the repository name for a caller who may know of
// it (Access) and read its configuration
// (nx-repository-admin-<format>-<name>-read).
func (m *Manager) Configuration(ctx context.Context, name string) (Repository, error) {
	r, err := m.Access(ctx, name)
	if err != nil {
		return nil, err
	}
	cfg := r.Config()
	if err := m.authz.Require(ctx, auth.RepositoryAdmin(cfg.Format, cfg.Name, "read")); err != nil {
		return nil, err
	}
	return r, nil
}

// Summary is a repository as a dashboard shows it.
type Summary struct {
	Config Config // without the upstream password
	Status Status
	Stats  meta.Stats // zero for a group: it stores nothing itself
}

// Summaries returns the repositories the caller in ctx may know of, with
// their status and statistics. It makes no outbound call and reads the
// statistics in one transaction, whatever the repositories hold.
func (m *Manager) Summaries(ctx context.Context) []Summary {
	stats, err := m.db.AllRepositoryStats()
	if err != nil {
		m.opts.Log.ErrorContext(ctx, "repository statistics unreadable", "err", err)
	}
	var out []Summary
	for _, r := range m.List() {
		if m.Visible(ctx, r) {
			// A group's is zero: it stores nothing itself.
			out = append(out, Summary{Config: r.Config().WithoutSecrets(), Status: r.Status(), Stats: stats[r.Name()]})
		}
	}
	return out
}

// BlobStoreUsage is what a blob store holds and has room for.
type BlobStoreUsage struct {
	Name, Type                           string
	BlobCount, TotalSize, AvailableSpace int64
	// Unavailable is set when the store's free space cannot be read.
	Unavailable bool
	SoftQuota   *meta.SoftQuota
}

// BlobStoreUsage returns the blob stores' usage, for callers holding
// nx-blobstores-read.
func (m *Manager) BlobStoreUsage(ctx context.Context) ([]BlobStoreUsage, error) {
	cfgs, err := m.BlobStoreConfigs(ctx)
	if err != nil {
		return nil, err
	}
	var out []BlobStoreUsage
	for _, c := range cfgs {
		count, size, err := m.db.BlobUsage(c.Name)
		if err != nil {
			return nil, err
		}
		u := BlobStoreUsage{Name: c.Name, Type: c.Type, BlobCount: count, TotalSize: size, SoftQuota: c.SoftQuota,
			AvailableSpace: -1, Unavailable: true}
		if s, ok := m.stores.Get(c.Name); ok {
			free, err := s.Space(ctx)
			u.AvailableSpace, u.Unavailable = free, err != nil
		}
		out = append(out, u)
	}
	return out, nil
}

// HealthCheck is one named result of Health.
type HealthCheck struct {
	Name     string
	Healthy  bool
	Message  string
	Details  any // rendered as JSON; nil for none
	Start    time.Time
	Duration time.Duration
}

// BlobStoreReadiness is one store in the details of "Blob Stores Ready".
type BlobStoreReadiness struct {
	// Writable is whether a temporary write succeeded; null while the
	// server is read-only, when none is tried.
	Writable       *bool `json:"writable"`
	AvailableSpace int64 `json:"availableSpace"` // -1: unknown
	MinFreeSpace   int64 `json:"minFreeSpace"`
}

// ProxyBlocked is one blocked proxy in the details of "Proxy
// Repositories".
type ProxyBlocked struct {
	AutoBlocked bool `json:"autoBlocked"`
}

// Health runs the server's health checks (metadata writable, as probed at
// most probeInterval ago; blob stores writable and with space; soft
// quotas; no proxy auto-blocked), for callers holding nx-metrics-read, as
// Nexus guards them (not with the anonymous role's nx-healthcheck-read:
// they name repositories and blob stores and describe the server's
// state). No check calls out.
func (m *Manager) Health(ctx context.Context) ([]HealthCheck, error) {
	if err := m.authz.Require(ctx, auth.Application("metrics", "read")); err != nil {
		return nil, err
	}
	run := func(name string, fn func() (bool, string, any)) HealthCheck {
		start := time.Now()
		ok, msg, details := fn()
		return HealthCheck{Name: name, Healthy: ok, Message: msg, Details: details, Start: start, Duration: time.Since(start)}
	}
	// The writability probe is a write transaction: its last result stands
	// for probeInterval, with the time it was taken; none runs while
	// frozen.
	metadata := HealthCheck{Name: "Metadata Database", Message: "the server is read-only: writes are refused until it is released",
		Start: time.Now()}
	if m.writable() == nil {
		start, took, err := m.probe.result()
		metadata = HealthCheck{Name: "Metadata Database", Healthy: err == nil, Message: "metadata database is writable",
			Start: start, Duration: took}
		if err != nil {
			metadata.Message = "metadata database is not writable"
		}
	}
	return []HealthCheck{
		metadata,
		run("Blob Stores Ready", func() (bool, string, any) { return m.blobStoresReady(ctx) }),
		run("Blob Stores Quota", func() (bool, string, any) {
			var over []string
			cfgs, err := m.db.BlobStoreConfigs()
			if err != nil {
				return false, "blob stores unreadable", nil
			}
			for _, c := range cfgs {
				if q := m.quota(ctx, c); q.IsViolation {
					over = append(over, q.Message)
				}
			}
			if len(over) > 0 {
				return false, strings.Join(over, "; "), nil
			}
			return true, "all blob stores are within their soft quotas", nil
		}),
		run("Proxy Repositories", m.proxiesUnblocked),
	}, nil
}

// blobStoresReady checks that every blob store takes a write (unless the
// server is read-only, when none is tried: it would be one) and has more
// free space than blobstore.min-free-space.
func (m *Manager) blobStoresReady(ctx context.Context) (bool, string, any) {
	details := map[string]BlobStoreReadiness{}
	var problems []string
	frozen := m.writable() != nil
	for _, s := range m.BlobStores() {
		d := BlobStoreReadiness{AvailableSpace: -1, MinFreeSpace: s.MinFree()}
		if !frozen {
			err := s.Writable(ctx)
			ok := err == nil
			d.Writable = &ok
			if !ok {
				m.opts.Log.ErrorContext(ctx, "health check: blob store not writable", "blobStore", s.Name(), "err", err)
				problems = append(problems, "blob store "+s.Name()+" is not writable")
			}
		}
		free, low, err := s.SpaceLow(ctx)
		switch {
		case err != nil:
			problems = append(problems, "blob store "+s.Name()+": free space unknown")
		case low:
			d.AvailableSpace = free
			problems = append(problems, fmt.Sprintf("blob store %s has %d bytes available, at or below blobstore.min-free-space", s.Name(), free))
		default:
			d.AvailableSpace = free
		}
		details[s.Name()] = d
	}
	if len(problems) > 0 {
		return false, strings.Join(problems, "; "), details
	}
	return true, "all blob stores are writable and have space available", details
}

// proxiesUnblocked is unhealthy while a proxy is auto-blocked: its
// upstream is failing. A proxy blocked by configuration is the admin's
// choice, listed in the details but not a failure.
func (m *Manager) proxiesUnblocked() (bool, string, any) {
	details := map[string]ProxyBlocked{}
	var auto []string
	for _, r := range m.List() {
		st := r.Status()
		if !st.Blocked {
			continue
		}
		details[r.Name()] = ProxyBlocked{AutoBlocked: st.AutoBlocked}
		if st.AutoBlocked {
			auto = append(auto, r.Name())
		}
	}
	switch len(auto) {
	case 0:
		return true, "no proxy repository is auto-blocked", details
	case 1:
		return false, "repository " + auto[0] + " is auto-blocked: its upstream is failing", details
	}
	return false, "repositories " + strings.Join(auto, ", ") + " are auto-blocked: their upstreams are failing", details
}
