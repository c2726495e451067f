package cleanup

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"strconv"
	"time"

	"github.com/nexus-go/nexus-go/pkg/audit"
	"github.com/nexus-go/nexus-go/pkg/auth"
	"github.com/nexus-go/nexus-go/pkg/errs"
	"github.com/nexus-go/nexus-go/pkg/meta"
	"github.com/nexus-go/nexus-go/pkg/repo"
)

// Service manages the stored policies and applies them. Its methods check
// the caller's privileges: nx-cleanup-<action> for policies (Nexus leaves
// them to administrators), browse on the repository a preview lists.
type Service struct {
	db    *meta.DB
	repos *repo.Manager
	authz repo.Authorizer
	log   *slog.Logger
	// Now is the time criteria count days from (tests set it).
	Now func() time.Time
	// audit records the policies' changes (UseAudit), or is nil.
	audit *audit.Log
}

// UseAudit makes the service record the policies' changes with l; call it
// before serving. A run's deletes are recorded by the engine.
func (s *Service) UseAudit(l *audit.Log) { s.audit = l }

// auditAttrs describe p: its name, format, notes and the criteria it sets.
func auditAttrs(p *Policy) map[string]string {
	out := map[string]string{"name": p.Name, "format": p.Format, "notes": p.Notes}
	for k, v := range map[string]*int{"criteriaLastBlobUpdated": p.CriteriaLastBlobUpdated,
		"criteriaLastDownloaded": p.CriteriaLastDownloaded, "retain": p.Retain} {
		if v != nil {
			out[k] = strconv.Itoa(*v)
		}
	}
	for k, v := range map[string]*string{"criteriaReleaseType": p.CriteriaReleaseType,
		"criteriaAssetRegex": p.CriteriaAssetRegex, "sortBy": p.SortBy} {
		if v != nil {
			out[k] = *v
		}
	}
	return out
}

// New returns the service and makes repos check cleanup.policyNames
// against the stored policies.
func New(db *meta.DB, repos *repo.Manager, authz repo.Authorizer, log *slog.Logger) *Service {
	s := &Service{db: db, repos: repos, authz: authz, log: log, Now: time.Now}
	repos.UseCleanupPolicies(s)
	return s
}

func (s *Service) require(ctx context.Context, action string) error {
	return s.authz.Require(ctx, auth.Application("cleanup", action))
}

// List returns every policy, by name.
func (s *Service) List(ctx context.Context) ([]*Policy, error) {
	if err := s.require(ctx, "read"); err != nil {
		return nil, err
	}
	return s.all()
}

