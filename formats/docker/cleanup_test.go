package docker

import (
	"context"
	"slices"
	"testing"
	"time"

	digest "github.com/opencontainers/go-digest"

	"github.com/nexus-go/nexus-go/pkg/cleanup"
	"github.com/nexus-go/nexus-go/pkg/meta"
	"github.com/nexus-go/nexus-go/pkg/repo"
)

// A cleanup run deletes old tags as the REST API's component delete does
// (the tag, its manifest) and the layers nothing references any more. A
// newer tag keeps its manifest and layers, shared ones included. (No grace:
// the pushes of this test are recent to the format, which protects their
// layers for the grace period whatever the stored times say.)
func TestCleanupDeletesOldTagsAndTheirLayers(t *testing.T) {
	t.Parallel()
	fx := newFixture(t, 0)
	r := fx.create(hostedConfig("docker-h", "allow", ""))
	admin := fx.admin(fx.connector(r))
	shared, only1, only2 := randomBytes(t, 3000), randomBytes(t, 2000), randomBytes(t, 1000)
	config1, config2 := []byte(`{"v":"1.0"}`), []byte(`{"v":"2.0"}`)
	admin.pushImage("team/app", "1.0", config1, shared, only1)
	admin.pushImage("team/app", "2.0", config2, shared, only2)

	now := time.Now()
	old := now.Add(-40 * 24 * time.Hour)
	setTimes := func(p string, t0 time.Time) {
		a, err := fx.db.AssetByPath("docker-h", p)
		if err != nil {
			t.Fatal(err)
		}
		if err := fx.db.UpdateAsset(a.ID, func(a *meta.Asset) { a.Created, a.LastModified = t0, t0 }); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.Walk(context.Background(), "", func(a *meta.Asset) error { setTimes(a.Path, old); return nil }); err != nil {
		t.Fatal(err)
	}
	comps, _, err := fx.db.ListComponents(t.Context(), "docker-h", "", 10, func(c *meta.Component) bool { return c.Version == "2.0" })
	if err != nil || len(comps) != 1 {
		t.Fatalf("component 2.0: %v %v", comps, err)
	}
	own, _ := fx.db.ComponentAssets(comps[0])
	for _, a := range own {
		setTimes(a.Path, now)
	}

	svc := cleanup.New(fx.db, fx.m, fx.auth, fx.f.log)
	ctx := fx.adminContext()
	p := cleanup.Policy{Name: "old-images", Format: "docker", CriteriaLastBlobUpdated: ptr(30)}
	if err := svc.Create(ctx, p); err != nil {
		t.Fatal(err)
	}
	cfg := r.Config()
	cfg.Cleanup = &repo.CleanupSettings{PolicyNames: []string{"old-images"}}
	if err := fx.m.Update(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	preview, err := svc.Preview(ctx, p, "docker-h")
	if err != nil || len(preview) != 1 || preview[0].Component.Version != "1.0" {
		t.Fatalf("preview %+v, %v; want tag 1.0", preview, err)
	}
	res, err := svc.Run(ctx)
	if err != nil || res.Components != 1 {
		t.Fatalf("run %+v, %v; want one tag deleted", res, err)
	}
	if v := componentVersions(t, fx, "docker-h", "team/app"); !slices.Equal(v, []string{"2.0"}) {
		t.Fatalf("tags after cleanup %v, want [2.0]", v)
	}
	files := fx.blobFiles()
	for _, b := range [][]byte{only1, config1} {
		if files[digest.FromBytes(b).String()] {
			t.Errorf("blob %s of the deleted tag only is still on disk", digest.FromBytes(b))
		}
	}
	for _, b := range [][]byte{shared, only2, config2} {
		if !files[digest.FromBytes(b).String()] {
			t.Errorf("blob %s of the kept tag is gone", digest.FromBytes(b))
		}
	}
}

func ptr(n int) *int { return &n }
