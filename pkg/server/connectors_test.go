package server

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/nexus-go/nexus-go/formats/raw"
	"github.com/nexus-go/nexus-go/pkg/auth"
	"github.com/nexus-go/nexus-go/pkg/clientip"
	"github.com/nexus-go/nexus-go/pkg/config"
	"github.com/nexus-go/nexus-go/pkg/metrics"
	"github.com/nexus-go/nexus-go/pkg/repo"
	"github.com/nexus-go/nexus-go/pkg/repo/repotest"
)

// Concurrent repository changes must not deadlock the manager's lock
// (held while observers Check) against the connectors' (held while they
// reconcile); a deadlock here would stop every request of the server.
func TestConcurrentRepositoryChangesDoNotDeadlock(t *testing.T) {
	st := repotest.NewStorage(t)
	log := slog.New(slog.DiscardHandler)
	m := repo.NewManager(st.DB, st.Stores, repotest.AllowAll{}, repo.Options{Log: log}, raw.New(log))
	conns, err := newConnectors(config.Config{Host: "127.0.0.1", Port: 1}, m, auth.New(st.DB, log), metrics.New(), log, clientip.Extractor(nil))
	if err != nil {
		t.Fatal(err)
	}
	m.Observe(conns)
	defer conns.shutdown(context.Background())

	done := make(chan struct{})
	go func() {
		defer close(done)
		var wg sync.WaitGroup
		for g := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range 25 {
					name := fmt.Sprintf("raw-%d-%d", g, i)
					cfg := repo.Config{Name: name, Format: "raw", Type: repo.Hosted, Online: true,
						Storage: repo.Storage{BlobStoreName: "default", WritePolicy: "allow"}}
					if err := m.Create(context.Background(), cfg); err != nil {
						t.Error(err)
						return
					}
					if err := m.Delete(context.Background(), name); err != nil {
						t.Error(err)
						return
					}
				}
			}()
		}
		wg.Wait()
	}()
	select {
	case <-done:
	case <-time.After(2 * time.Minute):
		t.Fatal("repository changes deadlocked")
	}
}
