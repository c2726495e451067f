package repo

import (
	"context"
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nexus-go/nexus-go/pkg/errs"
	"github.com/nexus-go/nexus-go/pkg/meta"
	"github.com/nexus-go/nexus-go/pkg/repo/repotest"
)

// countChanges is an observer counting Changed calls.
type countChanges struct{ n atomic.Int32 }

func (*countChanges) Check(Config) error { return nil }
func (c *countChanges) Changed()         { c.n.Add(1) }

// fill puts n assets with their own bytes into r.
func fill(t *testing.T, r Repository, n int) []*meta.Asset {
	t.Helper()
	out := make([]*meta.Asset, n)
	for i := range out {
		out[i] = put(t, r, fmt.Sprintf("f/%d", i), fmt.Sprintf("content %s %d", r.Name(), i))
	}
	return out
}

// While a repository's content is being deleted, the manager serves every
// other request: it is paused between two batches and checked there.
func TestManagerDeleteOffTheLock(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.m.deleteBatch = 10
	changes := &countChanges{}
	e.m.Observe(changes)
	h := e.create(hostedCfg("h", "allow"))
	other := e.create(hostedCfg("other", "allow"))
	assets := fill(t, h, 35)
	shared := put(t, other, "s", "content h 0") // the bytes of h's f/0

	paused, resume := make(chan struct{}), make(chan struct{})
	batches := 0
	e.m.afterDeleteBatch = func(name string) {
		if batches++; batches == 1 {
			close(paused)
			<-resume
		}
	}
	done := make(chan error, 1)
	go func() { done <- e.m.Delete(ctx, "h") }()
	select {
	case <-paused:
	case err := <-done:
		t.Fatalf("Delete returned %v without pausing", err)
	case <-time.After(30 * time.Second):
		t.Fatal("Delete never reached its first batch")
	}

	repotest.Within(t, 10*time.Second, "manager calls mid-deletion", func() {
		if _, ok := e.m.Lookup("other"); !ok {
			t.Error("other repository not found mid-deletion")
		}
		if c, err := other.Get(ctx, "s"); err != nil {
			t.Errorf("other/s mid-deletion: %v", err)
		} else {
			c.Body.Close()
		}
		if _, ok := e.m.Lookup("h"); ok {
			t.Error("repository being deleted is still served")
		}
		// The name stays taken, in any case, until the content is gone.
		if err := e.m.Create(ctx, hostedCfg("H", "allow")); errs.KindOf(err) != errs.Invalid {
			t.Errorf("create under the name being deleted: %v, want a field error", err)
		}
		// Writers of the manager are not blocked either.
		if err := e.m.Create(ctx, hostedCfg("new", "allow")); err != nil {
			t.Errorf("create mid-deletion: %v", err)
		}
	})
	if changes.n.Load() == 0 {
		t.Error("observers not told before the content is deleted (connector ports stay open)")
	}
	if left, _, _ := e.db.ListAssets("h", "", "", 0); len(left) != 25 {
		t.Errorf("%d assets left after the first batch, want 25", len(left))
	}
	close(resume)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if batches != 4 {
		t.Errorf("%d batches, want 4", batches)
	}
	if left, _, _ := e.db.ListAssets("h", "", "", 0); len(left) != 0 {
		t.Fatalf("%d assets left", len(left))
	}
	for _, a := range assets[1:] {
		if e.hasBlobFile(a) {
			t.Fatalf("blob of deleted %s not freed", a.Path)
		}
	}
	if !e.hasBlobFile(shared) {
		t.Fatal("blob shared with another repository freed")
	}
	h = e.create(hostedCfg("h", "allow"))
	_, err := h.Get(ctx, "f/1")
	wantKind(t, err, errs.NotFound, "content of the recreated repository")
}

// A deletion a crash interrupted is finished by the next start (or, if
// that failed, by maintenance): the repository is not served again, and
// its name is free once the content is gone.
func TestManagerDeleteResumesAfterCrash(t *testing.T) {
	for _, finisher := range []string{"Sweep", "Maintain"} {
		t.Run(finisher, func(t *testing.T) {
			e := newEnv(t)
			ctx := context.Background()
			e.m.deleteBatch = 10
			h := e.create(hostedCfg("h", "allow"))
			assets := fill(t, h, 25)
			// The process "dies" after the first batch.
			e.m.afterDeleteBatch = func(string) { runtime.Goexit() }
			stopped := make(chan struct{})
			go func() {
				defer close(stopped)
				e.m.Delete(ctx, "h")
				t.Error("Delete went on after the crash")
			}()
			<-stopped

			e.reopen()
			if _, ok := e.m.Lookup("h"); ok {
				t.Fatal("half-deleted repository served after a restart")
			}
			wantField(t, e.m.Create(ctx, hostedCfg("h", "allow")), "name")
			if finisher == "Sweep" {
				if err := e.m.Sweep(ctx); err != nil {
					t.Fatal(err)
				}
			} else {
				e.m.Maintain(ctx)
			}
			if left, _, _ := e.db.ListAssets("h", "", "", 0); len(left) != 0 {
				t.Fatalf("%d assets left after %s", len(left), finisher)
			}
			if names, _ := e.db.DeletingRepositories(); len(names) != 0 {
				t.Fatalf("deletion markers left: %v", names)
			}
			for _, a := range assets {
				if e.hasBlobFile(a) {
					t.Fatalf("blob of deleted %s not freed", a.Path)
				}
			}
			e.create(hostedCfg("h", "allow"))
		})
	}
}