func (s *Service) all() ([]*Policy, error) {
	raws, err := s.db.CleanupPolicies()
	if err != nil {
		return nil, err
	}
	out := make([]*Policy, 0, len(raws))
	for _, raw := range raws {
		var p Policy
		if err := json.Unmarshal(raw, &p); err != nil {
			return nil, err
		}
		out = append(out, &p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// Get returns the policy named name, or errs.NotFound.
func (s *Service) Get(ctx context.Context, name string) (*Policy, error) {
	if err := s.require(ctx, "read"); err != nil {
		return nil, err
	}
	return s.get(name)
}

func (s *Service) get(name string) (*Policy, error) {
	raw, err := s.db.CleanupPolicy(name)
	if err != nil {
		return nil, err
	}
	var p Policy
	return &p, json.Unmarshal(raw, &p)
}

// Create validates and stores a new policy.
func (s *Service) Create(ctx context.Context, p Policy) error {
	if err := s.require(ctx, "create"); err != nil {
		return err
	}
	if err := validate(&p, s.repos.Format); err != nil {
		return err
	}
	err := s.put(&p, true)
	if errs.KindOf(err) == errs.Conflict {
		return fieldErr("name", "a cleanup policy named %s already exists", p.Name)
	}
	if err == nil {
		s.audit.Record(ctx, "cleanup.policy", "created", p.Name, auditAttrs(&p))
	}
	return err
}

// Update replaces the policy named name; its name and format stay.
func (s *Service) Update(ctx context.Context, name string, p Policy) error {
	if err := s.require(ctx, "update"); err != nil {
		return err
	}
	old, err := s.get(name)
	if err != nil {
		return err
	}
	if p.Name == "" {
		p.Name = name
	}
	if p.Name != name {
		return fieldErr("name", "a cleanup policy cannot be renamed")
	}
	if p.Format != old.Format {
		return fieldErr("format", "the format of a cleanup policy cannot change")
	}
	if err := validate(&p, s.repos.Format); err != nil {
		return err
	}
	if err := s.put(&p, false); err != nil {
		return err
	}
	s.audit.Record(ctx, "cleanup.policy", "updated", p.Name, auditAttrs(&p))
	return nil
}

func (s *Service) put(p *Policy, create bool) error {
	raw, err := json.Marshal(p)
	if err != nil {
		return err
	}
	return s.db.PutCleanupPolicy(p.Name, raw, create)
}

// Delete deletes the policy named name after taking it off every
// repository that names it, as Nexus does.
func (s *Service) Delete(ctx context.Context, name string) error {
	if err := s.require(ctx, "delete"); err != nil {
		return err
	}
	if _, err := s.get(name); err != nil {
		return err
	}
	// The server takes the policy off repositories the caller may not
	// edit, but the caller is who the records name.
	sys := audit.WithInitiator(auth.WithPrincipal(ctx, auth.System()), audit.Initiator(ctx))
	for _, r := range s.repos.List() {
		cfg := r.Config()
		if cfg.Cleanup == nil || !slices.Contains(cfg.Cleanup.PolicyNames, name) {
			continue
		}
		cl := *cfg.Cleanup
		cl.PolicyNames = slices.DeleteFunc(slices.Clone(cl.PolicyNames), func(n string) bool { return n == name })
		cfg.Cleanup = &cl
		if err := s.repos.Update(sys, cfg); err != nil {
			return err
		}
		s.log.Info("cleanup policy detached", "policy", name, "repository", cfg.Name)
	}
	if err := s.db.DeleteCleanupPolicy(name); err != nil {
		return err
	}
	s.audit.Record(ctx, "cleanup.policy", "deleted", name, map[string]string{"name": name})
	return nil
}

// CheckPolicies implements repo.CleanupPolicies.
func (s *Service) CheckPolicies(format string, names []string) error {
	seen := map[string]bool{}
	for _, name := range names {
		if seen[name] {
			return fieldErr("cleanup.policyNames", "cleanup policy %s is listed twice", name)
		}
		seen[name] = true
		p, err := s.get(name)
		if errs.KindOf(err) == errs.NotFound {
			return fieldErr("cleanup.policyNames", "cleanup policy %s does not exist", name)
		}
		if err != nil {
			return err
		}
		if p.Format != Any && p.Format != format {
			return fieldErr("cleanup.policyNames", "cleanup policy %s is for format %s", name, p.Format)
		}
	}
	return nil
}

// Preview returns what p (validated, not stored) would delete from the
// repository named repository now: exactly what a run would.
func (s *Service) Preview(ctx context.Context, p Policy, repository string) ([]Candidate, error) {
	if err := s.require(ctx, "read"); err != nil {
		return nil, err
	}
	if err := validate(&p, s.repos.Format); err != nil {
		return nil, err
	}
	// A repository hidden from the caller answers as a missing one, so
	// the preview never tells which names exist.
	r, err := s.repos.Access(ctx, repository)
	if errs.KindOf(err) == errs.NotFound {
		return nil, fieldErr("repository", "repository %s does not exist", repository)
	} else if err != nil {
		return nil, err
	}
	// The preview lists the whole repository, so it takes browse of all.
	if err := r.Authorize(ctx, "browse"); err != nil {
		return nil, err
	}
	if p.Format != Any && p.Format != r.Config().Format {
		return nil, fieldErr("repository", "repository %s is not a %s repository", repository, p.Format)
	}
	if err := s.repos.FlushDownloads(); err != nil {
		return nil, err
	}
	return Select(ctx, s.db, r, &p, s.Now())
}

// Result is what a run deleted.
type Result struct {
	Components int
	Assets     int
	// Bytes is how much the blob stores shrank.
	Bytes int64
}

// storedBytes is the size of what every blob store holds.
func (s *Service) storedBytes() (int64, error) {
	var total int64
	for _, st := range s.repos.BlobStores() {
		_, n, err := s.db.BlobUsage(st.Name())
		if err != nil {
			return 0, err
		}
		total += n
	}
	return total, nil
}

// Run applies every repository's policies, as the server (the caller of a
// task): the components they select go through the engine's deletes, which
// free blobs nothing references at once, and formats then tidy what the
// deletes left unreferenced (Docker layers). A repository that fails does
// not keep the others from their cleanup; the errors are joined. It stops
// between components once ctx ends.
func (s *Service) Run(ctx context.Context) (res Result, err error) {
	before, err := s.storedBytes()
	if err != nil {
		return res, err
	}
	defer func() {
		if after, uerr := s.storedBytes(); uerr == nil {
			res.Bytes = before - after
		}
	}()
	if err := s.repos.FlushDownloads(); err != nil {
		return res, err
	}
	sys := auth.WithPrincipal(ctx, auth.System())
	var failed error
	for _, r := range s.repos.List() {
		if err := s.runRepository(sys, r, &res); err != nil {
			if ctx.Err() != nil {
				return res, ctx.Err()
			}
			s.log.Error("cleanup failed", "repository", r.Name(), "err", err)
			failed = errors.Join(failed, fmt.Errorf("repository %s: %w", r.Name(), err))
		}
	}
	return res, failed
}

// runRepository applies r's policies, counting what goes into res.
func (s *Service) runRepository(ctx context.Context, r repo.Repository, res *Result) error {
	cl := r.Config().Cleanup
	if cl == nil {
		return nil
	}
	deleted := 0
	for _, name := range cl.PolicyNames {
		p, err := s.get(name)
		if errs.KindOf(err) == errs.NotFound {
			continue // deleted while the run went on; deleting takes it off r too
		}
		if err != nil {
			return err
		}
		cands, err := Select(ctx, s.db, r, p, s.Now())
		if err != nil {
			return err
		}
		for _, c := range cands {
			if err := ctx.Err(); err != nil {
				return err
			}
			err := s.repos.DeleteComponent(ctx, c.Component.ID)
			if errs.KindOf(err) == errs.NotFound {
				continue // an earlier policy or a client deleted it
			}
			if err != nil {
				return err
			}
			deleted++
			res.Components++
			res.Assets += len(c.Assets)
		}
	}
	if deleted == 0 {
		return nil
	}
	s.log.Info("cleanup deleted components", "repository", r.Name(), "components", deleted)
	if mt, ok := r.Format().(repo.Maintainer); ok {
		return mt.Maintain(ctx, r)
	}
	return nil
}
