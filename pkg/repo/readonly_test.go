package repo

import (
	"context"
	"strings"
	"testing"

	"github.com/nexus-go/nexus-go/pkg/errs"
)

func TestReadOnlyRefusesEveryWrite(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	h := e.create(hostedCfg("h", WriteAllow))
	a := put(t, h, "a.txt", "a")
	wantKind(t, e.m.SetReadOnly(ctx, false), errs.NotFound, "release while not frozen")
	if err := e.m.SetReadOnly(ctx, true); err != nil {
		t.Fatal(err)
	}
	wantKind(t, e.m.SetReadOnly(ctx, true), errs.NotFound, "freeze while frozen")

	check := func() {
		t.Helper()
		for what, err := range map[string]error{
			"put":              func() error { _, err := h.Put(ctx, "b.txt", strings.NewReader("b"), PutOptions{Size: -1}); return err }(),
			"delete":           h.Delete(ctx, "a.txt"),
			"delete asset":     e.m.DeleteAsset(ctx, a.ID),
			"create":           e.m.Create(ctx, hostedCfg("h2", WriteAllow)),
			"update":           e.m.Update(ctx, hostedCfg("h", WriteDeny)),
			"delete repo":      e.m.Delete(ctx, "h"),
			"save routing":     e.m.SaveRoutingRule(ctx, RoutingRule{Name: "r", Mode: RoutingBlock, Matchers: []string{"x"}}, true),
			"api writes check": e.m.Writable(),
		} {
			wantKind(t, err, errs.Unavailable, what)
		}
		if body, _ := read(t, ctx, h, "a.txt"); body != "a" {
			t.Fatalf("read while frozen = %q", body)
		}
	}
	check()
	st, err := e.m.ReadOnly(ctx)
	if err != nil || !st.Frozen || !strings.HasPrefix(st.SummaryReason, "Activated by") {
		t.Fatalf("ReadOnly = %+v, %v", st, err)
	}

	// The state is stored: a restart stays frozen.
	e.reopen()
	h = e.lookup("h")
	check()

	if err := e.m.SetReadOnly(ctx, false); err != nil {
		t.Fatal(err)
	}
	put(t, h, "b.txt", "b")
	if st, _ := e.m.ReadOnly(ctx); st.Frozen || st.SummaryReason != "" {
		t.Fatalf("released state = %+v", st)
	}
}
