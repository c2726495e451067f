package repo

import (
	"context"
	"io"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/nexus-go/nexus-go/pkg/auth"
	"github.com/nexus-go/nexus-go/pkg/errs"
)

func TestInvalidateCache(t *testing.T) {
	ctx := auth.WithPrincipal(context.Background(), auth.System())
	e := newEnv(t)
	var version atomic.Value
	version.Store("v1")
	up := newUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/late.txt" && version.Load() == "v1" {
			http.NotFound(w, r)
			return
		}
		io.WriteString(w, version.Load().(string))
	})
	p, _ := newProxyRepo(t, e, "p", up.URL, nil)
	g := e.create(groupCfg("g", "p"))
	if body, _ := read(t, ctx, p, "a.txt"); body != "v1" {
		t.Fatalf("first read %q", body)
	}
	_, err := p.Get(ctx, "late.txt")
	wantKind(t, err, errs.NotFound, "missing upstream")
	version.Store("v2")
	if body, _ := read(t, ctx, p, "a.txt"); body != "v1" {
		t.Fatalf("cached read %q, want the cached v1", body)
	}
	_, err = p.Get(ctx, "late.txt")
	wantKind(t, err, errs.NotFound, "remembered 404")

	wantKind(t, e.m.InvalidateCache(ctx, "missing"), errs.NotFound, "unknown repository")
	e.create(hostedCfg("h", WriteAllow))
	wantKind(t, e.m.InvalidateCache(ctx, "h"), errs.Invalid, "hosted repository")
	// Through the group: its proxy member's cache goes stale.
	if err := e.m.InvalidateCache(ctx, g.Name()); err != nil {
		t.Fatal(err)
	}
	if body, _ := read(t, ctx, p, "a.txt"); body != "v2" {
		t.Fatalf("read after invalidation %q, want v2 from the upstream", body)
	}
	if body, _ := read(t, ctx, p, "late.txt"); body != "v2" {
		t.Fatalf("read of a forgotten 404 %q", body)
	}
}
