package repo

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"testing"

	"github.com/nexus-go/nexus-go/pkg/auth"
	"github.com/nexus-go/nexus-go/pkg/errs"
	"github.com/nexus-go/nexus-go/pkg/meta"
	"github.com/nexus-go/nexus-go/pkg/repo/repotest"
)

// serviceFixture is a manager deciding with the real security service.
type serviceFixture struct {
	m      *Manager
	db     *meta.DB
	admin  context.Context
	viewer context.Context // browses and reads "pub" only
}

func newServiceFixture(t *testing.T) *serviceFixture {
	t.Helper()
	st := repotest.NewStorage(t)
	log := slog.New(slog.DiscardHandler)
	security, _ := st.Security(t, log)
	m := NewManager(st.DB, st.Stores, security, Options{Log: log}, testFormat{})
	admin := auth.WithPrincipal(context.Background(), auth.System())
	for _, cfg := range []Config{hostedCfg("pub", "allow"), hostedCfg("secret", "allow"), groupCfg("grp", "pub")} {
		if err := m.Create(admin, cfg); err != nil {
			t.Fatal(err)
		}
	}
	if err := security.CreateRole(admin, &meta.Role{ID: "viewer-role",
		Privileges: []string{"nx-repository-view-test-pub-browse", "nx-repository-view-test-pub-read"}}); err != nil {
		t.Fatal(err)
	}
	if err := security.CreateUser(admin, &meta.User{ID: "viewer", Status: meta.UserActive, Roles: []string{"viewer-role"}}, "pw"); err != nil {
		t.Fatal(err)
	}
	p, err := security.PrincipalOf(admin, "viewer")
	if err != nil {
		t.Fatal(err)
	}
	return &serviceFixture{m: m, db: st.DB, admin: admin, viewer: auth.WithPrincipal(context.Background(), p)}
}

// Each service method decides itself: called without echo, it refuses a
// caller without the privilege (Unauthorized with no caller, Forbidden for
// a user lacking it, NotFound for a repository the caller may not know of)
// and changes nothing.
func TestServiceMethodsRefuseWithoutPrivilege(t *testing.T) {
	fx := newServiceFixture(t)
	pub, _ := fx.m.Lookup("pub")
	secret, _ := fx.m.Lookup("secret")
	a := put(t, pub, "dir/a.txt", "aaaa")
	put(t, pub, "dir/b.txt", "bb")
	hidden := put(t, secret, "s.txt", "s")
	anon := context.Background()

	_, err := fx.m.Configuration(fx.viewer, "pub")
	wantKind(t, err, errs.Forbidden, "Configuration without admin read")
	_, err = fx.m.Configuration(fx.viewer, "secret")
	wantKind(t, err, errs.NotFound, "Configuration of a hidden repository")
	_, err = fx.m.Configuration(anon, "pub")
	wantKind(t, err, errs.Unauthorized, "Configuration without a caller")
	if _, err := fx.m.Configuration(fx.admin, "pub"); err != nil {
		t.Errorf("Configuration as admin: %v", err)
	}

	for name, call := range map[string]func(ctx context.Context) error{
		"BlobStoreUsage": func(ctx context.Context) error { _, err := fx.m.BlobStoreUsage(ctx); return err },
		"Health":         func(ctx context.Context) error { _, err := fx.m.Health(ctx); return err },
		"BlobStoreConfig": func(ctx context.Context) error {
			_, err := fx.m.BlobStoreConfig(ctx, "default")
			return err
		},
		"QuotaStatus": func(ctx context.Context) error { _, err := fx.m.QuotaStatus(ctx, "default"); return err },
		"CreateBlobStore": func(ctx context.Context) error {
			return fx.m.CreateBlobStore(ctx, meta.BlobStoreConfig{Name: "made"})
		},
		"UpdateBlobStore": func(ctx context.Context) error {
			return fx.m.UpdateBlobStore(ctx, meta.BlobStoreConfig{Name: "default", SoftQuota: &meta.SoftQuota{Type: QuotaSpaceUsed, Limit: 1 << 40}})
		},
	} {
		wantKind(t, call(fx.viewer), errs.Forbidden, name+" without the privilege")
		wantKind(t, call(anon), errs.Unauthorized, name+" without a caller")
		if err := call(fx.admin); err != nil {
			t.Errorf("%s as admin: %v", name, err)
		}
	}
	err = fx.m.DeleteBlobStore(fx.viewer, "made")
	wantKind(t, err, errs.Forbidden, "DeleteBlobStore without the privilege")
	wantKind(t, fx.m.DeleteBlobStore(anon, "made"), errs.Unauthorized, "DeleteBlobStore without a caller")
	if usage, _ := fx.m.BlobStoreUsage(fx.admin); len(usage) != 2 || usage[0].BlobCount != 3 || usage[0].TotalSize != 7 || usage[1].Name != "made" {
		t.Errorf("blob store usage %+v, want 3 blobs of 7 bytes in default, and made", usage)
	}
	if err := fx.m.DeleteBlobStore(fx.admin, "made"); err != nil {
		t.Errorf("DeleteBlobStore as admin: %v", err)
	}
	if checks, _ := fx.m.Health(fx.admin); len(checks) != 4 || !checks[0].Healthy {
		t.Errorf("health checks %+v", checks)
	}

	_, err = fx.m.ListVisible(anon)
	wantKind(t, err, errs.Unauthorized, "ListVisible without a caller")
	if rs, _ := fx.m.ListVisible(fx.viewer); len(rs) != 1 || rs[0].Name() != "pub" {
		t.Errorf("ListVisible of the viewer: %v", rs)
	}

	_, _, err = fx.m.Asset(fx.viewer, hidden.ID)
	wantKind(t, err, errs.NotFound, "Asset of a hidden repository")
	_, err = fx.m.Component(fx.viewer, hidden.ComponentID)
	wantKind(t, err, errs.NotFound, "Component of a hidden repository")
	if _, _, err := fx.m.Asset(fx.viewer, a.ID); err != nil {
		t.Errorf("Asset the viewer may browse: %v", err)
	}
	wantKind(t, fx.m.DeleteAsset(fx.viewer, a.ID), errs.Forbidden, "DeleteAsset without delete")
	wantKind(t, fx.m.DeleteComponent(fx.viewer, a.ComponentID), errs.Forbidden, "DeleteComponent without delete")
	wantKind(t, fx.m.DeleteAsset(fx.viewer, hidden.ID), errs.NotFound, "DeleteAsset of a hidden repository")
	wantKind(t, fx.m.DeleteAsset(anon, a.ID), errs.Unauthorized, "DeleteAsset without a caller")
	if _, err := fx.db.Asset(a.ID); err != nil {
		t.Fatalf("a refused delete deleted: %v", err)
	}
	if _, err := fx.db.Asset(hidden.ID); err != nil {
		t.Fatalf("a refused delete deleted: %v", err)
	}
	if err := fx.m.DeleteAsset(fx.admin, a.ID); err != nil {
		t.Fatalf("DeleteAsset as admin: %v", err)
	}
}

