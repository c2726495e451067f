package repo

import (
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/nexus-go/nexus-go/pkg/audit"
	"github.com/nexus-go/nexus-go/pkg/meta"
	"github.com/nexus-go/nexus-go/pkg/repo/repotest"
)

// hookedFormat deletes a component the way a format with its own
// protocol does (Docker, npm): through Repository.Delete of each asset.
type hookedFormat struct{ testFormat }

func (hookedFormat) ComponentAssets(_ context.Context, _ Repository, own []*meta.Asset) ([]*meta.Asset, error) {
	return own, nil
}

func (hookedFormat) DeleteComponent(ctx context.Context, r Repository, own []*meta.Asset) error {
	for _, a := range own {
		if err := r.Delete(ctx, a.Path); err != nil {
			return err
		}
	}
	return nil
}

// TestClientDeletesAudited: a client's delete through the protocol is
// audited once, with its initiator; a component deleted through a format's
// hook is one record, not one per asset; the server's own deletes are none.
func TestClientDeletesAudited(t *testing.T) {
	e := newEnv(t)
	log, err := audit.New(e.db, repotest.AllowAll{}, audit.Options{})
	if err != nil {
		t.Fatal(err)
	}
	m := NewManager(e.db, e.stores, repotest.AllowAll{}, Options{Log: slog.New(slog.DiscardHandler), Audit: log},
		hookedFormat{testFormat{name: "hooked"}})
	ctx := context.Background()
	cfg := hostedCfg("h", "allow")
	cfg.Format = "hooked"
	if err := m.Create(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	h, _ := m.Lookup("h")
	hooked := map[string]*meta.Asset{}
	for _, p := range []string{"by-client", "by-hook", "by-server"} {
		hooked[p] = put(t, h, p, p)
	}
	bob := audit.WithInitiator(ctx, "bob/10.0.0.1")
	if err := h.Delete(bob, "by-client"); err != nil {
		t.Fatal(err)
	}
	if err := m.DeleteComponent(bob, hooked["by-hook"].ComponentID); err != nil {
		t.Fatal(err)
	}
	if err := h.Delete(ctx, "by-server"); err != nil {
		t.Fatal(err)
	}
	recs, _, err := log.List(ctx, audit.Query{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range recs {
		if r.Type == "deleted" {
			got = append(got, r.Initiator+" "+r.Domain+" "+r.Context)
		}
	}
	want := []string{"bob/10.0.0.1 repository.component by-hook", "bob/10.0.0.1 repository.asset by-client"} // newest first
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
		t.Fatalf("delete records %q, want %q", got, want)
	}
}

// TestReadOnlyAudited: a freeze is audited to the file only (nothing
// writes the database while frozen), the release to both; a refused
// change of state is not audited.
func TestReadOnlyAudited(t *testing.T) {
	e := newEnv(t)
	dir := t.TempDir()
	log, err := audit.New(e.db, repotest.AllowAll{}, audit.Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { log.Close() })
	m := NewManager(e.db, e.stores, repotest.AllowAll{}, Options{Log: slog.New(slog.DiscardHandler), Audit: log})
	log.UseWritable(m.Writable)
	ctx := audit.WithInitiator(context.Background(), "admin/10.0.0.1")
	if err := m.SetReadOnly(ctx, true); err != nil {
		t.Fatal(err)
	}
	if err := m.SetReadOnly(ctx, true); err == nil {
		t.Fatal("freezing a frozen server: no error")
	}
	if err := m.SetReadOnly(ctx, false); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(dir, "audit.log"))
	if err != nil {
		t.Fatal(err)
	}
	var inFile []string
	for _, line := range strings.Split(strings.TrimSpace(string(raw)), "\n") {
		var r meta.AuditRecord
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("audit.log line %q: %v", line, err)
		}
		inFile = append(inFile, r.Initiator+" "+r.Domain+" "+r.Type)
	}
	if want := []string{"admin/10.0.0.1 readonly frozen", "admin/10.0.0.1 readonly released"}; !slices.Equal(inFile, want) {
		t.Errorf("audit.log records %q, want %q", inFile, want)
	}
	recs, _, err := log.List(context.Background(), audit.Query{Domain: "readonly", Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 1 || recs[0].Type != "released" {
		t.Errorf("stored readonly records %+v, want the release only", recs)
	}
}
