package cleanup_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/nexus-go/nexus-go/pkg/cleanup"
	"github.com/nexus-go/nexus-go/pkg/errs"
	"github.com/nexus-go/nexus-go/pkg/meta"
	"github.com/nexus-go/nexus-go/pkg/repo"
)

const day = 24 * time.Hour

// label is how preview names the component publish stored.
func (fx *fixture) label(name, version, p string) string {
	if fx.fc.format.Name() == "raw" {
		return p + "@"
	}
	return name + "@" + version
}

// Content older than the policy goes with a run of the cleanup, exactly
// what the preview listed; newer content stays; the blob store shrinks at
// once, by the bytes of what went.
func TestCleanupAgeRemovesOldContent(t *testing.T) {
	for _, fc := range formatCases {
		t.Run(fc.format.Name(), func(t *testing.T) {
			fx := newFixture(t, fc)
			oldPath := fc.publish(t, fx.env, fx.r, "old", "1.0.0")
			newPath := fc.publish(t, fx.env, fx.r, "fresh", "1.0.0")
			fx.age(oldPath, 40*day, false)
			fx.age(newPath, 10*day, false)
			gone := fx.componentAssets(oldPath)
			p := cleanup.Policy{Name: "old", Format: fc.format.Name(), CriteriaLastBlobUpdated: days(30)}
			fx.attach(p)

			preview := fx.preview(p)
			if want := []string{fx.label("old", "1.0.0", oldPath)}; !slices.Equal(preview, want) {
				t.Fatalf("preview %v, want %v", preview, want)
			}
			_, before, _ := fx.env.Storage.DB.BlobUsage(meta.DefaultBlobStore)
			res, err := fx.svc.Run(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if res.Components != 1 || res.Assets != len(gone) {
				t.Errorf("run deleted %+v, want 1 component of %d assets (the preview's)", res, len(gone))
			}
			for _, a := range gone {
				if fx.exists(a.Path) {
					t.Errorf("%s still stored after the run", a.Path)
				}
				if _, err := fx.env.Storage.Blobs.Stat(context.Background(), a.Blob); err == nil {
					t.Errorf("blob of %s still on disk after the run", a.Path)
				}
			}
			if !fx.exists(newPath) {
				t.Errorf("%s, newer than the policy, was deleted", newPath)
			}
			_, after, _ := fx.env.Storage.DB.BlobUsage(meta.DefaultBlobStore)
			if after >= before || res.Bytes != before-after || res.Bytes <= 0 {
				t.Errorf("blob usage %d → %d, run reports %d bytes freed", before, after, res.Bytes)
			}
			if again := fx.preview(p); len(again) != 0 {
				t.Errorf("preview after the run %v, want nothing", again)
			}
		})
	}
}

// Last downloaded counts an asset never downloaded from its creation, and
// a recent download keeps old content.
func TestCleanupLastDownloaded(t *testing.T) {
	for _, fc := range formatCases {
		t.Run(fc.format.Name(), func(t *testing.T) {
			fx := newFixture(t, fc)
			never := fc.publish(t, fx.env, fx.r, "never", "1.0.0")
			used := fc.publish(t, fx.env, fx.r, "used", "1.0.0")
			fx.age(never, 40*day, false)
			fx.age(used, 40*day, false)
			for _, a := range fx.componentAssets(used) {
				if err := fx.env.Storage.DB.UpdateAsset(a.ID, func(a *meta.Asset) { a.LastDownloaded = fx.clock.Now().Add(-2 * day) }); err != nil {
					t.Fatal(err)
				}
			}
			p := cleanup.Policy{Name: "unused", Format: fc.format.Name(), CriteriaLastDownloaded: days(30)}
			if got, want := fx.preview(p), []string{fx.label("never", "1.0.0", never)}; !slices.Equal(got, want) {
				t.Fatalf("preview %v, want %v", got, want)
			}
		})
	}
}

// The asset regex selects components with an asset whose whole path
// matches; it ANDs with the other criteria.
func TestCleanupAssetRegex(t *testing.T) {
	for _, fc := range formatCases {
		t.Run(fc.format.Name(), func(t *testing.T) {
			fx := newFixture(t, fc)
			a := fc.publish(t, fx.env, fx.r, "alpha", "1.0.0")
			b := fc.publish(t, fx.env, fx.r, "beta", "1.0.0")
			fx.age(a, 40*day, false)
			fx.age(b, 40*day, false)
			p := cleanup.Policy{Name: "re", Format: fc.format.Name(), CriteriaAssetRegex: str(".*alpha.*")}
			if got, want := fx.preview(p), []string{fx.label("alpha", "1.0.0", a)}; !slices.Equal(got, want) {
				t.Fatalf("preview %v, want %v", got, want)
			}
			p.CriteriaAssetRegex = str("alpha") // the whole path must match
			if got := fx.preview(p); len(got) != 0 {
				t.Fatalf("preview of a partial match %v, want nothing", got)
			}
			p.CriteriaAssetRegex, p.CriteriaLastBlobUpdated = str(".*beta.*"), days(50)
			if got := fx.preview(p); len(got) != 0 {
				t.Fatalf("preview of regex AND age %v, want nothing", got)
			}
		})
	}
}

// Release type selects snapshots/prereleases or releases, by the format's
// hook.
func TestCleanupReleaseType(t *testing.T) {
	for _, fc := range formatCases {
		if fc.prerelease == "" {
			continue
		}
		t.Run(fc.format.Name(), func(t *testing.T) {
			fx := newFixture(t, fc)
			fc.publish(t, fx.env, fx.r, "lib", fc.prerelease)
			fc.publish(t, fx.env, fx.r, "lib", fc.release)
			for rt, want := range map[string]string{cleanup.Prereleases: fc.prerelease, cleanup.Releases: fc.release} {
				p := cleanup.Policy{Name: "rt", Format: fc.format.Name(), CriteriaReleaseType: str(rt)}
				if got := fx.preview(p); !slices.Equal(got, []string{"lib@" + want}) {
					t.Errorf("%s: preview %v, want lib@%s", rt, got, want)
				}
			}
		})
	}
}

// Retain keeps the newest N versions of each component by the format's
// version order (1.10 after 1.9), and deletes the rest through a run.
func TestCleanupRetainNewestByVersion(t *testing.T) {
	for _, fc := range formatCases {
		if fc.versions == nil {
			continue
		}
		t.Run(fc.format.Name(), func(t *testing.T) {
			fx := newFixture(t, fc)
			paths := map[string]string{}
			// Published newest first, so that neither order of publication
			// nor text order gives the version order.
			for _, v := range slices.Backward(fc.versions) {
				paths[v] = fc.publish(t, fx.env, fx.r, "lib", v)
			}
			other := fc.publish(t, fx.env, fx.r, "other", fc.versions[0])
			p := cleanup.Policy{Name: "keep2", Format: fc.format.Name(), Retain: days(2)}
			fx.attach(p)
			if got, want := fx.preview(p), []string{"lib@" + fc.versions[0]}; !slices.Equal(got, want) {
				t.Fatalf("preview %v, want %v", got, want)
			}
			if fc.listed != nil && len(fc.listed(t, fx.r, "lib")) != len(fc.versions) {
				t.Fatalf("metadata lists %v before the cleanup", fc.listed(t, fx.r, "lib"))
			}
			if _, err := fx.svc.Run(context.Background()); err != nil {
				t.Fatal(err)
			}
			if fx.exists(paths[fc.versions[0]]) {
				t.Errorf("oldest version %s kept", fc.versions[0])
			}
			for _, v := range fc.versions[1:] {
				if !fx.exists(paths[v]) {
					t.Errorf("version %s, one of the newest 2, deleted", v)
				}
			}
			if !fx.exists(other) {
				t.Errorf("the only version of another component deleted")
			}
			if fc.listed != nil {
				want := slices.Sorted(slices.Values(fc.versions[1:]))
				if got := slices.Sorted(slices.Values(fc.listed(t, fx.r, "lib"))); !slices.Equal(got, want) {
					t.Errorf("metadata lists %v after the cleanup, want %v", got, want)
				}
			}
		})
	}
}

// Policies are refused, naming the field, for what their format cannot do.
func TestCleanupPolicyValidation(t *testing.T) {
	fx := newFixture(t, formatCases[0]) // raw: no release type, no version order
	ctx := context.Background()
	for name, p := range map[string]cleanup.Policy{
		"name":                    {Name: "_x", Format: "raw", CriteriaLastBlobUpdated: days(1)},
		"format":                  {Name: "x", Format: "nuget", CriteriaLastBlobUpdated: days(1)},
		"criteria":                {Name: "x", Format: "raw"},
		"criteriaAssetRegex":      {Name: "x", Format: "raw", CriteriaAssetRegex: str("a(")},
		"criteriaReleaseType":     {Name: "x", Format: "raw", CriteriaReleaseType: str(cleanup.Prereleases)},
		"retain":                  {Name: "x", Format: "raw", Retain: days(2)},
		"criteriaLastBlobUpdated": {Name: "x", Format: "raw", CriteriaLastBlobUpdated: days(0)},
	} {
		err := fx.svc.Create(ctx, p)
		var fe *errs.FieldError
		if !errors.As(err, &fe) || fe.Field != name {
			t.Errorf("%s: Create(%+v) = %v, want an error of field %s", name, p, err, name)
		}
	}
	if err := fx.svc.Create(ctx, cleanup.Policy{Name: "bydate", Format: "raw", Retain: days(2), SortBy: str("date")}); err != nil {
		t.Errorf("retain by date for raw: %v", err)
	}
	if ps, _ := fx.svc.List(ctx); len(ps) != 1 {
		t.Errorf("policies stored %d, want only the valid one", len(ps))
	}
}

// Repositories name existing policies of their format; deleting a policy
// takes it off the repositories that name it.
func TestCleanupPolicyNames(t *testing.T) {
	fx := newFixture(t, formatCases[0])
	ctx := context.Background()
	cfg := fx.r.Config()
	cfg.Cleanup = &repo.CleanupSettings{PolicyNames: []string{"missing"}}
	var fe *errs.FieldError
	if err := fx.env.M.Update(ctx, cfg); !errors.As(err, &fe) || fe.Field != "cleanup.policyNames" {
		t.Fatalf("unknown policy: %v", err)
	}
	if err := fx.svc.Create(ctx, cleanup.Policy{Name: "mvn", Format: "maven2", CriteriaLastBlobUpdated: days(1)}); err == nil {
		t.Fatal("a policy of a format not served was accepted")
	}
	fx.attach(cleanup.Policy{Name: "all", Format: cleanup.Any, CriteriaLastBlobUpdated: days(1)})
	if err := fx.svc.Delete(ctx, "all"); err != nil {
		t.Fatal(err)
	}
	r, _ := fx.env.M.Lookup("c")
	if cl := r.Config().Cleanup; cl == nil || len(cl.PolicyNames) != 0 {
		t.Fatalf("after deleting the policy the repository names %+v", cl)
	}
}

// Retain by date keeps the versions written last, whatever their numbers.
func TestCleanupRetainNewestByDate(t *testing.T) {
	for _, fc := range formatCases {
		if fc.versions == nil {
			continue
		}
		t.Run(fc.format.Name(), func(t *testing.T) {
			fx := newFixture(t, fc)
			for i, v := range fc.versions {
				// The lowest version was written last.
				fx.age(fc.publish(t, fx.env, fx.r, "lib", v), time.Duration(i+1)*day, false)
			}
			p := cleanup.Policy{Name: "bydate", Format: fc.format.Name(), Retain: days(1), SortBy: str(cleanup.SortByDate)}
			var want []string
			for _, v := range fc.versions[1:] {
				want = append(want, "lib@"+v)
			}
			got := fx.preview(p)
			slices.Sort(got)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Fatalf("preview %v, want %v", got, want)
			}
		})
	}
}