// Summaries show what the caller may know of, with statistics kept by the
// writes (a group's are zero) and nothing of a repository once deleted.
func TestSummaries(t *testing.T) {
	fx := newServiceFixture(t)
	pub, _ := fx.m.Lookup("pub")
	put(t, pub, "a.txt", "aaaa")
	put(t, pub, "b.txt", "bb")
	put(t, pub, "b.txt", "bbbbbb") // replaced
	names := func(ss []Summary) []string {
		var out []string
		for _, s := range ss {
			out = append(out, s.Config.Name)
		}
		return out
	}
	if got := names(fx.m.Summaries(context.Background())); len(got) != 0 {
		t.Errorf("Summaries without a caller: %v", got)
	}
	if got := names(fx.m.Summaries(fx.viewer)); !slices.Equal(got, []string{"pub"}) {
		t.Errorf("Summaries of the viewer: %v", got)
	}
	all := fx.m.Summaries(fx.admin)
	if got := names(all); !slices.Equal(got, []string{"grp", "pub", "secret"}) {
		t.Fatalf("Summaries of admin: %v", got)
	}
	if all[0].Stats != (meta.Stats{}) || !all[1].Status.Online {
		t.Errorf("group %+v", all[0])
	}
	if want := (meta.Stats{Assets: 2, Bytes: 10, Components: 2}); all[1].Stats != want {
		t.Errorf("pub's statistics %+v, want %+v", all[1].Stats, want)
	}
	if err := fx.m.Update(fx.admin, groupCfg("grp", "secret")); err != nil {
		t.Fatal(err)
	}
	if err := fx.m.Delete(fx.admin, "pub"); err != nil {
		t.Fatal(err)
	}
	if all, err := fx.db.AllRepositoryStats(); err != nil || all["pub"] != (meta.Stats{}) {
		t.Errorf("statistics of a deleted repository: %+v, %v", all["pub"], err)
	}
	if !errors.Is(fx.m.DeleteAsset(fx.admin, "no-such-id"), errs.ErrNotFound) {
		t.Error("deleting a missing asset is not NotFound")
	}
}
